"""Choosing scenarios and sizing the two presets."""

from __future__ import annotations

import pytest

from mlmaster.bench.runner import SCENARIOS, check_names, plan_for
from mlmaster.errors import UserError


def test_all_scenarios_run_when_none_is_named() -> None:
    assert check_names(None) == list(SCENARIOS)
    assert check_names([]) == list(SCENARIOS)


def test_named_scenarios_run_in_the_fixed_order_once() -> None:
    assert check_names(["search", "micro", "search"]) == ["micro", "search"]


def test_an_unknown_scenario_is_a_user_error_naming_the_choices() -> None:
    with pytest.raises(UserError, match=r"unknown bench scenario.*speed") as raised:
        check_names(["micro", "speed"])
    assert "choose from micro, throughput, landscape, search" in str(raised.value)


def test_quick_is_smaller_than_full_in_every_scenario() -> None:
    quick, full = plan_for(True), plan_for(False)
    assert quick.throughput.duration < full.throughput.duration
    assert quick.search.time_limit < full.search.time_limit
    assert quick.landscape.nodes * quick.landscape.competitions < (
        full.landscape.nodes * full.landscape.competitions
    )
    assert max(quick.micro.sizes) < max(full.micro.sizes)
    assert max(full.micro.sizes) >= 100_000 and full.micro.resume_nodes >= 10_000
    # the issue asks for at least two seeds and all three policies, quick or not
    for plan in (quick, full):
        assert len(plan.search.seeds) >= 2
        assert set(plan.search.policies) == {"ml-master", "greedy", "random"}
    # the throughput scenario compares L = E
    assert full.throughput.latency == full.throughput.exec_seconds
