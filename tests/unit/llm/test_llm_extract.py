"""Code, plan and metric line out of a model's answer."""

import pytest

from mlmaster.llm.extract import extract_plan_and_code, looks_like_code, parse_metric_line

SCRIPT = "import pandas as pd\n\ndf = pd.read_csv('./input/train.csv')\nprint(len(df))\n"


def test_plan_is_the_text_before_the_block() -> None:
    text = f"I will count the rows.\nSimple.\n\n```python\n{SCRIPT}```\n"
    plan, code = extract_plan_and_code(text)
    assert plan == "I will count the rows.\nSimple."
    assert code == SCRIPT


def test_the_complete_block_wins_over_snippets_and_broken_ones() -> None:
    text = (
        "Plan: use a model.\n```python\nmodel.fit(X\n```\n"  # broken snippet
        "Then the script:\n```python\n" + SCRIPT + "```\n"
        "And a helper:\n```py\nx = 1\n```\n"
    )
    plan, code = extract_plan_and_code(text)
    assert code == SCRIPT
    assert plan.endswith("Then the script:")


def test_non_python_blocks_are_ignored() -> None:
    text = "Run it:\n```bash\npython run.py\n```\nCode:\n```python\n" + SCRIPT + "```"
    assert extract_plan_and_code(text)[1] == SCRIPT


def test_a_block_cut_off_by_the_token_limit_is_still_found() -> None:
    text = "Plan.\n```python\n" + SCRIPT
    assert extract_plan_and_code(text) == ("Plan.", SCRIPT)


def test_an_incomplete_block_is_returned_when_nothing_better_exists() -> None:
    _plan, code = extract_plan_and_code("Plan.\n```python\ndef f(:\n    pass\n```")
    assert code == "def f(:\n    pass\n"


def test_plain_code_without_a_fence_is_the_whole_text() -> None:
    assert extract_plan_and_code(SCRIPT) == ("", SCRIPT)


@pytest.mark.parametrize("text", ["hello", "Sorry, I cannot do that.", "x", ""])
def test_prose_is_not_code(text: str) -> None:
    assert not looks_like_code(text)
    assert extract_plan_and_code(text)[1] is None


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("VALIDATION_METRIC: 0.8123\n", 0.8123),
        ("fold 1\nVALIDATION_METRIC: 0.5\nVALIDATION_METRIC: 0.75\ndone\n", 0.75),
        ("  VALIDATION_METRIC:-1.5e-3  \n", -0.0015),
        ("VALIDATION_METRIC: 0.9 (roc_auc)\n", 0.9),
        ("VALIDATION_METRIC: 0.5\nVALIDATION_METRIC: nan\n", None),
        ("VALIDATION_METRIC: inf\n", None),
        ("VALIDATION_METRIC: unknown\n", None),
        ("accuracy: 0.9\n", None),
        ("", None),
    ],
)
def test_metric_line(output: str, expected: float | None) -> None:
    assert parse_metric_line(output) == expected
