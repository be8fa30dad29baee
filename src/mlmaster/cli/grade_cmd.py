"""``mlmaster grade``: grade one submission file and print MLE-bench's report as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlmaster.cli.common import ProfileOption, fail, resolve_settings
from mlmaster.errors import UserError

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where prepared competitions live (<data-dir>/<id>/prepared). "
        "Default: settings run.data_dir.",
        show_default=False,
    ),
]


def grade_command(
    competition: Annotated[str, typer.Argument(help="Competition id, e.g. spaceship-titanic.")],
    submission: Annotated[Path, typer.Argument(help="The submission CSV to grade.")],
    data_dir: DataDirOption = None,
    profile: ProfileOption = None,
) -> None:
    """Grade SUBMISSION: score, medals and validity, as MLE-bench reports them.

    Exits 0 whenever a report is printed, also for an invalid submission (see
    valid_submission and validation_message); exits 2 when the competition cannot be loaded.
    """
    # Imported here so that other commands start without loading pandas and scikit-learn.
    from mlmaster.competition.grading import grade_submission
    from mlmaster.competition.layout import load_competition

    settings = resolve_settings(profile)
    try:
        loaded = load_competition(data_dir or settings.run.data_dir, competition)
        report = grade_submission(loaded, submission)
    except UserError as error:
        fail(str(error))
    typer.echo(report.model_dump_json(indent=2))
