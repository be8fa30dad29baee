"""search part: nodes, the shared tree, selection policies and rewards. Pure data, no I/O."""

from mlmaster.search.node import ExecutionSummary, Node, NodeStatus, Outcome
from mlmaster.search.policy import exploration_constant, make_policy
from mlmaster.search.reward import MetricRanking, node_reward
from mlmaster.search.tree import ROOT_ID, Expansion, SearchTree, TreeCounts

__all__ = [
    "ROOT_ID",
    "ExecutionSummary",
    "Expansion",
    "MetricRanking",
    "Node",
    "NodeStatus",
    "Outcome",
    "SearchTree",
    "TreeCounts",
    "exploration_constant",
    "make_policy",
    "node_reward",
]
