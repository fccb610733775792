"""The edge service: crops only, store and forward, stats, privacy."""

from __future__ import annotations

import errno
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.detection import DetectorSettings
from datapalooza.devices import forward_queue
from datapalooza.devices.edge import EdgeService, EdgeSettings, EdgeSettingsError
from datapalooza.devices.forward_queue import ForwardQueue
from datapalooza.domain.backoff import Backoff
from datapalooza.domain.keys import SheetKey, parse_object_key
from datapalooza.testing.fakes import (
    FakeClock,
    FakeDetector,
    FakeFaceStore,
    FakeSource,
    unplugged_camera,
)

START = datetime(2026, 7, 4, 20, 0, tzinfo=UTC)


def make(
    tmp_path: Path, store: FakeFaceStore, frames: int, **settings: object
) -> tuple[EdgeService, InMemoryPublisher]:
    publisher = InMemoryPublisher()
    edge_settings = EdgeSettings(
        stage="main",
        camera="edge-1",
        queue_dir=tmp_path / "queue",
        retry_base_s=0.001,
        retry_cap_s=0.005,
        **settings,
    )  # type: ignore[arg-type]
    service = EdgeService(
        settings=edge_settings,
        open_source=lambda: FakeSource(frames, size=(200, 200), start=START),
        detector=FakeDetector(),
        detector_settings=DetectorSettings(min_face_px=40),
        store=store,
        publisher=publisher,
        backoff=Backoff(base_s=0.001, cap_s=0.005),
    )
    return service, publisher


def test_only_crops_big_enough_are_stored_one_sheet_per_frame(tmp_path: Path) -> None:
    store = FakeFaceStore()
    service, _ = make(tmp_path, store, frames=3)
    stats = service.run()
    assert (stats.frames, stats.faces, stats.crops, stats.uploaded) == (3, 6, 3, 3)
    for key, (body, metadata) in store.objects.items():
        parsed = parse_object_key(key)
        assert isinstance(parsed, SheetKey)
        assert parsed.stage == "main" and parsed.first == 0 and metadata["tiles"].count("x") == 1
        assert body[:2] == b"\xff\xd8"  # a JPEG
        assert metadata["stage"] == "main" and metadata["camera"] == "edge-1"
        assert metadata["frame-id"] == parsed.frame_id
    assert stats.bytes_uploaded == sum(len(b) for b, _ in store.objects.values())
    assert stats.drained and len(service.queue) == 0


def test_store_fails_for_a_window_then_recovers_every_crop_arrives_exactly_once(
    tmp_path: Path,
) -> None:
    # Uploads 3..14 fail: several frames' crops pile up in the on-disk queue.
    store = FakeFaceStore(fail_on=range(3, 15))
    service, _ = make(tmp_path, store, frames=20)
    stats = service.run()
    assert stats.upload_errors == 12
    assert stats.crops == 20
    assert len(store.objects) == 20
    assert set(store.stored.values()) == {1}  # exactly once each
    assert stats.drained and len(service.queue) == 0 and stats.dropped == 0


def test_access_denied_is_reported_loudly_and_not_retried_in_a_hot_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FakeFaceStore(fail_on=range(1, 10_000), transient=False)
    service, publisher = make(tmp_path, store, frames=30, rejected_retry_s=300.0)
    with caplog.at_level(logging.ERROR):
        stats = service.run(drain_timeout_s=0.2)
    assert len(store.attempts) == 1  # one try, then a long pause, not 30 tries
    assert stats.store_rejections == 1
    assert "THE FACE STORE REJECTS UPLOADS" in caplog.text and "s3:PutObject" in caplog.text
    assert not stats.drained and stats.queue_depth == 30  # kept on disk for later
    last = publisher.messages("datapalooza/main/edge-stats")[-1].payload
    assert last["QueueDepth"] == 30 and last["StoreRejections"] == 1


def test_stats_are_published_periodically(tmp_path: Path) -> None:
    service, publisher = make(tmp_path, FakeFaceStore(), frames=5, stats_interval_s=0.0)
    service.run()
    stats = publisher.messages("datapalooza/+/edge-stats")
    assert len(stats) >= 5
    final = stats[-1].payload
    assert {"Fps", "Frames", "Faces", "BytesUploaded", "QueueDepth", "Dropped"} <= set(final)
    assert final["Frames"] == 5 and final["Stage"] == "main"


def test_preview_is_small_and_blurred_and_no_frame_is_kept(tmp_path: Path) -> None:
    from PIL import Image

    preview = tmp_path / "preview.jpg"
    service, _ = make(tmp_path, FakeFaceStore(), frames=2, preview_path=preview)
    service.run()
    with Image.open(preview) as image:
        assert image.size[0] == 480
    files = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert files <= {"preview.jpg"}  # nothing but the preview: frames are never written


def test_edge_settings_errors_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(EdgeSettingsError, match="queue_dir is not set"):
        EdgeSettings.from_env({"DATAPALOOZA_STAGE": "main"})
    with pytest.raises(EdgeSettingsError, match="queue_max_bytes must be positive"):
        EdgeSettings(stage="main", queue_dir=tmp_path, queue_max_bytes=0)
    settings = EdgeSettings.from_env(
        {"DATAPALOOZA_STAGE": "dance", "DATAPALOOZA_QUEUE_DIR": str(tmp_path)}, camera="cam-9"
    )
    assert (settings.stage, settings.camera, settings.source) == (
        "dance",
        "cam-9",
        "synthetic:stage=dance",
    )


