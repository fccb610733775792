"""The emotion tracker (Challenge 2, cloud side, and its local twin): face crops in,
expression scores, results items and per-stage metrics out.

Scores describe facial expressions, not feelings (domain.emotions.EXPRESSION_CAVEAT).
"""

from datapalooza.emotions.bootstrap import CropScorer, aws_scorer, build_analyzer, local_scorer
from datapalooza.emotions.scoring import (
    CropOutcome,
    CropRef,
    CropStatus,
    ScoringReport,
    score_crops,
)
from datapalooza.emotions.settings import TrackerSettings

__all__ = [
    "CropOutcome",
    "CropRef",
    "CropScorer",
    "CropStatus",
    "ScoringReport",
    "TrackerSettings",
    "aws_scorer",
    "build_analyzer",
    "local_scorer",
    "score_crops",
]
