"""The shared model cache's variables and what a cache folder is read to hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmaster.environment.model_cache import (
    cache_variables,
    cached_models,
    check_cache_apart,
    offline_variables,
    resolve_cache_dir,
)
from mlmaster.errors import UserError


def test_variables_point_into_the_cache_and_writes_into_the_script_folder() -> None:
    env = cache_variables(Path("/models"), Path("/w/working"))
    assert env["HF_HOME"] == "/models/huggingface"
    assert env["HF_HUB_CACHE"] == env["TRANSFORMERS_CACHE"] == "/models/huggingface/hub"
    assert env["TORCH_HOME"] == "/models/torch"
    for own in ("HF_DATASETS_CACHE", "HF_MODULES_CACHE", "HF_ASSETS_CACHE"):
        assert env[own].startswith("/w/working/")
    assert "XDG_CACHE_HOME" not in env
    assert cache_variables(None, Path("/w/working")) == {}


def test_offline_only_without_a_network() -> None:
    assert offline_variables(True) == {}
    assert offline_variables(False) == {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }


def test_the_cache_lists_hub_repositories_and_torch_checkpoints(tmp_path: Path) -> None:
    hub = tmp_path / "huggingface" / "hub"
    for name in ("models--acme--tiny", "models--bert-base-uncased", "datasets--acme--d", ".locks"):
        (hub / name).mkdir(parents=True)
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "resnet18-f37072fd.pth").write_bytes(b"")
    (checkpoints / "notes.txt").write_text("")
    assert cached_models(tmp_path) == [
        "dataset acme/d",
        "acme/tiny",
        "bert-base-uncased",
        "torch: resnet18-f37072fd.pth",
    ]
    assert cached_models(tmp_path / "absent") == []


def test_the_setting_must_name_a_folder(tmp_path: Path) -> None:
    assert resolve_cache_dir(None) is None
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    assert resolve_cache_dir(link) == tmp_path.resolve()
    with pytest.raises(UserError, match="is not a folder"):
        resolve_cache_dir(tmp_path / "absent")


def test_a_cache_holding_answers_or_overlapping_the_runs_is_refused(tmp_path: Path) -> None:
    data, runs, models = tmp_path / "data", tmp_path / "runs", tmp_path / "models"
    private = data / "comp" / "prepared" / "private"
    check_cache_apart(models, private=private, runs_dir=runs)
    check_cache_apart(None, private=private, runs_dir=runs)
    for cache, clash in (
        (data, "holds the private answers"),
        (private, "holds the private answers"),
        (tmp_path, "holds the private answers"),
        (runs, "overlaps the runs folder"),
        (runs / "comp" / "run-1" / "nodes", "overlaps the runs folder"),
    ):
        with pytest.raises(UserError, match=clash):
            check_cache_apart(cache, private=private, runs_dir=runs)
