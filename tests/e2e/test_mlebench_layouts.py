"""Every MLE-bench public folder shape starts a run, and its prompt says what is really there.

The 75 public folders are rebuilt from ``tests/fixtures/mlebench-layouts.json`` (tiny files,
real names and shapes). For every one, in-process: the spec is inferred, the data preview
built and the draft prompt rendered; the prompt must name the real sample submission (or say
there is none) and describe every archive. A handful of representative shapes then run
``mlmaster run --public-dir`` for real, with the offline coder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlebench_layouts import build_public, competitions
from mlmaster.api import competition_for
from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.journal import NodeCommitted, RunStarted, read_events
from mlmaster.llm.prompting import render_code_prompt
from mlmaster.llm.requests import CodeRequest, Hardware
from mlmaster.memory.insight import MemoryContext
from mlmaster.preview import data_preview
from mlmaster.settings import Settings

LAYOUTS = {layout["id"]: layout for layout in competitions()}
# One of each shape: images in zips, a 7z-only folder, no sample submission, an oddly named
# sample among tar.gz and 7z archives, a sample inside a zip, folders of audio, plain tables.
REPRESENTATIVE = [
    "aerial-cactus-identification",
    "statoil-iceberg-classifier-challenge",
    "billion-word-imputation",
    "multi-modal-gesture-recognition",
    "text-normalization-challenge-english-language",
    "tensorflow-speech-recognition-challenge",
    "tabular-playground-series-may-2022",
]
# Folders whose test ids sit only inside a 7z archive: nothing installed can read them, so the
# offline coder cannot write a submission there (a model-written script may, with a 7z tool).
UNREADABLE_IDS = {"statoil-iceberg-classifier-challenge"}


def test_the_fixture_lists_all_75() -> None:
    assert len(LAYOUTS) == 75


def _prompt(layout: dict[str, Any], public: Path) -> tuple[str, str]:
    settings = Settings.model_validate(
        {"run": {"competition": layout["id"], "public_dir": str(public)}}
    )
    competition = competition_for(settings)
    preview = data_preview(public)
    request = CodeRequest(
        operator="draft",
        node_id="n1",
        competition=competition.spec,
        description=competition.description(),
        public_dir=public,
        data_preview=preview,
        memory=MemoryContext(operator="draft", text=""),
        time_left=3600,
        exec_timeout=600,
        hardware=Hardware(cpus=4),
    )
    return render_code_prompt(request).user, preview


@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
def test_prompt_names_the_real_sample_and_describes_archives(
    competition_id: str, tmp_path: Path
) -> None:
    layout = LAYOUTS[competition_id]
    public = build_public(layout, tmp_path / competition_id / "public")
    user, preview = _prompt(layout, public)
    sample = layout["sample_submission"]
    if sample is None:
        assert "There is no sample submission in ./input" in user
    elif layout["sample_submission_in_archive"]:
        assert f"only inside the archive ./input/{sample}" in user
    else:
        assert f"The sample submission is ./input/{sample};" in user
    hard_coded = re.search(r"\./input/sample_submission\.csv(?![\w.])", user)
    assert hard_coded is None or sample == "sample_submission.csv"
    for entry in layout["public_archives"]:
        name = entry.split(" ")[0]
        line = next((li for li in preview.splitlines() if li.strip().startswith(name + " ")), "")
        assert any(kind in line for kind in ("zip:", "tar:", "7z archive")), (name, preview)
    if layout["archives_in_public"]:
        assert "extract them under ./working" in preview


@pytest.mark.slow
@pytest.mark.parametrize("competition_id", REPRESENTATIVE)
def test_mlmaster_run_starts_on_the_folder(competition_id: str, tmp_path: Path, cli: Any) -> None:
    public = build_public(LAYOUTS[competition_id], tmp_path / "public")
    runs, output = tmp_path / "runs", tmp_path / "out" / "submission.csv"
    done = cli.run(
        *("run", competition_id, "--profile", "ci", "--public-dir", str(public)),
        *("--runs-dir", str(runs), "--output", str(output)),
        *("--time-limit", "2m", "--max-steps", "2", "--slots", "1"),
        timeout=200,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 2 would be a refusal to start
    [run_dir] = list((runs / competition_id).iterdir())
    events = read_events(run_dir / "journal.jsonl")
    assert isinstance(events[0], RunStarted) and events[0].metric_choice
    assert any(isinstance(e, NodeCommitted) for e in events)
    assert events[0].environment["interpreter"]["packages"]
    report = (run_dir / "report.html").read_text()
    assert "keyword rules over the description" in report and "usable (affinity" in report
    if competition_id not in UNREADABLE_IDS:
        assert done.returncode == 0 and output.is_file(), done.stderr[-3000:]


@pytest.mark.slow
def test_a_data_dir_as_mlebench_prepares_it_runs_and_grades(tmp_path: Path, cli: Any) -> None:
    """``<data>/<id>/prepared/{public,private}`` and nothing else: no competition.json."""
    competition_id = "tabular-playground-series-may-2022"
    root = tmp_path / "data" / competition_id / "prepared"
    public = build_public(LAYOUTS[competition_id], root / "public")
    sample = pd.read_csv(public / "sample_submission.csv", dtype=str)
    answers = sample.assign(target=[i % 2 for i in range(len(sample))])
    (root / "private").mkdir()
    answers.to_csv(root / "private" / "test.csv", index=False)  # MLE-bench's usual answers name
    runs, output = tmp_path / "runs", tmp_path / "out" / "submission.csv"
    done = cli.run(
        *("run", competition_id, "--profile", "ci", "--data-dir", str(tmp_path / "data")),
        *("--runs-dir", str(runs), "--output", str(output)),
        *("--time-limit", "2m", "--max-steps", "2", "--slots", "1"),
        timeout=200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    competition = load_competition(tmp_path / "data", competition_id)
    assert competition.spec_source == "inferred" and competition.spec.answers_file == "test.csv"
    report = grade_submission(competition, output)
    assert report.valid_submission and report.score is not None
