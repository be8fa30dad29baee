"""Shares of one machine for concurrent runs: disjoint, given back, never over-asked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlmaster.errors import UserError
from mlmaster.sweep.carve import MachinePool, Share
from mlmaster.sweep.plan import Resources


def test_shares_are_disjoint_until_the_machine_is_full() -> None:
    pool = MachinePool(cpus=range(8), gpus=[0, 1])
    want = Resources(cpus=3, gpus=1)
    first, second = pool.take(want), pool.take(want)
    assert first == Share(cpus=(0, 1, 2), gpus=(0,))
    assert second == Share(cpus=(3, 4, 5), gpus=(1,))
    assert pool.take(want) is None  # two CPUs left, no GPU
    assert pool.capacity(want) == 2
    pool.give_back(first)
    assert pool.take(want) == first


def test_a_run_that_can_never_fit_is_refused_up_front() -> None:
    pool = MachinePool(cpus=[0, 1], gpus=[])
    with pytest.raises(UserError, match="asks for 4 CPUs but this machine has 2"):
        pool.check_fits(Resources(cpus=4))
    with pytest.raises(UserError, match="asks for 1 GPUs but this machine has 0"):
        pool.check_fits(Resources(cpus=1, gpus=1))


@given(
    n_cpus=st.integers(1, 64),
    n_gpus=st.integers(0, 8),
    cpus=st.integers(1, 8),
    gpus=st.integers(0, 2),
    ops=st.lists(st.booleans(), max_size=40),
)
def test_any_sequence_of_takes_and_returns_keeps_shares_disjoint(
    n_cpus: int, n_gpus: int, cpus: int, gpus: int, ops: list[bool]
) -> None:
    pool = MachinePool(cpus=range(n_cpus), gpus=range(n_gpus))
    want = Resources(cpus=cpus, gpus=gpus)
    held: list[Share] = []
    for take in ops:
        if take:
            share = pool.take(want)
            if share is None:
                # Refused only when too little is free.
                used_cpus = sum(len(s.cpus) for s in held)
                used_gpus = sum(len(s.gpus) for s in held)
                assert n_cpus - used_cpus < cpus or n_gpus - used_gpus < gpus
            else:
                held.append(share)
        elif held:
            pool.give_back(held.pop(0))
        cpus_held = [c for s in held for c in s.cpus]
        gpus_held = [g for s in held for g in s.gpus]
        assert len(cpus_held) == len(set(cpus_held))
        assert len(gpus_held) == len(set(gpus_held))
        assert len(held) <= pool.capacity(want)
