"""Micro-benchmark of the search tree: the cost of one select + commit as the tree grows.

Grows one tree per policy (see :mod:`mlmaster.bench.tree_growth`) and at 1k, 10k and 100k
nodes times ``OPS`` further select + commit pairs. Prints a small table (microseconds per
pair: mean and 99th percentile). ``mlmaster bench --only micro`` reports the same figures.

    python bench/micro_search.py [--sizes 1000,10000,100000] [--policies ml-master,greedy,random]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from mlmaster.bench.tree_growth import WORKERS, Driver

OPS = 2000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--policies", default="ml-master,greedy,random")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    policies = args.policies.split(",")

    print(f"select+commit, {WORKERS} in flight, {OPS} pairs per size (microseconds)")
    print(f"{'policy':<10} {'nodes':>8} {'mean':>8} {'p99':>8} {'max depth':>10} {'build s':>8}")
    for policy in policies:
        driver = Driver(policy, sizes[-1])
        for size in sizes:
            start = time.perf_counter()
            driver.grow_to(size)
            built = time.perf_counter() - start
            times = sorted(driver.time_pairs(OPS))
            depth = max(n.depth for n in driver.tree.nodes.values())
            print(
                f"{policy:<10} {size:>8} {statistics.fmean(times) * 1e6:>8.1f} "
                f"{times[int(0.99 * len(times))] * 1e6:>8.1f} {depth:>10} {built:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
