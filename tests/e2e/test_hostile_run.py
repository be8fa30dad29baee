"""A whole run whose every script plants a link to the private answers as its submission.

Before links were refused, an unsandboxed run validated the linked answers, copied them into
``best/`` and ``--output``, and graded them as gold. Now every node says why its file was
ignored, no node counts as working, and nothing of the answers leaves the data folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlmaster.competition.layout import load_competition
from mlmaster.execution.interpreter import interpreter_roots, resolve_script_python
from mlmaster.execution.sandbox import SandboxContext
from mlmaster.execution.sandboxes.bwrap import probe
from mlmaster.orchestrator.run import open_run, search
from mlmaster.settings import load_settings
from mlmaster.testing.scripted_server import Reply, ScriptedServer

PLANT = """\
import os
os.symlink(ANSWERS, "submission/submission.csv")
print("VALIDATION_METRIC: 0.999")
"""


def _bwrap_works() -> bool:
    found = shutil.which("bwrap")
    if found is None:
        return False
    python = resolve_script_python(None)
    context = SandboxContext(python, interpreter_roots(python), 65534, 65534)
    return probe(found, context, user_namespace=True) is None


@pytest.fixture(scope="module")
def open_root() -> Iterator[Path]:
    """A folder any user may search: unsandboxed scripts run as another user when the tests
    run as root, and pytest's folders are closed to other users. Removed after the module (a
    run's log handler may still point into it until then)."""
    root = Path(tempfile.mkdtemp(prefix="mlmaster-hostile-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def open_data(suite_dir: Path, open_root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=open_root))
    folder.chmod(0o755)
    shutil.copytree(suite_dir / "digits", folder / "data" / "digits")
    return folder


@pytest.mark.parametrize(
    "sandbox",
    [
        pytest.param("bwrap", marks=pytest.mark.skipif(not _bwrap_works(), reason="no bwrap")),
        pytest.param("none"),
    ],
)
async def test_linked_answers_never_become_a_submission(open_data: Path, sandbox: str) -> None:
    competition = load_competition(open_data / "data", "digits")
    answers = competition.paths.private_dir / competition.spec.answers_file
    code = f"ANSWERS = {str(answers)!r}\n{PLANT}"
    execution: dict[str, Any] = {"slots": 1, "sandbox": sandbox}
    if sandbox == "none" and os.geteuid() == 0:
        execution["python"] = "/usr/bin/python3"  # one the unprivileged script user can start
    output = open_data / "out" / "submission.csv"

    async with ScriptedServer(lambda _: Reply(text=f"Plan.\n\n```python\n{code}```\n")) as server:
        settings = load_settings(
            "ci",
            overrides={
                "run": {"runs_dir": str(open_data / "runs"), "output": str(output)},
                "budget": {"max_steps": 3, "time_limit": "3m"},
                "search": {"num_drafts": 3, "workers": 1},
                "execution": execution,
                "llm": {
                    "coder": {
                        "provider": "openai",
                        "base_url": server.base_url,
                        "model": "scripted",
                        "api_key": "test-key",
                        "retries": 1,
                    }
                },
            },
            environ={},
        )
        async with open_run(settings, competition) as state:
            outcome = await search(state, handle_signals=False, output=output)
            nodes = [n for n in state.tree.nodes.values() if n.operator != "root"]

    assert nodes and all(n.buggy for n in nodes)
    for node in nodes:
        assert "submission/submission.csv is a symbolic link: ignored" in (node.bug_reason or "")
        link = outcome.run_dir / "nodes" / node.id / "workspace" / "submission" / "submission.csv"
        assert link.is_symlink() and link.resolve() == answers.resolve(), "no link was planted"
        assert not (outcome.run_dir / "nodes" / node.id / "submission.csv").exists()
    assert outcome.best_id is None
    assert not (outcome.run_dir / "best" / "submission.csv").exists()
    assert not output.exists()
