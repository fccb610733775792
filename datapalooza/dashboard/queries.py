"""What the dashboard asks the results table, shaped into API answers.

Everything here reads through the ``ResultsReader`` port, takes ``now`` explicitly,
and never writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from datapalooza.dashboard.best_stage import MoodBucket
from datapalooza.dashboard.schemas import MoodSnapshot, TimelinePoint
from datapalooza.domain.emotions import Emotion
from datapalooza.domain.moods import EmotionMix, TimelineBucket
from datapalooza.ports import ResultsReader

NICE_BUCKETS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
MAX_POINTS = 120


def mix_percent(mean_scores: Mapping[Emotion, float]) -> dict[Emotion, float]:
    """Mean confidences normalised to percentages (a stacked chart sums to 100)."""
    total = sum(mean_scores.values())
    if total <= 0:
        return {}
    return {emotion: round(100.0 * value / total, 2) for emotion, value in mean_scores.items()}


def snapshot(mix: EmotionMix) -> MoodSnapshot:
    return MoodSnapshot(
        faces=mix.faces,
        mood=None if mix.mood is None else round(mix.mood, 2),
        dominant=mix.dominant,
        mix=mix_percent(mix.mean_scores),
    )


def nice_bucket(span: timedelta, *, max_points: int = MAX_POINTS) -> timedelta:
    """The smallest round bucket that splits ``span`` into at most ``max_points``."""
    seconds = span.total_seconds()
    for step in NICE_BUCKETS_S:
        if seconds / step <= max_points:
            return timedelta(seconds=step)
    return timedelta(seconds=math.ceil(seconds / max_points))


def floor_time(moment: datetime, step: timedelta) -> datetime:
    """``moment`` rounded down to a multiple of ``step`` since the epoch (UTC)."""
    width = int(step.total_seconds() * 1000)
    ms = int(moment.timestamp() * 1000)
    return datetime.fromtimestamp((ms - ms % width) / 1000, tz=UTC)


def timeline_points(
    buckets: Sequence[TimelineBucket], *, bucket: timedelta, now: datetime
) -> list[TimelinePoint]:
    """Buckets as chart points. The bucket still filling up gets its rate from the
    seconds elapsed so far (at least 10, so its first second does not spike)."""
    width_s = bucket.total_seconds()
    points = []
    for b in buckets:
        elapsed = (now - b.start).total_seconds()
        complete = elapsed >= width_s
        seconds = width_s if complete else max(min(width_s, 10.0), elapsed)
        points.append(
            TimelinePoint(
                start=b.start,
                faces=b.faces,
                faces_per_minute=round(b.faces * 60.0 / seconds, 2) if elapsed > 0 else 0.0,
                mood=None if b.mood is None else round(b.mood, 2),
                mix=mix_percent(b.mean_scores),
                complete=complete,
            )
        )
    return points


def recent_window(minutes: int, *, now: datetime) -> tuple[timedelta, datetime, datetime]:
    """The round bucket for the last ``minutes``, and the window's start and end (the
    end closes the bucket now is in)."""
    bucket = nice_bucket(timedelta(minutes=minutes))
    end = floor_time(now, bucket) + bucket
    count = math.ceil(minutes * 60 / bucket.total_seconds())
    return bucket, end - count * bucket, end


def recent_timeline(
    results: ResultsReader, stage: str, *, minutes: int, now: datetime
) -> tuple[timedelta, list[TimelinePoint]]:
    """The last ``minutes`` of a stage in round buckets, the current one last."""
    bucket, start, end = recent_window(minutes, now=now)
    buckets = results.timeline(stage, start, end, bucket=bucket)
    return bucket, timeline_points(buckets, bucket=bucket, now=now)


def recent_timelines(
    results: ResultsReader, stages: Sequence[str], *, minutes: int, now: datetime
) -> tuple[timedelta, dict[str, list[TimelinePoint]]]:
    """``recent_timeline`` for each of ``stages``, all read at once."""
    bucket, start, end = recent_window(minutes, now=now)
    timelines = results.timelines(start, end, bucket=bucket)
    return bucket, {
        stage: timeline_points(timelines.get(stage, []), bucket=bucket, now=now) for stage in stages
    }


def mood_buckets(
    results: ResultsReader,
    stages: Sequence[str],
    *,
    horizon: timedelta,
    bucket: timedelta,
    now: datetime,
) -> dict[str, list[MoodBucket]]:
    """Each stage's recent faces per bucket: the best-stage ranking's input (all
    stages read at once)."""
    end = floor_time(now, bucket) + bucket
    start = end - horizon - bucket
    timelines = results.timelines(start, end, bucket=bucket)
    return {
        stage: [MoodBucket(b.start, b.faces, b.mood) for b in timelines.get(stage, []) if b.faces]
        for stage in stages
    }
