"""`mlmaster sweep --backend ray` on a real local Ray cluster (a head node with two CPUs, in a
network namespace of its own so that every Ray socket is on loopback): four graded runs and the
aggregate report; a run whose worker is killed mid-sweep is completed by --resume, and the
finished runs are not done again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import COMPETITIONS, clean_env, event_types

pytest.importorskip("ray")
HERE = Path(__file__).parent


def _can_make_network_namespace() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _can_make_network_namespace(), reason="needs unshare --net (root) to keep Ray on loopback"
)


def test_ray_sweep_grades_every_run_and_resume_completes_a_killed_one(
    sweep_data: Path, tmp_path: Path
) -> None:
    sweep_dir = tmp_path / "sweep"
    env = clean_env() | {"PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    driver = subprocess.run(
        [
            "unshare",
            "--net",
            "--fork",
            sys.executable,
            str(HERE / "ray_cluster_sweep.py"),
            str(sweep_data),
            str(sweep_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert driver.returncode == 0, driver.stderr[-4000:]
    result = json.loads(driver.stdout.strip().splitlines()[-1])

    first, resume = result["first"], result["resume"]
    assert first["code"] == 1, first["stderr"]  # one run lost its worker
    assert "resume with: mlmaster sweep --resume" in first["stderr"]
    assert resume["code"] == 0, resume["stderr"]

    killed = Path(result["killed"])
    assert "run_resumed" in event_types(killed)
    for record, mtime in result["finished_before_resume"].items():
        path = Path(record)
        assert path.stat().st_mtime_ns == mtime, f"{path} was run again"
        assert "run_resumed" not in event_types(path.with_suffix(""))

    report = json.loads((sweep_dir / "report.json").read_text())
    assert report["finished"] == report["planned"] == 4
    assert [row["name"] for row in report["competitions"]] == list(COMPETITIONS)
    for row in report["competitions"]:
        assert row["graded"] == 2
        assert row["rates"]["valid"]["mean"] == 100.0
