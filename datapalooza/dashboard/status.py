"""The running pipeline's live counters (``status.json``, written by ``datapalooza up``).

The dashboard shows them when they are there and never needs them: it also serves a
finished festival's data, or a data dir filled by something else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from datapalooza.dashboard.schemas import PipelineStatus

STALE_AFTER = timedelta(seconds=15)
"""``up`` rewrites the file every second; older than this, the pipeline has stopped."""


def read_status(path: Path, *, now: datetime) -> PipelineStatus:
    """The status file as a PipelineStatus; ``running`` False (with a note) when the
    file is missing, unreadable or stale."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PipelineStatus(
            running=False, note="no pipeline status: datapalooza up is not running"
        )
    except (OSError, ValueError) as exc:
        return PipelineStatus(running=False, note=f"status file unreadable: {exc}")
    if not isinstance(data, dict):
        return PipelineStatus(running=False, note="status file is not a JSON object")
    try:
        status = PipelineStatus.model_validate({**data, "running": True})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return PipelineStatus(running=False, note=f"status file has a bad field {where}")
    updated = status.updated_at
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)  # up writes UTC; tolerate a missing offset
    if updated is None or now - updated > STALE_AFTER:
        return status.model_copy(
            update={"running": False, "note": "the pipeline stopped (status not updated)"}
        )
    return status
