"""A draft and an improve on every bundled competition each produce a valid, graded submission.

The suite is built once per session into a temporary folder; the scripts run two at a time (the
machine's two cores, one thread each) with the scripts' own Python, and their submissions are
graded with the competitions' own grader against the private answers.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from offline_competitions import make_request, run_script
from pydantic import BaseModel

from mlmaster.competition.grading import grade_submission
from mlmaster.competition.layout import load_competition
from mlmaster.competition.suite.build import build_suite
from mlmaster.competition.suite.catalog import SUITE_IDS
from mlmaster.llm.requests import ParentSolution
from mlmaster.offline import OfflineCoder


class Step(BaseModel):
    plan: str
    returncode: int
    cv: float | None
    test_score: float | None
    valid: bool
    output_tail: str


class Outcome(BaseModel):
    draft: Step
    improve: Step | None = None


def run_and_grade(data: Path, cid: str, node: str, plan: str, code: str, work: Path) -> Step:
    competition = load_competition(data, cid)
    run = run_script(code, competition.paths.public_dir, work / cid / node, timeout=120)
    report = grade_submission(competition, run.submission)
    return Step(
        plan=plan,
        returncode=run.returncode,
        cv=run.metric,
        test_score=report.score,
        valid=report.valid_submission,
        output_tail=run.output[-2000:],
    )


def draft_then_improve(data: Path, cid: str, work: Path) -> Outcome:
    competition = load_competition(data, cid)
    public = competition.paths.public_dir
    coder = OfflineCoder()
    draft = asyncio.run(coder.generate(make_request(competition.spec, public, "draft", "d0")))
    assert draft.code is not None
    outcome = Outcome(draft=run_and_grade(data, cid, "d0", draft.plan, draft.code, work))
    if outcome.draft.cv is None:
        return outcome
    parent = ParentSolution(node_id="d0", plan=draft.plan, code=draft.code, metric=outcome.draft.cv)
    request = make_request(competition.spec, public, "improve", "i0", parent=parent)
    improve = asyncio.run(coder.generate(request))
    assert improve.code is not None
    outcome.improve = run_and_grade(data, cid, "i0", improve.plan, improve.code, work)
    return outcome


@pytest.fixture(scope="session")
def suite_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    data = tmp_path_factory.mktemp("suite")
    work = tmp_path_factory.mktemp("suite-runs")
    report = build_suite(data)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {cid: pool.submit(draft_then_improve, data, cid, work) for cid in report.built}
        return {cid: future.result() for cid, future in futures.items()}


@pytest.mark.parametrize("cid", SUITE_IDS)
def test_draft_and_improve_submissions_are_valid(
    suite_outcomes: dict[str, Outcome], cid: str
) -> None:
    if cid not in suite_outcomes:
        pytest.skip(f"{cid} was not built here (its source package is not installed)")
    outcome = suite_outcomes[cid]
    print(f"{cid}: {outcome.model_dump_json(exclude={'draft': {'output_tail'}})}")
    for step in (outcome.draft, outcome.improve):
        assert step is not None, f"{cid}: the draft printed no metric\n{outcome.draft.output_tail}"
        assert step.returncode == 0, step.output_tail
        assert step.cv is not None, step.output_tail
        assert step.valid, step.output_tail
        assert step.test_score is not None
