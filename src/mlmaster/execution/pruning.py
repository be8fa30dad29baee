"""Deleting a finished node's ``working/`` folder, so a long run does not fill the disk.

A script's ``working/`` is also its HOME and temp folder: extracted archives, checkpoints and
caches land there, gigabytes per node over hundreds of nodes. Once a node is committed nothing
reads it again, except for the best node (whose folder is kept for inspection). Sizes are
counted and folders removed without following links, so a link a script planted can neither
inflate the count nor send the deletion outside the workspace.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mlmaster.logs import get_logger

log = get_logger(__name__)


def folder_size(root: Path) -> int:
    """Bytes of the regular files below ``root``, links neither followed nor counted."""
    total = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def prune_working(working: Path, keep_under: int) -> int | None:
    """Delete ``working`` when it holds more than ``keep_under`` bytes; the bytes freed, or None.

    ``working`` itself must be a real folder (a link in its place is left alone: it is not the
    workspace's own folder).
    """
    if working.is_symlink() or not working.is_dir():
        return None
    size = folder_size(working)
    if size <= keep_under:
        return None
    # rmtree removes links as links; on Linux it walks by file descriptor, never through one.
    shutil.rmtree(working, ignore_errors=True)
    log.debug("working_pruned", folder=str(working), bytes=size)
    return size
