"""Prompt fitting: memory goes first, then the data preview, then the parent's output."""

from collections.abc import Callable

from mlmaster.llm.fitting import LADDER, Cuts, apply_cuts, estimate_tokens, fit, prompt_budget
from mlmaster.llm.prompting import render_code_prompt
from mlmaster.llm.requests import CodeRequest

RequestFactory = Callable[..., CodeRequest]


def text_of(request: CodeRequest, cuts: Cuts) -> str:
    parts = render_code_prompt(
        apply_cuts(request, cuts), parent_output_chars=cuts.parent_output_chars
    )
    return parts.system + parts.user


def test_each_rung_keeps_less(code_request: RequestFactory) -> None:
    request = code_request("improve")
    sizes = [len(text_of(request, cuts)) for cuts in LADDER]
    assert sizes == sorted(sizes, reverse=True)
    assert "MEMORY" in text_of(request, LADDER[0])
    assert "MEMORY" not in text_of(request, LADDER[1]) and "PREVIEW" in text_of(request, LADDER[1])
    assert "PREVIEW" not in text_of(request, LADDER[3])
    assert "PARENT OUTPUT LINE" in text_of(request, LADDER[3])
    assert "PARENT OUTPUT LINE" not in text_of(request, LADDER[5])


def test_fit_takes_the_first_rung_that_fits(code_request: RequestFactory) -> None:
    request = code_request("improve")
    full = estimate_tokens(text_of(request, LADDER[0]))
    without_memory = estimate_tokens(text_of(request, LADDER[1]))
    rung, _ = fit(lambda cuts: text_of(request, cuts), without_memory)
    assert rung == 1
    assert fit(lambda cuts: text_of(request, cuts), full)[0] == 0
    assert fit(lambda cuts: text_of(request, cuts), None)[0] == 0
    assert fit(lambda cuts: text_of(request, cuts), 1)[0] == len(LADDER) - 1


def test_the_budget_leaves_room_for_the_answer() -> None:
    assert prompt_budget(None, 100) is None
    assert prompt_budget(32768, 8192) == 32768 - 8192 - 64
    assert prompt_budget(8000, None) == 8000 - 2000 - 64
