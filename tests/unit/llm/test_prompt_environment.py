"""The prompt's environment and data parts: facts as found, the parent's output and runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.environment import Environment, Interpreter, Package, SlotFacts
from mlmaster.execution.result import CapturedOutput, ExecutionResult
from mlmaster.llm.environment_text import parent_output
from mlmaster.llm.prompting import render_code_prompt
from mlmaster.llm.requests import CodeRequest, ParentSolution

RequestFactory = Callable[..., CodeRequest]


def environment(**changes: object) -> Environment:
    fields: dict[str, object] = {
        "interpreter": Interpreter(
            path=Path("/env/bin/python"),
            version="3.11.9",
            packages=[Package(name="torch", version="2.4.0"), Package(name="numpy", version="2.0")],
        ),
        "slots": [SlotFacts(index=0, cpus=4)],
        "affinity_cpus": 64,
        "cpu_quota": 4.0,
        "usable_cpus": 4,
        "memory_limit": 16 * 1024**3,
        "network": False,
        "network_source": "test",
        "disk_free": 100 * 1024**3,
    }
    fields.update(changes)
    return Environment.model_validate(fields)


def test_the_environment_is_stated_as_found(code_request: RequestFactory) -> None:
    user = render_code_prompt(code_request("draft", environment=environment())).user
    assert "Python 3.11.9 with these packages installed: torch 2.4.0, numpy 2.0." in user
    assert "16.0 GiB of memory" in user and "Disk: 100.0 GiB free." in user
    assert "There is no network" in user
    assert "lightgbm" not in user  # nothing about the environment that was not found


def test_a_reachable_network_is_not_denied(code_request: RequestFactory) -> None:
    user = render_code_prompt(code_request("draft", environment=environment(network=True))).user
    assert "The network is reachable" in user and "no network" not in user


def test_a_7z_program_is_named_with_how_to_extract_only_when_found(
    code_request: RequestFactory,
) -> None:
    without = render_code_prompt(code_request("draft", environment=environment())).user
    assert "7z" not in without and "Programs on the PATH" not in without
    found = environment(programs=["7z", "7za"])
    user = render_code_prompt(code_request("draft", environment=found)).user
    assert "Programs on the PATH: 7z, 7za." in user
    assert "subprocess.run(['7z', 'x', archive, '-o./working/extracted', '-y']" in user


def test_the_model_cache_is_named_with_what_it_holds(code_request: RequestFactory) -> None:
    without = render_code_prompt(code_request("draft", environment=environment())).user
    assert "HF_HOME" not in without and "Pre-downloaded" not in without
    models = ["acme/tiny", *(f"org/model-{i}" for i in range(50)), "torch: resnet18.pth"]
    found = environment(cache_dir="/models", cached_models=models)
    user = render_code_prompt(code_request("draft", environment=found)).user
    assert "Pre-downloaded model weights are in /models (read-only; HF_HOME and TORCH_HOME" in user
    assert "It holds: acme/tiny, org/model-0," in user and "and 12 more." in user
    empty = environment(cache_dir="/models", cached_models=[])
    assert (
        "No model in it was recognised."
        in render_code_prompt(code_request("draft", environment=empty)).user
    )


def test_parent_output_keeps_head_and_tail_of_each_stream() -> None:
    execution = ExecutionResult(
        exit_code=1,
        runtime=754.0,
        stdout=CapturedOutput(head="DATA SUMMARY\n" + "x" * 3000 + "\nEPOCH 9 done\n"),
        stderr=CapturedOutput(head="warning at start\n" + "y" * 3000 + "\nKeyError: 'city'\n"),
    )
    text = parent_output(execution, 1000)
    assert "DATA SUMMARY" in text and "EPOCH 9 done" in text
    assert "warning at start" in text and "KeyError: 'city'" in text
    assert "characters cut" in text and len(text) < 1200


def test_parent_runtime_and_a_fixed_split_are_asked(code_request: RequestFactory) -> None:
    parent = ParentSolution(
        node_id="p1",
        plan="p",
        code="print(1)\n",
        metric=0.5,
        execution=ExecutionResult(exit_code=0, runtime=754.0),
    )
    user = render_code_prompt(code_request("improve", parent=parent)).user
    assert "It scored 0.5 on validation and ran for 12m 34s." in user
    assert "random_state=42" in user and "extract any archive" in user


def test_the_prompt_names_the_sample_in_an_archive(code_request: RequestFactory) -> None:
    spec = CompetitionSpec(
        id="t",
        name="t",
        metric="accuracy",
        lower_is_better=False,
        id_column="id",
        target_columns=["after"],
        task_type="other",
        sample_submission_file="en_sample_submission_2.csv.zip",
        sample_submission_member="en_sample_submission_2.csv",
    )
    user = render_code_prompt(code_request("draft", competition=spec)).user
    assert "only inside the archive ./input/en_sample_submission_2.csv.zip" in user
