"""``/api/stages``: every stage now, one stage over time, and every stage over time."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from datapalooza.dashboard import queries
from datapalooza.dashboard.api.dependencies import (
    Now,
    Results,
    Setlists,
    Settings,
    StageName,
    Stages,
    Status,
    stored_setlists,
)
from datapalooza.dashboard.schemas import (
    StagesResponse,
    StageSummary,
    TimelineResponse,
    TimelinesResponse,
)
from datapalooza.domain.moods import EmotionMix

MAX_TIMELINE_MINUTES = 24 * 60
Minutes = Annotated[int, Query(ge=1, le=MAX_TIMELINE_MINUTES, description="how far back, 1-1440")]

router = APIRouter()


@router.get("/stages", response_model=StagesResponse, summary="Every stage, now")
def stages(
    known: Stages,
    results: Results,
    setlists: Setlists,
    settings: Settings,
    status: Status,
    now: Now,
) -> StagesResponse:
    """Each stage's mood over the current window, faces in the last minute, its
    dominant expression, when it last saw a face, and live counters if running."""
    window = timedelta(seconds=settings.window_seconds)
    last_seen = results.last_seen()
    with_setlist = set(stored_setlists(setlists))
    # All stages at once: a fixed number of queries however many stages there are.
    current = results.emotion_mixes(now - window, now)
    last_minute = (
        current
        if window == timedelta(minutes=1)
        else results.emotion_mixes(now - timedelta(minutes=1), now)
    )
    nobody = EmotionMix(0, None)
    summaries = []
    for stage in known.names():
        summaries.append(
            StageSummary(
                stage=stage,
                current=queries.snapshot(current.get(stage, nobody)),
                faces_last_minute=last_minute.get(stage, nobody).faces,
                last_seen=last_seen.get(stage),
                has_setlist=stage in with_setlist,
                counters=status.stages.get(stage) if status.running else None,
            )
        )
    return StagesResponse(
        generated_at=now, window_seconds=settings.window_seconds, stages=summaries
    )


@router.get(
    "/stages/{stage}/timeline", response_model=TimelineResponse, summary="A stage over time"
)
def timeline(
    stage: StageName,
    known: Stages,
    results: Results,
    now: Now,
    minutes: Minutes = 30,
) -> TimelineResponse:
    """The emotion mix (percent per expression), mood and faces per minute of the
    last ``minutes``, in round buckets (at most 120 points)."""
    known.checked(stage)
    bucket, points = queries.recent_timeline(results, stage, minutes=minutes, now=now)
    return TimelineResponse(
        stage=stage,
        minutes=minutes,
        bucket_seconds=int(bucket.total_seconds()),
        points=points,
    )


@router.get("/timelines", response_model=TimelinesResponse, summary="Every stage over time")
def timelines(
    known: Stages, results: Results, now: Now, minutes: Minutes = 30
) -> TimelinesResponse:
    """Each stage's timeline (as ``/stages/{stage}/timeline``) in one answer, read with
    one query however many stages there are: what the page polls."""
    bucket, points = queries.recent_timelines(results, known.names(), minutes=minutes, now=now)
    seconds = int(bucket.total_seconds())
    return TimelinesResponse(
        minutes=minutes,
        bucket_seconds=seconds,
        timelines=[
            TimelineResponse(
                stage=stage, minutes=minutes, bucket_seconds=seconds, points=stage_points
            )
            for stage, stage_points in points.items()
        ],
    )
