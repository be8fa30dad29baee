"""The micro scenario's pieces on small trees: they measure what they say they measure."""

from __future__ import annotations

from pathlib import Path

from mlmaster.bench.micro import (
    MicroConfig,
    bench_journal_append,
    bench_memory_context,
    bench_resume,
    bench_select_commit,
    growth_ratios,
    payload,
    placeholder_competition,
    write_journal,
)
from mlmaster.bench.tree_growth import Driver
from mlmaster.journal import NodeCommitted, read_events, read_journal
from mlmaster.orchestrator.resume import rebuild
from mlmaster.settings import Settings


def test_the_driver_grows_the_tree_to_the_size_asked_with_texts() -> None:
    driver = Driver("greedy", 300, plan="P" * 10, code="C" * 20)
    driver.grow_to(300)
    nodes = [n for n in driver.tree.nodes.values() if not driver.tree.is_root(n.id)]
    assert len(nodes) >= 300
    assert all(n.plan == "P" * 10 and n.code == "C" * 20 for n in nodes)
    assert any(n.buggy for n in nodes) and any(n.metric is not None for n in nodes)
    assert len(driver.time_pairs(25)) == 25


def test_select_commit_rows_cover_every_policy_and_size() -> None:
    config = MicroConfig(sizes=(50, 200), policies=("ml-master", "random"), pairs=20)
    table, rows = bench_select_commit(config)
    assert [(r["policy"], r["nodes"]) for r in rows] == [
        ("ml-master", 50), ("ml-master", 200), ("random", 50), ("random", 200),
    ]  # fmt: skip
    assert all(0 < r["p50_us"] <= r["p99_us"] for r in rows)
    assert len(table.rows) == 4


def test_payload_has_the_length_asked() -> None:
    assert len(payload(1234)) == 1234


def test_memory_contexts_are_rendered_within_their_budget() -> None:
    driver = Driver("ml-master", 200, code=payload(500))
    driver.grow_to(200)
    result = bench_memory_context(driver, MicroConfig(contexts=30))
    assert result["nodes"] >= 200
    assert 0 < result["mean_chars"] <= Settings().memory.context_chars
    assert result["mean_us"] > 0


def test_journal_appends_are_real_events(tmp_path: Path) -> None:
    driver = Driver("ml-master", 60)
    driver.grow_to(60)
    result = bench_journal_append(driver, tmp_path, MicroConfig(appends=40))
    events = read_events(tmp_path / "append" / "journal.jsonl")
    assert result["events"] == len(events) == 40
    assert all(isinstance(e, NodeCommitted) for e in events)
    assert result["per_second"] > 0


def test_the_benchmark_journal_resumes_to_the_same_tree(tmp_path: Path) -> None:
    driver = Driver("ml-master", 150, code=payload(300))
    driver.grow_to(150)
    competition = placeholder_competition(tmp_path)
    path = tmp_path / "journal.jsonl"
    written = write_journal(driver, path, competition)
    point = rebuild(read_journal(path), Settings(), competition)
    assert point.steps == written
    original = {n.id: (n.parent_id, n.metric, n.buggy) for n in driver.tree.nodes.values()}
    rebuilt = {n.id: (n.parent_id, n.metric, n.buggy) for n in point.tree.nodes.values()}
    committed = {k: v for k, v in original.items() if k in rebuilt}
    assert len(committed) == len(rebuilt) and committed == rebuilt

    result = bench_resume(driver, tmp_path / "bench")
    assert result["nodes"] == written
    assert result["resume_s"] > 0
    assert 0 < result["retained_mib"] <= result["peak_mib"]


def test_growth_ratios_divide_the_largest_size_by_the_smallest() -> None:
    rows = [
        {"policy": "greedy", "nodes": 10_000, "mean_us": 30.0},
        {"policy": "greedy", "nodes": 1_000, "mean_us": 20.0},
        {"policy": "greedy", "nodes": 100_000, "mean_us": 50.0},
        {"policy": "random", "nodes": 1_000, "mean_us": 10.0},
    ]
    assert growth_ratios(rows) == {"greedy": 2.5}  # one size only: no ratio
