"""The best score over time as SVG geometry: a step line of the best so far, with every
valid node's own score as a faint dot. Pure arithmetic; the template draws it."""

from __future__ import annotations

from dataclasses import dataclass

from mlmaster.report.model import RunReport

WIDTH, HEIGHT = 640.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 16.0, 12.0, 36.0  # room for the axis labels


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    node_id: str
    metric: float
    best: bool  # a point where the best improved


@dataclass(frozen=True)
class BestChart:
    width: float
    height: float
    line: str  # SVG polyline points of the best-so-far step line
    dots: list[Dot]
    x_labels: list[tuple[float, str]]  # (x, text)
    y_labels: list[tuple[float, str]]  # (y, text)
    plot: tuple[float, float, float, float]  # left, top, right, bottom of the plot area


def best_chart(report: RunReport) -> BestChart | None:
    """``None`` when no valid node has a finish time: there is nothing to draw."""
    if not report.best_over_time:
        return None
    origin = report.started_at
    valid = [n for n in report.nodes if n.status == "valid" and n.metric is not None]
    timed = [(n, n.finished_at) for n in valid if n.finished_at is not None]
    if origin is None:
        origin = min(t for _, t in timed)
    seconds = [max(0.0, t - origin) for _, t in timed]
    metrics = [n.metric for n, _ in timed if n.metric is not None]
    t_max = max([*seconds, report.elapsed, 1.0])
    low, high = min(metrics), max(metrics)
    if high == low:  # one score, or all equal: give the axis some height
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad

    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def sx(t: float) -> float:
        return round(LEFT + (right - LEFT) * t / t_max, 2)

    def sy(m: float) -> float:
        # Higher scores go up; for lower-is-better metrics the best line then falls.
        return round(bottom - (bottom - TOP) * (m - low) / (high - low), 2)

    steps: list[str] = []
    for index, point in enumerate(report.best_over_time):
        if index:
            steps.append(f"{sx(point.seconds)},{sy(report.best_over_time[index - 1].metric)}")
        steps.append(f"{sx(point.seconds)},{sy(point.metric)}")
    steps.append(f"{sx(t_max)},{sy(report.best_over_time[-1].metric)}")

    improved = {p.node_id for p in report.best_over_time}
    dots = [
        Dot(sx(max(0.0, t - origin)), sy(n.metric), n.id, n.metric, n.id in improved)
        for n, t in timed
        if n.metric is not None
    ]
    x_labels = [(sx(t_max * f), _duration(t_max * f)) for f in (0.0, 0.5, 1.0)]
    y_labels = [(sy(v), f"{v:.4g}") for v in (low, (low + high) / 2, high)]
    return BestChart(
        WIDTH, HEIGHT, " ".join(steps), dots, x_labels, y_labels, (LEFT, TOP, right, bottom)
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
