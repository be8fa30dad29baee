"""Slot planning over fake topologies, and GPU detection from its sources."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlmaster.errors import UserError
from mlmaster.execution.topology import (
    default_slot_count,
    detect_gpus,
    parse_cuda_visible_devices,
    parse_nvidia_smi_list,
    plan_slots,
)


@st.composite
def topologies(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    n_cpus = draw(st.integers(1, 256))
    # Not always 0..n-1: a cgroup or taskset can leave any subset.
    cpus = draw(st.lists(st.integers(0, 511), min_size=n_cpus, max_size=n_cpus, unique=True))
    gpus = draw(st.lists(st.integers(0, 15), max_size=8, unique=True))
    k = draw(st.integers(1, min(len(cpus), 64)))
    return cpus, gpus, k


@given(topologies())
def test_cpu_sets_are_disjoint_cover_all_and_balanced(topo: tuple[list[int], list[int], int]):
    cpus, gpus, k = topo
    slots = plan_slots(cpus, gpus, k)
    assert len(slots) == k
    assert [s.index for s in slots] == list(range(k))
    flat = [c for s in slots for c in s.cpus]
    assert len(flat) == len(set(flat)), "CPU sets overlap"
    assert set(flat) == set(cpus), "some CPU is left out"
    sizes = [len(s.cpus) for s in slots]
    assert min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1


@given(topologies())
def test_gpus_one_each_when_enough_otherwise_shared_evenly(
    topo: tuple[list[int], list[int], int],
):
    cpus, gpus, k = topo
    slots = plan_slots(cpus, gpus, k)
    given_out = [g for s in slots for g in s.gpus]
    if not gpus:
        assert given_out == []
    elif len(gpus) >= k:
        assert len(given_out) == len(set(given_out)), "a GPU is given twice"
        assert set(given_out) == set(gpus), "a GPU is left idle"
        sizes = [len(s.gpus) for s in slots]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    else:
        assert all(len(s.gpus) == 1 for s in slots)
        assert set(given_out) == set(gpus)
        load = [given_out.count(g) for g in gpus]
        assert max(load) - min(load) <= 1


def test_more_slots_than_cpus_is_a_clear_error():
    with pytest.raises(UserError, match="needs at least 3 CPUs"):
        plan_slots([0, 1], [], 3)


@pytest.mark.parametrize(
    ("cpus", "gpus", "expected"),
    [
        (list(range(36)), [], 1),
        (list(range(36)), [0], 1),
        (list(range(36)), [0, 1, 2, 3], 4),
        ([0, 1], [0, 1, 2, 3], 2),
    ],
)
def test_default_slot_count_is_one_per_gpu_or_one(cpus, gpus, expected):
    assert default_slot_count(cpus, gpus) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0,1", [0, 1]), ("", []), ("3", [3]), ("-1", []), ("2,-1,3", [2]), ("GPU-1a2b", None)],
)
def test_cuda_visible_devices(value: str, expected: list[int] | None):
    assert parse_cuda_visible_devices(value) == expected


def test_nvidia_smi_listing():
    text = (
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)\n"
        "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-bbbb)\n"
        "  MIG 1g.10gb Device 0: (UUID: MIG-cccc)\n"
    )
    assert parse_nvidia_smi_list(text) == [0, 1]


def _fake_nvidia_smi(tmp_path: Path, output: str, code: int = 0) -> str:
    tool = tmp_path / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return str(tool)


def test_detect_gpus_prefers_the_environment(tmp_path: Path):
    tool = _fake_nvidia_smi(tmp_path, "GPU 0: A\\nGPU 1: B\\n")
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": "1"}, nvidia_smi=tool) == [1]
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": ""}, nvidia_smi=tool) == []


def test_detect_gpus_asks_nvidia_smi_when_unset(tmp_path: Path):
    assert detect_gpus({}, nvidia_smi=_fake_nvidia_smi(tmp_path, "GPU 0: A\\nGPU 1: B\\n")) == [
        0,
        1,
    ]
    assert detect_gpus({}, nvidia_smi=_fake_nvidia_smi(tmp_path, "driver not loaded", 9)) == []
