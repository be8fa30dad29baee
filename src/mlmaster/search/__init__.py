"""search part: nodes, the shared tree, selection policies, rewards and the bug decision.
Pure data, no I/O."""

from mlmaster.search.node import ExecutionSummary, Node, NodeStatus, Operator, Outcome, Solution
from mlmaster.search.policies import Policy, exploration_constant, make_policy, policy_names
from mlmaster.search.reward import MetricRanking, node_reward
from mlmaster.search.tree import ROOT_ID, Expansion, SearchTree, TreeCounts
from mlmaster.search.verdict import Evidence, Verdict, judge

__all__ = [
    "ROOT_ID",
    "Evidence",
    "ExecutionSummary",
    "Expansion",
    "MetricRanking",
    "Node",
    "NodeStatus",
    "Operator",
    "Outcome",
    "Policy",
    "SearchTree",
    "Solution",
    "TreeCounts",
    "Verdict",
    "exploration_constant",
    "judge",
    "make_policy",
    "node_reward",
    "policy_names",
]
