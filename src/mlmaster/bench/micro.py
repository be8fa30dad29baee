"""Micro-benchmarks of the parts every step passes through, at tree sizes a long run reaches.

* select + commit at 1k, 10k and 100k nodes, per policy (:mod:`mlmaster.bench.tree_growth`);
* rendering a node's memory context from a 10k-node tree;
* the journal's append rate (one fsynced event per committed node);
* resuming a 10k-node journal (read it, rebuild tree and memory), and the memory that tree and
  memory hold, measured with tracemalloc (peak while rebuilding, and what stays afterwards).

Nodes carry a few kilobytes of plan and code, as real solutions do, so sizes are realistic.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlmaster.bench.report import Goal, ScenarioResult, Table
from mlmaster.bench.tree_growth import Driver
from mlmaster.competition.layout import Competition
from mlmaster.competition.spec import CompetitionPaths, CompetitionSpec
from mlmaster.journal import Journal, NodeCommitted, RunDir, read_journal
from mlmaster.memory import MemoryStore, insight_from_node
from mlmaster.orchestrator.resume import rebuild
from mlmaster.search.node import Operator
from mlmaster.settings import Settings
from mlmaster.settings.model import MemorySettings

# Roughly a real node: a plan of a few sentences and a script of about a hundred lines.
PLAN_CHARS = 600
CODE_CHARS = 4000
MIB = 1024**2


@dataclass(frozen=True)
class MicroConfig:
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    policies: tuple[str, ...] = ("ml-master", "greedy", "random")
    pairs: int = 2000  # select + commit pairs timed per size
    contexts: int = 300  # memory contexts rendered
    appends: int = 300  # journal events appended
    resume_nodes: int = 10_000


def payload(chars: int = CODE_CHARS) -> str:
    line = "features = frame.assign(ratio=frame.a / (frame.b + 1))  # a typical line\n"
    return (line * (chars // len(line) + 1))[:chars]


def _stats_us(seconds: list[float]) -> tuple[float, float, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.fmean(ordered) * 1e6, statistics.median(ordered) * 1e6, p99 * 1e6


def bench_select_commit(config: MicroConfig) -> tuple[Table, list[dict[str, Any]]]:
    table = Table(
        title="Search tree: one select + commit (8 expansions in flight, CPU time)",
        columns=["policy", "nodes", "mean µs", "p50 µs", "p99 µs", "grow s", "max depth"],
        notes=[
            "CPU time of the benchmark's thread per pair, the objects grown so far frozen out "
            "of the garbage collector (its full passes cost the same per allocation at any "
            "size, but land on a few pairs at random and would make the means noise)."
        ],
    )
    rows: list[dict[str, Any]] = []
    for policy in config.policies:
        driver = Driver(policy, config.sizes[-1])
        for size in config.sizes:
            start = time.perf_counter()
            driver.grow_to(size)
            grown = time.perf_counter() - start
            # The tree's own cost: the cyclic collector's full passes over every object are
            # kept out (frozen); they are amortised constant per allocation, not per node.
            gc.collect()
            gc.freeze()
            try:
                mean, p50, p99 = _stats_us(driver.time_pairs(config.pairs))
            finally:
                gc.unfreeze()
            rows.append(
                {
                    "policy": policy,
                    "nodes": size,
                    "mean_us": mean,
                    "p50_us": p50,
                    "p99_us": p99,
                    "grow_s": grown,
                    "max_depth": max(n.depth for n in driver.tree.nodes.values()),
                }
            )
            table.rows.append([policy, size, mean, p50, p99, grown, rows[-1]["max_depth"]])
    return table, rows


def growth_ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Per policy: mean cost of a select + commit at the largest size over the smallest."""
    ratios: dict[str, float] = {}
    for policy in dict.fromkeys(r["policy"] for r in rows):
        mine = sorted((r for r in rows if r["policy"] == policy), key=lambda r: r["nodes"])
        if len(mine) > 1:
            ratios[policy] = mine[-1]["mean_us"] / mine[0]["mean_us"]
    return ratios


def grown_tree(nodes: int) -> Driver:
    driver = Driver("ml-master", nodes, plan=payload(PLAN_CHARS), code=payload(CODE_CHARS))
    driver.grow_to(nodes)
    return driver


def bench_memory_context(driver: Driver, config: MicroConfig) -> dict[str, Any]:
    tree = driver.tree
    store = MemoryStore(MemorySettings())
    for node in tree.nodes.values():
        if not tree.is_root(node.id):
            store.add(insight_from_node(node))
    rng = random.Random(3)
    ids = [n.id for n in tree.nodes.values() if not tree.is_root(n.id)]
    operators: tuple[Operator, ...] = ("draft", "improve", "debug")
    times, chars = [], []
    for i in range(config.contexts):
        operator = operators[i % 3]
        node_id = tree.nodes[ids[0]].parent_id if operator == "draft" else rng.choice(ids)
        assert node_id is not None
        start = time.perf_counter()
        context = store.context(tree, node_id, operator)
        times.append(time.perf_counter() - start)
        chars.append(len(context.text))
    mean, p50, p99 = _stats_us(times)
    return {
        "nodes": len(ids),
        "mean_us": mean,
        "p50_us": p50,
        "p99_us": p99,
        "mean_chars": statistics.fmean(chars),
    }


