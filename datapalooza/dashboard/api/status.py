"""``/api/status``: the live counters of ``datapalooza up``."""

from __future__ import annotations

from fastapi import APIRouter

from datapalooza.dashboard.api.dependencies import Status
from datapalooza.dashboard.schemas import PipelineStatus

router = APIRouter()


@router.get("/status", response_model=PipelineStatus, summary="Live pipeline counters")
def status(current: Status) -> PipelineStatus:
    """The counters ``datapalooza up`` writes every second; ``running`` is false
    when it is not running (the dashboard works without it)."""
    return current
