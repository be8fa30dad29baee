"""Script uids claimed per run: real locks, real processes (a second holder is a child process)."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlmaster.errors import UserError
from mlmaster.execution.uid_claims import UidClaims

BASE = 420_000  # far from any uid this host gives its users

# A child that claims ``count`` uids from ``base`` in ``lock_dir``, prints them and waits.
HOLDER = """
import sys, time
from pathlib import Path
from mlmaster.execution.uid_claims import UidClaims
claims = UidClaims(int(sys.argv[1]), lock_dir=Path(sys.argv[2]))
print(*[claims.for_slot(i) for i in range(int(sys.argv[3]))], flush=True)
time.sleep(60)
"""


@pytest.fixture
def lock_dir(tmp_path: Path) -> Path:
    return tmp_path / "uids"


def _holder(lock_dir: Path, count: int) -> tuple[subprocess.Popen[str], list[int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(BASE), str(lock_dir), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, [int(uid) for uid in child.stdout.readline().split()]


def test_slots_get_distinct_uids_from_the_base_up_and_keep_them(lock_dir: Path):
    claims = UidClaims(BASE, lock_dir=lock_dir)
    assert [claims.for_slot(i) for i in (0, 1, 2)] == [BASE, BASE + 1, BASE + 2]
    assert claims.for_slot(1) == BASE + 1  # asked again: the same uid
    assert claims.held() == [BASE, BASE + 1, BASE + 2]


def test_a_second_run_skips_the_uids_another_process_holds(lock_dir: Path):
    child, theirs = _holder(lock_dir, 2)
    try:
        assert theirs == [BASE, BASE + 1]
        mine = UidClaims(BASE, lock_dir=lock_dir)
        assert [mine.for_slot(0), mine.for_slot(1)] == [BASE + 2, BASE + 3]
    finally:
        child.kill()
        child.wait()


def test_a_killed_holders_uids_are_free_again(lock_dir: Path):
    child, theirs = _holder(lock_dir, 1)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert UidClaims(BASE, lock_dir=lock_dir).for_slot(0) == theirs[0] == BASE


def test_released_or_collected_claims_are_free_again(lock_dir: Path):
    first = UidClaims(BASE, lock_dir=lock_dir)
    assert first.for_slot(0) == BASE
    assert UidClaims(BASE, lock_dir=lock_dir).for_slot(0) == BASE + 1  # held: the next one
    first.release()
    assert first.held() == []
    assert UidClaims(BASE, lock_dir=lock_dir).for_slot(0) == BASE
    kept = UidClaims(BASE, lock_dir=lock_dir)
    assert kept.for_slot(0) == BASE
    del kept
    gc.collect()
    assert UidClaims(BASE, lock_dir=lock_dir).for_slot(0) == BASE


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process as another uid needs root")
def test_a_uid_some_process_runs_as_is_skipped(lock_dir: Path):
    squatter = subprocess.Popen(["sleep", "60"], user=BASE, group=BASE, extra_groups=[])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the child runs as BASE once it has exec'd
            if Path(f"/proc/{squatter.pid}/status").read_text().count(f"\t{BASE}\t") > 0:
                break
            time.sleep(0.05)
        assert UidClaims(BASE, lock_dir=lock_dir).for_slot(0) == BASE + 1
    finally:
        squatter.kill()
        squatter.wait()


def test_no_free_uid_in_the_span_names_the_fix(lock_dir: Path):
    keep = UidClaims(BASE, lock_dir=lock_dir, span=1)
    keep.for_slot(0)
    with pytest.raises(UserError, match=r"no free script uid in 420000\.\.420000.*script_uid"):
        UidClaims(BASE, lock_dir=lock_dir, span=1).for_slot(0)


def test_a_lock_folder_others_may_write_is_refused(lock_dir: Path):
    lock_dir.mkdir(mode=0o700)
    lock_dir.chmod(0o777)  # as an unsandboxed script could leave one in /tmp
    with pytest.raises(UserError, match="closed to others"):
        UidClaims(BASE, lock_dir=lock_dir).for_slot(0)


def test_a_link_in_place_of_the_lock_folder_is_refused(lock_dir: Path, tmp_path: Path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    lock_dir.symlink_to(target)
    with pytest.raises(UserError, match="not a folder owned"):
        UidClaims(BASE, lock_dir=lock_dir).for_slot(0)