def test_a_queued_crop_with_a_key_no_store_accepts_is_set_aside_not_retried_forever(
    tmp_path: Path,
) -> None:
    """A queue file naming year 9999 (or any key outside the scheme) used to fail its
    upload on every try and block every crop behind it."""
    store = FakeFaceStore()
    service, _ = make(tmp_path, store, frames=2)
    year_9999 = "faces/main/9999/12/31/23/253402300799999-f1-0.jpg"
    service.queue.push(year_9999, b"x", {})
    stats = service.run()
    assert stats.uploaded == 2 and len(store.objects) == 2
    assert stats.set_aside == 1 and stats.drained and len(service.queue) == 0
    (note,) = (tmp_path / "queue" / "corrupt").iterdir()  # a note of why, not the crop
    assert json.loads(note.read_text())["key"] == year_9999


def test_a_teams_edge_publishes_its_stats_on_the_topic_its_stack_names(tmp_path: Path) -> None:
    topic = "datapalooza/alice/main/edge-stats"
    service, publisher = make(
        tmp_path, FakeFaceStore(), frames=2, stats_interval_s=0.0, topic=topic
    )
    service.run()
    assert publisher.messages(topic) and not publisher.messages("datapalooza/main/edge-stats")


# -- uploads go on without frames, and without a disk that takes new sheets -------------
SHEET_KEYS = [f"faces/main/2026/07/04/21/17831988000{i:02d}-f0000{i:02d}-0.jpg" for i in range(3)]


def unplugged_edge(
    tmp_path: Path, store: FakeFaceStore, queue: ForwardQueue | None = None
) -> EdgeService:
    """An edge whose camera is not there: every open raises SourceUnavailable."""
    return EdgeService(
        settings=EdgeSettings(stage="main", camera="edge-1", queue_dir=tmp_path / "queue"),
        open_source=unplugged_camera,
        detector=FakeDetector(),
        detector_settings=DetectorSettings(min_face_px=40),
        store=store,
        publisher=InMemoryPublisher(),
        queue=queue,
        backoff=Backoff(base_s=0.001, cap_s=0.005),
    )


def running(service: EdgeService) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=service.run, kwargs={"stop": stop}, daemon=True)
    thread.start()
    return stop, thread


def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_sheets_queued_before_the_camera_went_away_still_upload(tmp_path: Path) -> None:
    """Uploads ran only after a frame was read: with the camera unplugged, nothing left."""
    store = FakeFaceStore()
    service = unplugged_edge(tmp_path, store)
    for key in SHEET_KEYS:
        service.queue.push(key, b"sheet", {"stage": "main"})
    stop, thread = running(service)
    try:
        assert eventually(lambda: len(store.objects) == 3), "the backlog never uploaded"
        assert service.stats.frames == 0 and service.stats.source_errors >= 1
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_sheets_past_the_age_limit_are_deleted_while_the_camera_and_the_bucket_are_away(
    tmp_path: Path,
) -> None:
    """Expiry ran only after a frame was read: face crops stayed on disk past the limit."""
    clock = FakeClock()
    queue = ForwardQueue(tmp_path / "queue", max_age_s=3600.0, clock=clock)
    for key in SHEET_KEYS:
        queue.push(key, b"face pixels", {"stage": "main"})
    service = unplugged_edge(tmp_path, FakeFaceStore(fail_after=0), queue=queue)
    stop, thread = running(service)
    try:
        assert eventually(lambda: service.stats.upload_errors >= 1)
        assert len(queue) == 3  # kept while young
        clock.advance(3601.0)
        assert eventually(lambda: len(queue) == 0), "old sheets stayed queued"
        assert not list((tmp_path / "queue").glob("*.crop"))  # their bytes are gone
        assert service.snapshot().dropped == 3
    finally:
        stop.set()
        thread.join(10)


def test_a_full_disk_drops_the_new_sheets_counted_and_capture_and_uploads_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """push raising OSError (ENOSPC, a read-only SD card) escaped process(): every frame
    failed as unexpected, and the sheets queued before waited for a frame to upload."""
    store = FakeFaceStore()
    service, _ = make(tmp_path, store, frames=4)
    for key in SHEET_KEYS:
        service.queue.push(key, b"sheet", {"stage": "main"})
    real_write = forward_queue.write_atomically

    def disk_full_for_entries(path: Path, data: bytes, **kwargs: object) -> None:
        if path.suffix == ".crop":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(forward_queue, "write_atomically", disk_full_for_entries)
    with caplog.at_level(logging.ERROR):
        stats = service.run()
    assert stats.frames == 4 and stats.unexpected_errors == 0
    assert stats.dropped == 4 and stats.crops == 0  # one sheet a frame, each counted
    assert sorted(store.objects) == SHEET_KEYS and stats.drained
    assert "could not write it" in caplog.text and "No space left on device" in caplog.text


def test_a_queue_disk_that_fails_during_the_last_drain_ends_the_run_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = FakeFaceStore()
    service, _ = make(tmp_path, store, frames=3)

    def disk_failed() -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(service.queue, "peek", disk_failed)
    with caplog.at_level(logging.ERROR):
        stats = service.run(drain_timeout_s=0.5)  # no exception out of run()
    assert not stats.drained and store.objects == {}
    assert "queue: [Errno 5] Input/output error" in stats.last_error
    assert "the queue's disk failed" in caplog.text
