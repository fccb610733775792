"""Artists' setlists: one stage's set as tracks with absolute start and end times.

Parsing (YAML, JSON, pasted lines; times of day in a time zone) lives in
datapalooza.dashboard.setlists; storing them behind the ``SetlistStore`` port
(datapalooza.ports). A stored setlist is absolute: every time is an aware datetime,
so a report reads the same whichever time zone the reader is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from datapalooza.domain.keys import validate_slug


class SetlistError(ValueError):
    """A setlist that cannot be used; the message says where and why."""


class SetlistStoreFull(SetlistError):
    """Storing a setlist would pass the store's limits (its stages, or its size)."""


@dataclass(frozen=True, slots=True)
class Track:
    """One track of a set: it plays over [start, end)."""

    title: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Setlist:
    """One stage's set: its tracks in order, contiguous, with absolute times.

    ``end_assumed`` is True when the source gave no end and the last track's length
    was estimated (see datapalooza.dashboard.setlists).
    """

    stage: str
    tracks: tuple[Track, ...]
    artist: str = ""
    end_assumed: bool = False

    @property
    def start(self) -> datetime:
        return self.tracks[0].start

    @property
    def end(self) -> datetime:
        return self.tracks[-1].end

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "artist": self.artist,
            "end_assumed": self.end_assumed,
            "end": self.end.isoformat(),
            "tracks": [
                {"title": t.title, "start": t.start.isoformat(), "end": t.end.isoformat()}
                for t in self.tracks
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Setlist:
        """Read a stored (absolute) setlist back; raise SetlistError if it is malformed."""
        try:
            stage = validate_slug(str(data["stage"]))
            tracks = tuple(
                Track(str(t["title"]), _aware(str(t["start"])), _aware(str(t["end"])))
                for t in data["tracks"]
            )
            artist = str(data.get("artist", ""))
            end_assumed = bool(data.get("end_assumed", False))
        except (KeyError, TypeError, ValueError) as exc:
            raise SetlistError(f"malformed stored setlist: {exc}") from exc
        if not tracks:
            raise SetlistError("malformed stored setlist: no tracks")
        return cls(stage, tracks, artist, end_assumed)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment
