"""The crop key scheme and stage names.

A face crop's key is ``faces/{stage}/{YYYY}/{MM}/{DD}/{HH}/{epoch_ms}-{frame_id}-{i}.jpg``:
face ``i`` of a frame. The endpoint stores one object per crop under that key; an edge
device stores a frame's crops as crop sheets (``datapalooza/crop_sheets.py``), each
holding faces ``first`` to ``first + n - 1`` under
``faces/{stage}/{YYYY}/{MM}/{DD}/{HH}/{epoch_ms}-{frame_id}-{first}.sheet.jpg``, and the
tracker names each face in a sheet by its crop key. The two spellings never collide:
a frame id holds no dot.
Stage, camera and frame ids are slugs: they are validated, never trusted into paths.
Times are validated too, against two stated windows:

- a key's time lies in [KEY_TIME_MIN, KEY_TIME_MAX): the scheme's own range, so every
  key's date path, expiry hour and TTL stay representable (no date overflow);
- a capture time from outside (a request's ``ts``) lies within CAPTURE_WINDOW_PAST
  before now to CAPTURE_WINDOW_FUTURE after now: crops expire after a day, and a
  camera's clock may run a little ahead of ours, never days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from datapalooza.constants import FACES_PREFIX

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
"""Stage, camera and frame ids: 1-40 lowercase letters, digits and inner hyphens."""
_SLUG = re.compile(SLUG_PATTERN)
_KEY = re.compile(
    r"^faces/(?P<stage>[a-z0-9-]{1,40})/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/"
    r"(?P<ms>\d{1,15})-(?P<frame>[a-z0-9-]{1,40})-(?P<i>\d{1,4})(?P<sheet>\.sheet)?\.jpg$"
)
SHEET_SUFFIX = ".sheet.jpg"
MAX_FACES_PER_FRAME = 10_000
"""Face indexes of a frame run from 0 to 9,999 (four digits in a key)."""


KEY_TIME_MIN = datetime(2000, 1, 1, tzinfo=UTC)
KEY_TIME_MAX = datetime(2100, 1, 1, tzinfo=UTC)
"""Crop keys name a capture time in [KEY_TIME_MIN, KEY_TIME_MAX)."""
CAPTURE_WINDOW_PAST = timedelta(days=7)
CAPTURE_WINDOW_FUTURE = timedelta(minutes=5)
"""A capture time from outside is accepted from 7 days before now to 5 minutes after."""


_EPOCH_MS_TEXT = re.compile(r"-?[0-9]{1,19}")
"""Epoch milliseconds as text: one optional minus sign, then ASCII digits. Checked before
``int()``, which takes ``+``, ``_`` and other scripts' digits, and raises its own
ValueError for ``--5``. At most 19 digits, an int64's: a longer number can only be out
of range, and is refused before ``int()`` reads it."""


class InvalidName(ValueError):
    """A stage, camera or frame id that is not a slug."""


class InvalidKey(ValueError):
    """An object key that does not follow the crop key scheme."""


class TimeOutOfRange(ValueError):
    """A time outside the window stated for it."""


def time_from_epoch_ms(value: int | str) -> datetime:
    """An epoch-milliseconds value (int or decimal digits) as an aware UTC datetime inside
    the key range; anything else raises TimeOutOfRange (never an overflow)."""
    if isinstance(value, str):
        text = value.strip()
        if not _EPOCH_MS_TEXT.fullmatch(text):
            raise TimeOutOfRange(f"{value[:40]!r} is not a whole number of epoch milliseconds")
        value = int(text)
    if not isinstance(value, int) or not _KEY_MS_MIN <= value < _KEY_MS_MAX:
        raise TimeOutOfRange(
            f"{value!r} epoch ms is outside {KEY_TIME_MIN:%Y-%m-%d} to {KEY_TIME_MAX:%Y-%m-%d}"
        )
    return _EPOCH + timedelta(milliseconds=value)  # exact, unlike a float timestamp


def check_capture_time(captured_at: datetime, *, now: datetime) -> datetime:
    """Return ``captured_at`` if it lies in the capture window around ``now``."""
    earliest, latest = now - CAPTURE_WINDOW_PAST, now + CAPTURE_WINDOW_FUTURE
    if not earliest <= captured_at <= latest:
        raise TimeOutOfRange(
            f"capture time {captured_at.isoformat()} is outside the accepted window "
            f"{earliest.isoformat(timespec='seconds')} to {latest.isoformat(timespec='seconds')}"
            f" ({_human(CAPTURE_WINDOW_PAST)} before now to {_human(CAPTURE_WINDOW_FUTURE)}"
            " after): check the camera's clock"
        )
    return captured_at


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch, exactly (a float timestamp can lose one)."""
    return (moment - _EPOCH) // _MILLISECOND


