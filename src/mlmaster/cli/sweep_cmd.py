"""``mlmaster sweep``: many runs (competitions x seeds) at once, graded and reported."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

from mlmaster.cli.common import ProfileOption, fail, resolve_settings
from mlmaster.errors import UserError

sweep_app = typer.Typer(
    help="Run many competitions x seeds (locally or on Ray) and report them as MLE-bench does.",
    no_args_is_help=False,
)

_RUN_FLAGS_HELP = "Given to every run of the sweep."


@sweep_app.callback(invoke_without_command=True)
def sweep_command(
    ctx: typer.Context,
    competitions: Annotated[
        str | None,
        typer.Option(help="Competition ids, comma-separated. Also MLMASTER_SWEEP__COMPETITIONS."),
    ] = None,
    split: Annotated[
        list[Path] | None,
        typer.Option(help="A split file, one competition id a line (repeatable)."),
    ] = None,
    seeds: Annotated[int | None, typer.Option(help="Runs per competition (seeds 0..n-1).")] = None,
    sweep_dir: Annotated[
        Path | None, typer.Option(help="The sweep directory (default sweeps/<timestamp>).")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="local or ray.")] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default RAY_ADDRESS, or local).")
    ] = None,
    parallel: Annotated[int | None, typer.Option(help="Most runs at once (local).")] = None,
    cpus_per_run: Annotated[int | None, typer.Option(help="CPUs each run gets.")] = None,
    gpus_per_run: Annotated[int | None, typer.Option(help="GPUs each run gets.")] = None,
    memory_per_run: Annotated[
        str | None, typer.Option(help="Memory each run reserves on Ray, e.g. 16G.")
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="Continue this sweep: finished runs are kept, the rest resumed."),
    ] = None,
    profile: ProfileOption = None,
    data_dir: Annotated[Path | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
    time_limit: Annotated[str | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
    exec_timeout: Annotated[str | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
    max_steps: Annotated[int | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
    slots: Annotated[int | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
    policy: Annotated[str | None, typer.Option(help=_RUN_FLAGS_HELP)] = None,
) -> None:
    """Sweep competitions x seeds; `mlmaster sweep report DIR` redraws a sweep's report."""
    if ctx.invoked_subcommand is not None:
        return
    from mlmaster.sweep.backends import make_backend
    from mlmaster.sweep.plan import SweepPlan
    from mlmaster.sweep.runner import run_sweep

    where = {"backend": backend, "address": address, "parallel": parallel}
    run_flags: dict[str, Any] = {
        "run": {"data_dir": data_dir},
        "budget": {"time_limit": time_limit, "exec_timeout": exec_timeout, "max_steps": max_steps},
        "execution": {"slots": slots},
        "search": {"policy": policy},
    }
    plan_flags = {
        "competitions": competitions,
        "split": split or None,
        "seeds": seeds,
        "dir": sweep_dir,
        "cpus_per_run": cpus_per_run,
        "gpus_per_run": gpus_per_run,
        "memory_per_run": memory_per_run,
    }
    try:
        if resume is not None:
            given = [f"--{k.replace('_', '-')}" for k, v in plan_flags.items() if v is not None]
            given += [
                f"--{k.replace('_', '-')}" for g in run_flags.values() for k, v in g.items() if v
            ]
            if given:
                raise UserError(
                    f"--resume continues a sweep as it was planned; drop {', '.join(given)} "
                    "(only --backend, --address and --parallel may change)"
                )
            directory = resume.resolve()
            plan = SweepPlan.load(directory)
            plan = plan.model_copy(update={k: v for k, v in where.items() if v is not None})
            settings = resolve_settings(profile or plan.profile)
        else:
            settings = resolve_settings(profile, {**run_flags, "sweep": {**plan_flags, **where}})
            plan, directory = _new_plan(settings, profile, run_flags)
        # A plan this machine or cluster cannot run is refused before its folder exists, so the
        # corrected command can use the same --sweep-dir.
        executes = make_backend(plan, settings)
        if resume is None:
            plan.save(directory)
        outcome = anyio.run(run_sweep, plan, directory, settings, executes)
    except UserError as error:
        fail(str(error))
    print(f"mlmaster: {outcome.summary()}", file=sys.stderr)
    raise typer.Exit(outcome.exit_code)


def _new_plan(settings: Any, profile: str | None, run_flags: dict[str, Any]) -> Any:
    from mlmaster.competition.layout import require_prepared
    from mlmaster.sweep.plan import Resources, SweepPlan, dumps_overrides, plan_competitions

    sweep = settings.sweep
    ids, splits = plan_competitions(sweep.competitions, sweep.split)
    directory = sweep.dir or Path("sweeps") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    directory = directory.resolve()
    if (directory / "sweep.json").exists():
        raise UserError(
            f"{directory} already holds a sweep; continue it with --resume {directory} "
            "or choose another --sweep-dir"
        )
    data_dir = settings.run.data_dir.resolve()
    if sweep.backend == "local" or data_dir.is_dir():  # a Ray cluster may see a data dir we do not
        require_prepared(data_dir, ids)
    overrides = dumps_overrides(run_flags)
    # Runs may execute elsewhere (a Ray worker's own folder): paths must not be relative.
    overrides.setdefault("run", {})["data_dir"] = str(data_dir)
    plan = SweepPlan(
        competitions=ids,
        splits=splits,
        seeds=list(range(sweep.seeds)),
        backend=sweep.backend,
        resources=Resources(
            cpus=sweep.cpus_per_run, gpus=sweep.gpus_per_run, memory=sweep.memory_per_run
        ),
        parallel=sweep.parallel,
        address=sweep.address,
        max_retries=sweep.max_retries,
        profile=profile,
        overrides=overrides,
    )
    return plan, directory


@sweep_app.command("report")
def report_command(
    sweep_dir: Annotated[Path, typer.Argument(help="The sweep directory.")],
) -> None:
    """Regenerate a sweep's report (report.json, report.md, report.html) from its runs."""
    from mlmaster.sweep.report import to_markdown
    from mlmaster.sweep.runner import write_report

    try:
        report = write_report(sweep_dir)
    except UserError as error:
        fail(str(error))
    typer.echo(to_markdown(report))
