"""A cgroup CPU quota caps slots and thread counts, whatever the affinity mask lists.

MLE-bench's container: 4 CPUs by quota, every host core in the affinity mask. The cgroup
filesystem is faked in a temporary folder (v2 and v1 layouts); the scripts run for real.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from exec_support import UNSANDBOXED_PYTHON, needs_unsandboxed

from mlmaster.environment.cgroup import cpu_quota, memory_limit
from mlmaster.errors import UserError
from mlmaster.execution.runner import Executor
from mlmaster.execution.workspace import Workspace
from mlmaster.settings.model import ExecutionSettings

# No sandbox, with an interpreter the unprivileged script user can start (tests run as root).
UNSANDBOXED = {"sandbox": "none", "python": UNSANDBOXED_PYTHON}
pytestmark = needs_unsandboxed


def cgroup_v2(root: Path, cpu_max: str = "400000 100000", memory: str = "8589934592") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cpu.max").write_text(cpu_max + "\n")
    (root / "memory.max").write_text(memory + "\n")
    return root


def cgroup_v1(root: Path, quota: int, period: int = 100000) -> Path:
    (root / "cpu,cpuacct").mkdir(parents=True)
    (root / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / "cpu,cpuacct" / "cpu.cfs_period_us").write_text(f"{period}\n")
    (root / "memory").mkdir()
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    return root


def test_readers_understand_v2_and_v1(tmp_path: Path) -> None:
    nowhere = tmp_path / "no-proc-cgroup"
    v2 = cgroup_v2(tmp_path / "v2")
    assert cpu_quota(v2, nowhere) == 4.0 and memory_limit(v2, nowhere) == 8 * 1024**3
    assert cpu_quota(cgroup_v2(tmp_path / "max", "max 100000", "max"), nowhere) is None
    assert memory_limit(tmp_path / "max", nowhere) is None
    v1 = cgroup_v1(tmp_path / "v1", 250000)
    assert cpu_quota(v1, nowhere) == 2.5 and memory_limit(v1, nowhere) is None
    assert cpu_quota(cgroup_v1(tmp_path / "v1-free", -1), nowhere) is None
    assert cpu_quota(tmp_path / "empty", nowhere) is None


def test_quota_of_four_on_a_mask_of_sixteen_plans_four_cpus(tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "cgroup")
    mask = list(range(16))
    one = Executor(ExecutionSettings(**UNSANDBOXED), cpus=mask, gpus=[], cgroup_root=root)
    assert [len(s.cpus) for s in one.pool.slots] == [4]
    four = Executor(ExecutionSettings(**UNSANDBOXED, slots=4), cpus=mask, gpus=[], cgroup_root=root)
    assert sorted(c for s in four.pool.slots for c in s.cpus) == [0, 1, 2, 3]
    with pytest.raises(UserError, match="needs at least 8 CPUs but only 4"):
        Executor(ExecutionSettings(**UNSANDBOXED, slots=8), cpus=mask, gpus=[], cgroup_root=root)


def test_no_quota_keeps_the_mask(tmp_path: Path) -> None:
    root = cgroup_v2(tmp_path / "cgroup", "max 100000")
    executor = Executor(ExecutionSettings(**UNSANDBOXED), cpus=list(range(16)), gpus=[],
                        cgroup_root=root)  # fmt: skip
    assert len(executor.pool.slots[0].cpus) == 16


async def test_a_script_under_a_quota_gets_its_threads_and_cpus(
    tmp_path: Path, make_workspace: Callable[[str], Workspace]
) -> None:
    root = cgroup_v1(tmp_path / "cgroup", 100000)  # one CPU's worth on this machine's mask
    executor = Executor(ExecutionSettings(**UNSANDBOXED), cgroup_root=root)
    workspace = make_workspace(
        "import os\n"
        "print('threads', os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])\n"
        "print('affinity', len(os.sched_getaffinity(0)))\n"
    )
    result = await executor.run(workspace, timeout=60)
    assert result.exit_code == 0, result.stderr.tail
    assert "threads 1 1" in result.stdout.head and "affinity 1" in result.stdout.head
