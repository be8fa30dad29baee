"""On every MLE-bench public folder the offline coder's draft ends with a submission in the
sample's format: its header, its ids in its order; without a sample, the test table's ids (the
75 folders are tiny fakes with the real names and shapes, see ``tests/mlebench_layouts.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from offline_competitions import make_request, run_script

from mlebench_layouts import build_public, competitions
from mlmaster.api import competition_for
from mlmaster.offline import OfflineCoder
from mlmaster.offline.baseline import plan_baseline
from mlmaster.settings import Settings

LAYOUTS = {layout["id"]: layout for layout in competitions()}
# What no script can do with this fake: the sample sits in a 7z archive (opened only with
# py7zr or a 7z program; MLE-bench's image has p7zip, and the fake is not a real archive).
UNREADABLE = {"statoil-iceberg-classifier-challenge": "7z"}


@pytest.mark.slow
@pytest.mark.parametrize("competition_id", sorted(LAYOUTS))
async def test_the_draft_writes_a_submission_in_the_samples_format(
    competition_id: str, tmp_path: Path
) -> None:
    layout = LAYOUTS[competition_id]
    public = build_public(layout, tmp_path / "public")
    settings = Settings.model_validate(
        {"run": {"competition": competition_id, "public_dir": str(public)}}
    )
    spec = competition_for(settings).spec
    answer = await OfflineCoder().generate(make_request(spec, public))
    assert answer.code is not None
    run = run_script(answer.code, public, tmp_path / "ws", timeout=120)
    if competition_id in UNREADABLE:
        assert run.returncode != 0 and UNREADABLE[competition_id] in run.output
        assert "Traceback" not in run.output  # one line saying why, not a crash
        return
    assert run.returncode == 0, run.output
    written = pd.read_csv(run.submission, dtype=str, keep_default_na=False)
    if layout["sample_submission"] is None:  # one row per id of the test table
        test_file = plan_baseline(spec, public).test_file
        assert test_file is not None
        test = pd.read_csv(public / test_file, dtype=str, keep_default_na=False)
        assert written[spec.id_column].tolist() == test[spec.id_column].tolist()
        return
    sample = pd.read_csv(public / layout["sample_submission"], dtype=str, keep_default_na=False)
    assert list(written.columns) == list(sample.columns)
    assert written.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()
