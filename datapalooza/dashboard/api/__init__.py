"""The dashboard's JSON API (the page uses it; so can anyone on this machine).

    GET    /api/stages                          each stage's current mood and counters
    GET    /api/stages/{stage}/timeline         emotion mix and faces/minute over time
    GET    /api/timelines                       the same for every stage at once
    GET    /api/best-stage                      the fans' steady ranking
    GET    /api/stages/{stage}/setlist          the stage's stored setlist
    PUT    /api/stages/{stage}/setlist          store (replace) it; POST does the same
    DELETE /api/stages/{stage}/setlist          remove it
    GET    /api/stages/{stage}/setlist-report   how each track landed
    GET    /api/status                          live pipeline counters (datapalooza up)

Errors are JSON ``{"error": code, "message": text}``: 400 for a bad stage name or
setlist, 404 for a stage nobody has heard of or a missing setlist, 413 for a body
over the limit, 422 for parameters out of range.

One router per resource; the routes get what they read (results, setlists, the
clock, the ranker) as FastAPI dependencies from the ``DashboardState`` the
composition root (datapalooza.dashboard.bootstrap) puts on ``app.state.dashboard``.
"""

from __future__ import annotations

from fastapi import APIRouter

from datapalooza.dashboard.api import best_stage, setlists, stages, status
from datapalooza.dashboard.api.dependencies import DashboardState
from datapalooza.dashboard.api.errors import ERRORS, ApiError

__all__ = ["ApiError", "DashboardState", "api_router"]


def api_router() -> APIRouter:
    """Every resource's routes under ``/api``, in the order the spec lists them."""
    router = APIRouter(prefix="/api", responses=ERRORS)
    for resource in (stages, best_stage, setlists, status):
        router.include_router(resource.router)
    return router
