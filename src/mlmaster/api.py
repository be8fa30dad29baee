"""The Python API: run one competition from a settings object and get its outcome.

The command line, the sweep and any notebook or tool use these functions instead of shelling
out::

    from mlmaster.api import run
    from mlmaster.settings import load_settings

    settings = load_settings(profile="ci", overrides={"run": {"competition": "digits"}})
    outcome = run(settings)
    print(outcome.summary(), outcome.exit_code)

Bad input raises :class:`mlmaster.errors.UserError` (its message says what to do); nothing is
written before the input has been checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.spec import CompetitionPaths
from mlmaster.errors import UserError
from mlmaster.settings import Settings

if TYPE_CHECKING:
    from mlmaster.orchestrator.run import RunOutcome


def run(
    settings: Settings, *, resume: Path | None = None, handle_signals: bool = True
) -> RunOutcome:
    """Run the search for ``settings.run.competition`` to its end (blocking).

    ``resume`` continues the run in that run directory instead of starting a new one (load
    its settings with :func:`saved_settings` as the ``resumed`` layer). ``handle_signals``
    makes SIGINT and SIGTERM end the run cleanly; it needs the main thread.
    """
    if settings.run.output is not None:
        from mlmaster.journal.output import check_output

        check_output(settings.run.output)  # now, not after the whole budget
    competition = competition_for(settings)
    try:
        return anyio.run(run_async, settings, competition, resume, handle_signals)
    except BaseExceptionGroup as group:
        # A user error raised inside a task group (e.g. the embedded server's) arrives wrapped.
        matched, rest = group.split(UserError)
        if matched is None or rest is not None:
            raise
        raise UserError("; ".join(str(error) for error in _leaves(matched))) from None


async def run_async(
    settings: Settings,
    competition: Competition,
    resume: Path | None = None,
    handle_signals: bool = True,
) -> RunOutcome:
    """The same as :func:`run` from async code, with the competition already loaded."""
    # Imported here so that `mlmaster --help` and quick commands stay fast.
    from mlmaster.llm.metric_reading import settle_metric
    from mlmaster.orchestrator.run import open_run, search

    competition, choice = await settle_metric(settings, competition, resume)
    async with open_run(settings, competition, resume=resume, metric_choice=choice) as state:
        return await search(state, output=settings.run.output, handle_signals=handle_signals)


def saved_settings(run_dir: Path) -> dict[str, Any]:
    """The settings a run was started with, minus masked secrets (those come afresh)."""
    path = settings_file(run_dir)
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{run_dir} is not a run directory (no settings.json)") from None
    except ValueError:
        raise UserError(f"{path} is damaged; it is not JSON") from None
    for role in saved.get("llm", {}).values():
        role.pop("api_key", None)
        role.pop("extra_headers", None)  # their values may be secrets, saved masked
    saved.get("run", {}).pop("run_id", None)
    return saved


def competition_for(settings: Settings) -> Competition:
    """The competition the settings name: a prepared one in the data dir, or a bare folder."""
    if settings.run.competition is None:
        raise UserError(
            "no competition given: mlmaster run <competition> (or MLMASTER_RUN__COMPETITION)"
        )
    public_dir = settings.run.public_dir
    if public_dir is None:
        return load_competition(settings.run.data_dir, settings.run.competition)
    from mlmaster.competition.infer import infer_spec

    public = public_dir.resolve()
    if not public.is_dir():
        raise UserError(f"--public-dir {public_dir} is not a folder")
    spec = infer_spec(public, settings.run.competition)
    sample = spec.sample_submission_file
    paths = CompetitionPaths(
        root=public.parent,
        public_dir=public,
        private_dir=public.parent / "private",
        description_file=public / "description.md",
        sample_submission=public / sample if sample else None,
    )
    source = "declared" if (public / "competition.json").is_file() else "inferred"
    return Competition(spec=spec, paths=paths, spec_source=source)


def settings_file(run_dir: Path) -> Path:
    from mlmaster.journal import RunDir  # here: `mlmaster --help` need not load the journal

    return RunDir(run_dir).settings


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for error in group.exceptions:
        out.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return out
