"""What MLE-bench's own package knows about a competition, when that package is installed.

``mlebench prepare`` leaves ``<data>/<id>/prepared/public`` and ``private`` and nothing else:
the competition's ``config.yaml`` and ``leaderboard.csv`` live inside the ``mlebench`` package
(``mlebench/competitions/<id>/``). When ``mlebench`` is importable, :func:`registry_entry` reads
them from there; when it is not (or does not know the id), it answers ``None`` and the caller
infers the spec from the public folder instead. The import is guarded: mlebench is optional.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from mlmaster.logs import get_logger

log = get_logger(__name__)


class RegistryEntry(BaseModel):
    """One competition's config (as ``config.yaml`` holds it) and its leaderboard's path."""

    model_config = ConfigDict(frozen=True)

    config: dict[str, Any]
    leaderboard: Path | None


def registry_entry(competition_id: str) -> RegistryEntry | None:
    """The ``mlebench`` package's config and leaderboard for ``competition_id``, if it has them."""
    try:
        registry_module = importlib.import_module("mlebench.registry")
    except Exception:  # absent, or broken on import: either way there is no registry to ask
        return None
    try:
        registry = registry_module.registry
        folder = Path(registry.get_competitions_dir()) / competition_id
    except Exception as error:
        log.warning("mlebench registry unusable", error=f"{type(error).__name__}: {error}")
        return None
    config_path = folder / "config.yaml"
    if not config_path.is_file():
        log.info("mlebench registry has no such competition", competition=competition_id)
        return None
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        log.warning("mlebench config unreadable", path=str(config_path), error=str(error))
        return None
    if not isinstance(config, dict):
        return None
    leaderboard = folder / "leaderboard.csv"
    # In a checkout without Git LFS the leaderboard is a pointer file, not a CSV.
    usable = leaderboard.is_file() and not _is_lfs_pointer(leaderboard)
    return RegistryEntry(config=config, leaderboard=leaderboard if usable else None)


def _is_lfs_pointer(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(40).startswith(b"version https://git-lfs")
