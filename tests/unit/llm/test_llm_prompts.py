"""Prompts rendered from the templates, per operator, with and without steerable prefill."""

from collections.abc import Callable

import pytest

from mlmaster.llm.prompting import (
    PromptParts,
    PromptTemplate,
    completion_prompt,
    humanize_seconds,
    render_code_prompt,
)
from mlmaster.llm.requests import CodeRequest
from mlmaster.search.node import Operator

Factory = Callable[..., CodeRequest]


@pytest.mark.parametrize("operator", ["draft", "improve", "debug"])
def test_every_prompt_states_the_rules(operator: Operator, code_request: Factory) -> None:
    parts = render_code_prompt(code_request(operator))
    user = parts.user
    assert "Predict y from x." in user
    assert "./input" in user
    assert "./submission/submission.csv" in user
    assert "VALIDATION_METRIC: <value>" in user
    assert "3h 05m" in user  # time left
    assert "10m 00s" in user  # the script's own limit
    assert "4 CPU cores, 1 GPU" in user
    assert "rmse (lower is better)" in user
    assert "PREVIEW: train.csv" in user
    assert "MEMORY: ridge scored 0.5" in user
    assert parts.think_prefix is None


def test_draft_shows_no_parent(code_request: Factory) -> None:
    parts = render_code_prompt(code_request("draft"))
    assert "parent code" not in parts.user
    assert "first solution" in parts.system


def test_improve_shows_parent_code_output_and_score(code_request: Factory) -> None:
    user = render_code_prompt(code_request("improve")).user
    assert "print('parent code')" in user
    assert "PARENT OUTPUT LINE" in user
    assert "0.42" in user


def test_debug_shows_the_bug(code_request: Factory) -> None:
    parts = render_code_prompt(code_request("debug"))
    assert "KeyError: 'city'" in parts.user
    assert "bug" in parts.system


def test_run_limit_is_capped_by_time_left(code_request: Factory) -> None:
    user = render_code_prompt(code_request("draft", time_left=90)).user
    assert "finish within 1m 30s" in user


@pytest.mark.parametrize("operator", ["draft", "improve", "debug"])
def test_steerable_moves_context_into_the_reasoning(
    operator: Operator, code_request: Factory
) -> None:
    parts = render_code_prompt(code_request(operator), steer=True)
    assert parts.think_prefix is not None
    assert "PREVIEW: train.csv" in parts.think_prefix
    assert "MEMORY: ridge scored 0.5" in parts.think_prefix
    assert "PREVIEW" not in parts.user
    assert "MEMORY" not in parts.user
    if operator != "draft":
        assert "print('parent code')" in parts.think_prefix
        assert "parent code" not in parts.user
    if operator == "debug":
        assert "I will try to fix the bug." in parts.think_prefix


@pytest.mark.parametrize(
    ("template", "model", "start", "end"),
    [
        ("auto", "deepseek-r1", "<｜begin▁of▁sentence｜>SYS", "<｜Assistant｜><think>\n"),
        ("auto", "Qwen3-32B", "<|im_start|>system\nSYS", "<|im_start|>assistant\n<think>\n"),
        ("plain", "anything", "SYS\n\nUSER", "Assistant:\n<think>\n"),
    ],
)
def test_completion_prompt_ends_inside_an_open_think(
    template: PromptTemplate, model: str, start: str, end: str
) -> None:
    parts = PromptParts(system="SYS", user="USER", think_prefix="I reason.\n")
    prompt = completion_prompt(parts, template, model)
    assert prompt.startswith(start)
    assert prompt.endswith(end + "I reason.\n")


def test_completion_prompt_without_prefill_ends_at_the_assistant_turn() -> None:
    prompt = completion_prompt(PromptParts(system="S", user="U"), "chatml", None)
    assert prompt.endswith("<|im_start|>assistant\n")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.9, "59s"), (61, "1m 01s"), (7322, "2h 02m")]
)
def test_humanize(seconds: float, text: str) -> None:
    assert humanize_seconds(seconds) == text


@pytest.mark.parametrize("operator", ["draft", "improve", "debug"])
def test_a_holdout_is_named_with_its_rows_and_the_file_to_write(
    operator: Operator, code_request: Factory
) -> None:
    from mlmaster.selection.inputs import HoldoutInfo

    holdout = HoldoutInfo(
        train_file="train.csv", rows_kept=900, rows_held=100, how="random", fraction=0.1, seed=0
    )
    user = render_code_prompt(code_request(operator, holdout=holdout)).user
    assert "holds back 100 of the training rows" in user
    assert "`./input/train.csv` has the other 900" in user
    assert "./input/holdout.csv" in user
    assert "`./submission/holdout.csv`" in user
    assert "- The harness holds back" in user  # a bullet of its own
    assert "holdout" not in render_code_prompt(code_request(operator)).user


@pytest.mark.parametrize("steer", [False, True])
def test_a_parent_ranked_by_the_holdout_shows_both_scores(
    steer: bool, code_request: Factory
) -> None:
    request = code_request("improve")
    assert request.parent is not None
    parent = request.parent.model_copy(update={"holdout_metric": 0.42, "script_metric": 0.47})
    parts = render_code_prompt(request.model_copy(update={"parent": parent}), steer=steer)
    text = parts.think_prefix if steer else parts.user
    assert text is not None
    assert "scored 0.42 on the harness's holdout (its own validation printed 0.47)" in text
    plain = render_code_prompt(request, steer=steer)
    assert "scored 0.42 on validation" in ((plain.think_prefix if steer else plain.user) or "")
