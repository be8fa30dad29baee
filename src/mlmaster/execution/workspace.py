"""The folder one script runs in: ``input/`` (public data), ``working/``, ``submission/``.

``input`` is a symlink to the competition's public folder, so a node costs no copy of the data;
the sandbox mounts that folder read-only and nothing else of the data directory (the private
answers sit next to it and stay out of reach). When ``input`` is a run's derived folder (see
:mod:`mlmaster.selection.inputs`), the folders its links point into are ``also_readable``: the
sandbox mounts them read-only too, so the links resolve.

Nothing in a workspace is trusted once a script has run there: what mlmaster keeps of it is
copied out by :mod:`mlmaster.execution.readback`, which follows no link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlmaster.errors import UserError

SCRIPT_NAME = "solution.py"
SUBMISSION_NAME = "submission.csv"


@dataclass(frozen=True)
class Workspace:
    root: Path  # absolute; the script's working directory
    public_dir: Path  # absolute, symlinks resolved: what input/ points at
    also_readable: tuple[Path, ...] = ()  # folders input/'s own links resolve into
    # (file, path): the sandbox shows ``file`` at ``path``, e.g. the holdout's kept training
    # rows over the real training table, which ``also_readable`` would otherwise expose whole
    overlays: tuple[tuple[Path, Path], ...] = ()

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def working_dir(self) -> Path:
        return self.root / "working"

    @property
    def submission_dir(self) -> Path:
        return self.root / "submission"

    @property
    def submission_file(self) -> Path:
        return self.submission_dir / SUBMISSION_NAME

    @property
    def script_path(self) -> Path:
        return self.root / SCRIPT_NAME

    @property
    def kept_submission(self) -> Path:
        """Where the submission's checked copy goes: the node folder holding the workspace."""
        return self.root.parent / SUBMISSION_NAME

    @classmethod
    def create(
        cls,
        node_dir: Path,
        public_dir: Path,
        also_readable: tuple[Path, ...] = (),
        overlays: tuple[tuple[Path, Path], ...] = (),
    ) -> Workspace:
        """Make (or reuse) the workspace folders under ``node_dir``, linking ``public_dir``."""
        public = Path(public_dir).resolve()
        if not public.is_dir():
            raise UserError(
                f"the competition's public data folder {public} does not exist; "
                "prepare the competition first"
            )
        root = Path(node_dir).resolve()
        for sub in ("working", "submission"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        link = root / "input"
        if link.is_symlink() and Path(os.readlink(link)) != public:
            link.unlink()
        if link.exists() and not link.is_symlink():
            raise UserError(
                f"{link} is a real folder, not a link to the public data; remove it so the "
                "workspace can link the competition's data there"
            )
        if not link.is_symlink():
            link.symlink_to(public, target_is_directory=True)
        readable = tuple(Path(p).resolve() for p in also_readable)
        return cls(root=root, public_dir=public, also_readable=readable, overlays=overlays)

    def write_script(self, code: str) -> Path:
        """Write the solution's source as the workspace's script; returns its path."""
        self.script_path.write_text(code, encoding="utf-8")
        return self.script_path

    def hand_over(self, uid: int, gid: int, *, closed: bool = True) -> None:
        """Give the workspace's folders to the script's user; ``closed``: to no other user.

        Only the three folders mlmaster made: ``lchown`` never follows a link a script left.
        """
        for folder in (self.root, self.working_dir, self.submission_dir):
            os.lchown(folder, uid, gid)
        self.root.chmod(0o700 if closed else 0o755)
