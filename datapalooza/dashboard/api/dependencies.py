"""What the routes are given (FastAPI dependencies), all read from the one
``DashboardState`` the composition root puts on ``app.state.dashboard``.

Dependencies that only pick a value from the state are ``async def``: FastAPI runs a
plain ``def`` dependency in its thread pool, a hand-off per dependency per request
that cost every API call about a millisecond of CPU (bench/festival.py, dashboard
line). Those that read files (the pipeline's status) stay ``def``, off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam

from datapalooza.dashboard.api.errors import ApiError
from datapalooza.dashboard.best_stage import BestStageRanker
from datapalooza.dashboard.schemas import PipelineStatus
from datapalooza.dashboard.setlists import TimeContext
from datapalooza.dashboard.settings import DashboardSettings
from datapalooza.dashboard.status import read_status
from datapalooza.domain.keys import SLUG_PATTERN, InvalidName, validate_slug
from datapalooza.domain.setlists import Setlist, SetlistError
from datapalooza.ports import ResultsReader, SetlistStore


@dataclass(frozen=True, slots=True)
class DashboardState:
    """What the routes read: built once by the composition root (app.create_app)."""

    settings: DashboardSettings
    results: ResultsReader
    setlists: SetlistStore
    status_path: Path
    ranker: BestStageRanker
    clock: Callable[[], datetime]
    time_context: Callable[[], TimeContext]


async def dashboard_state(request: Request) -> DashboardState:
    state: DashboardState = request.app.state.dashboard
    return state


State = Annotated[DashboardState, Depends(dashboard_state)]


async def settings(state: State) -> DashboardSettings:
    return state.settings


async def results_reader(state: State) -> ResultsReader:
    return state.results


async def setlist_store(state: State) -> SetlistStore:
    return state.setlists


async def ranker(state: State) -> BestStageRanker:
    return state.ranker


async def now(state: State) -> datetime:
    """The request's time, read once so every part of an answer agrees."""
    return state.clock()


async def time_context(state: State) -> TimeContext:
    """What HH:MM times in a request mean unless it says: today, this machine's zone."""
    return state.time_context()


Settings = Annotated[DashboardSettings, Depends(settings)]
Results = Annotated[ResultsReader, Depends(results_reader)]
Setlists = Annotated[SetlistStore, Depends(setlist_store)]
Ranker = Annotated[BestStageRanker, Depends(ranker)]
Now = Annotated[datetime, Depends(now)]
DefaultTimeContext = Annotated[TimeContext, Depends(time_context)]


def pipeline_status(state: State, moment: Now) -> PipelineStatus:
    """The live counters of ``datapalooza up``, or why there are none."""
    return read_status(state.status_path, now=moment)


Status = Annotated[PipelineStatus, Depends(pipeline_status)]


def stored_setlists(store: SetlistStore) -> dict[str, Setlist]:
    """Every stored setlist; an unreadable store is a 500, never "no setlists"."""
    try:
        return store.all()
    except SetlistError as exc:
        raise ApiError(500, "setlists_unreadable", str(exc)) from None


class KnownStages:
    """The stages someone has named: a camera (a scored face or live counters) or a
    stored setlist. Asked only when a route needs it."""

    def __init__(
        self, *, results: ResultsReader, setlists: SetlistStore, status_path: Path, now: datetime
    ) -> None:
        self._results = results
        self._setlists = setlists
        self._status_path = status_path
        self._now = now

    def names(self) -> list[str]:
        found = set(self._results.stages())
        found.update(read_status(self._status_path, now=self._now).stages)
        found.update(stored_setlists(self._setlists).keys())
        return sorted(found)

    def checked(self, stage: str, *, must_exist: bool = True) -> str:
        """``stage`` if it is a valid slug (else 400) and, when ``must_exist``, known
        (else 404)."""
        try:
            validate_slug(stage)
        except InvalidName as exc:
            raise ApiError(400, "invalid_stage", str(exc)) from None
        if must_exist and stage not in self.names():
            raise ApiError(
                404, "unknown_stage", f"no stage {stage!r}: no camera or setlist has named it"
            )
        return stage


async def known_stages(state: State, moment: Now) -> KnownStages:
    return KnownStages(
        results=state.results, setlists=state.setlists, status_path=state.status_path, now=moment
    )


Stages = Annotated[KnownStages, Depends(known_stages)]

StageName = Annotated[
    str,
    PathParam(
        description="a stage slug: 1-40 lowercase letters, digits and inner hyphens",
        max_length=40,
        # In the schema, so clients (and schemathesis) know which names are valid.
        pattern=SLUG_PATTERN,
    ),
]
