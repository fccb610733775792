"""The camera service: capture -> endpoint -> publish, and what happens when things fail."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.devices.camera import CameraService, CameraSettings, CameraSettingsError
from datapalooza.devices.jpeg import FrameTooLarge, encode_within
from datapalooza.domain.backoff import Backoff
from datapalooza.ports import EndpointError
from datapalooza.sources.base import SourceUnavailable
from datapalooza.sources.synthetic import SyntheticFestivalSource
from datapalooza.testing.fakes import FakeEndpoint, FakeSource


def service(
    endpoint: Any,
    publisher: Any = None,
    opener: Callable[[], Any] | None = None,
    interval_s: float = 0.0,
) -> tuple[CameraService, InMemoryPublisher]:
    pub = publisher or InMemoryPublisher()
    settings = CameraSettings(stage="main", camera="cam-1", interval_s=interval_s)
    svc = CameraService(
        settings=settings,
        open_source=opener or FakeSource,
        endpoint=endpoint,
        publisher=pub,
        backoff=Backoff(base_s=0.001, cap_s=0.002),
    )
    return svc, pub


def test_each_frame_is_sent_with_stage_camera_and_frame_id_and_published() -> None:
    endpoint = FakeEndpoint()
    svc, pub = service(endpoint)
    counters = svc.run(max_frames=3)
    assert [c["frame_id"] for c in endpoint.calls] == ["f000001", "f000002", "f000003"]
    assert {(c["stage"], c["camera"]) for c in endpoint.calls} == {("main", "cam-1")}
    messages = pub.messages("datapalooza/main/detections")
    assert [m.payload["FrameId"] for m in messages] == ["f000001", "f000002", "f000003"]
    assert (counters.sent, counters.published, counters.faces) == (3, 3, 6)
    assert counters.crops == 3  # one face a frame was big enough to crop


@pytest.mark.parametrize(
    ("answer", "faces", "crops"),
    [
        ({"FaceCount": 3, "CropCount": 2, "Faces": []}, 3, 2),
        # Counts missing or not counts: the answer's own faces are counted instead.
        ({"Faces": [{"CropKey": "k"}, {"CropKey": None}, {}]}, 3, 1),
        ({"FaceCount": "3", "CropCount": -1, "Faces": [{"CropKey": "k"}]}, 1, 1),
        ({"FaceCount": True, "CropCount": 2.5, "Faces": "not a list"}, 0, 0),
        # Above the most faces an endpoint reports in a frame (constants.MAX_FACES_RANGE).
        ({"FaceCount": 10_001, "CropCount": 10**18, "Faces": [{"CropKey": "k"}]}, 1, 1),
    ],
)
def test_counts_come_from_the_answer_and_never_stop_the_camera(
    answer: dict[str, Any], faces: int, crops: int
) -> None:
    class Answering(FakeEndpoint):
        def detect(self, frame_jpeg: bytes, **kwargs: Any) -> dict[str, Any]:
            return answer

    svc, _ = service(Answering())
    counters = svc.run(max_frames=1)
    assert (counters.published, counters.faces, counters.crops) == (1, faces, crops)


def test_endpoint_down_for_a_while_camera_keeps_running_and_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = [EndpointError("cannot connect", kind="unavailable") for _ in range(4)]
    down += [
        EndpointError("slow down", kind="throttled"),
        EndpointError("read timeout", kind="timeout"),
    ]
    endpoint = FakeEndpoint(down)
    svc, pub = service(endpoint)
    with caplog.at_level(logging.WARNING):
        counters = svc.run(max_frames=10)
    assert counters.frames == 10
    assert counters.endpoint_errors == 6
    assert (counters.throttled, counters.timeouts) == (1, 1)
    assert counters.errors_by_kind == {"unavailable": 4, "throttled": 1, "timeout": 1}
    assert counters.published == 4  # resumed after the outage
    assert len(pub.messages()) == 4
    assert "endpoint unavailable: cannot connect" in caplog.text  # a clear log line


def test_backoff_grows_with_jitter_while_the_endpoint_is_down() -> None:
    backoff = Backoff(base_s=1.0, cap_s=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(4.0 <= d <= 8.0 for d in delays[3:])  # capped
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_a_failing_publisher_or_a_bug_does_not_stop_the_loop() -> None:
    class FlakyPublisher(InMemoryPublisher):
        def __init__(self) -> None:
            super().__init__()
            self.fail = 2

        def publish(self, topic: str, payload: Any) -> None:
            if self.fail:
                self.fail -= 1
                raise ConnectionError("MQTT broker offline")
            super().publish(topic, payload)

    endpoint = FakeEndpoint([RuntimeError("a bug in an adapter")])
    svc, _pub = service(endpoint, publisher=FlakyPublisher())
    counters = svc.run(max_frames=6)
    assert counters.unexpected_errors == 1
    assert counters.publish_errors == 2
    assert counters.published == 3


def test_a_camera_that_is_not_there_is_retried() -> None:
    attempts: list[int] = []

    def opener() -> FakeSource:
        attempts.append(1)
        if len(attempts) <= 2:
            raise SourceUnavailable("cannot open webcam:0")
        return FakeSource()

    svc, _pub = service(FakeEndpoint(), opener=opener)
    counters = svc.run(max_frames=2)
    assert counters.source_errors == 2 and counters.published == 2


def test_finite_source_ends_the_run() -> None:
    source = SyntheticFestivalSource(stage="main", width=160, height=90, frames=2)
    svc, _pub = service(FakeEndpoint(), opener=lambda: source)
    svc.run(max_frames=10)
    assert svc.exhausted and svc.counters.sent == 2


class TimedEndpoint(FakeEndpoint):
    """A FakeEndpoint that also notes when each frame reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_at: list[float] = []

    def detect(self, *args: Any, **kwargs: Any) -> Any:
        self.sent_at.append(time.monotonic())
        return super().detect(*args, **kwargs)