_MILLISECOND = timedelta(milliseconds=1)
_KEY_MS_MIN, _KEY_MS_MAX = epoch_ms(KEY_TIME_MIN), epoch_ms(KEY_TIME_MAX)


def _hour_path(moment: datetime) -> str:
    """``YYYY/MM/DD/HH`` of a UTC time: a crop key's date path. Formatted by hand, as
    strftime cost a quarter of every key's parse (each crop's key is parsed by the
    store that writes it and again by the tracker)."""
    return f"{moment.year:04d}/{moment.month:02d}/{moment.day:02d}/{moment.hour:02d}"


def _human(span: timedelta) -> str:
    if span.days:
        return f"{span.days} days"
    return f"{int(span.total_seconds() // 60)} minutes"


MAX_STAGES = 32
"""Stages of one festival, at most: the endpoint's allow-list and the stored setlists
are held to it. A festival has a handful."""


def validate_slug(value: str, *, what: str = "stage") -> str:
    """Return ``value`` if it is a slug (lowercase letters, digits, inner hyphens, <= 40)."""
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidName(
            f"invalid {what} name {value!r}: use 1-40 lowercase letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class CropKey:
    """The parts of one face crop's object key."""

    stage: str
    captured_at: datetime
    frame_id: str
    index: int

    def __post_init__(self) -> None:
        validate_slug(self.stage, what="stage")
        validate_slug(self.frame_id, what="frame id")
        if self.captured_at.tzinfo is None:
            raise ValueError("captured_at must be timezone-aware")
        if not KEY_TIME_MIN <= self.captured_at < KEY_TIME_MAX:
            raise TimeOutOfRange(
                f"captured_at {self.captured_at.isoformat()} is outside the key range "
                f"{KEY_TIME_MIN:%Y-%m-%d} to {KEY_TIME_MAX:%Y-%m-%d}"
            )
        if not 0 <= self.index < MAX_FACES_PER_FRAME:
            raise ValueError(f"face index {self.index} out of range")

    @property
    def epoch_ms(self) -> int:
        return epoch_ms(self.captured_at)

    def __str__(self) -> str:
        t = self.captured_at
        if t.tzinfo is not UTC:
            t = t.astimezone(UTC)
        return (
            f"{FACES_PREFIX}{self.stage}/{_hour_path(t)}/"
            f"{self.epoch_ms}-{self.frame_id}-{self.index}.jpg"
        )

    @classmethod
    def parse(cls, key: str) -> CropKey:
        """Parse a crop key; raise InvalidKey for anything outside the scheme (a crop
        sheet's key included)."""
        parsed = parse_object_key(key)
        if not isinstance(parsed, CropKey):
            raise InvalidKey(f"{key!r} is a crop sheet's key, not a face crop's")
        return parsed


@dataclass(frozen=True, slots=True)
class SheetKey:
    """The parts of one crop sheet's object key: faces ``first`` onwards of a frame."""

    stage: str
    captured_at: datetime
    frame_id: str
    first: int

    def __post_init__(self) -> None:
        self.face(0)  # validates stage, frame id, time and the first index

    def face(self, offset: int) -> CropKey:
        """The crop key of the sheet's tile ``offset``: face ``first + offset``."""
        return CropKey(self.stage, self.captured_at, self.frame_id, self.first + offset)

    def __str__(self) -> str:
        return str(self.face(0)).removesuffix(".jpg") + SHEET_SUFFIX


def parse_object_key(key: str) -> CropKey | SheetKey:
    """Parse the key of an object in the faces bucket: a face crop or a crop sheet.
    Raise InvalidKey for anything outside the scheme."""
    if not isinstance(key, str):
        raise InvalidKey(f"{key!r} is not a face crop key")
    match = _KEY.match(key)
    if not match:
        raise InvalidKey(f"{key!r} is not a face crop key ({FACES_PREFIX}<stage>/...)")
    try:
        validate_slug(match["stage"], what="stage")
        validate_slug(match["frame"], what="frame id")
    except InvalidName as exc:
        raise InvalidKey(str(exc)) from exc
    try:
        captured_at = time_from_epoch_ms(int(match["ms"]))
    except TimeOutOfRange as exc:
        raise InvalidKey(f"{key!r}: {exc}") from exc
    hour_path = _hour_path(captured_at)
    if hour_path != f"{match['y']}/{match['m']}/{match['d']}/{match['h']}":
        raise InvalidKey(f"{key!r}: the date path does not match the timestamp")
    kind = SheetKey if match["sheet"] else CropKey
    parsed = kind(match["stage"], captured_at, match["frame"], int(match["i"]))
    if str(parsed) != key:
        # Leading zeros: a second spelling of the same crop would be scored twice.
        raise InvalidKey(f"{key!r} is not in canonical form; it is {str(parsed)!r}")
    return parsed
