"""The sandbox seam: what confines one script, chosen by name from a registry.

A :class:`Sandbox` does three things for the runner, which knows nothing else of it:

- ``prepare(workspace, slot)`` before a run (make the workspace usable by the script's user);
- ``wrap(argv, workspace, slot)`` turns the script's command into what is started, with the
  user to start it as;
- ``watch(pid, slot)`` returns the :class:`ScriptTree` that measures and kills what was started.

Sandboxes register a factory under a name (``register_sandbox``); ``execution.sandbox`` must be
one of those names or ``auto``, which takes the first of :data:`AUTO_ORDER` that can run here
and otherwise ``none``, with one warning. A factory that cannot work on this machine raises
:class:`SandboxUnavailable` saying why. Adding a sandbox (a container runtime, say) is one
module in ``mlmaster.execution.sandboxes`` plus its line in that package's ``__init__``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from mlmaster.errors import UserError
from mlmaster.execution.topology import SlotSpec
from mlmaster.execution.workspace import Workspace
from mlmaster.logs import get_logger

log = get_logger(__name__)

# Tried in this order by ``sandbox = auto``; ``none`` is the last resort, never listed here.
AUTO_ORDER = ("bwrap",)


class SandboxInfo(BaseModel):
    """What a run's scripts are confined by, in words a log line and the report can show."""

    name: str
    confined: bool  # False: the script runs on the host, as some user, seeing what it sees
    user: str  # who the script runs as, e.g. "uid 65534 in a user namespace, no capability"
    network: bool = True  # whether the script can reach the network
    exposes: list[str] = []  # what the script can still reach, one short phrase each


@dataclass(frozen=True)
class Launch:
    """What to start: the full argv, and the user and group to start it as (None: ours)."""

    argv: list[str]
    uid: int | None = None
    gid: int | None = None


class ScriptTree(Protocol):
    """The started script and everything it spawned: measured while it runs, killed at the end.

    The runner calls these methods from worker threads only (they may block reading ``/proc``,
    never the event loop), sometimes two at once: they must be thread-safe.
    """

    @property
    def peak_rss(self) -> int:
        """The largest resident bytes sampled so far."""
        ...

    @property
    def cpu_time(self) -> float | None:
        """User plus system seconds of every member sampled so far."""
        ...

    def sample(self) -> int:
        """Record memory and CPU time; returns the current resident bytes of the whole tree."""
        ...

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to every live member."""
        ...

    def members(self) -> Sequence[object]:
        """Live members (empty once the tree is gone)."""
        ...

    def reap_orphans(self) -> None:
        """Collect members that were re-parented to this process, so none lingers as a zombie."""
        ...


class Sandbox(Protocol):
    info: SandboxInfo

    def prepare(self, workspace: Workspace, slot: SlotSpec) -> None:
        """Make ``workspace`` ready for a script on ``slot`` (in a worker thread, before a run)."""
        ...

    def wrap(self, argv: Sequence[str], workspace: Workspace, slot: SlotSpec) -> Launch:
        """The command that runs ``argv`` confined, in ``workspace``, with ``slot``'s devices
        (in a worker thread, right after ``prepare``)."""
        ...

    def watch(self, pid: int, slot: SlotSpec) -> ScriptTree:
        """The tree to measure and kill, given the pid of the process ``wrap`` described."""
        ...


@dataclass(frozen=True)
class SandboxContext:
    """What a sandbox factory may need to know: the scripts' interpreter, user and cache."""

    python: Path
    python_roots: tuple[Path, ...]  # folders the interpreter needs (mounted read-only)
    uid: int  # the unprivileged user scripts run as
    gid: int
    cache_dir: Path | None = None  # the shared model cache: readable, never writable, by all


class SandboxUnavailable(Exception):
    """This sandbox cannot run on this machine; the message says why."""


SandboxFactory = Callable[[SandboxContext], Sandbox]

_REGISTRY: dict[str, SandboxFactory] = {}


def register_sandbox(name: str, factory: SandboxFactory) -> None:
    """Make ``name`` a valid ``execution.sandbox`` value, built by ``factory``."""
    _REGISTRY[name] = factory


def sandbox_names() -> list[str]:
    """Every registered sandbox name (``auto`` is not one: it chooses among them)."""
    _load_builtin()
    return sorted(_REGISTRY)


def check_sandbox_name(name: str) -> str:
    """``name`` if settings may use it, else ``ValueError`` listing the valid ones."""
    names = sandbox_names()
    if name != "auto" and name not in names:
        raise ValueError(f"unknown sandbox {name!r}; use auto or one of: {', '.join(names)}")
    return name


def resolve_sandbox(mode: str, context: SandboxContext) -> Sandbox:
    """Build the sandbox ``mode`` names; ``auto`` degrades to ``none`` with one warning."""
    check_sandbox_name(mode)
    if mode != "auto":
        try:
            return _REGISTRY[mode](context)
        except SandboxUnavailable as exc:
            raise UserError(
                f"execution.sandbox = {mode} but it cannot run here ({exc}); install "
                "bubblewrap, allow user namespaces, or set execution.sandbox = none"
            ) from exc
    problems = []
    for name in AUTO_ORDER:
        try:
            return _REGISTRY[name](context)
        except SandboxUnavailable as exc:
            problems.append(f"{name}: {exc}")
    log.warning("sandbox_unavailable", reason="; ".join(problems), fallback="none")
    return _REGISTRY["none"](context)


def running_as_root() -> bool:
    return os.geteuid() == 0


def _load_builtin() -> None:
    """Import the built-in sandboxes, which register themselves."""
    import mlmaster.execution.sandboxes  # noqa: F401 - registration on import
