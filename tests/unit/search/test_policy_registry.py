"""The policy registry: every name builds a working policy, and settings accept exactly those."""

from __future__ import annotations

import pytest
from search_helpers import buggy, check_invariants, step, working

from mlmaster.search import SearchTree, make_policy, policy_names
from mlmaster.settings.model import SearchSettings


@pytest.mark.parametrize("name", policy_names())
def test_every_registered_policy_grows_a_consistent_tree(name: str) -> None:
    tree = SearchTree(SearchSettings(policy=name), lower_is_better=False, seed=2)
    for i in range(40):
        step(tree, working(i / 40) if i % 3 else buggy(), worker=f"w{i % 4}")
        check_invariants(tree)
    assert tree.counts().done == 40


def test_each_tree_gets_its_own_policy_state() -> None:
    assert make_policy("ml-master") is not make_policy("ml-master")


def test_settings_take_registered_names_and_refuse_others() -> None:
    for name in policy_names():
        assert SearchSettings(policy=name).policy == name
    with pytest.raises(ValueError, match="choose one of ml-master, greedy, random"):
        SearchSettings(policy="best-first")


def test_the_settings_description_names_every_policy() -> None:
    description = SearchSettings.model_fields["policy"].description or ""
    assert all(name in description for name in policy_names())
