"""A script's process tree as sampling sees it: real processes, children and grandchildren.

Sampling follows the kernel's children lists of the members instead of reading every process;
it must find the same descendants, including a child started by one of a script's threads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from mlmaster.execution.process_tree import ProcessTree

# A child and a grandchild from the main thread, and a child from a second thread; each
# descendant prints its pid, then all sleep.
FAMILY = """\
import subprocess, sys, threading, time
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
parent = [sys.executable, "-c", "import subprocess, sys, time; "
          "c = subprocess.Popen(%r); print(c.pid, flush=True); time.sleep(60)" % (sleeper,)]
child = subprocess.Popen(parent, stdout=sys.stdout)
print(child.pid, flush=True)
def from_a_thread():  # which lives on: the child stays listed under this thread
    print(subprocess.Popen(sleeper).pid, flush=True)
    time.sleep(60)
threading.Thread(target=from_a_thread, daemon=True).start()
time.sleep(60)
"""


def test_sampling_finds_every_descendant_and_counts_their_memory() -> None:
    script = subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert script.stdout is not None
        descendants = {int(script.stdout.readline()) for _ in range(3)}
        time.sleep(0.2)  # the last one printed before it was listed as its parent's child
        rss = ProcessTree(script.pid).sample()
        # What reading every process finds (stopping a tree relies on it).
        found = {proc.pid for proc in ProcessTree(script.pid).members()}
        assert found == descendants | {script.pid}
        # Sleeping processes hold still: the sample counted each of them (any one missed
        # would take a quarter of the total away).
        expected = sum(psutil.Process(pid).memory_info().rss for pid in found)
        assert 0.9 * expected <= rss <= 1.1 * expected
    finally:
        os.killpg(script.pid, signal.SIGKILL)
        script.wait()
