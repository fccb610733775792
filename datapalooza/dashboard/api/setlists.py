"""``/api/stages/{stage}/setlist`` and ``/setlist-report``: the artists' view."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from datapalooza.dashboard.api.dependencies import (
    DefaultTimeContext,
    Now,
    Results,
    Setlists,
    StageName,
    Stages,
    stored_setlists,
)
from datapalooza.dashboard.api.errors import ApiError
from datapalooza.dashboard.schemas import (
    ErrorBody,
    SetlistIn,
    SetlistOut,
    SetlistReportResponse,
    TrackOut,
)
from datapalooza.dashboard.setlist_report import build_report
from datapalooza.dashboard.setlists import TimeContext, build_setlist, parse_lines, zone_named
from datapalooza.domain.setlists import Setlist, SetlistError, SetlistStoreFull
from datapalooza.ports import SetlistStore

router = APIRouter()


@router.get("/stages/{stage}/setlist", response_model=SetlistOut, summary="A stage's setlist")
def get_setlist(stage: StageName, known: Stages, setlists: Setlists) -> SetlistOut:
    known.checked(stage, must_exist=False)
    return _setlist_out(_stored(setlists, stage))


async def put_setlist(
    stage: StageName,
    body: SetlistIn,
    known: Stages,
    setlists: Setlists,
    default: DefaultTimeContext,
) -> SetlistOut:
    """Store a stage's setlist (replacing any). Send ``tracks`` as a list of
    ``{title, start}``, or ``text`` with one ``HH:MM Title`` (or ``H:MM PM Title``) per
    line and a last ``HH:MM end`` line; clock times are on ``date`` in ``timezone``."""
    known.checked(stage, must_exist=False)
    setlist = _parse_body(stage, body, default)
    try:
        await run_in_threadpool(setlists.save, setlist)
    except SetlistStoreFull as exc:
        raise ApiError(409, "setlists_full", str(exc)) from None
    except SetlistError as exc:
        raise ApiError(500, "setlists_unreadable", str(exc)) from None
    return _setlist_out(setlist)


for method in ("PUT", "POST"):
    router.add_api_route(
        "/stages/{stage}/setlist",
        put_setlist,
        methods=[method],
        response_model=SetlistOut,
        summary="Store a stage's setlist",
        operation_id=f"{method.lower()}_setlist",
        # The body limit (bootstrap.MAX_BODY_BYTES) answers before the body is parsed.
        responses={
            409: {"model": ErrorBody, "description": "setlists are stored for 32 stages at most"},
            413: {"model": ErrorBody, "description": "the body is over 64 KB"},
        },
    )


@router.delete("/stages/{stage}/setlist", status_code=204, summary="Remove a setlist")
def delete_setlist(stage: StageName, known: Stages, setlists: Setlists) -> Response:
    known.checked(stage, must_exist=False)
    try:
        removed = setlists.delete(stage)
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
def setlist_report(
    stage: StageName, known: Stages, results: Results, setlists: Setlists, now: Now
) -> SetlistReportResponse:
    """Per track of the stage's setlist: faces, emotion mix, mean mood, dominant
    expression, and its mood against the set's mean (above / average / below)."""
    known.checked(stage, must_exist=False)
    return build_report(results, _stored(setlists, stage), now=now)


def _stored(setlists: SetlistStore, stage: str) -> Setlist:
    setlist = stored_setlists(setlists).get(stage)
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
