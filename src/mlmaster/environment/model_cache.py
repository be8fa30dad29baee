"""The shared model cache: pre-downloaded weights every script reads and none may write.

A node's ``working/`` (its HOME and temp) is its own and is pruned after commit, so a model a
script downloads there is gone for the next node, and without a network it cannot be downloaded
at all. ``execution.cache_dir`` names a folder laid out like ``~/.cache`` (``huggingface/``,
``torch/``), filled before the run; scripts find it through the variables the libraries read:

- ``HF_HOME`` (``<cache>/huggingface``), ``HF_HUB_CACHE`` and, for older transformers,
  ``TRANSFORMERS_CACHE`` (``<cache>/huggingface/hub``): Hugging Face models, also timm's;
- ``TORCH_HOME`` (``<cache>/torch``): torch.hub and torchvision's weights
  (``<cache>/torch/hub/checkpoints``).

It is read-only to every script: a writable shared folder would be a channel between
concurrent scripts and from one node to the next, outside the tree's record. What the
Hugging Face libraries write under ``HF_HOME`` besides models (datasets' Arrow files, the code
of ``trust_remote_code`` models) is sent to the script's own ``working/`` instead.
``XDG_CACHE_HOME`` is left alone: tools write their own caches there, so it stays in HOME.

Without a network (bwrap, or ``execution.network = off``) the Hugging Face libraries are told
to stay offline (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``, ``HF_DATASETS_OFFLINE``), so a
cached model loads at once instead of after connection attempts, and a missing one fails with
an error that says it is not cached.

:func:`cached_models` names what the folder holds (Hugging Face repositories, torch
checkpoints), so the prompt can say which weights exist instead of inviting a download.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mlmaster.errors import UserError

HUGGINGFACE = "huggingface"
TORCH = "torch"
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
MAX_LISTED = 200  # names read off the folder at most (the prompt shows fewer)
_HUB_KINDS = ("models--", "datasets--")
_CHECKPOINTS = (".pth", ".pt", ".bin", ".safetensors", ".ckpt")


def resolve_cache_dir(configured: Path | None) -> Path | None:
    """``execution.cache_dir`` made concrete: an existing folder, links resolved (the sandbox
    mounts it at its real path), or None when unset."""
    if configured is None:
        return None
    path = Path(configured).expanduser()
    if not path.is_dir():
        raise UserError(
            f"execution.cache_dir = {path} is not a folder; point it at the folder of "
            "pre-downloaded models (laid out like ~/.cache: huggingface/, torch/) or unset it"
        )
    return path.resolve()


def check_cache_apart(cache_dir: Path | None, *, private: Path, runs_dir: Path) -> None:
    """Refuse a cache that would show scripts what they must not see: one holding the private
    answers, or one overlapping the runs folder (holdout answers, other nodes' workspaces)."""
    if cache_dir is None:
        return
    cache = cache_dir.resolve()
    runs = runs_dir.resolve()
    answers = private.resolve()
    if cache == answers or cache in answers.parents:
        clash = f"holds the private answers {answers}"
    elif cache == runs or cache in runs.parents or runs in cache.parents:
        clash = f"overlaps the runs folder {runs}"
    else:
        return
    raise UserError(
        f"execution.cache_dir = {cache} {clash}, which scripts must not read; point it at a "
        "folder holding only the pre-downloaded models"
    )


def cache_variables(cache_dir: Path | None, working_dir: Path) -> dict[str, str]:
    """The cache variables of one script whose own writable folder is ``working_dir``."""
    if cache_dir is None:
        return {}
    huggingface, hub = cache_dir / HUGGINGFACE, cache_dir / HUGGINGFACE / "hub"
    own = working_dir / ".cache" / HUGGINGFACE
    return {
        "HF_HOME": str(huggingface),
        "HF_HUB_CACHE": str(hub),
        "TRANSFORMERS_CACHE": str(hub),
        "TORCH_HOME": str(cache_dir / TORCH),
        # Written by the libraries themselves, so kept in the script's own folder.
        "HF_DATASETS_CACHE": str(own / "datasets"),
        "HF_MODULES_CACHE": str(own / "modules"),
        "HF_ASSETS_CACHE": str(own / "assets"),
    }


def offline_variables(network: bool) -> Mapping[str, str]:
    """What keeps the Hugging Face libraries from trying a network the script does not have."""
    return {} if network else dict.fromkeys(OFFLINE_VARIABLES, "1")


def cached_models(cache_dir: Path) -> list[str]:
    """What the cache holds, one name each: ``org/name`` per Hugging Face model repository
    (``dataset org/name`` for a dataset), ``torch: file`` per torch.hub checkpoint. Bounded;
    an unreadable folder lists nothing."""
    found: list[str] = []
    hub = cache_dir / HUGGINGFACE / "hub"
    for entry in _entries(hub):
        for kind in _HUB_KINDS:
            if entry.startswith(kind):
                name = entry.removeprefix(kind).replace("--", "/")
                found.append(name if kind == "models--" else f"dataset {name}")
    checkpoints = cache_dir / TORCH / "hub" / "checkpoints"
    found += [f"torch: {e}" for e in _entries(checkpoints) if e.endswith(_CHECKPOINTS)]
    return found[:MAX_LISTED]


def _entries(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            names = [e.name for _, e in zip(range(MAX_LISTED), entries, strict=False)]
    except OSError:
        return []
    return sorted(names)
