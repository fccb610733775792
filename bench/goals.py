"""The performance goals, in one place: each benchmark judges its figures against them
and ``bench.report`` works out what they leave. Side by side in one run, on this
machine's cores (the goals of the issue that asked for the benchmark suite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

PIPELINE_GOAL = 1.3
"""`up`: pipeline CPU per scored frame (without the synthetic source) over the bare
detector's CPU per frame, at most."""
CAPACITY_GOAL_CAMERAS = 20
CAPACITY_GOAL_LATENCY_S = 2.0
"""`up`: this many cameras at 1 fps 1280x720, capture to API under this many seconds."""
CAPACITY_GOAL_SCORED_SHARE = 0.95
"""...with at least this share of each camera's frames scored."""
OVERHEAD_GOAL = 1.15
"""Endpoint: CPU per request over the detector's, at most."""
SCALING_GOAL = 0.85
"""Endpoint: throughput with workers = cores over cores x one worker's, at least."""
EDGE_GOAL = 0.15
"""Edge: bytes on the wire over the cloud path's, at most, everywhere on the grid."""


def at_most(limit: float, value: float, parts: Sequence[float], *, unit: str) -> dict[str, Any]:
    """A goal met when ``value`` is at most ``limit``; ``parts`` are the same figure
    measured over each round (or slice) of the run, to show how firm the verdict is."""
    return _judged(f"<= {limit}", lambda v: v <= limit, value, parts, unit)


def at_least(limit: float, value: float, parts: Sequence[float], *, unit: str) -> dict[str, Any]:
    """``at_most``'s twin: met when ``value`` is at least ``limit``."""
    return _judged(f">= {limit}", lambda v: v >= limit, value, parts, unit)


def _judged(
    goal: str, meets: Callable[[float], bool], value: float, parts: Sequence[float], unit: str
) -> dict[str, Any]:
    judged: dict[str, Any] = {"value": value, "goal": goal, "met": meets(value)}
    if parts:
        judged["spread"] = {
            "unit": unit,
            "low": min(parts),
            "high": max(parts),
            "count": len(parts),
            "met_in": sum(meets(v) for v in parts),
        }
    return judged


def spread_text(spread: dict[str, Any] | None) -> str:
    """A goal's figure over the run's rounds: its range and in how many it was met."""
    if not spread:
        return ""
    return (
        f"{spread['low']:.3f}-{spread['high']:.3f}, met in {spread['met_in']} of "
        f"{spread['count']} {spread['unit']}s"
    )
