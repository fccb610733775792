"""Reading artists' setlists: parsing (YAML, JSON or pasted lines), validation, and
the time zones HH:MM times are on. The model is datapalooza.domain.setlists; where
setlists are kept is the ``SetlistStore`` port.

A setlist file names the tracks each stage plays and when they start::

    date: 2025-07-19            # the day HH:MM times refer to (default: today)
    timezone: Europe/Berlin     # IANA name for HH:MM times (default: this machine's)
    stages:
      main:
        artist: The Hypotheticals
        end: "22:40"            # when the last track ends (optional)
        tracks:
          - {title: Opening Jam, start: "21:00"}
          - {title: Second Song, start: "21:06"}

A start is ``HH:MM[:SS]`` (on ``date`` in ``timezone``) or a full ISO 8601 time with
an offset. A track ends where the next one starts; the last one at ``end``, or, if
no end is given, after the median length of the set's other tracks (4 minutes for a
one-track set) -- the report says the end was assumed. A set that crosses midnight
is fine: an HH:MM earlier than the track before it is on the next day.

Pasted text (the dashboard's form) is one track per line, ``21:06 Second Song``; a
last line whose title is ``end`` closes the set.

A parsed setlist is absolute: every time is resolved to an aware datetime, so a
report reads the same whichever time zone the reader is in.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from datapalooza.domain.keys import InvalidName, validate_slug
from datapalooza.domain.setlists import Setlist, SetlistError, Track
from datapalooza.user_documents import DocumentError, read_document

MAX_TRACKS = 200
MAX_TITLE_CHARS = 200
MAX_ARTIST_CHARS = 200
MAX_SET_LENGTH = timedelta(hours=24)
MAX_FILE_BYTES = 256 * 1024
DEFAULT_SINGLE_TRACK = timedelta(minutes=4)

# A time of day on the 24-hour clock, or on the 12-hour clock with AM or PM ("9:05 PM",
# "9:05pm", "9:05 p.m."), as a browser in a 12-hour locale shows and artists type.
_MERIDIEM = r"[AaPp]\.?[Mm]\.?"
_CLOCK_TEXT = rf"\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*{_MERIDIEM}(?=\s|$))?"
_CLOCK = re.compile(
    rf"^(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?(?:\s*(?P<meridiem>{_MERIDIEM}))?$"
)
# A title may follow its time after a dash or bar: "21:05 - Title", "21:05 \u2013 Title".
# AM or PM right after a time is the time's: "9:05 AM Radio" is Radio at 9:05 AM; a
# title that starts with AM or PM takes a dash ("09:05 - AM Radio"). The title runs from
# its first to its last non-space character without a lazy ".+?\s*$", which took 0.5 s
# of the dashboard's event loop on one 20,000-character line with spaces inside it.
_LINE = re.compile(
    rf"^\s*(?P<start>{_CLOCK_TEXT}|\d{{4}}-\d{{2}}-\d{{2}}T\S+)"
    r"\s+(?:[-\u2013\u2014|]\s*)?(?P<title>\S(?:.*\S)?)\s*$"
)
_END_TITLES = {"end", "(end)", "end of set"}


@dataclass(frozen=True, slots=True)
class TimeContext:
    """What relative (HH:MM) times mean: the day and the time zone they are on."""

    day: date
    zone: tzinfo


def local_context(now: datetime | None = None) -> TimeContext:
    """Today in this machine's local time zone (composition roots use this default)."""
    moment = (now or datetime.now().astimezone()).astimezone()
    zone = moment.tzinfo
    assert zone is not None
    return TimeContext(moment.date(), zone)


def zone_named(name: str) -> tzinfo:
    """An IANA time zone (``Europe/Berlin``) or a fixed offset (``+02:00``)."""
    if re.fullmatch(r"[+-]\d{2}:\d{2}", name):
        return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo  # type: ignore[return-value]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SetlistError(
            f"unknown time zone {name!r}: use an IANA name like Europe/Berlin or +02:00"
        ) from exc


