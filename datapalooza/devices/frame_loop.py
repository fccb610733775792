"""What the camera and the edge programs share: their settings' common fields, and the
one frame loop both run.

The loop reads a frame, hands it to the program's step, and paces itself to the
interval, until the caller stops it, a frame or time budget is spent, or a finite
source ends. A vanished camera is reopened: by the source itself, and, when it still
gives no frame after UNAVAILABLE_READS_BEFORE_REOPEN reads, by the loop, which closes it
and opens a new one. A failed step backs off with jitter; an unexpected error is logged
and counted; nothing else stops the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from datapalooza import constants
from datapalooza.domain.backoff import Backoff
from datapalooza.domain.keys import validate_slug
from datapalooza.settings import EnvReaders, SettingsError, settings_values
from datapalooza.sources.base import (
    Frame,
    FrameSource,
    InvalidSourceSpec,
    SourceExhausted,
    SourceUnavailable,
)

log = logging.getLogger(__name__)

# AWS IoT Core: a publish request's topic is at most 256 bytes of UTF-8 (AWS IoT Core
# quotas, "Topic size": https://docs.aws.amazon.com/general/latest/gr/iot-core.html).
MAX_TOPIC_BYTES = 256

UNAVAILABLE_READS_BEFORE_REOPEN = 3
"""Reads in a row that raise SourceUnavailable before the loop closes the source and opens
a new one. A live source raises it after 5 s without a frame while its own thread
reconnects (with backoff up to 10 s), so three in a row, with the loop's own backoff
between them, is about 20 s in which that did not help, or the source's thread is gone:
a new source object (a new thread, a new capture) is the remedy that is left."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSettings:
    """The fields every device program has: where it is, what it watches, how often."""

    error: ClassVar[type[SettingsError]] = SettingsError

    stage: str
    camera: str = "camera-1"
    source: str = ""
    interval_s: float = 0.0
    # The MQTT topic to publish on; empty: the program's own topic for its stage. A
    # team's stack sets it (datapalooza.naming.TeamNames.topic).
    topic: str = ""

    def __post_init__(self) -> None:
        try:
            validate_slug(self.stage, what="stage")
            validate_slug(self.camera, what="camera")
        except ValueError as exc:
            raise self.error(str(exc)) from exc
        if self.topic and (
            len(self.topic.encode()) > MAX_TOPIC_BYTES
            or any(c in self.topic for c in "#+")
            or self.topic.startswith("$")
        ):
            raise self.error(
                f"{constants.ENV_TOPIC}={self.topic!r}: expected an MQTT topic of at most "
                f"{MAX_TOPIC_BYTES} bytes without wildcards (# +) or a leading $"
            )
        if not self.source:
            object.__setattr__(self, "source", f"synthetic:stage={self.stage}")
        if not 0 <= self.interval_s <= 3600:
            raise self.error(f"interval_s={self.interval_s} is outside 0..3600")

    @classmethod
    def env_values(
        cls, env: Mapping[str, str], readers: EnvReaders, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The common fields' and ``readers``' values: overrides > environment > default.
        The stage has no default: a device must be told where it stands."""
        common: EnvReaders = {
            "stage": (constants.ENV_STAGE, str),
            "camera": (constants.ENV_CAMERA, str),
            "source": (constants.ENV_SOURCE, str),
            "interval_s": (constants.ENV_INTERVAL_SECONDS, float),
            "topic": (constants.ENV_TOPIC, str),
        }
        values = settings_values(env, {**common, **readers}, overrides, error=cls.error)
        if "stage" not in values:
            raise cls.error(f"the stage is not set ({constants.ENV_STAGE} or --stage)")
        return values


@dataclass(slots=True)
class LoopCounters:
    """What every device program counts about its loop."""

    frames: int = 0
    source_errors: int = 0
    unexpected_errors: int = 0
    last_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FrameLoop:
    """Reads frames from a lazily (re)opened source and runs a step per frame."""

    def __init__(
        self,
        *,
        name: str,
        open_source: Callable[[], FrameSource],
        counters: LoopCounters,
        interval_s: float,
        backoff: Backoff,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._open_source = open_source
        self._source: FrameSource | None = None
        self._counters = counters
        self._interval_s = interval_s
        self.backoff = backoff
        self._monotonic = monotonic
        self.exhausted = False
        self._unavailable_in_a_row = 0

    def read(self) -> Frame | None:
        """The next frame; None after a source failure (counted, and logged by the loop;
        sources reconnect on their own, and one that stays unavailable is reopened here).
        Raises SourceExhausted when a finite source ended."""
        try:
            if self._source is None:
                self._source = self._open_source()
                log.info("%s opened %s", self.name, self._source.name)
            frame = self._source.read()
        except SourceUnavailable as exc:
            self._counters.source_errors += 1
            self._counters.last_error = f"source: {exc}"
            self._unavailable_in_a_row += 1
            if self._unavailable_in_a_row >= UNAVAILABLE_READS_BEFORE_REOPEN:
                self._reopen_later()
            return None
        self._unavailable_in_a_row = 0
        return frame

    def _reopen_later(self) -> None:
        """Close the source so that the next read opens a new one."""
        self._unavailable_in_a_row = 0
        if self._source is None:  # it never opened: the next read tries again anyway
            return
        log.warning(
            "%s: no frame from %s in %d reads; closing it to open it afresh",
            self.name,
            self._source.name,
            UNAVAILABLE_READS_BEFORE_REOPEN,
        )
        try:
            self.close()
        except Exception:  # a source that cannot even close: drop it, open a new one
            log.exception("%s: closing the source failed", self.name)
            self._source = None

    def run(
        self,
        step: Callable[[], bool],
        *,
        max_frames: int | None = None,
        duration_s: float | None = None,
        stop: threading.Event | None = None,
        after_step: Callable[[], None] | None = None,
        phase_s: float = 0.0,
    ) -> None:
        """Run ``step`` (True: it worked; False: a counted failure, so back off) until
        ``stop`` is set, ``max_frames`` frames were read, ``duration_s`` passed or a
        finite source ended (``exhausted``). ``after_step`` runs after every step.
        ``phase_s``: how long after the call the first frame is read (``duration_s`` still
        counts from the call), so cameras started together need not capture together.
        Only a bad source specification raises: that is configuration, and fails loudly."""
        stop = stop or threading.Event()
        started = self._monotonic()
        if phase_s > 0:
            stop.wait(phase_s if duration_s is None else min(phase_s, duration_s))
        while not stop.is_set():
            if max_frames is not None and self._counters.frames >= max_frames:
                break
            if duration_s is not None and self._monotonic() - started >= duration_s:
                break
            tick = self._monotonic()
            try:
                ok = step()
            except SourceExhausted as exc:
                log.info("%s: %s", self.name, exc)
                self.exhausted = True
                break
            except InvalidSourceSpec:
                raise
            except Exception as exc:  # the loop never dies
                self._counters.unexpected_errors += 1
                self._counters.last_error = f"unexpected: {exc!r}"
                log.exception("%s: unexpected error; continuing", self.name)
                ok = False
            if after_step is not None:
                after_step()
            wait = self._interval_s - (self._monotonic() - tick)
            if ok:
                self.backoff.reset()
            else:
                wait = max(wait, self.backoff.next_delay())
                log.warning(
                    "%s: %s (failures in a row: %d); next try in %.1fs",
                    self.name,
                    self._counters.last_error,
                    self.backoff.attempts,
                    wait,
                )
            if duration_s is not None:
                wait = min(wait, duration_s - (self._monotonic() - started))
            if wait > 0:
                stop.wait(wait)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
