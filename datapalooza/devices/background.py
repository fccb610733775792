"""Running a device service's loop in the background of a long-lived Lambda process.

Greengrass starts a pinned Lambda function by importing its module once; the entry
point starts the loop here and returns, and the loop runs until the process ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class LoopService(Protocol):
    def run(self, *, stop: threading.Event | None = None) -> Any: ...


ServiceT = TypeVar("ServiceT", bound=LoopService)


class BackgroundLoop(Generic[ServiceT]):
    """One service loop per process: ``start`` is idempotent, ``stop`` waits for it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._service: ServiceT | None = None
        self._thread: threading.Thread | None = None

    def start(self, build: Callable[[], ServiceT], **run_kwargs: Any) -> ServiceT:
        """Build the service and run it in a daemon thread, unless one already runs."""
        with self._lock:
            if self._service is not None and self._thread is not None and self._thread.is_alive():
                return self._service
            service = build()
            self._stop.clear()
            self._thread = threading.Thread(
                target=service.run,
                kwargs={"stop": self._stop, **run_kwargs},
                name=self._name,
                daemon=True,
            )
            self._service = service
            self._thread.start()
            log.info("%s started", self._name)
            return service

    def stop(self, timeout_s: float) -> None:
        self._stop.set()
        with self._lock:
            if self._thread is not None:
                self._thread.join(timeout_s)
            self._service, self._thread = None, None
