"""``mlmaster bench``: measure throughput, search quality and the hot paths; print the table."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlmaster.cli.common import fail
from mlmaster.errors import UserError


def bench_command(
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes, under 3 minutes: checks, not figures.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only this scenario: micro, throughput, landscape or search (repeatable).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Where bench-<time>.json/.md and latest.* go.")
    ] = Path("bench/results"),
    publish: Annotated[
        Path | None,
        typer.Option(help="Also copy the Markdown results here (make bench: bench/latest.md)."),
    ] = None,
) -> None:
    """Run the benchmark scenarios, write JSON and Markdown results, print the Markdown."""
    # Imported here so that other commands start without loading the benchmark's modules.
    from mlmaster.bench.runner import run_bench

    command = " ".join(
        ["mlmaster bench", *(["--quick"] if quick else []), *(f"--only {n}" for n in only or [])]
    )
    try:
        _, json_path, md_path = run_bench(
            only, quick=quick, out_dir=out, command=command, progress=_progress
        )
    except UserError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write the results in {out}: {error.strerror or error}")
    if publish is not None:
        publish.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(md_path, publish)
    typer.echo(md_path.read_text())
    _progress(f"bench: results in {json_path} and {md_path}")


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
