"""Run inside a fresh network namespace (only loopback): start a Ray head node with two CPUs,
sweep two competitions x two seeds on it, SIGKILL one run's Ray worker mid-run, resume the
sweep, stop the cluster. Prints what happened as one JSON line for the test to check.

    unshare --net --fork python ray_cluster_sweep.py DATA_DIR SWEEP_DIR
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sweep_helpers import clean_env, pid_of, sweep_argv, wait_for_a_working_run

PORT = 6380  # the namespace is ours alone: no other process can hold it


def main(data: Path, sweep_dir: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = clean_env() | {"RAY_USAGE_STATS_ENABLED": "0"}
    ray = str(Path(sys.executable).with_name("ray"))
    subprocess.run(
        [
            ray,
            "start",
            "--head",
            "--num-cpus=2",
            "--num-gpus=0",
            "--node-ip-address=127.0.0.1",
            f"--port={PORT}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--object-store-memory=100000000",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    result: dict[str, object] = {}
    try:
        argv = sweep_argv(data, sweep_dir, "--backend", "ray", "--address", f"127.0.0.1:{PORT}")
        sweep = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        victim = wait_for_a_working_run(sweep_dir, sweep, limit=300)
        os.kill(pid_of(victim), signal.SIGKILL)
        _, err = sweep.communicate(timeout=600)
        result["first"] = {"code": sweep.returncode, "stderr": err[-4000:]}
        result["killed"] = str(victim.parent / victim.name.removesuffix(".where.json"))
        result["finished_before_resume"] = {
            str(p): p.stat().st_mtime_ns
            for p in sweep_dir.glob("*/seed-*.json")
            if not p.name.endswith(".where.json")
        }
        resumed = subprocess.run(
            [*argv[:4], "--resume", str(sweep_dir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        result["resume"] = {"code": resumed.returncode, "stderr": resumed.stderr[-4000:]}
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
