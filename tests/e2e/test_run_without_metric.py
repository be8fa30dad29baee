"""A run whose nodes never print a metric still ends with their valid submission."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from mlmaster.journal import NodeCommitted, RunEnded, read_events


def image_competition(public: Path) -> None:
    """Images the offline coder cannot model, a labels table and a sample: MLE-bench's shape,
    with the answers beside, where the embedded validation server reads them."""
    (public / "train").mkdir(parents=True)
    (public / "train" / "i0.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    labels = {"id": [f"i{k}.jpg" for k in range(8)], "has_cactus": [1] * 6 + [0] * 2}
    pd.DataFrame(labels).to_csv(public / "train.csv", index=False)
    sample = {"id": [f"t{k}.jpg" for k in range(5)], "has_cactus": 0.5}
    pd.DataFrame(sample).to_csv(public / "sample_submission.csv", index=False)
    (public.parent / "private").mkdir()
    answers = {"id": sample["id"], "has_cactus": [1, 0, 1, 1, 0]}
    pd.DataFrame(answers).to_csv(public.parent / "private" / "answers.csv", index=False)
    (public / "description.md").write_text(
        "# Cactus\n\n## Evaluation\n\nSubmissions are evaluated on area under the ROC curve.\n"
    )


def test_baseline_nodes_without_metric_end_the_run_with_a_submission(
    tmp_path: Path, cli: Any
) -> None:
    public, runs = tmp_path / "cactus" / "public", tmp_path / "runs"
    output = tmp_path / "out" / "sub.csv"
    image_competition(public)
    done = cli.run(
        *("run", "cactus", "--public-dir", str(public), "--profile", "ci"),
        *("--runs-dir", str(runs), "--output", str(output)),
        *("--time-limit", "3m", "--max-steps", "2"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "latest valid submission kept" in done.stderr.splitlines()[-1]

    written = pd.read_csv(output)
    assert written["id"].tolist() == [f"t{k}.jpg" for k in range(5)]
    assert written["has_cactus"].tolist() == [0.75] * 5  # the training labels' prior

    [run_dir] = list((runs / "cactus").iterdir())
    events = read_events(run_dir / "journal.jsonl")
    nodes = [e.node for e in events if isinstance(e, NodeCommitted)]
    assert nodes and all(n.metric is None for n in nodes)
    ended = events[-1]
    assert isinstance(ended, RunEnded) and ended.best_metric is None
    kept = max((n for n in nodes if n.valid_submission), key=lambda n: n.step)
    assert ended.best == kept.id
    assert json.loads((run_dir / "best" / "node.json").read_text())["id"] == kept.id
    assert (run_dir / "best" / "submission.csv").read_bytes() == output.read_bytes()
