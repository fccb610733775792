"""What ``CameraService.step`` must do: one capture -> endpoint -> publish, surviving
every outside failure (Challenge 2, device side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.devices.camera import CameraService, CameraSettings
from datapalooza.domain.backoff import Backoff
from datapalooza.exercises.checks import Check, Implementation
from datapalooza.ports import EndpointError
from datapalooza.testing.fakes import (
    FailingPublisher,
    FakeEndpoint,
    FakeSource,
    unplugged_camera,
)

TOPIC = constants.DETECTIONS_TOPIC.format(stage="main")


def _camera(
    endpoint: FakeEndpoint, *, publisher: Any = None, source: Any = FakeSource, **settings: Any
) -> tuple[CameraService, Any]:
    publisher = publisher if publisher is not None else InMemoryPublisher()
    service = CameraService(
        settings=CameraSettings(stage="main", camera="cam-1", interval_s=0.0, **settings),
        open_source=source,
        endpoint=endpoint,
        publisher=publisher,
        backoff=Backoff(base_s=0.001, cap_s=0.002),
    )
    return service, publisher


def sends_and_publishes(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint()
    camera, publisher = _camera(endpoint)
    ok = step(camera)
    assert ok is True, f"step returned {ok!r} for a frame that went through; expected True"
    assert len(endpoint.calls) == 1, f"the endpoint was called {len(endpoint.calls)} times"
    call = endpoint.calls[0]
    assert (call["stage"], call["camera"], call["frame_id"]) == ("main", "cam-1", "f000001"), (
        f"sent with stage/camera/frame_id {call['stage']}/{call['camera']}/{call['frame_id']}"
    )
    assert call["jpeg"][:2] == b"\xff\xd8", "the frame was not sent as JPEG bytes"
    messages = publisher.messages(TOPIC)
    assert len(messages) == 1, f"{len(messages)} messages on {TOPIC}; expected the answer once"
    assert messages[0].payload["FrameId"] == "f000001", "the published message is not the answer"
    counters = camera.counters
    assert (counters.frames, counters.sent, counters.published, counters.faces) == (1, 1, 1, 2), (
        f"counters frames/sent/published/faces = {counters.frames}/{counters.sent}/"
        f"{counters.published}/{counters.faces}; expected 1/1/1/2"
    )
    assert counters.bytes_sent == len(call["jpeg"]), "bytes_sent does not count the JPEG sent"
    assert counters.crops == 1, (
        f"counters.crops = {counters.crops}; expected 1 (of the 2 faces, the endpoint cropped 1:"
        " self.counters.count_answer(answer) counts both)"
    )


def survives_an_outage(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint([EndpointError("endpoint down", kind="unavailable")])
    camera, publisher = _camera(endpoint)
    ok = step(camera)
    assert ok is False, f"step returned {ok!r} when the endpoint was down; expected False"
    assert camera.counters.endpoint_errors == 1, "the outage was not counted in endpoint_errors"
    assert camera.counters.errors_by_kind.get("unavailable") == 1, (
        f"errors_by_kind = {camera.counters.errors_by_kind}; expected unavailable: 1"
    )
    assert publisher.messages(TOPIC) == [], "something was published for a frame with no answer"
    assert step(camera) is True, "the next frame, with the endpoint back, did not go through"


def counts_throttling_and_timeouts(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint(
        [EndpointError("slow down", kind="throttled"), EndpointError("no answer", kind="timeout")]
    )
    camera, _ = _camera(endpoint)
    assert step(camera) is False and step(camera) is False, "a failed frame must return False"
    counters = camera.counters
    assert (counters.throttled, counters.timeouts) == (1, 1), (
        f"throttled/timeouts = {counters.throttled}/{counters.timeouts}; expected 1/1"
    )


def survives_an_unplugged_camera(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint()
    camera, _ = _camera(endpoint, source=unplugged_camera)
    ok = step(camera)
    assert ok is False, f"step returned {ok!r} without a frame; expected False"
    assert camera.counters.source_errors == 1, "the missing camera was not counted"
    assert endpoint.calls == [], "the endpoint was called without a frame"


def survives_a_publish_failure(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint()
    camera, _ = _camera(endpoint, publisher=FailingPublisher())
    ok = step(camera)
    assert ok is False, f"step returned {ok!r} when publishing failed; expected False"
    assert camera.counters.publish_errors == 1, "the publish failure was not counted"
    assert camera.counters.sent == 1, "the frame reached the endpoint but was not counted as sent"


def fits_the_payload_limit(step: Implementation, workdir: Path) -> None:
    endpoint = FakeEndpoint()
    camera, _ = _camera(
        endpoint, source=lambda: FakeSource(size=(720, 1280), noisy=True), max_jpeg_bytes=60_000
    )
    assert step(camera) is True, "a large frame did not go through"
    size = len(endpoint.calls[0]["jpeg"])
    assert size <= 60_000, f"sent {size} bytes; the camera's max_jpeg_bytes is 60000"


CHECKS = (
    Check(
        "sends the frame as JPEG with stage, camera and frame id, publishes the answer",
        "read a frame (self._loop.read()), encode it, call self._endpoint.detect(...), "
        "publish the answer on self.topic, count frames/sent/bytes_sent/faces/published",
        sends_and_publishes,
    ),
    Check(
        "an endpoint outage is counted, not raised, and the next frame goes through",
        "catch EndpointError around detect(); count it with "
        "self._count_endpoint_error(exc.kind, str(exc)) and return False",
        survives_an_outage,
    ),
    Check(
        "throttling and timeouts are counted by kind",
        "EndpointError.kind is throttled, timeout, unavailable or rejected; "
        "self._count_endpoint_error does the counting",
        counts_throttling_and_timeouts,
    ),
    Check(
        "an unplugged camera is counted and nothing is sent",
        "self._loop.read() returns None when the source is unavailable: return False",
        survives_an_unplugged_camera,
    ),
    Check(
        "a failed MQTT publish is counted, not raised",
        "wrap self._publisher.publish(...) in try/except Exception; count publish_errors",
        survives_a_publish_failure,
    ),
    Check(
        "frames fit the camera's JPEG byte budget",
        "encode with encode_within(frame.image, quality=..., "
        "max_bytes=self.settings.max_jpeg_bytes)",
        fits_the_payload_limit,
    ),
)
