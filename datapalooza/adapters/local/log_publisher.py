"""Local publishers: one that logs each message, and an in-memory broker that other
local parts (the festival runtime, the dashboard, tests) subscribe to."""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("datapalooza.mqtt")

Handler = Callable[[str, Mapping[str, Any]], None]


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter matching: ``+`` is one level, a trailing ``#`` any rest."""
    pattern_parts = pattern.split("/")
    topic_parts = topic.split("/")
    for i, part in enumerate(pattern_parts):
        if part == "#":
            return i == len(pattern_parts) - 1
        if i >= len(topic_parts):
            return False
        if part != "+" and part != topic_parts[i]:
            return False
    return len(pattern_parts) == len(topic_parts)


class LogPublisher:
    """Publisher: writes each message as one JSON log line (the local stand-in for
    MQTT when nothing subscribes)."""

    def __init__(self, logger: logging.Logger | None = None, *, level: int = logging.INFO):
        self._log = logger or log
        self._level = level

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        # Serialised only when the line is written: `up` publishes every frame's
        # detections at DEBUG, and the JSON of 11 faces is 0.12 ms a frame.
        if self._log.isEnabledFor(self._level):
            line = json.dumps(payload, separators=(",", ":"), default=str)
            self._log.log(self._level, "%s %s", topic, line)


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: Mapping[str, Any]


class InMemoryPublisher:
    """Publisher and tiny broker: keeps the last ``keep`` messages and calls
    subscribers (MQTT topic filters) synchronously. A failing subscriber is logged and
    does not stop delivery to the others."""

    def __init__(self, *, keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._messages: deque[Message] = deque(maxlen=keep)
        self._subscribers: list[tuple[str, Handler]] = []

    def subscribe(self, topic_filter: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler(topic, payload)`` for each matching message; returns an
        unsubscribe function."""
        entry = (topic_filter, handler)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        # A deep copy through JSON: subscribers see what MQTT would deliver, and cannot
        # mutate the publisher's objects.
        message = Message(topic, json.loads(json.dumps(payload, default=str)))
        with self._lock:
            self._messages.append(message)
            handlers = [h for f, h in self._subscribers if topic_matches(f, topic)]
        for handler in handlers:
            try:
                handler(message.topic, message.payload)
            except Exception:
                log.exception("subscriber failed on %s", topic)

    def messages(self, topic_filter: str = "#") -> list[Message]:
        with self._lock:
            return [m for m in self._messages if topic_matches(topic_filter, m.topic)]
