"""Where each node of the tree sits in the drawing: a simple tidy layout.

Leaves take consecutive columns left to right in journal order; a parent sits centred over
its children; rows are depths. Iterative, so a long debug chain cannot hit Python's recursion
limit. A node whose parent is unknown hangs from the root.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlmaster.report.model import NodeView

ROOT = "\0root"  # the tree's root: drawn, not a node of the run (no node id holds a NUL)
COLUMN = 26  # pixels between leaf columns
ROW = 56  # pixels between depths
MARGIN = 24


@dataclass(frozen=True)
class Placed:
    id: str  # ROOT for the root
    parent: str | None  # None only for the root
    x: float
    y: float


@dataclass(frozen=True)
class TreeLayout:
    placed: list[Placed]  # the root first, then nodes in journal order
    width: float
    height: float
    _index: dict[str, Placed] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {p.id: p for p in self.placed})

    def position(self, node_id: str) -> Placed:
        return self._index[node_id]


def layout_tree(nodes: list[NodeView]) -> TreeLayout:
    known = {n.id for n in nodes}
    children: dict[str, list[str]] = {ROOT: []}
    parent_of: dict[str, str] = {}
    for node in sorted(nodes, key=lambda n: n.order):
        parent = node.parent_id if node.parent_id in known and node.parent_id != node.id else ROOT
        parent_of[node.id] = parent
        children.setdefault(parent, []).append(node.id)
        children.setdefault(node.id, [])

    depth: dict[str, int] = {ROOT: 0}
    x: dict[str, float] = {}
    next_column = 0
    # Depth-first with an explicit stack: children are placed before their parent is centred.
    stack: list[tuple[str, bool]] = [(ROOT, False)]
    reached = {ROOT}
    while stack:
        node_id, expanded = stack.pop()
        kids = children.get(node_id, [])
        if expanded:
            x[node_id] = (x[kids[0]] + x[kids[-1]]) / 2
            continue
        if not kids:
            x[node_id] = float(next_column)
            next_column += 1
            continue
        stack.append((node_id, True))
        for kid in reversed(kids):
            if kid in reached:
                continue  # a parent cycle in a damaged record: draw each node once
            reached.add(kid)
            depth[kid] = depth[node_id] + 1
            stack.append((kid, False))

    placed = [Placed(ROOT, None, _px(x[ROOT]), _py(0))]
    for node in sorted(nodes, key=lambda n: n.order):
        if node.id not in x:  # only on a parent cycle: put it in a column of its own
            x[node.id], depth[node.id] = float(next_column), 1
            next_column += 1
            parent_of[node.id] = ROOT
        placed.append(Placed(node.id, parent_of[node.id], _px(x[node.id]), _py(depth[node.id])))
    deepest = max(depth.values())
    return TreeLayout(
        placed=placed,
        width=_px(max(next_column - 1, 0)) + MARGIN,
        height=_py(deepest) + MARGIN,
    )


def _px(column: float) -> float:
    return MARGIN + column * COLUMN


def _py(row: int) -> float:
    return MARGIN + row * ROW
