"""Growing a search tree without running anything: the driver of the search micro-benchmarks.

One tree per policy with a fixed mix of outcomes (70 % working with a random metric, 30 %
buggy), keeping ``workers`` expansions in flight as a parallel run does and committing the
oldest first. Used by ``mlmaster bench`` (micro scenario) and by ``bench/micro_search.py``.
"""

from __future__ import annotations

import random
import time
from collections import deque

from mlmaster.search import Expansion, Outcome, SearchTree
from mlmaster.settings.model import SearchSettings

WORKERS = 8


def random_outcome(rng: random.Random, plan: str = "", code: str = "") -> Outcome:
    """A buggy outcome three times in ten, else a working one with a random metric."""
    if rng.random() < 0.3:
        return Outcome(plan=plan, code=code, buggy=True, bug_reason="KeyError")
    return Outcome(plan=plan, code=code, metric=rng.random(), valid_submission=True)


class Driver:
    """One tree with ``workers`` expansions kept in flight, committed oldest first.

    ``plan`` and ``code`` are every node's texts: empty for timing the tree alone, a few
    kilobytes for measuring memory as real solutions would hold it.
    """

    def __init__(
        self,
        policy: str,
        target: int,
        *,
        workers: int = WORKERS,
        plan: str = "",
        code: str = "",
    ) -> None:
        self.tree = SearchTree(
            SearchSettings(policy=policy, num_drafts=5),
            lower_is_better=False,
            seed=0,
        )
        self.rng = random.Random(1)
        self.flight: deque[Expansion] = deque()
        self.target = target
        self.workers = workers
        self.plan, self.code = plan, code
        self.selects = 0

    def pair(self) -> bool:
        """One select (topping the flight up) and one commit; False when the tree is full."""
        tree = self.tree
        fraction = min(tree.counts().done / self.target, 1.0)
        expansion = tree.select(fraction, f"w{self.selects % self.workers}")
        self.selects += 1
        if expansion is not None:
            self.flight.append(expansion)
        if len(self.flight) < self.workers and expansion is not None:
            return True
        if not self.flight:
            return False
        tree.commit(self.flight.popleft(), random_outcome(self.rng, self.plan, self.code))
        return True

    def grow_to(self, size: int) -> None:
        while self.tree.counts().done < size:
            if not self.pair():
                raise RuntimeError(f"the tree stopped growing at {self.tree.counts().done} nodes")

    def time_pairs(self, n: int) -> list[float]:
        """CPU seconds taken by each of ``n`` further select + commit pairs.

        CPU time of this thread, not wall time: on a shared machine a pair preempted by
        another process would otherwise count the other's time (milliseconds at p99).
        """
        times = []
        clock = time.thread_time_ns
        for _ in range(n):
            start = clock()
            self.pair()
            times.append((clock() - start) / 1e9)
        return times
