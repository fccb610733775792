"""The emotion tracker (Challenge 2, cloud side, and its local twin): face crops in,
expression scores, results items and per-stage metrics out.

Scores describe facial expressions, not feelings (domain.emotions.EXPRESSION_CAVEAT).
"""

from datapalooza.emotions.factory import build_analyzer
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.emotions.tracker import (
    CropOutcome,
    CropRef,
    CropStatus,
    TrackReport,
    track_crops,
)
from datapalooza.emotions.wiring import Tracker, aws_tracker, local_tracker

__all__ = [
    "CropOutcome",
    "CropRef",
    "CropStatus",
    "TrackReport",
    "Tracker",
    "TrackerSettings",
    "aws_tracker",
    "build_analyzer",
    "local_tracker",
    "track_crops",
]
