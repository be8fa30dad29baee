"""Reasoning apart from the answer, in each of the three styles."""

from mlmaster.llm.reasoning import split_reasoning


def test_think_tags() -> None:
    answer, reasoning = split_reasoning("<think>\nhmm, trees\n</think>\nPlan.", "think-tags")
    assert (answer, reasoning) == ("Plan.", "hmm, trees")


def test_think_tags_without_closing_tag_keep_the_rest_as_answer_too() -> None:
    answer, reasoning = split_reasoning("<think>ran out of tokens", "think-tags")
    assert reasoning == "ran out of tokens"
    assert answer == "ran out of tokens"


def test_prefilled_opening_tag() -> None:
    answer, reasoning = split_reasoning("so the data...</think>Plan.", "think-tags", prefilled=True)
    assert (answer, reasoning) == ("Plan.", "so the data...")


def test_closing_tag_alone_means_the_server_ate_the_opening_one() -> None:
    assert split_reasoning("thinking</think>\nPlan.", "think-tags") == ("Plan.", "thinking")


def test_no_tags_no_reasoning() -> None:
    assert split_reasoning("Plan.", "think-tags") == ("Plan.", None)


def test_reasoning_field() -> None:
    assert split_reasoning("Plan.", "reasoning-field", reasoning_field="why") == ("Plan.", "why")
    assert split_reasoning("Plan.", "reasoning-field", reasoning_field="") == ("Plan.", None)


def test_style_none_leaves_text_alone() -> None:
    text = "<think>x</think>Plan."
    assert split_reasoning(text, "none") == (text, None)
