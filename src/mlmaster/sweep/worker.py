"""``python -m mlmaster.sweep.worker TASK.json``: one run of a local sweep, in its own process
(its own CPU set, signals and event loop). The local backend starts one per run."""

from __future__ import annotations

import sys
from pathlib import Path

from mlmaster.sweep.task import SweepTask, execute


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mlmaster.sweep.worker TASK.json", file=sys.stderr)
        return 2
    task = SweepTask.model_validate_json(Path(argv[0]).read_text())
    record = execute(task)
    return record.exit_code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
