"""Public folders as MLE-bench presents them, run for real with the scripts' own Python.

One label column against one probability column per class is modelled; folders the offline
coder cannot model (images, no tables, no sample submission) still end with a submission in
the sample's format, filled with the training labels' priors where they are known.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from offline_competitions import (
    image_binary,
    image_labels,
    label_per_class,
    make_request,
    no_sample,
    run_script,
    zipped_sample,
)

from mlmaster.competition.spec import CompetitionSpec
from mlmaster.offline import OfflineCoder
from mlmaster.offline.baseline import BASELINE_MARKER


async def generate_and_run(spec: CompetitionSpec, public: Path, workspace: Path) -> tuple[str, str]:
    answer = await OfflineCoder().generate(make_request(spec, public))
    assert answer.code is not None
    run = run_script(answer.code, public, workspace)
    assert run.returncode == 0, run.output
    return answer.plan or "", answer.code


@pytest.mark.parametrize("integer_labels", [False, True], ids=["names", "integers"])
async def test_a_label_column_is_modelled_as_one_probability_column_per_class(
    tmp_path: Path, integer_labels: bool
) -> None:
    spec = label_per_class(tmp_path / "comp", integer_labels)
    public = tmp_path / "comp" / "public"
    assert "author" not in spec.target_columns  # the inferred spec names the class columns
    answer = await OfflineCoder().generate(make_request(spec, public))
    assert answer.code is not None and BASELINE_MARKER not in answer.code
    run = run_script(answer.code, public, tmp_path / "ws")
    assert run.returncode == 0, run.output
    assert run.metric is not None and 0 < run.metric < np.log(4), run.output
    sample = pd.read_csv(public / "sample_submission.csv")
    written = pd.read_csv(run.submission)
    assert list(written.columns) == list(sample.columns)
    assert written["id"].tolist() == sample["id"].tolist()
    probabilities = written.drop(columns="id")
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.iloc[:, -1] < 1e-6).all()  # the class train never shows


async def test_image_folder_with_a_labels_table_gets_the_class_shares(tmp_path: Path) -> None:
    spec = image_labels(tmp_path / "dogs")
    public = tmp_path / "dogs" / "public"
    plan, _ = await generate_and_run(spec, public, tmp_path / "ws")
    assert "offline mode cannot model" in plan and "labels.csv" in plan
    written = pd.read_csv(tmp_path / "ws" / "submission" / "submission.csv")
    assert list(written.columns) == ["id", "beagle", "collie", "pug"]
    assert written["id"].tolist() == ["t1", "t2"]
    assert written.iloc[0, 1:].tolist() == [0.25, 0.0, 0.75]


async def test_image_folder_with_binary_labels_gets_their_mean(tmp_path: Path) -> None:
    spec = image_binary(tmp_path / "cactus")
    public = tmp_path / "cactus" / "public"
    await generate_and_run(spec, public, tmp_path / "ws")
    written = pd.read_csv(tmp_path / "ws" / "submission" / "submission.csv")
    assert written["id"].tolist() == ["t1.jpg", "t2.jpg"]
    assert written["has_cactus"].tolist() == [0.75, 0.75]


async def test_without_a_sample_the_test_ids_make_the_rows(tmp_path: Path) -> None:
    spec = no_sample(tmp_path / "words")
    public = tmp_path / "words" / "public"
    plan, _ = await generate_and_run(spec, public, tmp_path / "ws")
    assert "no sample submission" in plan
    written = pd.read_csv(tmp_path / "ws" / "submission" / "submission.csv")
    assert written.equals(pd.read_csv(public / "test.csv"))


async def test_a_sample_inside_a_zip_is_copied_cell_for_cell(tmp_path: Path) -> None:
    spec = zipped_sample(tmp_path / "text")
    public = tmp_path / "text" / "public"
    await generate_and_run(spec, public, tmp_path / "ws")
    with zipfile.ZipFile(public / "en_sample_submission_2.csv.zip") as archive:
        expected = archive.read("en_sample_submission_2.csv").decode()
    written = (tmp_path / "ws" / "submission" / "submission.csv").read_text()
    assert written == expected
