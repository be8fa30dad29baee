"""`mlmaster sweep` on this machine: runs in parallel on disjoint CPU sets (read from /proc), a
run killed mid-sweep is resumed from its journal, finished runs are not done again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from sweep_helpers import (
    COMPETITIONS,
    clean_env,
    event_types,
    pid_of,
    sweep_argv,
    wait_for_a_working_run,
)

pytestmark = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs for two runs at once"
)


def _watch_affinities(
    root: int, sweep_dir: Path, stop: threading.Event, seen: list[list[set[int]]]
) -> None:
    """Every few hundred ms, the CPU sets of the sweep's runs executing at that moment (a run
    process counts once it has said where it runs: it pins itself before that)."""
    while not stop.is_set():
        running = {pid_of(where) for where in sweep_dir.glob("*/seed-*.where.json")}
        try:
            children = psutil.Process(root).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        sets = []
        for child in children:
            try:
                if child.pid not in running:
                    continue
                status = Path(f"/proc/{child.pid}/status").read_text()
            except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
                continue
            allowed = next(
                line.split(":", 1)[1].strip()
                for line in status.splitlines()
                if line.startswith("Cpus_allowed_list")
            )
            sets.append(_cpu_set(allowed))
        if sets:
            seen.append(sets)
        time.sleep(0.2)


def _cpu_set(text: str) -> set[int]:
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def test_local_sweep_carves_cpus_survives_a_killed_run_and_resumes(
    sweep_data: Path, tmp_path: Path
) -> None:
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.Popen(
        sweep_argv(sweep_data, sweep_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=_watch_affinities, args=(proc.pid, sweep_dir, stop, seen))
    watcher.start()
    try:
        victim = wait_for_a_working_run(sweep_dir, proc, limit=240)
        os.kill(pid_of(victim), signal.SIGKILL)
        _, err = proc.communicate(timeout=400)
    finally:
        stop.set()
        watcher.join()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err[-3000:]
    assert f"resume with: mlmaster sweep --resume {sweep_dir}" in err

    # Two runs ran at once, each pinned to one CPU of its own.
    assert any(len(sets) == 2 for sets in seen), seen
    for sets in seen:
        assert all(len(s) == 1 for s in sets), sets
        assert len(set().union(*sets)) == len(sets), f"runs shared a CPU: {sets}"

    killed = victim.parent / victim.name.removesuffix(".where.json")
    finished = {
        path: path.stat().st_mtime_ns
        for path in sweep_dir.glob("*/seed-*.json")
        if not path.name.endswith((".where.json", ".task.json"))
    }
    assert len(finished) == 3 and killed.with_suffix(".json") not in finished

    resumed = subprocess.run(
        [*sweep_argv(sweep_data, sweep_dir)[:4], "--resume", str(sweep_dir)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=400,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # The killed run went on from its journal; the finished ones were left alone.
    assert "run_resumed" in event_types(killed)
    for path, mtime in finished.items():
        assert path.stat().st_mtime_ns == mtime
        run_dir = path.with_suffix("")
        assert event_types(run_dir).count("run_started") == 1
        assert "run_resumed" not in event_types(run_dir)

    report = json.loads((sweep_dir / "report.json").read_text())
    assert report["finished"] == report["planned"] == 4
    assert [row["name"] for row in report["competitions"]] == list(COMPETITIONS)
    assert all(row["graded"] == 2 for row in report["competitions"])
    assert (sweep_dir / "report.md").read_text().startswith("# Sweep report")
    assert "<table>" in (sweep_dir / "report.html").read_text()


def test_an_unknown_backend_is_refused_before_the_sweep_folder_is_written(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    done = subprocess.run(
        sweep_argv(tmp_path / "data", sweep_dir, "--backend", "slurm"),
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert done.returncode == 2
    assert "unknown sweep backend 'slurm'; use one of local, ray" in done.stderr
    assert "Traceback" not in done.stderr
    assert not sweep_dir.exists()  # a corrected rerun with the same folder starts afresh


def test_runs_that_can_never_fit_are_refused_before_the_sweep_folder_is_written(
    tmp_path: Path,
) -> None:
    for competition in COMPETITIONS:
        (tmp_path / "data" / competition / "prepared").mkdir(parents=True)
    sweep_dir = tmp_path / "sweep"
    argv = sweep_argv(tmp_path / "data", sweep_dir)
    argv[argv.index("--cpus-per-run") + 1] = str((os.cpu_count() or 1) + 64)
    done = subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=120)
    assert done.returncode == 2
    assert "lower sweep.cpus_per_run" in done.stderr and "Traceback" not in done.stderr
    assert not sweep_dir.exists()


def test_unknown_competitions_are_refused_before_the_sweep_folder_is_written(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "breast-cancer" / "prepared").mkdir(parents=True)
    sweep_dir = tmp_path / "sweep"
    argv = sweep_argv(data, sweep_dir)
    argv[argv.index("--competitions") + 1] = "breast-cancer,nope,gone"
    done = subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=120)
    assert done.returncode == 2, done.stderr
    assert "unknown competitions 'nope', 'gone'" in done.stderr
    assert "competitions there: breast-cancer" in done.stderr and "Traceback" not in done.stderr
    assert not sweep_dir.exists()
