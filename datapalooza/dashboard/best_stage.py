"""The fans' "best stage right now" ranking: steady, never flipped by one odd frame.

A camera frame brings a handful of faces at once, all looking the same way (a
firework, a dropped beat, a photo-bombing group). Ranking on the newest frame would
make the leader flicker. Three mechanisms keep the ranking steady, each doing one
job:

1. **Decayed trailing window (smoothing).** A stage's score uses the faces of the
   last ``horizon`` (5 minutes), each weighted by ``0.5 ** (age / half_life)``
   (half-life 60 s): recent faces count most, but a frame is one of hundreds.
2. **Shrinkage toward neutral (minimum evidence).** The weighted mean mood is
   computed as if ``prior_faces`` extra neutral (mood 0) faces had been seen, so a
   stage with 3 beaming faces does not beat one with 300 fairly happy faces. A stage
   with fewer than ``min_faces`` faces in the horizon is not ranked at all: it is
   listed as warming up.
3. **Hysteresis.** The new order starts from the previous one, and two neighbours
   swap only when the lower one's score beats the upper one's by more than
   ``margin`` mood points. Near-ties keep their order instead of alternating.

Scores are mood points on [-100, 100] (the crowd mood of
datapalooza.domain.emotions: mean valence of the faces' expressions). Scores describe
facial expressions, not feelings.

The ranker is pure: it takes per-stage face counts and moods per time bucket (the
results table's timeline) and keeps only the previous order as state, so the same
data always gives the same ranking and asking twice changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RankingPolicy:
    """The knobs of the ranking (see the module docstring)."""

    horizon: timedelta = timedelta(minutes=5)
    half_life: timedelta = timedelta(seconds=60)
    bucket: timedelta = timedelta(seconds=10)
    min_faces: int = 10
    prior_faces: float = 10.0
    margin: float = 5.0

    def __post_init__(self) -> None:
        if self.horizon <= timedelta(0) or self.half_life <= timedelta(0):
            raise ValueError("horizon and half_life must be positive")
        if self.bucket <= timedelta(0) or self.bucket > self.horizon:
            raise ValueError("bucket must be positive and no longer than the horizon")
        if self.min_faces < 1 or self.prior_faces < 0 or self.margin < 0:
            raise ValueError("min_faces must be >= 1, prior_faces and margin >= 0")

    def describe(self) -> str:
        return (
            f"Mood of the last {_minutes(self.horizon)}, recent faces weighted most "
            f"(half-life {int(self.half_life.total_seconds())} s), shrunk toward neutral "
            f"as if {self.prior_faces:g} neutral faces were added; stages need at least "
            f"{self.min_faces} faces to be ranked, and overtake a stage above them only by "
            f"more than {self.margin:g} mood points."
        )


@dataclass(frozen=True, slots=True)
class MoodBucket:
    """Faces of one stage captured in [start, start + bucket), and their mean mood."""

    start: datetime
    faces: int
    mood: float | None


@dataclass(frozen=True, slots=True)
class StageScore:
    """One stage's standing: ``score`` (smoothed, shrunk mood), the decay-weighted mood
    without shrinkage, and how many faces the horizon holds."""

    stage: str
    score: float
    mood: float | None
    faces: int

    @property
    def ranked(self) -> bool:
        return self.mood is not None


@dataclass(frozen=True, slots=True)
class Ranking:
    """Ranked stages, best first, and those without enough faces yet."""

    ranked: tuple[StageScore, ...]
    warming_up: tuple[StageScore, ...]

    @property
    def best(self) -> StageScore | None:
        return self.ranked[0] if self.ranked else None


def score_stage(
    stage: str, buckets: Sequence[MoodBucket], *, now: datetime, policy: RankingPolicy
) -> StageScore:
    """A stage's smoothed, shrunk score from its timeline (pure)."""
    half_life_s = policy.half_life.total_seconds()
    horizon_start = now - policy.horizon
    weighted_faces = 0.0
    weighted_mood = 0.0
    faces = 0
    for bucket in buckets:
        if bucket.faces <= 0 or bucket.mood is None or bucket.start < horizon_start:
            continue
        middle = bucket.start + policy.bucket / 2
        age_s = max(0.0, (now - middle).total_seconds())
        weight = 0.5 ** (age_s / half_life_s)
        weighted_faces += weight * bucket.faces
        weighted_mood += weight * bucket.faces * bucket.mood
        faces += bucket.faces
    if faces < policy.min_faces or weighted_faces <= 0:
        return StageScore(stage, 0.0, None, faces)
    score = weighted_mood / (weighted_faces + policy.prior_faces)
    return StageScore(stage, score, weighted_mood / weighted_faces, faces)


def order_with_hysteresis(
    scores: Mapping[str, float], previous: Sequence[str], *, margin: float
) -> list[str]:
    """Stages best first, starting from ``previous`` and swapping neighbours only when
    the lower one leads by more than ``margin``.

    Stages new to the ranking enter in score order below the known ones and bubble up
    from there. Each swap removes one pair that is out of order by more than the
    margin and creates none, so this terminates; the result has no neighbour pair out
    of order by more than the margin, and re-ordering it changes nothing."""
    known = [stage for stage in previous if stage in scores]
    newcomers = sorted(
        (stage for stage in scores if stage not in set(known)),
        key=lambda stage: (-scores[stage], stage),
    )
    order = known + newcomers
    swapped = True
    while swapped:
        swapped = False
        for i in range(len(order) - 1):
            upper, lower = order[i], order[i + 1]
            if scores[lower] > scores[upper] + margin:
                order[i], order[i + 1] = lower, upper
                swapped = True
    return order


class BestStageRanker:
    """Keeps the previous order between calls (the hysteresis); thread-safe.

    One per dashboard process: a restarted dashboard starts from the plain score
    order, which is steady from then on."""

    def __init__(self, policy: RankingPolicy | None = None) -> None:
        self.policy = policy or RankingPolicy()
        self._previous: list[str] = []
        self._lock = threading.Lock()

    def rank(self, timelines: Mapping[str, Sequence[MoodBucket]], *, now: datetime) -> Ranking:
        scores = {
            stage: score_stage(stage, buckets, now=now, policy=self.policy)
            for stage, buckets in timelines.items()
        }
        eligible = {stage: s.score for stage, s in scores.items() if s.ranked}
        with self._lock:
            order = order_with_hysteresis(eligible, self._previous, margin=self.policy.margin)
            # Remember stages that went quiet, below the ranked ones: one that comes
            # back must overtake by the margin like everyone else.
            self._previous = order + [s for s in self._previous if s not in set(order)]
        warming = sorted(
            (s for s in scores.values() if not s.ranked), key=lambda s: (-s.faces, s.stage)
        )
        return Ranking(tuple(scores[stage] for stage in order), tuple(warming))


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")