def bench_journal_append(driver: Driver, workdir: Path, config: MicroConfig) -> dict[str, Any]:
    events = [
        NodeCommitted(node=n) for n in list(driver.tree.nodes.values())[1 : config.appends + 1]
    ]
    path = RunDir(workdir / "append").journal
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    journal = Journal(path)
    start = time.perf_counter()
    for event in events:
        journal.append_sync(event)
    seconds = time.perf_counter() - start
    journal.close()
    return {
        "events": len(events),
        "per_second": len(events) / seconds,
        "ms_per_event": 1000 * seconds / len(events),
        "bytes_per_event": path.stat().st_size / len(events),
    }


def write_journal(driver: Driver, path: Path, competition: Competition) -> int:
    """A run's journal as the orchestrator writes it, minus the fsyncs (writing is not timed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = [n for n in driver.tree.nodes.values() if not driver.tree.is_root(n.id)]
    with path.open("w") as out:
        first = {
            "seq": 1,
            "time": time.time(),
            "type": "run_started",
            "competition": competition.spec.id,
            "lower_is_better": False,
        }
        out.write(json.dumps(first) + "\n")
        for seq, node in enumerate(nodes, start=2):
            event = {
                "seq": seq,
                "time": time.time(),
                "type": "node_committed",
                "node": node.model_dump(mode="json"),
            }
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    return len(nodes)


def bench_resume(driver: Driver, workdir: Path) -> dict[str, Any]:
    competition = placeholder_competition(workdir)
    path = RunDir(workdir / "resume").journal
    nodes = write_journal(driver, path, competition)
    settings = Settings()
    # Timed without tracemalloc (it slows allocation-heavy code severalfold), then measured.
    start, cpu_start = time.perf_counter(), time.process_time()
    point = rebuild(read_journal(path), settings, competition)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert point.tree.counts().done >= nodes
    del point
    tracemalloc.start()
    point = rebuild(read_journal(path), settings, competition)
    # What the orchestrator keeps: the tree and the memory store (the events are freed).
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del point
    return {
        "nodes": nodes,
        "resume_s": seconds,
        "resume_cpu_s": cpu,
        "journal_mib": path.stat().st_size / MIB,
        "peak_mib": peak / MIB,
        "retained_mib": retained / MIB,
    }


def placeholder_competition(workdir: Path) -> Competition:
    """Resuming needs only the competition's id and direction; no files are read."""
    root = workdir / "placeholder"
    spec = CompetitionSpec(
        id="bench-placeholder",
        name="Bench placeholder",
        metric="accuracy",
        lower_is_better=False,
        id_column="id",
        target_columns=["y"],
        task_type="binary",
    )
    paths = CompetitionPaths(
        root=root,
        public_dir=root / "public",
        private_dir=root / "private",
        description_file=root / "public" / "description.md",
        sample_submission=root / "public" / "sample_submission.csv",
    )
    return Competition(spec=spec, paths=paths)


def run_micro(config: MicroConfig, workdir: Path) -> ScenarioResult:
    select_table, select_rows = bench_select_commit(config)
    driver = grown_tree(config.resume_nodes)
    context = bench_memory_context(driver, config)
    append = bench_journal_append(driver, workdir, config)
    resume = bench_resume(driver, workdir)
    parts = Table(
        title=f"Memory, journal and resume at {resume['nodes']:,} nodes "
        f"({PLAN_CHARS:,} chars of plan and {CODE_CHARS:,} of code each)",
        columns=["measure", "value", "unit"],
        rows=[
            ["memory context render, mean", context["mean_us"] / 1000, "ms"],
            ["memory context render, p99", context["p99_us"] / 1000, "ms"],
            ["memory context size, mean", context["mean_chars"], "chars"],
            ["journal append (fsynced)", append["per_second"], "events/s"],
            ["journal event size", append["bytes_per_event"] / 1024, "KiB"],
            ["resume: read + rebuild", resume["resume_s"], "s"],
            ["resume: read + rebuild, CPU time", resume["resume_cpu_s"], "s"],
            ["journal size", resume["journal_mib"], "MiB"],
            ["tree + memory held after resume", resume["retained_mib"], "MiB"],
            ["peak while resuming (events included)", resume["peak_mib"], "MiB"],
        ],
        notes=["Memory measured with tracemalloc (Python allocations)."],
    )
    largest = [r for r in select_rows if r["nodes"] == max(config.sizes)]
    worst = max(largest, key=lambda r: r["mean_us"])
    goals = [
        Goal(
            name=f"select + commit at {worst['nodes']:,} nodes (mean, slowest policy)",
            target="< 1 ms",
            measured=f"{worst['mean_us'] / 1000:.3f} ms ({worst['policy']})",
            met=worst["mean_us"] < 1000 if worst["nodes"] >= 100_000 else None,
        ),
        *(
            Goal(
                name=f"select + commit cost growth, {policy} "
                f"({max(config.sizes):,} / {min(config.sizes):,} nodes, mean)",
                target="<= 2x",
                measured=f"{ratio:.2f}x",
                met=ratio <= 2.0 if max(config.sizes) >= 100 * min(config.sizes) else None,
            )
            for policy, ratio in growth_ratios(select_rows).items()
        ),
        Goal(
            name=f"resume of {resume['nodes']:,} nodes",
            target="< 2 s",
            measured=f"{resume['resume_s']:.2f} s",
            met=resume["resume_s"] < 2.0 if resume["nodes"] >= 10_000 else None,
        ),
    ]
    return ScenarioResult(
        name="micro",
        tables=[select_table, parts],
        goals=goals,
        data={
            "config": config.__dict__,
            "select_commit": select_rows,
            "growth_ratios": growth_ratios(select_rows),
            "memory_context": context,
            "journal_append": append,
            "resume": resume,
        },
    )
