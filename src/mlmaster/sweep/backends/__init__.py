"""Where a sweep's runs execute. A backend takes the runs still to do and carries each to its
end (the task writes the outcome record); it returns, per run that failed to end, why.

Adding one (Slurm, Kubernetes, ...) is a module with a factory and a line in ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mlmaster.errors import UserError
from mlmaster.settings import Settings
from mlmaster.sweep.carve import Share
from mlmaster.sweep.plan import RunKey, SweepPlan
from mlmaster.sweep.task import SweepTask

TaskFactory = Callable[[RunKey, Share | None], SweepTask]


class Backend(Protocol):
    async def run(self, keys: Sequence[RunKey], make_task: TaskFactory) -> dict[RunKey, str]:
        """Run every key to its end; return the ones that did not end, with the reason."""
        ...


def _local(plan: SweepPlan, settings: Settings) -> Backend:
    from mlmaster.sweep.backends.local import LocalBackend

    return LocalBackend(plan, settings)


def _ray(plan: SweepPlan, settings: Settings) -> Backend:
    from mlmaster.sweep.backends.ray import RayBackend

    return RayBackend(plan, settings)


BACKENDS: dict[str, Callable[[SweepPlan, Settings], Backend]] = {"local": _local, "ray": _ray}


def make_backend(plan: SweepPlan, settings: Settings) -> Backend:
    try:
        factory = BACKENDS[plan.backend]
    except KeyError:
        raise UserError(
            f"unknown sweep backend {plan.backend!r}; use one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return factory(plan, settings)
