"""Scored faces summarised: what the results table's read side answers.

The dashboard and the setlist reports ask for these through the ``ResultsReader``
port (datapalooza.ports); the SQLite results table computes them. Scores describe
facial expressions, not feelings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from datapalooza.domain.emotions import Emotion


@dataclass(frozen=True, slots=True)
class EmotionMix:
    """A set of faces summarised: how many, their mood (mean valence, -100..100, None
    without faces), the mean confidence of each expression and how often each was the
    dominant one. Scores describe facial expressions, not feelings."""

    faces: int
    mood: float | None
    mean_scores: dict[Emotion, float] = field(default_factory=dict)
    dominant_counts: dict[Emotion, int] = field(default_factory=dict)

    @property
    def dominant(self) -> Emotion | None:
        if not self.mean_scores:
            return None
        return max(self.mean_scores.items(), key=lambda kv: kv[1])[0]


@dataclass(frozen=True, slots=True)
class TimelineBucket:
    """One bucket of a stage's timeline: faces captured in [start, start + width)."""

    start: datetime
    faces: int
    mood: float | None
    mean_scores: dict[Emotion, float]
