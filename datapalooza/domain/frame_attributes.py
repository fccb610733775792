"""The X-Amzn-SageMaker-Custom-Attributes header: ``stage=main,camera=cam-1,frame=f12``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from datapalooza.domain.keys import (
    MAX_STAGES,
    TimeOutOfRange,
    check_capture_time,
    epoch_ms,
    time_from_epoch_ms,
    validate_slug,
)

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
        ms = epoch_ms(self.captured_at)
        return f"stage={self.stage},camera={self.camera},frame={self.frame_id},ts={ms}"


def parse_attributes(header: str | None, *, now: datetime | None = None) -> FrameAttributes:
    """Parse the header; missing fields get defaults, bad ones a BadAttributes.

    ``ts`` must lie in the capture window around ``now`` (domain/keys.py): a frame from
    the far future or before the epoch is refused here, before anything is stored."""
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
        frame_id = validate_slug(fields.get("frame") or f"f{secrets.token_hex(6)}", what="frame id")
    except ValueError as exc:
        raise BadAttributes(str(exc)) from exc
    now = now or datetime.now(UTC)
    captured_at = now
    if "ts" in fields:
        try:
            captured_at = check_capture_time(time_from_epoch_ms(fields["ts"]), now=now)
        except TimeOutOfRange as exc:
            raise BadAttributes(f"ts: {exc}") from exc
    return FrameAttributes(stage, camera, frame_id, captured_at)


def parse_stages(text: str) -> frozenset[str]:
    """The allowed stages from ``DATAPALOOZA_STAGES`` (comma-separated slugs); an
    empty text allows any stage name, as the local tools do. Each stage name becomes a
    crop prefix, results and about a dozen CloudWatch metrics (each billed per month),
    so an endpoint given its festival's stages takes frames of those only: a caller
    allowed to invoke it (a camera's role) cannot invent others."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) > MAX_STAGES:
        raise ValueError(f"{len(names)} stages; an endpoint serves at most {MAX_STAGES}")
    return frozenset(validate_slug(name, what="stage") for name in names)


def check_stage(attributes: FrameAttributes, allowed: frozenset[str]) -> None:
    """BadAttributes unless the frame's stage is one of ``allowed`` (or any is)."""
    if allowed and attributes.stage not in allowed:
        raise BadAttributes(
            f"stage {attributes.stage!r} is not one of this endpoint's stages "
            f"({', '.join(sorted(allowed))})"
        )
