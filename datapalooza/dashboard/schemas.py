"""The JSON API's response and request bodies (they make /openapi.json meaningful).

Every body that carries scores also carries ``caveat``: scores describe facial
expressions, not feelings.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion

Mood = Field(
    description="Crowd mood: mean valence of the faces' expressions, -100 (all angry) to "
    "100 (all happy); null without faces.",
)


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer."""

    error: str = Field(description="a stable code, e.g. invalid_stage, unknown_stage")
    message: str = Field(description="what went wrong and what to do, for people")


class Scored(BaseModel):
    caveat: str = Field(default=EXPRESSION_CAVEAT, description="how to read the scores")


class MoodSnapshot(BaseModel):
    """Faces in a time window, summarised."""

    faces: int = Field(ge=0)
    mood: float | None = Mood
    dominant: Emotion | None = Field(
        None, description="the expression with the highest mean confidence"
    )
    mix: dict[Emotion, float] = Field(
        default_factory=dict,
        description="share of each expression in percent (mean confidences normalised to 100)",
    )


class StageCounters(BaseModel):
    """A stage's live pipeline counters from ``datapalooza up`` (status.json)."""

    model_config = ConfigDict(extra="ignore")

    path: str | None = Field(None, description="cloud (endpoint) or edge (on-device detection)")
    source: str | None = None
    frames: int = 0
    faces: int = 0
    crops: int = 0
    scored: int = 0
    errors: int = 0
    fps: float = 0.0


class ScoringCounters(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pending: int = 0
    scored: int = 0
    no_face: int = 0
    failed: int = 0


class PipelineStatus(BaseModel):
    """What the running pipeline reports; ``running`` is false when there is no fresh
    status (the pipeline is stopped, or the dashboard runs on its own)."""

    running: bool
    started_at: datetime | None = None
    updated_at: datetime | None = None
    stages: dict[str, StageCounters] = Field(default_factory=dict)
    tracker: ScoringCounters | None = None
    note: str | None = Field(None, description="why there is no status, if there is none")


class StageSummary(BaseModel):
    stage: str
    current: MoodSnapshot = Field(description="faces captured in the current window")
    faces_last_minute: int = Field(ge=0)
    last_seen: datetime | None = Field(None, description="newest scored face of this stage")
    has_setlist: bool = False
    counters: StageCounters | None = Field(None, description="live counters, when running")


class StagesResponse(Scored):
    generated_at: datetime
    window_seconds: int = Field(description="length of the 'current' window")
    stages: list[StageSummary]


class TimelinePoint(BaseModel):
    start: datetime
    faces: int = Field(ge=0)
    faces_per_minute: float = Field(ge=0)
    mood: float | None = Mood
    mix: dict[Emotion, float] = Field(default_factory=dict, description="percent per expression")
    complete: bool = Field(description="false for the bucket still filling up")


class TimelineResponse(Scored):
    stage: str
    minutes: int
    bucket_seconds: int
    points: list[TimelinePoint]


class TimelinesResponse(Scored):
    minutes: int
    bucket_seconds: int
    timelines: list[TimelineResponse]


class RankedStage(BaseModel):
    rank: int = Field(ge=1)
    stage: str
    score: float = Field(description="smoothed mood shrunk toward neutral; what ranks stages")
    mood: float | None = Mood
    faces: int = Field(ge=0, description="faces in the ranking horizon")


class WarmingStage(BaseModel):
    stage: str
    faces: int
    needed: int = Field(description="faces a stage needs in the horizon to be ranked")


class BestStageResponse(Scored):
    generated_at: datetime
    best: str | None = Field(description="the top stage, or null while none has enough faces")
    ranking: list[RankedStage]
    warming_up: list[WarmingStage]
    method: str = Field(description="how the ranking is kept steady")


class TrackIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    start: str = Field(description="HH:MM[:SS] on 'date', or ISO 8601 with offset")


class SetlistIn(BaseModel):
    """A stage's setlist: either ``tracks`` or ``text`` (one ``HH:MM Title`` per line,
    a last ``HH:MM end`` line closes the set)."""

    model_config = ConfigDict(extra="forbid")

    artist: str = Field("", max_length=200)
    date: str | None = Field(None, description="YYYY-MM-DD for HH:MM times (default today)")
    timezone: str | None = Field(
        None, description="IANA name or +HH:MM for HH:MM times (default: the server's)"
    )
    end: str | None = Field(None, description="when the last track ends")
    tracks: list[TrackIn] | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=20_000)


class TrackOut(BaseModel):
    title: str
    start: datetime
    end: datetime


class SetlistOut(BaseModel):
    stage: str
    artist: str
    end_assumed: bool = Field(description="no end was given: the last track's length is a guess")
    tracks: list[TrackOut]


class TrackResult(BaseModel):
    number: int
    title: str
    start: datetime
    end: datetime
    faces: int
    mood: float | None = Mood
    dominant: Emotion | None
    mix: dict[Emotion, float]
    vs_set: float | None = Field(description="mood minus the set's mean mood, in mood points")
    verdict: str = Field(description="above, average, below, or too_few_faces")
    played: bool = Field(description="false while the track has not started yet")


class SetlistReportResponse(Scored):
    stage: str
    artist: str
    start: datetime
    end: datetime
    end_assumed: bool
    faces: int
    mood: float | None = Mood
    margin: float = Field(description="mood points a track must differ by to leave 'average'")
    min_faces: int
    tracks: list[TrackResult]
    timeline: list[TimelinePoint]
    bucket_seconds: int
