"""Selection policies by name: the registry that ``search.policy`` is checked against.

To add a policy: write one module with a class following ``Policy`` (see ``base.py``), add one
line to ``REGISTRY``, and test it (the tree's property tests run every registered policy).
"""

from __future__ import annotations

from collections.abc import Callable

from mlmaster.search.policies.base import Policy, PolicyBase
from mlmaster.search.policies.greedy import GreedyPolicy
from mlmaster.search.policies.ml_master import MLMasterPolicy, exploration_constant, uct_score
from mlmaster.search.policies.uniform import RandomPolicy

REGISTRY: dict[str, Callable[[], Policy]] = {
    "ml-master": MLMasterPolicy,
    "greedy": GreedyPolicy,
    "random": RandomPolicy,
}


def policy_names() -> list[str]:
    return list(REGISTRY)


def check_policy_name(name: str) -> str:
    """``name`` if a policy is registered under it, else a ValueError naming the choices."""
    if name not in REGISTRY:
        raise ValueError(f"unknown search policy {name!r}; choose one of {', '.join(REGISTRY)}")
    return name


def make_policy(name: str) -> Policy:
    """A fresh policy (policies keep per-tree state: one instance per tree)."""
    return REGISTRY[check_policy_name(name)]()


__all__ = [
    "REGISTRY",
    "GreedyPolicy",
    "MLMasterPolicy",
    "Policy",
    "PolicyBase",
    "RandomPolicy",
    "check_policy_name",
    "exploration_constant",
    "make_policy",
    "policy_names",
    "uct_score",
]
