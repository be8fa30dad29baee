"""``mlmaster run``: solve one competition under a budget and leave its best submission."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import typer

from mlmaster.cli.common import ProfileOption, fail, log_level_flag, resolve_settings
from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.spec import CompetitionPaths
from mlmaster.errors import UserError
from mlmaster.settings import Settings

if TYPE_CHECKING:
    from mlmaster.orchestrator.run import RunOutcome


def run_command(
    ctx: typer.Context,
    competition: Annotated[
        str | None,
        typer.Argument(
            help="Competition id (a folder of the data dir). Also MLMASTER_RUN__COMPETITION.",
            show_default=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where prepared competitions live: <data-dir>/<id>/prepared/public."),
    ] = None,
    public_dir: Annotated[
        Path | None,
        typer.Option(
            help="Run on a bare public folder (MLE-bench's /home/data): no prepared layout; "
            "the metric comes from its description."
        ),
    ] = None,
    time_limit: Annotated[
        str | None, typer.Option(help="Total wall clock, e.g. 12h, 90m, 45s.")
    ] = None,
    exec_timeout: Annotated[str | None, typer.Option(help="Most time one script may run.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Most nodes to create.")] = None,
    workers: Annotated[int | None, typer.Option(help="Tree workers (default 2 x slots).")] = None,
    slots: Annotated[int | None, typer.Option(help="Execution slots run at once.")] = None,
    cpus: Annotated[str | None, typer.Option(help="CPUs for scripts: all, 0-35, 0,2.")] = None,
    gpus: Annotated[str | None, typer.Option(help="GPUs: auto, none, 0,1.")] = None,
    policy: Annotated[str | None, typer.Option(help="ml-master, greedy or random.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the search's random choices.")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Where run directories go.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="Also copy the best submission.csv here.")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this run directory.")
    ] = None,
) -> None:
    """Search for the best solution of a competition and write its submission."""
    overrides: dict[str, Any] = {
        "run": {
            "competition": competition,
            "data_dir": data_dir,
            "public_dir": public_dir,
            "runs_dir": runs_dir,
            "output": output,
            "seed": seed,
        },
        "budget": {"time_limit": time_limit, "exec_timeout": exec_timeout, "max_steps": max_steps},
        "search": {"workers": workers, "policy": policy},
        "execution": {"slots": slots, "cpus": cpus, "gpus": gpus},
        "log": {"level": log_level_flag(ctx)},
    }
    try:
        saved = _saved_settings(resume) if resume is not None else None
    except UserError as error:
        fail(str(error))
    settings = resolve_settings(
        profile, overrides, resumed=saved, resumed_from=f"{resume}/settings.json"
    )
    if settings.run.competition is None:
        fail("no competition given: mlmaster run <competition> (or MLMASTER_RUN__COMPETITION)")
    try:
        chosen = _competition(settings, settings.run.public_dir)
        outcome = anyio.run(_run, settings, chosen, resume)
    except UserError as error:
        fail(str(error))
    except BaseExceptionGroup as group:
        # A user error raised inside a task group (e.g. the embedded server's) arrives wrapped.
        matched, rest = group.split(UserError)
        if matched is None or rest is not None:
            raise
        fail(*(str(e) for e in _leaves(matched)))
    print(f"mlmaster: {outcome.summary()}", file=sys.stderr)
    raise typer.Exit(outcome.exit_code)


async def _run(settings: Settings, competition: Competition, resume: Path | None) -> RunOutcome:
    # Imported here so that `mlmaster --help` and quick commands stay fast.
    from mlmaster.orchestrator.run import open_run, search

    async with open_run(settings, competition, resume=resume) as state:
        return await search(state, output=settings.run.output)


def _competition(settings: Settings, public_dir: Path | None) -> Competition:
    assert settings.run.competition is not None
    if public_dir is None:
        return load_competition(settings.run.data_dir, settings.run.competition)
    from mlmaster.competition.infer import infer_spec

    public = public_dir.resolve()
    if not public.is_dir():
        raise UserError(f"--public-dir {public_dir} is not a folder")
    spec = infer_spec(public, settings.run.competition)
    from mlmaster.competition.infer import find_sample_submission

    paths = CompetitionPaths(
        root=public.parent,
        public_dir=public,
        private_dir=public.parent / "private",
        description_file=public / "description.md",
        sample_submission=find_sample_submission(public),
    )
    return Competition(spec=spec, paths=paths)


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for error in group.exceptions:
        out.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return out


def _saved_settings(run_dir: Path) -> dict[str, Any]:
    """The settings a run was started with, minus masked secrets (those come afresh)."""
    path = run_dir / "settings.json"
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{run_dir} is not a run directory (no settings.json)") from None
    except ValueError:
        raise UserError(f"{path} is damaged; it is not JSON") from None
    for role in saved.get("llm", {}).values():
        role.pop("api_key", None)
    saved.get("run", {}).pop("run_id", None)
    return saved