@pytest.mark.serial  # a 0.15 s margin on its timing, too little beside another test's load
def test_the_first_frame_waits_for_the_cameras_phase_and_the_run_still_ends_on_time() -> None:
    endpoint = TimedEndpoint()
    svc, _pub = service(endpoint, interval_s=0.2)
    started = time.monotonic()
    svc.run(duration_s=0.55, phase_s=0.3)
    took = time.monotonic() - started
    # Frames at 0.3 and 0.5 s: the phase delays the first, the duration counts from the call.
    assert len(endpoint.sent_at) == 2 and endpoint.sent_at[0] - started >= 0.29
    assert took < 0.55 + 0.15


def test_a_phase_longer_than_the_run_reads_no_frame() -> None:
    endpoint = FakeEndpoint()
    svc, _pub = service(endpoint)
    svc.run(duration_s=0.05, phase_s=5.0)
    assert endpoint.calls == []


def test_jpeg_fits_the_byte_budget_by_lowering_quality_then_size() -> None:
    noisy = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    big = encode_within(noisy, quality=95, max_bytes=10_000_000)
    small = encode_within(noisy, quality=95, max_bytes=40_000)
    assert len(small) <= 40_000 < len(big)
    with pytest.raises(FrameTooLarge, match="raise the maximum JPEG size"):
        encode_within(noisy, quality=95, max_bytes=200)


def test_settings_explicit_over_env_over_default_and_clear_errors() -> None:
    env = {
        "DATAPALOOZA_STAGE": "main",
        "DATAPALOOZA_INTERVAL_SECONDS": "5",
        "DATAPALOOZA_ENDPOINT_NAME": "faces-ep",
    }
    settings = CameraSettings.from_env(env, interval_s=1.5)
    assert (settings.stage, settings.interval_s, settings.endpoint_name) == (
        "main",
        1.5,
        "faces-ep",
    )
    assert settings.source == "synthetic:stage=main"
    with pytest.raises(CameraSettingsError, match="stage is not set"):
        CameraSettings.from_env({})
    with pytest.raises(CameraSettingsError, match="DATAPALOOZA_INTERVAL_SECONDS='soon'"):
        CameraSettings.from_env(
            {"DATAPALOOZA_STAGE": "main", "DATAPALOOZA_INTERVAL_SECONDS": "soon"}
        )
    with pytest.raises(CameraSettingsError, match="invalid stage"):
        CameraSettings(stage="../etc")
    with pytest.raises(CameraSettingsError, match="payload limit"):
        CameraSettings(stage="main", max_jpeg_bytes=7 * 1024 * 1024)


def test_a_teams_camera_publishes_on_the_topic_its_stack_names() -> None:
    # A team's stack sets DATAPALOOZA_TOPIC (datapalooza.naming.TeamNames.topic).
    settings = CameraSettings.from_env(
        {"DATAPALOOZA_STAGE": "main", "DATAPALOOZA_TOPIC": "datapalooza/alice/main/detections"}
    )
    pub = InMemoryPublisher()
    svc = CameraService(
        settings=settings,
        open_source=FakeSource,
        endpoint=FakeEndpoint(),
        publisher=pub,
        backoff=Backoff(base_s=0.001, cap_s=0.002),
    )
    svc.run(max_frames=1)
    assert len(pub.messages("datapalooza/alice/main/detections")) == 1
    assert pub.messages("datapalooza/main/detections") == []


@pytest.mark.parametrize(
    "topic", ["datapalooza/#", "datapalooza/+/detections", "$aws/things/x", "t" * 257]
)
def test_a_topic_that_is_no_publish_topic_is_refused(topic: str) -> None:
    with pytest.raises(CameraSettingsError, match="DATAPALOOZA_TOPIC"):
        CameraSettings(stage="main", topic=topic)


def test_the_festival_status_shows_a_stream_source_without_its_credentials() -> None:
    from datapalooza.festival.config import StageConfig
    from datapalooza.festival.runtime import StageRunner

    svc, _ = service(FakeEndpoint())
    config = StageConfig("main", "rtsp://admin:s3cret@10.0.0.5/stream")
    status = StageRunner(config, svc).status(elapsed_s=1.0, scored=0)
    assert status["source"] == "rtsp://***@10.0.0.5/stream"
    assert "s3cret" not in json.dumps(status)
