"""The dashboard's JSON API (the page uses it; so can anyone on this machine).

    GET    /api/stages                          each stage's current mood and counters
    GET    /api/stages/{stage}/timeline         emotion mix and faces/minute over time
    GET    /api/best-stage                      the fans' steady ranking
    GET    /api/stages/{stage}/setlist          the stage's stored setlist
    PUT    /api/stages/{stage}/setlist          store (replace) it; POST does the same
    DELETE /api/stages/{stage}/setlist          remove it
    GET    /api/stages/{stage}/setlist-report   how each track landed
    GET    /api/status                          live pipeline counters (datapalooza up)

Errors are JSON ``{"error": code, "message": text}``: 400 for a bad stage name or
setlist, 404 for a stage nobody has heard of or a missing setlist, 413 for a body
over the limit, 422 for parameters out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from datapalooza.dashboard import queries
from datapalooza.dashboard.best_stage import BestStageRanker
from datapalooza.dashboard.schemas import (
    BestStageResponse,
    ErrorBody,
    PipelineStatus,
    RankedStage,
    SetlistIn,
    SetlistOut,
    SetlistReportResponse,
    StagesResponse,
    StageSummary,
    TimelineResponse,
    TrackOut,
    WarmingStage,
)
from datapalooza.dashboard.setlist_report import build_report
from datapalooza.dashboard.setlists import (
    Setlist,
    SetlistError,
    SetlistStore,
    TimeContext,
    build_setlist,
    parse_lines,
    zone_named,
)
from datapalooza.dashboard.settings import DashboardSettings
from datapalooza.dashboard.status import read_status
from datapalooza.domain.keys import SLUG_PATTERN, InvalidName, validate_slug

MAX_TIMELINE_MINUTES = 24 * 60


class ApiError(Exception):
    """An error answer: HTTP status, stable code, message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class DashboardState:
    """What the routes read: built once by the composition root (app.create_app)."""

    settings: DashboardSettings
    results: queries.ResultsReader
    setlists: SetlistStore
    status_path: Path
    ranker: BestStageRanker
    clock: Callable[[], datetime]
    time_context: Callable[[], TimeContext]