# Building a set -----------------------------------------------------------------------


def build_setlist(
    stage: str,
    entries: Sequence[tuple[str, str]],
    *,
    context: TimeContext,
    artist: str = "",
    end: str | None = None,
) -> Setlist:
    """Validate ``(title, start)`` pairs and resolve their times into a Setlist."""
    try:
        validate_slug(stage)
    except InvalidName as exc:
        raise SetlistError(str(exc)) from exc
    if not entries:
        raise SetlistError(f"stage {stage}: the setlist has no tracks")
    if len(entries) > MAX_TRACKS:
        raise SetlistError(f"stage {stage}: {len(entries)} tracks; at most {MAX_TRACKS}")
    if len(artist) > MAX_ARTIST_CHARS:
        raise SetlistError(f"stage {stage}: artist name longer than {MAX_ARTIST_CHARS} chars")
    titles: list[str] = []
    starts: list[datetime] = []
    for number, (title, start) in enumerate(entries, start=1):
        where = f"stage {stage}, track {number}"
        title = title.strip()
        if not title:
            raise SetlistError(f"{where}: the title is empty")
        if len(title) > MAX_TITLE_CHARS:
            raise SetlistError(f"{where}: the title is longer than {MAX_TITLE_CHARS} chars")
        moment = _resolve(start, context, after=starts[-1] if starts else None, where=where)
        if starts and moment <= starts[-1]:
            raise SetlistError(
                f"{where} ({title!r}) starts at {start}, not after the track before it"
            )
        titles.append(title)
        starts.append(moment)
    if end is not None and str(end).strip():
        set_end = _resolve(str(end), context, after=starts[-1], where=f"stage {stage}, end")
        if set_end <= starts[-1]:
            raise SetlistError(f"stage {stage}: the end {end} is not after the last track starts")
        assumed = False
    else:
        lengths = [b - a for a, b in itertools.pairwise(starts)]
        typical = (
            timedelta(seconds=statistics.median(x.total_seconds() for x in lengths))
            if lengths
            else DEFAULT_SINGLE_TRACK
        )
        set_end = starts[-1] + typical
        assumed = True
    if set_end - starts[0] > MAX_SET_LENGTH:
        raise SetlistError(f"stage {stage}: the set lasts more than {MAX_SET_LENGTH}")
    bounds = [*starts, set_end]
    tracks = tuple(Track(title, bounds[i], bounds[i + 1]) for i, title in enumerate(titles))
    return Setlist(stage, tracks, artist.strip(), assumed)


