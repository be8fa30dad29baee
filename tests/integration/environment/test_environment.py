"""Environment discovery asks the scripts' own interpreter; the prompt states what it found.

Two real interpreters: the scripts' environment (``.venv-scripts``, with lightgbm) and a fresh
venv made here without lightgbm but with an extra ML distribution installed into it (a
``dist-info`` record, which is what ``importlib.metadata`` and pip read).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.environment import Environment, discover
from mlmaster.environment.gpus import parse_gpu_query
from mlmaster.execution.interpreter import default_script_python
from mlmaster.llm.prompting import render_code_prompt
from mlmaster.llm.requests import CodeRequest, Hardware
from mlmaster.memory.insight import MemoryContext

SPEC = CompetitionSpec(
    id="demo",
    name="Demo",
    metric="rmse",
    lower_is_better=True,
    id_column="id",
    target_columns=["y"],
    task_type="regression",
)


@pytest.fixture(scope="module")
def venv_without_lightgbm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    record = Path(site) / "timm-1.0.9.dist-info"
    record.mkdir(parents=True)
    (record / "METADATA").write_text("Metadata-Version: 2.1\nName: timm\nVersion: 1.0.9\n")
    (record / "RECORD").write_text("")
    (Path(site) / "timm").mkdir()  # importable too, as an installed package is
    (Path(site) / "timm" / "__init__.py").write_text("__version__ = '1.0.9'\n")
    return python


def request_for(environment: object) -> CodeRequest:
    return CodeRequest.model_validate(
        {
            "operator": "draft",
            "node_id": "n1",
            "competition": SPEC,
            "description": "Predict y.",
            "public_dir": Path("."),
            "memory": MemoryContext(operator="draft", text=""),
            "time_left": 3600,
            "exec_timeout": 600,
            "hardware": Hardware(cpus=4, gpus=[0]),
            "environment": environment,
        }
    )


def _discover_offline(python: Path, work_dir: Path, **extra: Any) -> Environment:
    """What one slot of one CPU without network finds with ``python``."""
    return discover(
        python,
        [(0, [0], [])],
        affinity_cpus=1,
        network=False,
        network_source="test",
        work_dir=work_dir,
        **extra,
    )


def test_a_venv_without_lightgbm_is_stated_as_it_is(
    venv_without_lightgbm: Path, tmp_path: Path
) -> None:
    environment = discover(
        venv_without_lightgbm,
        [(0, [0, 1, 2, 3], [])],
        affinity_cpus=4,
        network=False,
        network_source="test",
        work_dir=tmp_path,
    )
    names = [p.name for p in environment.interpreter.packages]
    assert names[0] == "timm" and "lightgbm" not in names
    imported = subprocess.run(
        [str(venv_without_lightgbm), "-c", "import timm; import lightgbm"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'lightgbm'" in imported.stderr  # timm imported, lightgbm absent
    assert environment.interpreter.version == ".".join(map(str, sys.version_info[:3]))
    user = render_code_prompt(request_for(environment)).user
    assert "timm 1.0.9" in user and "lightgbm" not in user
    assert "There is no network" in user and "free" in user


@pytest.mark.skipif(default_script_python() is None, reason="no scripts' environment here")
def test_the_scripts_environment_lists_ml_packages_first_with_versions(tmp_path: Path) -> None:
    python = default_script_python()
    assert python is not None
    environment = discover(
        python,
        [(0, [0], [])],
        affinity_cpus=1,
        network=True,
        network_source="test",
        work_dir=tmp_path,
    )
    packages = environment.interpreter.packages
    names = [p.name.lower() for p in packages]
    assert "lightgbm" in names and "numpy" in names and "pip" not in names
    assert names.index("lightgbm") < names.index("numpy") < names.index("threadpoolctl")
    user = render_code_prompt(request_for(environment)).user
    lightgbm = next(p for p in packages if p.name.lower() == "lightgbm")
    assert f"lightgbm {lightgbm.version}" in user
    assert "The network is reachable" in user


def test_an_interpreter_that_cannot_start_is_recorded_not_fatal(tmp_path: Path) -> None:
    environment = _discover_offline(tmp_path / "missing-python", tmp_path)
    assert environment.interpreter.version is None and environment.interpreter.error


def test_the_model_cache_is_recorded_with_what_it_holds(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    (cache / "huggingface" / "hub" / "models--acme--tiny").mkdir(parents=True)
    environment = _discover_offline(tmp_path / "missing-python", tmp_path, cache_dir=cache)
    assert environment.cache_dir == str(cache) and environment.cached_models == ["acme/tiny"]
    assert ("model cache", f"{cache}, read-only: acme/tiny") in environment.facts()
    user = render_code_prompt(request_for(environment)).user
    assert f"Pre-downloaded model weights are in {cache}" in user and "acme/tiny" in user


def test_a_7z_program_on_the_scripts_path_is_found_and_stated(tmp_path: Path) -> None:
    # The scripts' PATH starts with their interpreter's folder: a 7za there is theirs to call.
    bin_dir = tmp_path / "scripts" / "bin"
    bin_dir.mkdir(parents=True)
    seven = bin_dir / "7za"
    seven.write_text("#!/bin/sh\nexit 0\n")
    seven.chmod(0o755)
    (bin_dir / "7zr").write_text("not executable")  # a file the script could not run
    environment = _discover_offline(bin_dir / "python", tmp_path)
    assert environment.programs[:1] == ["7za"] and "7zr" not in environment.programs
    assert ("programs", ", ".join(environment.programs)) in environment.facts()
    user = render_code_prompt(request_for(environment)).user
    assert "Programs on the PATH: 7za" in user


def test_no_7z_program_is_not_claimed(tmp_path: Path) -> None:
    # search_path: an empty folder, so nothing is on the PATH
    environment = _discover_offline(
        tmp_path / "missing-python", tmp_path, search_path=str(tmp_path)
    )
    assert environment.programs == []
    assert all(label != "programs" for label, _ in environment.facts())
    assert "7z" not in render_code_prompt(request_for(environment)).user


def test_gpus_per_slot_with_names_memory_and_sharing(tmp_path: Path) -> None:
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho '0, NVIDIA H200, 143771'\necho '1, NVIDIA H200, 143771'\n")
    tool.chmod(0o755)
    environment = discover(
        Path(sys.executable),
        [(0, [0, 1], [0]), (1, [2, 3], [0]), (2, [4, 5], [1])],
        affinity_cpus=6,
        network=False,
        network_source="test",
        work_dir=tmp_path,
        nvidia_smi=str(tool),
    )
    first = environment.slot(0)
    assert first.gpus[0].name == "NVIDIA H200" and first.gpus[0].memory_mib == 143771
    assert first.gpu_shared_by == 2 and environment.slot(2).gpu_shared_by == 1
    user = render_code_prompt(request_for(environment)).user
    assert "GPU: NVIDIA H200 (140.4 GiB)" in user and "shared with 1 other script" in user


def test_gpu_query_parsing() -> None:
    gpus = parse_gpu_query("0, NVIDIA A10G, 23028\n1, Tesla T4, [N/A]\ngarbage\n")
    assert [(g.index, g.name, g.memory_mib) for g in gpus] == [
        (0, "NVIDIA A10G", 23028),
        (1, "Tesla T4", None),
    ]
