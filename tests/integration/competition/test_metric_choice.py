"""Metric and direction: a setting wins, a declared spec stands, else the model, else the rules.

The model is asked once, for real, over HTTP: the scripted OpenAI-compatible server answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlmaster.competition.infer import infer_spec
from mlmaster.competition.layout import Competition
from mlmaster.competition.metric_choice import ModelReading, choose_metric, parse_reading
from mlmaster.competition.spec import CompetitionPaths
from mlmaster.errors import UserError
from mlmaster.llm.metric_reading import ask_model, settle_metric
from mlmaster.settings import Settings
from mlmaster.testing.scripted_server import Reply, ScriptedServer

DESCRIPTION = (
    "# Authors\n\n## Evaluation\n\nSubmissions are evaluated on accuracy of the predicted "
    "author, reported as the multi-class logarithmic loss of the probabilities.\n"
)


@pytest.fixture
def competition(tmp_path: Path) -> Competition:
    public = tmp_path / "public"
    public.mkdir()
    (public / "description.md").write_text(DESCRIPTION)
    (public / "sample_submission.csv").write_text("id,EAP,HPL,MWS\nid1,0.3,0.3,0.4\n")
    (public / "train.csv").write_text("id,text,author\nid0,a,EAP\nid2,b,HPL\nid3,c,MWS\n")
    spec = infer_spec(public, "authors")
    paths = CompetitionPaths(
        root=tmp_path,
        public_dir=public,
        private_dir=tmp_path / "private",
        description_file=public / "description.md",
        sample_submission=public / "sample_submission.csv",
    )
    return Competition(spec=spec, paths=paths, spec_source="inferred")


def llm_settings(base_url: str, **competition: object) -> Settings:
    endpoint = {"provider": "openai", "base_url": base_url, "api_key": "k", "model": "m",
                "retries": 0, "request_timeout": 10}  # fmt: skip
    return Settings.model_validate(
        {"llm": {"coder": endpoint, "feedback": endpoint}, "competition": competition}
    )


def answer(**fields: object) -> str:
    reading = {
        "metric": "log_loss",
        "lower_is_better": True,
        "id_column": "id",
        "submission_columns": ["id", "EAP", "HPL", "MWS"],
        "submission_format": "one probability per author",
        **fields,
    }
    return f"Reading the evaluation section:\n```json\n{json.dumps(reading)}\n```"


def test_the_rules_pick_accuracy_here(competition: Competition) -> None:
    assert competition.spec.metric == "accuracy"  # the first phrase: what the model corrects


async def test_the_model_reads_the_metric_over_http(competition: Competition) -> None:
    async with ScriptedServer([Reply(text=answer())]) as server:
        settings = llm_settings(server.base_url)
        settled, choice = await settle_metric(settings, competition, None)
        sent = server.requests[0].body["messages"][0]["content"]
    assert "multi-class logarithmic loss" in sent and "log_loss" in sent
    assert (choice.metric, choice.lower_is_better, choice.source) == ("log_loss", True, "model")
    assert settled.spec.metric == "log_loss" and settled.spec.task_type == "multiclass"
    assert "from the model's reading of the description" in choice.line()


async def test_an_unknown_metric_from_the_model_falls_back_to_the_rules(
    competition: Competition,
) -> None:
    async with ScriptedServer([Reply(text=answer(metric="author-f2"))]) as server:
        _, choice = await settle_metric(llm_settings(server.base_url), competition, None)
    assert (choice.metric, choice.source) == ("accuracy", "rules")
    assert "not one of the known metrics" in choice.note


async def test_a_failing_endpoint_falls_back_to_the_rules(competition: Competition) -> None:
    async with ScriptedServer([Reply(status=400, error_message="bad model")]) as server:
        settings = llm_settings(server.base_url)
        assert await ask_model(settings, "text") is None
        _, choice = await settle_metric(settings, competition, None)
    assert choice.source == "rules"


async def test_a_setting_wins_and_the_model_is_not_asked(competition: Competition) -> None:
    async with ScriptedServer([Reply(text=answer())]) as server:
        settings = llm_settings(server.base_url, metric="mae", lower_is_better=True)
        settled, choice = await settle_metric(settings, competition, None)
        assert server.requests == []
    assert (choice.metric, choice.source, settled.spec.metric) == ("mae", "setting", "mae")


async def test_offline_uses_the_rules_without_a_call(competition: Competition) -> None:
    _, choice = await settle_metric(Settings(), competition, None)
    assert (choice.metric, choice.source) == ("accuracy", "rules")


def test_model_answers_are_checked(competition: Competition) -> None:
    settings = Settings()
    wrong_direction = ModelReading(metric="rmse", lower_is_better=False)
    _, choice = choose_metric(competition, settings, wrong_direction)
    assert choice.source == "rules" and "lower-is-better" in choice.note
    other_columns = ModelReading(
        metric="log_loss", lower_is_better=True, submission_columns=["id", "author"]
    )
    _, choice = choose_metric(competition, settings, other_columns)
    assert choice.source == "rules" and "differ from the sample" in choice.note


def test_a_declared_spec_stands(competition: Competition) -> None:
    declared = competition.model_copy(update={"spec_source": "declared"})
    reading = ModelReading(metric="log_loss", lower_is_better=True)
    _, choice = choose_metric(declared, Settings(), reading)
    assert (choice.metric, choice.source) == ("accuracy", "declared")


def test_an_unknown_metric_setting_is_one_clear_error(competition: Competition) -> None:
    settings = Settings.model_validate({"competition": {"metric": "auc-pr"}})
    with pytest.raises(UserError, match=r"competition\.metric = 'auc-pr' is not a known metric"):
        choose_metric(competition, settings, None)


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ('```json\n{"metric": "rmse", "lower_is_better": true}\n```', "rmse"),
        ('The answer: {"metric": "qwk", "lower_is_better": false}', "qwk"),
        ("no json here", None),
        ('```json\n{"metric": 3}\n```', None),
    ],
)
def test_parse_reading(text: str, metric: str | None) -> None:
    reading = parse_reading(text)
    assert (reading.metric if reading else None) == metric


async def test_a_resume_keeps_the_choice_the_run_started_with(
    competition: Competition, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    recorded = {"metric": "log_loss", "lower_is_better": True, "source": "model", "note": ""}
    first = {"seq": 1, "type": "run_started", "competition": "authors", "metric_choice": recorded}
    (run_dir / "journal.jsonl").write_text(json.dumps(first) + "\n")
    async with ScriptedServer([]) as server:
        settled, choice = await settle_metric(llm_settings(server.base_url), competition, run_dir)
        assert server.requests == []  # not asked again: it might answer otherwise
    assert (choice.metric, choice.source, settled.spec.metric) == ("log_loss", "model", "log_loss")


async def test_without_a_sample_the_model_gives_the_columns(tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    (public / "description.md").write_text("## Evaluation\nLog loss.\n")
    (public / "sample_submission.csv.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    spec = infer_spec(public, "iceberg")
    assert spec.target_columns == []
    paths = CompetitionPaths(
        root=tmp_path,
        public_dir=public,
        private_dir=tmp_path / "private",
        description_file=public / "description.md",
        sample_submission=public / "sample_submission.csv.7z",
    )
    competition = Competition(spec=spec, paths=paths, spec_source="inferred")
    text = answer(submission_columns=["id", "is_iceberg"])
    async with ScriptedServer([Reply(text=text)]) as server:
        settled, choice = await settle_metric(llm_settings(server.base_url), competition, None)
    assert choice.submission_columns == ["id", "is_iceberg"]
    assert (settled.spec.id_column, settled.spec.target_columns) == ("id", ["is_iceberg"])
    assert settled.sample_columns() == ["id", "is_iceberg"]
