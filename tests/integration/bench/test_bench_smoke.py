"""``mlmaster bench`` for real: the CLI as a process, and each scenario on tiny sizes.

The throughput test uses the real scripted OpenAI server, the real orchestrator and real script
processes; the search test runs one real ``mlmaster run``. Nothing here asserts speed: the
figures are the benchmark's business, these tests check that they are produced and coherent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlmaster.bench.report import BenchReport
from mlmaster.bench.search_quality import SearchConfig, run_one
from mlmaster.bench.throughput import ThroughputConfig, run_throughput
from mlmaster.competition.layout import load_competition
from mlmaster.competition.suite.build import build_suite


def mlmaster(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLMASTER_")}
    return subprocess.run(
        [sys.executable, "-m", "mlmaster", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("suite")
    build_suite(dest, only=["breast-cancer", "diabetes"])
    return dest


def test_quick_micro_bench_prints_and_writes_its_results(tmp_path: Path) -> None:
    out, published = tmp_path / "results", tmp_path / "latest.md"
    done = mlmaster(
        "bench", "--quick", "--only", "micro", "--out", str(out), "--publish", str(published),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Search tree: one select + commit" in done.stdout
    assert "`mlmaster bench --quick --only micro`" in done.stdout
    report = BenchReport.model_validate(json.loads((out / "latest.json").read_text()))
    [micro] = report.scenarios
    assert micro.name == "micro" and report.quick
    assert {row["nodes"] for row in micro.data["select_commit"]} == {1_000, 10_000}
    assert micro.data["resume"]["nodes"] >= 10_000
    assert published.read_text() == (out / "latest.md").read_text()
    assert [p.name for p in out.glob("bench-*.json")] != []


def test_an_unknown_scenario_exits_2_with_a_message(tmp_path: Path) -> None:
    done = mlmaster("bench", "--only", "speed", "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown bench scenario(s): speed" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


async def test_throughput_measures_the_serial_scheme_and_the_worker_settings(
    suite_dir: Path, tmp_path: Path
) -> None:
    config = ThroughputConfig(
        slots=1,
        latency=0.2,
        exec_seconds=0.2,
        duration=12.0,  # steps start only in the first few seconds (the budget's margins)
        serial_duration=4.0,  # two cycles of 0.4 s fit even on a loaded machine
        other_ratios=((0.4, 0.2),),
    )
    result = await run_throughput(config, tmp_path, load_competition(suite_dir, "diabetes"))
    rows = result.data["rows"]
    assert [(r["latency"], r["scheme"]) for r in rows] == [
        (0.2, "serial (original)"),
        (0.2, "workers<=2"),
        (0.2, "default"),
        (0.4, "default"),
    ]
    for row in rows:
        assert row["nodes_total"] >= 1
        assert row["utilisation"] is None or 0 < row["utilisation"] <= 1.0 + 1e-6
    serial, *orchestrated = rows
    assert serial["nodes"] >= 2  # both cycles of the only worker, at least
    for row in orchestrated:
        assert row["overhead_ms_p50"] is not None and row["overhead_ms_p50"] >= 0
        assert row["validate_ms_p50"] is not None  # every script wrote a submission
    assert len(result.tables[0].rows) == 4 and len(result.goals) == 2


def test_one_search_run_is_counted_and_graded(suite_dir: Path, tmp_path: Path) -> None:
    config = SearchConfig(time_limit=12.0, final_reserve=1.0)
    record = run_one("breast-cancer", "random", 0, 0, suite_dir, tmp_path, config)
    assert record.error is None and record.exit_code in (0, 1)
    assert record.nodes >= 1
    journal = tmp_path / "runs" / "breast-cancer" / "random-seed0" / "journal.jsonl"
    assert journal.is_file()
    if record.valid_submission:  # graded against the frozen leaderboard
        assert record.score is not None and record.normalized_score is not None
    else:
        assert record.score is None
