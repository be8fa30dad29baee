"""`mlmaster run` with a shared model cache: refused when it is no folder, recorded when it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlmaster.environment import Environment
from mlmaster.journal import RunStarted, read_events


def _run(suite_dir: Path, runs: Path) -> list[str]:
    return [
        *("run", "digits", "--profile", "ci", "--data-dir", str(suite_dir)),
        *("--runs-dir", str(runs), "--time-limit", "3m", "--max-steps", "1"),
    ]


def test_a_cache_that_is_no_folder_is_one_line_before_any_run_dir(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    runs = tmp_path / "runs"
    done = cli.run(*_run(suite_dir, runs), MLMASTER_EXECUTION__CACHE_DIR=str(tmp_path / "none"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "execution.cache_dir" in done.stderr and "Traceback" not in done.stderr
    assert not (runs / "digits").exists()
    holding_answers = cli.run(*_run(suite_dir, runs), MLMASTER_EXECUTION__CACHE_DIR=str(suite_dir))
    assert holding_answers.returncode == 2, holding_answers.stderr[-2000:]
    assert "holds the private answers" in holding_answers.stderr
    assert not (runs / "digits").exists()


def test_the_cache_and_what_it_holds_are_in_the_run_and_its_report(
    suite_dir: Path, tmp_path: Path, cli: Any
) -> None:
    cache, runs = tmp_path / "models", tmp_path / "runs"
    (cache / "huggingface" / "hub" / "models--acme--tiny").mkdir(parents=True)
    (cache / "torch" / "hub" / "checkpoints").mkdir(parents=True)
    (cache / "torch" / "hub" / "checkpoints" / "resnet18.pth").write_bytes(b"weights")
    for path in [tmp_path, cache, *cache.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    done = cli.run(*_run(suite_dir, runs), MLMASTER_EXECUTION__CACHE_DIR=str(cache))
    assert done.returncode in (0, 1), done.stderr[-3000:]
    [run_dir] = list((runs / "digits").iterdir())
    started = read_events(run_dir / "journal.jsonl")[0]
    assert isinstance(started, RunStarted)
    environment = Environment.model_validate(started.environment)
    assert environment.cache_dir == str(cache.resolve())
    assert environment.cached_models == ["acme/tiny", "torch: resnet18.pth"]
    assert "acme/tiny, torch: resnet18.pth" in (run_dir / "report.html").read_text()
