"""Frame sources (the FrameSource port and its implementations) and the spec parser."""

from datapalooza.sources.base import (
    Frame,
    FrameSource,
    InvalidSourceSpec,
    SourceError,
    SourceExhausted,
    SourceUnavailable,
)
from datapalooza.sources.spec import open_source

__all__ = [
    "Frame",
    "FrameSource",
    "InvalidSourceSpec",
    "SourceError",
    "SourceExhausted",
    "SourceUnavailable",
    "open_source",
]
