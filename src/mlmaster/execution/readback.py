"""Copy a file a script left in its workspace, trusting nothing about it.

A script controls its workspace: ``submission/submission.csv`` may be a link to the private
answers or to ``/proc/1/environ``, a FIFO that blocks whoever opens it, a hard link to another
file, or gigabytes. Every folder on the way and the file itself are opened with ``O_NOFOLLOW``
relative to the folder before, the file must be a regular file with a single link, and at most
``cap`` bytes are copied, once, to a path of mlmaster's own. Everything after (validation,
``best/``, ``--output``) reads only that copy.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_CHUNK = 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass(frozen=True)
class ReadBack:
    """The outcome of copying one file out: the copy, or why there is none."""

    copy: Path | None = None
    problem: str | None = None  # set when the file exists but was refused
    size: int = 0


def copy_out(root: Path, relative: str, dest: Path, *, cap: int) -> ReadBack:
    """Copy ``root/relative`` to ``dest`` if it is a plain file of at most ``cap`` bytes.

    ``root`` itself is mlmaster's (it made it); everything below it is the script's. No file
    there: an empty :class:`ReadBack`. A refused file: ``problem`` says why, in words for the
    node's record, and ``dest`` is removed so no stale copy survives.
    """
    name = PurePosixPath(relative).name
    with contextlib.suppress(FileNotFoundError):
        dest.unlink()
    try:
        with _open_below(root, PurePosixPath(relative)) as fd:
            info = os.fstat(fd)
            problem = _refusal(name, info, cap)
            if problem is not None:
                return ReadBack(problem=problem)
            size = _copy(fd, dest, cap)
    except _Refused as refused:
        return ReadBack(problem=str(refused))
    except FileNotFoundError:
        return ReadBack()
    if size > cap:  # grew while being read
        dest.unlink()
        return ReadBack(problem=_too_big(name, size, cap))
    return ReadBack(copy=dest, size=size)


class _Refused(Exception):
    pass


@contextlib.contextmanager
def _open_below(root: Path, relative: PurePosixPath) -> Iterator[int]:
    """An fd of ``root/relative``, opened one component at a time, following no link."""
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"{relative} is not a plain relative path")
    opened = [os.open(root, _DIR_FLAGS)]
    try:
        *folders, leaf = relative.parts
        for i, part in enumerate(folders):
            opened.append(_open_at(opened[-1], part, _DIR_FLAGS, "/".join(relative.parts[: i + 1])))
        opened.append(_open_at(opened[-1], leaf, _FILE_FLAGS, str(relative)))
        yield opened[-1]
    finally:
        for fd in opened:
            os.close(fd)


def _open_at(dir_fd: int, name: str, flags: int, shown: str) -> int:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except NotADirectoryError:
        raise FileNotFoundError(shown) from None
    if stat.S_ISLNK(info.st_mode):
        raise _Refused(f"{shown} is a symbolic link: ignored")
    expect_dir = bool(flags & os.O_DIRECTORY)
    if expect_dir and not stat.S_ISDIR(info.st_mode):
        raise _Refused(f"{shown} is not a folder: ignored")
    if not expect_dir and not stat.S_ISREG(info.st_mode):
        raise _Refused(f"{shown} is not a regular file ({_kind(info.st_mode)}): ignored")
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        # Swapped for a link between the look and the open: O_NOFOLLOW refused it.
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _Refused(f"{shown} changed while being read: ignored") from exc
        raise


def _refusal(name: str, info: os.stat_result, cap: int) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return f"{name} is not a regular file ({_kind(info.st_mode)}): ignored"
    if info.st_nlink > 1:
        return f"{name} has {info.st_nlink} hard links (it may be another file): ignored"
    if info.st_size > cap:
        return _too_big(name, info.st_size, cap)
    return None


def _too_big(name: str, size: int, cap: int) -> str:
    return (
        f"{name} is {size} bytes, over execution.submission_cap ({cap} bytes): ignored; "
        "raise the cap if submissions are really this large"
    )


def _copy(fd: int, dest: Path, cap: int) -> int:
    """Copy at most ``cap + 1`` bytes of ``fd`` to ``dest``; returns the bytes read."""
    os.set_blocking(fd, True)
    total = 0
    with dest.open("wb") as out:
        while total <= cap and (chunk := os.read(fd, min(_CHUNK, cap + 1 - total))):
            out.write(chunk)
            total += len(chunk)
    return total


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return word
    return "not a plain file"