def _resolve(value: str, context: TimeContext, *, after: datetime | None, where: str) -> datetime:
    """An absolute time from ``HH:MM[:SS]``, with AM or PM for the 12-hour clock
    (rolling past midnight after ``after``), or ISO."""
    text = str(value).strip()
    clock = _CLOCK.match(text)
    if clock:
        hour, minute, second = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        if clock["meridiem"]:
            if not 1 <= hour <= 12:
                raise SetlistError(f"{where}: {text!r} is not a time of day (AM/PM hours are 1-12)")
            hour = hour % 12 + (12 if clock["meridiem"][0] in "Pp" else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise SetlistError(f"{where}: {text!r} is not a time of day")
        moment = datetime.combine(context.day, time(hour, minute, second), tzinfo=context.zone)
        # A set that crosses midnight: 00:10 after 23:55 is the next day.
        # An earlier time less than 12 h back is a mistake, reported by the caller.
        while after is not None and moment <= after and after - moment > timedelta(hours=12):
            moment = datetime.combine(
                moment.date() + timedelta(days=1), time(hour, minute, second), tzinfo=context.zone
            )
        return moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SetlistError(
            f"{where}: {text!r} is not a time: use HH:MM, H:MM PM or an ISO time like "
            "2025-07-19T21:05:00+02:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=context.zone)
    return moment


# Parsing sources -------------------------------------------------------------------


def parse_lines(stage: str, text: str, *, context: TimeContext, artist: str = "") -> Setlist:
    """A setlist from pasted text: ``HH:MM Title`` per line; a last ``HH:MM end`` closes it.

    Blank lines and lines starting with ``#`` are skipped."""
    entries: list[tuple[str, str]] = []
    end: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if end is not None:
            raise SetlistError(f"line {number}: nothing may follow the end line")
        match = _LINE.match(line)
        if not match:
            raise SetlistError(f"line {number}: {line!r} is not 'HH:MM Title' (or 'H:MM PM Title')")
        if match["title"].strip().lower() in _END_TITLES:
            end = match["start"]
        else:
            entries.append((match["title"], match["start"]))
    return build_setlist(stage, entries, context=context, artist=artist, end=end)


def parse_document(data: Any, *, context: TimeContext) -> list[Setlist]:
    """Setlists from a parsed YAML/JSON document (the shape in the module docstring).

    ``date`` and ``timezone`` in the document override ``context``."""
    if not isinstance(data, Mapping):
        raise SetlistError("a setlist file must be a mapping with a 'stages' key")
    context = _document_context(data, context)
    stages = data.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        raise SetlistError("a setlist file needs 'stages': a mapping of stage name to its set")
    setlists = []
    for stage, body in stages.items():
        setlists.append(parse_stage(str(stage), body, context=context))
    return setlists


def parse_stage(stage: str, body: Any, *, context: TimeContext) -> Setlist:
    """One stage's set: ``{artist?, date?, timezone?, end?, tracks: [{title, start}]}``."""
    if not isinstance(body, Mapping):
        raise SetlistError(f"stage {stage}: expected a mapping with 'tracks'")
    context = _document_context(body, context)
    tracks = body.get("tracks")
    if not isinstance(tracks, list):
        raise SetlistError(f"stage {stage}: 'tracks' must be a list of {{title, start}}")
    entries = []
    for number, track in enumerate(tracks, start=1):
        if not isinstance(track, Mapping) or "title" not in track or "start" not in track:
            raise SetlistError(f"stage {stage}, track {number}: needs 'title' and 'start'")
        entries.append((str(track["title"]), _time_text(track["start"])))
    end = body.get("end")
    return build_setlist(
        stage,
        entries,
        context=context,
        artist=str(body.get("artist") or ""),
        end=None if end is None else _time_text(end),
    )


def load_setlist_file(path: Path, *, context: TimeContext | None = None) -> list[Setlist]:
    """Every stage's setlist in a YAML (.yaml/.yml) or JSON file; HH:MM times are on
    ``context`` (default: today in this machine's time zone) unless the file says."""
    path = Path(path)
    context = context or local_context()
    try:
        data = read_document(path, max_bytes=MAX_FILE_BYTES, what="setlist file")
    except DocumentError as exc:
        raise SetlistError(str(exc)) from None
    try:
        return parse_document(data, context=context)
    except SetlistError as exc:
        raise SetlistError(f"{path}: {exc}") from exc


def _document_context(data: Mapping[str, Any], context: TimeContext) -> TimeContext:
    day, zone = context.day, context.zone
    if data.get("timezone") is not None:
        zone = zone_named(str(data["timezone"]))
    if data.get("date") is not None:
        raw = data["date"]
        if isinstance(raw, date):
            day = raw
        else:
            try:
                day = date.fromisoformat(str(raw))
            except ValueError:
                raise SetlistError(f"date {raw!r} is not YYYY-MM-DD") from None
    return TimeContext(day, zone)


def _time_text(value: Any) -> str:
    # YAML reads an unquoted 21:05 as a sexagesimal int (1265) and an unquoted ISO time
    # as a datetime; accept both rather than make people quote every time.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return f"{value // 60:02d}:{value % 60:02d}"
    return str(value)
