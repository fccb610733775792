"""The crop key scheme and stage names.

Keys look like ``faces/{stage}/{YYYY}/{MM}/{DD}/{HH}/{epoch_ms}-{frame_id}-{i}.jpg``.
Stage, camera and frame ids are slugs: they are validated, never trusted into paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from datapalooza.constants import FACES_PREFIX

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
"""Stage, camera and frame ids: 1-40 lowercase letters, digits and inner hyphens."""
_SLUG = re.compile(SLUG_PATTERN)
_KEY = re.compile(
    r"^faces/(?P<stage>[a-z0-9-]{1,40})/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/"
    r"(?P<ms>\d{1,15})-(?P<frame>[a-z0-9-]{1,40})-(?P<i>\d{1,4})\.jpg$"
)


class InvalidName(ValueError):
    """A stage, camera or frame id that is not a slug."""


class InvalidKey(ValueError):
    """An object key that does not follow the crop key scheme."""


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
        if not 0 <= self.index < 10_000:
            raise ValueError(f"face index {self.index} out of range")

    @property
    def epoch_ms(self) -> int:
        return int(self.captured_at.timestamp() * 1000)

    def __str__(self) -> str:
        t = self.captured_at.astimezone(UTC)
        return (
            f"{FACES_PREFIX}{self.stage}/{t:%Y/%m/%d/%H}/"
            f"{self.epoch_ms}-{self.frame_id}-{self.index}.jpg"
        )

    @classmethod
    def parse(cls, key: str) -> CropKey:
        """Parse a key; raise InvalidKey for anything outside the scheme."""
        match = _KEY.match(key)
        if not match:
            raise InvalidKey(f"{key!r} is not a face crop key ({FACES_PREFIX}<stage>/...)")
        try:
            validate_slug(match["stage"], what="stage")
            validate_slug(match["frame"], what="frame id")
        except InvalidName as exc:
            raise InvalidKey(str(exc)) from exc
        captured_at = datetime.fromtimestamp(int(match["ms"]) / 1000, tz=UTC)
        hour_path = f"{captured_at:%Y/%m/%d/%H}"
        if hour_path != f"{match['y']}/{match['m']}/{match['d']}/{match['h']}":
            raise InvalidKey(f"{key!r}: the date path does not match the timestamp")
        return cls(match["stage"], captured_at, match["frame"], int(match["i"]))
