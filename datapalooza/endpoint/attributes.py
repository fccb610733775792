"""The X-Amzn-SageMaker-Custom-Attributes header: ``stage=main,camera=cam-1,frame=f12``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from datapalooza.domain.keys import validate_slug

MAX_HEADER_CHARS = 1024  # SageMaker's own limit for custom attributes
DEFAULT_STAGE = "main"
DEFAULT_CAMERA = "camera-1"


class BadAttributes(ValueError):
    """A custom attributes header we cannot accept."""


@dataclass(frozen=True, slots=True)
class FrameAttributes:
    """Who sent a frame, and when it was captured."""

    stage: str
    camera: str
    frame_id: str
    captured_at: datetime

    def to_header(self) -> str:
        ms = int(self.captured_at.timestamp() * 1000)
        return f"stage={self.stage},camera={self.camera},frame={self.frame_id},ts={ms}"


def parse_attributes(header: str | None, *, now: datetime | None = None) -> FrameAttributes:
    """Parse the header; missing fields get defaults, bad ones a BadAttributes."""
    fields: dict[str, str] = {}
    if header:
        if len(header) > MAX_HEADER_CHARS:
            raise BadAttributes(f"custom attributes exceed {MAX_HEADER_CHARS} characters")
        for part in header.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise BadAttributes(f"custom attribute {part!r} is not name=value")
            fields[name.strip().lower()] = value.strip()
    try:
        stage = validate_slug(fields.get("stage", DEFAULT_STAGE), what="stage")
        camera = validate_slug(fields.get("camera", DEFAULT_CAMERA), what="camera")
        frame_id = validate_slug(
            fields.get("frame") or f"f{secrets.token_hex(6)}", what="frame id"
        )
    except ValueError as exc:
        raise BadAttributes(str(exc)) from exc
    captured_at = now or datetime.now(UTC)
    if "ts" in fields:
        try:
            captured_at = datetime.fromtimestamp(int(fields["ts"]) / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise BadAttributes(f"ts={fields['ts']!r} is not epoch milliseconds") from exc
    return FrameAttributes(stage, camera, frame_id, captured_at)
