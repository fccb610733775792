"""The FrameSource port: where device programs get camera frames.

A source hands out one frame at a time and never queues without limit: live sources
(webcams, streams) keep only the newest frame, so a slow consumer skips frames instead
of falling behind or growing memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

from datapalooza.ports import RGBImage

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def frame_id_for(index: int) -> str:
    """A frame id that is a valid slug for crop keys (``f000123``)."""
    return f"f{index:06d}"


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame: an RGB image, a slug id and when it was captured (UTC)."""

    image: RGBImage
    frame_id: str
    captured_at: datetime
    index: int

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


class SourceError(RuntimeError):
    """Base class for frame source failures."""


class SourceUnavailable(SourceError):
    """No frame right now (camera unplugged, stream down, no frame within the timeout).

    Transient: the caller counts it, waits, and reads again; live sources reconnect in
    the background."""


class SourceExhausted(SourceError):
    """The source has no more frames (end of a video file or of a folder)."""


class InvalidSourceSpec(ValueError):
    """A source spec that cannot be parsed or names something that does not exist."""


class FrameSource(Protocol):
    """Frames from a camera, a file, a stream, a folder, or the synthetic festival."""

    name: str

    def read(self) -> Frame:
        """Return the next (for live sources: the newest unseen) frame.

        Raises SourceUnavailable when no frame can be had right now and
        SourceExhausted when a finite source has ended."""
        ...

    def close(self) -> None: ...


class SourceBase(ABC):
    """Shared context-manager plumbing for sources."""

    name: str = "source"

    @abstractmethod
    def read(self) -> Frame: ...

    def close(self) -> None:
        return None

    def __enter__(self) -> SourceBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
