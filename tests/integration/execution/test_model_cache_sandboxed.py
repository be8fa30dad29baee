"""The shared model cache from the script's side: a real script, in the real sandbox, finds the
pre-downloaded weights through HF_HOME and TORCH_HOME, reads them, and cannot change them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from exec_support import SANDBOXES

from mlmaster.errors import UserError
from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace

WEIGHTS = b"pretend these are a model's weights"

# Reads the cached files through the variables, then tries every way to leave something there.
PROBE = """
import json, os
env = {k: os.environ.get(k) for k in (
    "HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE", "TORCH_HOME", "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE", "HF_DATASETS_CACHE", "HF_MODULES_CACHE", "HOME")}
hub = os.environ["HF_HUB_CACHE"]
weights = os.path.join(hub, "models--acme--tiny", "snapshots", "abc", "model.safetensors")
checkpoint = os.path.join(os.environ["TORCH_HOME"], "hub", "checkpoints", "resnet18.pth")
read = [open(weights, "rb").read().decode(), open(checkpoint, "rb").read().decode()]
attempts = {}
def attempt(name, action):
    try:
        action()
        attempts[name] = "done"
    except OSError as error:
        attempts[name] = type(error).__name__
attempt("new file", lambda: open(os.path.join(os.environ["HF_HOME"], "planted"), "w").write("x"))
attempt("new folder", lambda: os.mkdir(os.path.join(os.environ["TORCH_HOME"], "planted")))
attempt("overwrite", lambda: open(weights, "wb").write(b"poisoned"))
attempt("remove", lambda: os.remove(checkpoint))
attempt("chmod", lambda: os.chmod(hub, 0o777))
own = os.environ["HF_DATASETS_CACHE"]
os.makedirs(own)  # what the libraries write for themselves goes to the script's own folder
print(json.dumps({"env": env, "read": read, "attempts": attempts, "own": own}))
"""


@pytest.fixture
def model_cache(open_tmp: Path) -> Path:
    """A cache laid out like ~/.cache, as a user fills it before a run, read-only to others."""
    cache = open_tmp / "models"
    snapshot = cache / "huggingface" / "hub" / "models--acme--tiny" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(WEIGHTS)
    checkpoints = cache / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "resnet18.pth").write_bytes(WEIGHTS)
    for folder, _, files in os.walk(cache):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    return cache


UNTOUCHED = [
    ("huggingface", None),
    ("huggingface/hub", None),
    ("huggingface/hub/models--acme--tiny", None),
    ("huggingface/hub/models--acme--tiny/snapshots", None),
    ("huggingface/hub/models--acme--tiny/snapshots/abc", None),
    ("huggingface/hub/models--acme--tiny/snapshots/abc/model.safetensors", WEIGHTS),
    ("torch", None),
    ("torch/hub", None),
    ("torch/hub/checkpoints", None),
    ("torch/hub/checkpoints/resnet18.pth", WEIGHTS),
]


def _contents(cache: Path) -> list[tuple[str, bytes | None]]:
    """Every path under ``cache`` with a file's bytes (None for a folder)."""
    return sorted(
        (str(p.relative_to(cache)), None if p.is_dir() else p.read_bytes())
        for p in cache.rglob("*")
    )


def _open_to_all(cache: Path) -> None:
    for path in [cache, *cache.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_scripts_read_the_model_cache_and_cannot_change_it(
    sandbox: str,
    model_cache: Path,
    make_executor: Callable[..., Executor],
    make_workspace: Callable[[str], Workspace],
) -> None:
    if sandbox == "none" and os.geteuid() != 0:
        pytest.skip("unsandboxed, the script is mlmaster's own user, who may write the cache")
    if sandbox == "bwrap":
        # Even a cache open to all is read-only inside: the sandbox mounts it so.
        _open_to_all(model_cache)
    executor = make_executor(sandbox, cache_dir=model_cache)
    workspace = make_workspace(PROBE)
    result = await executor.run(workspace, timeout=120)
    assert result.exit_code == 0, result.stderr.text
    seen = json.loads(result.stdout.text)
    cache = str(executor.cache_dir)  # the folder, links resolved
    assert executor.cache_dir is not None and executor.cache_dir.name == "models"
    env = seen["env"]
    assert env["HF_HOME"] == f"{cache}/huggingface"
    assert env["HF_HUB_CACHE"] == env["TRANSFORMERS_CACHE"] == f"{cache}/huggingface/hub"
    assert env["TORCH_HOME"] == f"{cache}/torch"
    assert seen["read"] == [WEIGHTS.decode()] * 2
    refused = "OSError" if sandbox == "bwrap" else "PermissionError"  # EROFS: no subclass
    assert set(seen["attempts"].values()) == {refused}, seen["attempts"]
    assert seen["own"].startswith(str(workspace.working_dir))
    # Nothing changed on the host either.
    assert _contents(model_cache) == UNTOUCHED
    # bwrap cuts the network: the Hugging Face libraries are told not to try it.
    offline = None if executor.network else "1"
    assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == offline
    assert executor.network is (sandbox == "none")


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_without_a_cache_no_variable_points_anywhere(
    sandbox: str,
    make_executor: Callable[..., Executor],
    make_workspace: Callable[[str], Workspace],
) -> None:
    executor = make_executor(sandbox)
    code = "import os\nprint([k for k in os.environ if k in ('HF_HOME', 'TORCH_HOME')])\n"
    result = await executor.run(make_workspace(code), timeout=120)
    assert result.exit_code == 0, result.stderr.text
    assert result.stdout.text == "[]\n"


def test_a_missing_cache_folder_is_one_line(
    open_tmp: Path, make_executor: Callable[..., Executor]
) -> None:
    with pytest.raises(UserError, match=r"execution.cache_dir = .*missing is not a folder"):
        make_executor("none", cache_dir=open_tmp / "missing")


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts switch user only when mlmaster is root")
def test_unsandboxed_as_root_refuses_a_cache_scripts_could_write_or_not_read(
    model_cache: Path, make_executor: Callable[..., Executor]
) -> None:
    shared = model_cache / "torch" / "hub"
    shared.chmod(0o777)
    with pytest.raises(UserError, match=rf"may write in {shared}.*chmod -R o-w"):
        make_executor("none", cache_dir=model_cache)
    shared.chmod(0o755)
    secret = model_cache / "torch" / "hub" / "checkpoints" / "resnet18.pth"
    secret.chmod(0o600)
    with pytest.raises(UserError, match=rf"cannot read {secret}.*chmod -R o\+rX"):
        make_executor("none", cache_dir=model_cache)
    secret.chmod(0o644)
    assert make_executor("none", cache_dir=model_cache).cache_dir == model_cache.resolve()
