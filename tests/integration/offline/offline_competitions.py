"""Small synthetic competitions in MLE-bench's public layout, and a runner for offline scripts.

Shared by the offline coder's integration tests. Each builder writes train.csv, test.csv,
sample_submission.csv and description.md into ``<root>/public`` and returns the spec.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from mlmaster.competition.infer import infer_spec
from mlmaster.competition.spec import CompetitionSpec
from mlmaster.llm.requests import CodeRequest, Hardware, ParentSolution
from mlmaster.memory.insight import MemoryContext
from mlmaster.search.node import Operator

SCRIPTS_PYTHON = Path(__file__).resolve().parents[3] / ".venv-scripts" / "bin" / "python"
METRIC_LINE = re.compile(r"^VALIDATION_METRIC: (\S+)$", re.M)
WORDS_GOOD = ["great", "tasty", "lovely", "fresh", "perfect", "delicious"]
WORDS_BAD = ["stale", "awful", "bland", "broken", "soggy", "terrible"]
WORDS_NEUTRAL = ["box", "bought", "the", "taste", "price", "again", "store", "item"]


def _write(root: Path, train: pd.DataFrame, test: pd.DataFrame, sample: pd.DataFrame) -> Path:
    public = root / "public"
    public.mkdir(parents=True, exist_ok=True)
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text(f"# {root.name}\nA synthetic test competition.\n")
    return public


def _tabular(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Numeric, categorical (with missing values), a date and a noise column."""
    frame = pd.DataFrame(
        {
            "id": rng.permutation(n) + 10_000,
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "size": rng.choice(["S", "M", "L", None], size=n, p=[0.3, 0.3, 0.3, 0.1]),
            "opened": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "noise": rng.uniform(size=n),
        }
    )
    frame.loc[rng.choice(n, n // 20, replace=False), "x2"] = np.nan
    return frame


def _split(frame: pd.DataFrame, n_test: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return frame.iloc[n_test:].reset_index(drop=True), frame.iloc[:n_test].reset_index(drop=True)


def _signal(frame: pd.DataFrame) -> np.ndarray:
    size = frame["size"].map({"S": -1.0, "M": 0.0, "L": 1.0}).fillna(0.0).to_numpy()
    return 1.5 * frame["x1"].to_numpy() + size - 0.5 * frame["x2"].fillna(0).to_numpy()


def binary(root: Path, metric: str = "f1", n: int = 500) -> CompetitionSpec:
    rng = np.random.default_rng(1)
    frame = _tabular(n, rng)
    frame["churn"] = (_signal(frame) + rng.normal(size=n) > 1.2).astype(int)
    train, test = _split(frame, n // 4)
    filler = 0 if metric == "f1" else 0.5
    sample = pd.DataFrame({"id": test["id"], "churn": filler})
    _write(root, train, test.drop(columns="churn"), sample)
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric=metric,
        lower_is_better=metric == "log_loss",
        id_column="id",
        target_columns=["churn"],
        task_type="binary",
        labels=[0, 1] if metric == "f1" else None,
    )


def multiclass(root: Path, proba: bool = False, n: int = 450) -> CompetitionSpec:
    rng = np.random.default_rng(2)
    frame = _tabular(n, rng)
    score = _signal(frame) + rng.normal(scale=0.5, size=n)
    frame["kind"] = np.select([score < -0.7, score < 0.7], ["alpha", "beta"], "gamma")
    train, test = _split(frame, n // 4)
    if proba:
        sample = pd.DataFrame({"id": test["id"], "alpha": 1 / 3, "beta": 1 / 3, "gamma": 1 / 3})
    else:
        sample = pd.DataFrame({"id": test["id"], "kind": "beta"})
    _write(root, train, test.drop(columns="kind"), sample)
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric="log_loss" if proba else "accuracy",
        lower_is_better=proba,
        id_column="id",
        target_columns=["kind"],
        task_type="multiclass",
        labels=None if proba else ["alpha", "beta", "gamma"],
    )


def regression(root: Path, n: int = 500) -> CompetitionSpec:
    rng = np.random.default_rng(3)
    frame = _tabular(n, rng)
    frame["price"] = np.exp(10 + 0.6 * _signal(frame) + rng.normal(scale=0.2, size=n)).round(0)
    train, test = _split(frame, n // 4)
    sample = pd.DataFrame({"id": test["id"], "price": float(train["price"].median())})
    _write(root, train, test.drop(columns="price"), sample)
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric="rmsle",
        lower_is_better=True,
        id_column="id",
        target_columns=["price"],
        task_type="regression",
    )


def ordinal(root: Path, n: int = 500) -> CompetitionSpec:
    rng = np.random.default_rng(4)
    frame = _tabular(n, rng)
    frame["rating"] = np.clip(np.round(3 + _signal(frame) + rng.normal(scale=0.7, size=n)), 1, 5)
    frame["rating"] = frame["rating"].astype(int)
    train, test = _split(frame, n // 4)
    sample = pd.DataFrame({"id": test["id"], "rating": 3})
    _write(root, train, test.drop(columns="rating"), sample)
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric="qwk",
        lower_is_better=False,
        id_column="id",
        target_columns=["rating"],
        task_type="ordinal",
        labels=[1, 2, 3, 4, 5],
    )


def text(root: Path, n: int = 500) -> CompetitionSpec:
    rng = np.random.default_rng(5)
    great = rng.uniform(size=n) < 0.6
    reviews = []
    for positive in great:
        mood = WORDS_GOOD if positive else WORDS_BAD
        words = [*rng.choice(WORDS_NEUTRAL, size=9), *rng.choice(mood, size=2)]
        if rng.uniform() < 0.2:  # label noise: a word of the other mood
            words.append(rng.choice(WORDS_BAD if positive else WORDS_GOOD))
        reviews.append(" ".join(rng.permutation(words)))
    frame = pd.DataFrame(
        {
            "id": rng.permutation(n) + 1,
            "product": rng.choice([f"P{i}" for i in range(20)], size=n),
            "review": reviews,
            "great": great.astype(int),
        }
    )
    train, test = _split(frame, n // 4)
    sample = pd.DataFrame({"id": test["id"], "great": 0.5})
    _write(root, train, test.drop(columns="great"), sample)
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric="roc_auc",
        lower_is_better=False,
        id_column="id",
        target_columns=["great"],
        task_type="binary",
    )


def images(root: Path) -> CompetitionSpec:
    """A competition with no tables to model: only an image folder and a sample."""
    public = root / "public"
    (public / "images").mkdir(parents=True)
    (public / "images" / "a.png").write_bytes(b"\x89PNG")
    pd.DataFrame({"id": ["a", "b"], "label": [0, 0]}).to_csv(
        public / "sample_submission.csv", index=False
    )
    return CompetitionSpec(
        id=root.name,
        name=root.name,
        metric="accuracy",
        lower_is_better=False,
        id_column="id",
        target_columns=["label"],
        task_type="other",
    )


def label_per_class(root: Path, integer_labels: bool = False, n: int = 450) -> CompetitionSpec:
    """Train has one label column; the submission one probability column per class.

    As MLE-bench presents it: no competition.json, so the spec is inferred from the folder and
    names the class columns as targets. One class of the submission never occurs in train.
    """
    rng = np.random.default_rng(6)
    frame = _tabular(n, rng)
    score = _signal(frame) + rng.normal(scale=0.5, size=n)
    names = [0, 1, 2, 3] if integer_labels else ["EAP", "HPL", "MWS", "ZZZ"]
    frame["author"] = np.select([score < -0.7, score < 0.7], names[:2], names[2])
    if integer_labels:
        frame["author"] = frame["author"].astype(float)  # as pandas reads a column with gaps
    train, test = _split(frame, n // 4)
    columns = [str(name) for name in names]
    sample = pd.DataFrame({"id": test["id"], **{c: 1 / len(columns) for c in columns}})
    public = _write(root, train, test.drop(columns="author"), sample)
    (public / "description.md").write_text(
        f"# {root.name}\n\n## Evaluation\n\nSubmissions are evaluated using multi-class "
        "logarithmic loss.\n"
    )
    return infer_spec(public, root.name)


def image_labels(root: Path) -> CompetitionSpec:
    """Images only, labels in labels.csv (one breed a row), one column per breed to submit."""
    public = root / "public"
    (public / "train").mkdir(parents=True)
    (public / "train" / "a.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    breeds = ["beagle", "collie", "pug"]
    pd.DataFrame({"id": ["a", "b", "c", "d"], "breed": ["beagle", "pug", "pug", "pug"]}).to_csv(
        public / "labels.csv", index=False
    )
    sample = pd.DataFrame({"id": ["t1", "t2"], **{b: 1 / 3 for b in breeds}})
    sample.to_csv(public / "sample_submission.csv", index=False)
    (public / "description.md").write_text("# dogs\n\n## Evaluation\n\nMulti-class log loss.\n")
    return infer_spec(public, root.name)


def image_binary(root: Path) -> CompetitionSpec:
    """Images in a zip, train.csv holding each training image's 0/1 label, AUC."""
    public = root / "public"
    public.mkdir(parents=True)
    (public / "train.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    pd.DataFrame({"id": [f"i{k}.jpg" for k in range(8)], "has_cactus": [1] * 6 + [0] * 2}).to_csv(
        public / "train.csv", index=False
    )
    pd.DataFrame({"id": ["t1.jpg", "t2.jpg"], "has_cactus": [0.5, 0.5]}).to_csv(
        public / "sample_submission.csv", index=False
    )
    (public / "description.md").write_text("# cactus\n\n## Evaluation\n\nArea under the ROC.\n")
    return infer_spec(public, root.name)


def no_sample(root: Path) -> CompetitionSpec:
    """No sample submission at all; the description shows the format, test holds the ids."""
    public = root / "public"
    public.mkdir(parents=True)
    test = pd.DataFrame({"id": [1, 2, 3], "sentence": ["a b c", "d e", "f g h"]})
    test.to_csv(public / "test.csv", index=False)
    (public / "description.md").write_text(
        "# words\n\n## Evaluation\n\nMean Levenshtein distance.\n\n## Submission File\n\n"
        "```\nid,sentence\n1,a b c\n```\n"
    )
    return infer_spec(public, root.name)


def zipped_sample(root: Path) -> CompetitionSpec:
    """The sample submission only inside a zip, under a name of its own."""
    public = root / "public"
    public.mkdir(parents=True)
    sample = pd.DataFrame({"id": ["0_0", "0_1", "1_0"], "after": ["Brillig", "the", "3"]})
    with zipfile.ZipFile(public / "en_sample_submission_2.csv.zip", "w") as archive:
        archive.writestr("en_sample_submission_2.csv", sample.to_csv(index=False))
    (public / "description.md").write_text("# text\n\n## Evaluation\n\nAccuracy.\n")
    return infer_spec(public, root.name)


def make_request(
    spec: CompetitionSpec,
    public: Path,
    operator: Operator = "draft",
    node_id: str = "n1",
    parent: ParentSolution | None = None,
    memory: MemoryContext | None = None,
    seed: int = 0,
) -> CodeRequest:
    return CodeRequest(
        operator=operator,
        node_id=node_id,
        competition=spec,
        description=(public / "description.md").read_text()
        if (public / "description.md").exists()
        else "",
        public_dir=public,
        parent=parent,
        memory=memory or MemoryContext(operator=operator),
        time_left=600.0,
        exec_timeout=60.0,
        hardware=Hardware(cpus=1),
        seed=seed,
    )


class ScriptRun(BaseModel):
    returncode: int
    output: str
    metric: float | None
    submission: Path


def run_script(code: str, public: Path, workspace: Path, timeout: float = 60.0) -> ScriptRun:
    """Run a script as the executor would: cwd holds input/ (linked), working/, submission/."""
    workspace.mkdir(parents=True)
    (workspace / "input").symlink_to(public.resolve(), target_is_directory=True)
    (workspace / "working").mkdir()
    (workspace / "submission").mkdir()
    (workspace / "solution.py").write_text(code)
    python = SCRIPTS_PYTHON if SCRIPTS_PYTHON.exists() else Path(sys.executable)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), "solution.py"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    found = METRIC_LINE.findall(done.stdout)
    return ScriptRun(
        returncode=done.returncode,
        output=done.stdout + done.stderr,
        metric=float(found[-1]) if found else None,
        submission=workspace / "submission" / "submission.csv",
    )


def assert_valid_submission(spec: CompetitionSpec, public: Path, submission: Path) -> pd.DataFrame:
    """Same columns in the same order as the sample, the same ids in the same order."""
    sample = pd.read_csv(public / "sample_submission.csv")
    written = pd.read_csv(submission)
    assert list(written.columns) == list(sample.columns)
    assert written[spec.id_column].tolist() == sample[spec.id_column].tolist()
    predictions = written.drop(columns=spec.id_column)
    assert not predictions.isna().any().any()
    return written