StageName = Annotated[
    str,
    PathParam(
        description="a stage slug: 1-40 lowercase letters, digits and inner hyphens",
        max_length=40,
        # In the schema, so clients (and schemathesis) know which names are valid.
        pattern=SLUG_PATTERN,
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad stage name or setlist"},
    404: {"model": ErrorBody, "description": "unknown stage, or no setlist"},
    422: {"model": ErrorBody, "description": "a parameter out of range"},
}


def build_router(state: DashboardState) -> APIRouter:
    router = APIRouter(prefix="/api", responses=ERRORS)

    def known_stages() -> list[str]:
        names = set(state.results.stages())
        names.update(read_status(state.status_path, now=state.clock()).stages)
        names.update(_setlists(state).keys())
        return sorted(names)

    def checked(stage: str, *, must_exist: bool = True) -> str:
        try:
            validate_slug(stage)
        except InvalidName as exc:
            raise ApiError(400, "invalid_stage", str(exc)) from None
        if must_exist and stage not in known_stages():
            raise ApiError(
                404, "unknown_stage", f"no stage {stage!r}: no camera or setlist has named it"
            )
        return stage

    @router.get("/stages", response_model=StagesResponse, summary="Every stage, now")
    def stages() -> StagesResponse:
        """Each stage's mood over the current window, faces in the last minute, its
        dominant expression, when it last saw a face, and live counters if running."""
        now = state.clock()
        status = read_status(state.status_path, now=now)
        window = timedelta(seconds=state.settings.window_seconds)
        latest = state.results.latest_moods(window=window)
        with_setlist = set(_setlists(state))
        summaries = []
        for stage in known_stages():
            current = state.results.emotion_mix(stage, now - window, now)
            last_minute = (
                current.faces
                if window == timedelta(minutes=1)
                else state.results.emotion_mix(stage, now - timedelta(minutes=1), now).faces
            )
            summaries.append(
                StageSummary(
                    stage=stage,
                    current=queries.snapshot(current),
                    faces_last_minute=last_minute,
                    last_seen=latest[stage].last_seen if stage in latest else None,
                    has_setlist=stage in with_setlist,
                    counters=status.stages.get(stage) if status.running else None,
                )
            )
        return StagesResponse(
            generated_at=now, window_seconds=state.settings.window_seconds, stages=summaries
        )

    @router.get(
        "/stages/{stage}/timeline", response_model=TimelineResponse, summary="A stage over time"
    )
    def timeline(
        stage: StageName,
        minutes: Annotated[
            int, Query(ge=1, le=MAX_TIMELINE_MINUTES, description="how far back, 1-1440")
        ] = 30,
    ) -> TimelineResponse:
        """The emotion mix (percent per expression), mood and faces per minute of the
        last ``minutes``, in round buckets (at most 120 points)."""
        checked(stage)
        bucket, points = queries.recent_timeline(
            state.results, stage, minutes=minutes, now=state.clock()
        )
        return TimelineResponse(
            stage=stage,
            minutes=minutes,
            bucket_seconds=int(bucket.total_seconds()),
            points=points,
        )

    @router.get("/best-stage", response_model=BestStageResponse, summary="Fans' ranking")
    def best_stage() -> BestStageResponse:
        """Stages ranked by a steady crowd mood (smoothed, shrunk toward neutral, with
        hysteresis: see ``method``); stages with too few faces are warming up."""
        now = state.clock()
        policy = state.ranker.policy
        timelines = queries.mood_buckets(
            state.results,
            known_stages(),
            horizon=policy.horizon,
            bucket=policy.bucket,
            now=now,
        )
        ranking = state.ranker.rank(timelines, now=now)
        return BestStageResponse(
            generated_at=now,
            best=ranking.best.stage if ranking.best else None,
            ranking=[
                RankedStage(
                    rank=i,
                    stage=s.stage,
                    score=round(s.score, 2),
                    mood=None if s.mood is None else round(s.mood, 2),
                    faces=s.faces,
                )
                for i, s in enumerate(ranking.ranked, start=1)
            ],
            warming_up=[
                WarmingStage(stage=s.stage, faces=s.faces, needed=policy.min_faces)
                for s in ranking.warming_up
            ],
            method=policy.describe(),
        )

    @router.get("/stages/{stage}/setlist", response_model=SetlistOut, summary="A stage's setlist")
    def get_setlist(stage: StageName) -> SetlistOut:
        checked(stage, must_exist=False)
        return _setlist_out(_stored(state, stage))

    async def put_setlist(stage: StageName, body: SetlistIn) -> SetlistOut:
        """Store a stage's setlist (replacing any). Send ``tracks`` as a list of
        ``{title, start}``, or ``text`` with one ``HH:MM Title`` per line and a last
        ``HH:MM end`` line; HH:MM times are on ``date`` in ``timezone``."""
        checked(stage, must_exist=False)
        setlist = _parse_body(stage, body, state.time_context())
        await run_in_threadpool(state.setlists.save, setlist)
        return _setlist_out(setlist)

    for method in ("PUT", "POST"):
        router.add_api_route(
            "/stages/{stage}/setlist",
            put_setlist,
            methods=[method],
            response_model=SetlistOut,
            summary="Store a stage's setlist",
            operation_id=f"{method.lower()}_setlist",
            # The body limit (app.MAX_BODY_BYTES) answers before the body is parsed.
            responses={413: {"model": ErrorBody, "description": "the body is over 64 KB"}},
        )

    @router.delete("/stages/{stage}/setlist", status_code=204, summary="Remove a setlist")
    def delete_setlist(stage: StageName) -> Response:
        checked(stage, must_exist=False)
        try:
            removed = state.setlists.delete(stage)
        except SetlistError as exc:
            raise ApiError(500, "setlists_unreadable", str(exc)) from None
        if not removed:
            raise ApiError(404, "no_setlist", f"stage {stage!r} has no setlist")
        return Response(status_code=204)

    @router.get(
        "/stages/{stage}/setlist-report",
        response_model=SetlistReportResponse,
        summary="How each track landed",
    )
    def setlist_report(stage: StageName) -> SetlistReportResponse:
        """Per track of the stage's setlist: faces, emotion mix, mean mood, dominant
        expression, and its mood against the set's mean (above / average / below)."""
        checked(stage, must_exist=False)
        return build_report(state.results, _stored(state, stage), now=state.clock())

    @router.get("/status", response_model=PipelineStatus, summary="Live pipeline counters")
    def status() -> PipelineStatus:
        """The counters ``datapalooza up`` writes every second; ``running`` is false
        when it is not running (the dashboard works without it)."""
        return read_status(state.status_path, now=state.clock())

    return router


def _setlists(state: DashboardState) -> dict[str, Setlist]:
    try:
        return state.setlists.all()
    except SetlistError as exc:
        raise ApiError(500, "setlists_unreadable", str(exc)) from None


def _stored(state: DashboardState, stage: str) -> Setlist:
    setlist = _setlists(state).get(stage)
    if setlist is None:
        raise ApiError(
            404,
            "no_setlist",
            f"stage {stage!r} has no setlist: PUT one to /api/stages/{stage}/setlist",
        )
    return setlist


def _parse_body(stage: str, body: SetlistIn, default: TimeContext) -> Setlist:
    try:
        context = TimeContext(
            date.fromisoformat(body.date) if body.date else default.day,
            zone_named(body.timezone) if body.timezone else default.zone,
        )
    except ValueError as exc:
        raise ApiError(400, "invalid_setlist", f"date/timezone: {exc}") from None
    try:
        if body.text is not None and body.tracks is not None:
            raise SetlistError("send either 'tracks' or 'text', not both")
        if body.text is not None:
            if body.end is not None:
                raise SetlistError("with 'text', end the set with a last 'HH:MM end' line")
            return parse_lines(stage, body.text, context=context, artist=body.artist)
        if not body.tracks:
            raise SetlistError("a setlist needs 'tracks' (or 'text') with at least one track")
        entries = [(t.title, t.start) for t in body.tracks]
        return build_setlist(stage, entries, context=context, artist=body.artist, end=body.end)
    except SetlistError as exc:
        raise ApiError(400, "invalid_setlist", str(exc)) from None


def _setlist_out(setlist: Setlist) -> SetlistOut:
    return SetlistOut(
        stage=setlist.stage,
        artist=setlist.artist,
        end_assumed=setlist.end_assumed,
        tracks=[TrackOut(title=t.title, start=t.start, end=t.end) for t in setlist.tracks],
    )
