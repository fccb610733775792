"""The performance goals, in one place: each benchmark judges its figures against them
and ``bench.report`` works out what they leave. Side by side in one run, on this
machine's cores (the goals of the issue that asked for the benchmark suite)."""

from __future__ import annotations

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
