"""What ``EdgeService.drain`` must do: upload queued crops with store-and-forward,
losing nothing when the bucket is away (Challenge 3)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.detection.settings import DetectorSettings
from datapalooza.devices.edge import EdgeService, EdgeSettings
from datapalooza.domain.backoff import Backoff
from datapalooza.exercises.checks import Check, Implementation
from datapalooza.ports import StoreError
from datapalooza.testing.fakes import FakeClock, FakeDetector, FakeFaceStore, FakeSource

KEYS = [f"faces/main/2026/07/19/21/17844948000{i:02d}-f0000{i:02d}-0.jpg" for i in range(3)]


def _edge(
    workdir: Path, store: FakeFaceStore, clock: FakeClock | None = None
) -> tuple[EdgeService, FakeClock]:
    clock = clock or FakeClock()
    service = EdgeService(
        settings=EdgeSettings(stage="main", queue_dir=workdir / "queue", camera="edge-1"),
        open_source=FakeSource,
        detector=FakeDetector(faces=()),  # uploads only: detecting is the endpoint's exercise
        detector_settings=DetectorSettings(),
        store=store,
        publisher=InMemoryPublisher(),
        backoff=Backoff(base_s=1.0, cap_s=60.0, rng=random.Random(0)),
        monotonic=clock,
    )
    for index, key in enumerate(KEYS):
        service.queue.push(key, b"crop-%d" % index, {"stage": "main", "camera": "edge-1"})
    return service, clock


def uploads_oldest_first(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore()
    edge, _ = _edge(workdir, store)
    uploaded = drain(edge)
    assert uploaded == 3, f"drain returned {uploaded}; expected 3 uploads"
    assert store.attempts == KEYS, f"uploaded {store.attempts}; expected the queue's order {KEYS}"
    assert store.objects[KEYS[0]] == (b"crop-0", {"stage": "main", "camera": "edge-1"}), (
        "the bytes or metadata of the first crop changed on the way"
    )
    assert len(edge.queue) == 0, f"{len(edge.queue)} crops left queued after they were uploaded"
    assert (edge.stats.uploaded, edge.stats.bytes_uploaded) == (3, 18), (
        f"stats uploaded/bytes_uploaded = {edge.stats.uploaded}/{edge.stats.bytes_uploaded}"
    )


def respects_the_limit(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore()
    edge, _ = _edge(workdir, store)
    assert drain(edge, limit=2) == 2, "drain(limit=2) must upload 2 crops"
    assert len(edge.queue) == 1, "the third crop must stay queued"


class _SlowFaceStore(FakeFaceStore):
    """A bucket where every put takes ``seconds`` of the checks' clock."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        super().__init__()
        self._clock = clock
        self._seconds = seconds

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        self._clock.advance(self._seconds)
        super().put(key, body, metadata)


def starts_no_upload_past_until(drain: Implementation, workdir: Path) -> None:
    clock = FakeClock()
    store = _SlowFaceStore(clock, seconds=1.0)
    edge, _ = _edge(workdir, store, clock)
    uploaded = drain(edge, until=clock())
    assert uploaded == 0, f"drain(until=now) uploaded {uploaded}; the deadline had come"
    uploaded = drain(edge, until=clock() + 1.5)
    assert uploaded == 2, (
        f"drain(until=now + 1.5) with puts of 1 s each uploaded {uploaded}; expected 2 "
        "(at 0 s and 1 s; none may start at 2 s)"
    )
    assert len(edge.queue) == 1, "the third crop must stay queued"


def keeps_crops_through_an_outage(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore([StoreError("bucket unreachable", transient=True)])
    edge, clock = _edge(workdir, store)
    uploaded = drain(edge)
    assert uploaded == 0, f"drain returned {uploaded} during the outage; expected 0"
    assert len(edge.queue) == 3, "crops were lost from the queue during the outage"
    assert edge.stats.upload_errors == 1, "the failed upload was not counted in upload_errors"
    clock.advance(120)
    assert drain(edge) == 3, "after the outage every queued crop must be uploaded"
    assert len(edge.queue) == 0 and sorted(store.objects) == sorted(KEYS)


def waits_for_the_backoff(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore([StoreError("bucket unreachable", transient=True)] * 2)
    edge, clock = _edge(workdir, store)
    drain(edge)
    tries = len(store.attempts)
    drain(edge)
    assert len(store.attempts) == tries, "drain tried again at once; it must wait for the backoff"
    clock.advance(1.5)
    drain(edge)
    assert len(store.attempts) == tries + 1, "drain did not try again once the backoff had passed"


def rejected_uploads_wait_longer(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore([StoreError("AccessDenied", transient=False)])
    edge, clock = _edge(workdir, store)
    drain(edge)
    assert edge.stats.store_rejections == 1, "a rejected upload must count in store_rejections"
    clock.advance(60)
    drain(edge)
    assert len(store.attempts) == 1, "a rejected upload was retried within a minute"
    clock.advance(edge.settings.rejected_retry_s)
    assert drain(edge) == 3, "after rejected_retry_s the crops must be uploaded"


def survives_an_adapter_bug(drain: Implementation, workdir: Path) -> None:
    store = FakeFaceStore([RuntimeError("bug in the adapter")])
    edge, _ = _edge(workdir, store)
    uploaded: Any = drain(edge)
    assert uploaded == 0, f"drain returned {uploaded!r}; expected 0"
    assert len(edge.queue) == 3, "an unexpected error lost crops"


CHECKS = (
    Check(
        "uploads queued crops oldest first, then removes them from the queue",
        "loop: entry = self.queue.peek(); self._store.put(entry.key, entry.body, "
        "entry.metadata); self.queue.remove(entry); count stats.uploaded/bytes_uploaded",
        uploads_oldest_first,
    ),
    Check(
        "stops after `limit` uploads",
        "count the uploads of this call and stop when limit is reached (None: no limit)",
        respects_the_limit,
    ),
    Check(
        "starts no upload once `until` has come",
        "before each upload: stop if until is not None and self._monotonic() >= until",
        starts_no_upload_past_until,
    ),
    Check(
        "a bucket outage keeps the crops on disk, and they go once it is back",
        "catch StoreError, call self._upload_failed(exc, transient=exc.transient) and stop; "
        "remove an entry only after its put succeeded",
        keeps_crops_through_an_outage,
    ),
    Check(
        "after a failure, waits for the backoff before trying again",
        "skip uploading while self._monotonic() < self._retry_at (set by _upload_failed)",
        waits_for_the_backoff,
    ),
    Check(
        "a rejected upload (AccessDenied) is counted and retried only after rejected_retry_s",
        "pass transient=exc.transient to self._upload_failed: it waits longer when False",
        rejected_uploads_wait_longer,
    ),
    Check(
        "an unexpected error in the store adapter loses no crop",
        "catch Exception too: count stats.unexpected_errors and treat it as transient",
        survives_an_adapter_bug,
    ),
)
