"""Device adapters: SageMaker Runtime (botocore Stubber), Greengrass and local publishers,
a real video file."""

from __future__ import annotations

import io
import json
import logging
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import boto3
import cv2
import numpy as np
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from datapalooza.adapters.aws.greengrass_publisher import (
    GreengrassIpcPublisher,
    GreengrassSdkPublisher,
)
from datapalooza.adapters.aws.sagemaker_endpoint import SageMakerDetectionEndpoint
from datapalooza.adapters.local.log_publisher import (
    InMemoryPublisher,
    LogPublisher,
    topic_matches,
)
from datapalooza.ports import EndpointError
from datapalooza.sources import SourceExhausted, open_source


def runtime() -> Any:
    return boto3.client(
        "sagemaker-runtime",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_invoke_endpoint_sends_jpeg_with_custom_attributes() -> None:
    client = runtime()
    answer = json.dumps({"Faces": [], "FaceCount": 0}).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {
                "Body": StreamingBody(io.BytesIO(answer), len(answer)),
                "ContentType": "application/json",
            },
            {
                "EndpointName": "faces",
                "ContentType": "image/jpeg",
                "Accept": "application/json",
                "Body": b"\xff\xd8jpeg",
                "CustomAttributes": ANY,
            },
        )
        result = SageMakerDetectionEndpoint(client, "faces").detect(
            b"\xff\xd8jpeg", stage="main", camera="cam-1", frame_id="f000001"
        )
    assert result == {"Faces": [], "FaceCount": 0}


def test_custom_attributes_carry_stage_camera_and_frame() -> None:
    client = runtime()
    seen: dict[str, Any] = {}

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.update(params)

    client.meta.events.register("provide-client-params.sagemaker-runtime.InvokeEndpoint", capture)
    answer = b'{"Faces": []}'
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint", {"Body": StreamingBody(io.BytesIO(answer), len(answer))}, None
        )
        SageMakerDetectionEndpoint(client, "faces").detect(
            b"jpeg", stage="dance", camera="cam-2", frame_id="f000042"
        )
    assert seen["CustomAttributes"].startswith("stage=dance,camera=cam-2,frame=f000042,ts=")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ThrottlingException", 400, "throttled"),
        ("ServiceUnavailable", 503, "unavailable"),
        ("ModelError", 424, "rejected"),
        ("ValidationError", 400, "rejected"),
    ],
)
def test_endpoint_errors_are_classified(code: str, status: int, kind: str) -> None:
    client = runtime()
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message="nope",
            http_status_code=status,
        )
        with pytest.raises(EndpointError) as caught:
            SageMakerDetectionEndpoint(client, "faces").detect(
                b"jpeg", stage="main", camera="cam-1", frame_id="f1"
            )
    assert caught.value.kind == kind
    assert "faces" in str(caught.value)


def test_missing_endpoint_is_unavailable_not_fatal() -> None:
    client = runtime()
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ValidationError",
            service_message="Endpoint faces of account 1 not found.",
            http_status_code=400,
        )
        with pytest.raises(EndpointError) as caught:
            SageMakerDetectionEndpoint(client, "faces").detect(
                b"jpeg", stage="main", camera="cam-1", frame_id="f1"
            )
    assert caught.value.kind == "unavailable"


def test_unreachable_endpoint_url_is_unavailable() -> None:
    from botocore.config import Config

    from tests.conftest import free_port

    client = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )
    with pytest.raises(EndpointError) as caught:
        SageMakerDetectionEndpoint(client, "faces").detect(
            b"jpeg", stage="main", camera="cam-1", frame_id="f1"
        )
    assert caught.value.kind == "unavailable"


def sent_headers(client: Any) -> dict[str, str]:
    """The headers of the InvokeEndpoint request ``client`` sends, captured at botocore's
    before-send event (after signing) and answered there, so nothing leaves."""
    from botocore.awsrequest import AWSResponse

    seen: dict[str, str] = {}

    def answer(request: Any, **_: Any) -> AWSResponse:
        for name, value in request.headers.items():
            seen[name] = value.decode() if isinstance(value, bytes) else value
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Raw(b"{}"))

    client.meta.events.register("before-send.sagemaker-runtime.InvokeEndpoint", answer)
    client.invoke_endpoint(EndpointName="faces", ContentType="image/jpeg", Body=b"jpeg")
    return seen


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def stream(self, **_: Any) -> Any:
        yield self._data.read()


def without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_local_endpoint_without_credentials_gets_unsigned_requests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datapalooza.devices.bootstrap import sagemaker_runtime_client
    from datapalooza.devices.camera import CameraSettings

    without_credentials(monkeypatch, tmp_path)
    settings = CameraSettings(stage="main", endpoint_url="http://127.0.0.1:8080")
    headers = sent_headers(sagemaker_runtime_client(settings))
    assert headers["Content-Type"] == "image/jpeg"
    assert "Authorization" not in headers
    assert "X-Amz-Date" not in headers


def test_with_credentials_requests_are_signed_whatever_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datapalooza.devices.bootstrap import sagemaker_runtime_client
    from datapalooza.devices.camera import CameraSettings

    without_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    settings = CameraSettings(stage="main", endpoint_url="https://runtime.example.internal")
    headers = sent_headers(sagemaker_runtime_client(settings))
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/sagemaker/aws4_request" in headers["Authorization"]


def test_the_cameras_endpoint_client_tries_once_and_leaves_retries_to_the_camera(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """retries={"max_attempts": 1} is one retry in botocore (it counts retries): a frame
    sent to an endpoint that hung waited twice its timeout, on two connections."""
    from datapalooza.devices.bootstrap import sagemaker_runtime_client
    from datapalooza.devices.camera import CameraSettings
    from tests.helpers.silent_uplink import silent_uplink

    without_credentials(monkeypatch, tmp_path)
    with silent_uplink() as endpoint:
        settings = CameraSettings(stage="main", endpoint_url=endpoint.url, timeout_s=0.3)
        client = sagemaker_runtime_client(settings)
        with pytest.raises(EndpointError) as caught:
            SageMakerDetectionEndpoint(client, "faces").detect(
                b"jpeg", stage="main", camera="cam-1", frame_id="f1"
            )
        assert endpoint.connections == 1
    assert caught.value.kind == "timeout"


class RecordingClient:
    """Both SDKs' clients: v1's publish, v2's publish_to_iot_core_async whose answer is
    a future (``answers``: False for a nucleus that never answers)."""

    def __init__(self, *, answers: bool = True) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answers = answers
        self.futures: list[Future[Any]] = []

    def publish(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def publish_to_iot_core_async(self, **kwargs: Any) -> Future[Any]:
        self.calls.append(kwargs)
        future: Future[Any] = Future()
        if self.answers:
            future.set_result(None)
        self.futures.append(future)
        return future


def test_greengrass_publishers_send_json_on_the_topic() -> None:
    v1, v2 = RecordingClient(), RecordingClient()
    GreengrassSdkPublisher(v1).publish("datapalooza/main/detections", {"FaceCount": 3})
    GreengrassIpcPublisher(v2).publish("datapalooza/main/edge-stats", {"Fps": 1.5})
    assert v1.calls == [
        {
            "topic": "datapalooza/main/detections",
            "queueFullPolicy": "AllOrException",
            "payload": b'{"FaceCount":3}',
        }
    ]
    assert v2.calls == [
        {"topic_name": "datapalooza/main/edge-stats", "qos": "1", "payload": b'{"Fps":1.5}'}
    ]


def test_a_nucleus_that_never_answers_fails_the_publish_within_its_timeout() -> None:
    """The synchronous publish_to_iot_core waited forever on the answer: the camera's
    and the edge's loops stopped with it."""
    client = RecordingClient(answers=False)
    publisher = GreengrassIpcPublisher(client, timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not answer a publish on a/b within 0\.2s"):
        publisher.publish("a/b", {"Fps": 1.0})
    assert 0.2 <= time.monotonic() - started < 2.0
    assert client.futures[0].cancelled()  # nothing left waiting on it


def test_a_camera_whose_nucleus_hangs_counts_the_publish_and_goes_on(tmp_path: Path) -> None:
    from datapalooza.devices.camera import CameraService, CameraSettings
    from datapalooza.testing.fakes import FakeEndpoint, FakeSource

    camera = CameraService(
        settings=CameraSettings(stage="main", interval_s=0.0),
        open_source=lambda: FakeSource(3),
        endpoint=FakeEndpoint(),
        publisher=GreengrassIpcPublisher(RecordingClient(answers=False), timeout_s=0.05),
    )
    counters = camera.run()
    assert counters.frames == 3 and counters.publish_errors == 3
    assert "did not answer" in counters.last_error


def test_in_memory_publisher_delivers_to_matching_subscribers() -> None:
    broker = InMemoryPublisher()
    got: list[str] = []
    unsubscribe = broker.subscribe("datapalooza/+/detections", lambda t, p: got.append(t))
    broker.subscribe("datapalooza/#", lambda t, p: (_ for _ in ()).throw(RuntimeError("bad")))
    broker.publish("datapalooza/main/detections", {"a": 1})
    broker.publish("datapalooza/main/edge-stats", {"a": 2})
    unsubscribe()
    broker.publish("datapalooza/dance/detections", {"a": 3})
    assert got == ["datapalooza/main/detections"]
    assert len(broker.messages("datapalooza/#")) == 3
    assert topic_matches("a/#", "a/b/c") and not topic_matches("a/+", "a/b/c")


def test_log_publisher_writes_one_json_line_and_serialises_nothing_it_does_not_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Counted:
        seen = 0

        def __str__(self) -> str:
            Counted.seen += 1
            return "counted"

    logger = logging.getLogger("test.mqtt")
    publisher = LogPublisher(logger, level=logging.DEBUG)
    with caplog.at_level(logging.INFO, logger="test.mqtt"):
        publisher.publish("datapalooza/main/detections", {"Faces": [Counted()]})
    assert Counted.seen == 0 and caplog.records == []  # DEBUG is off: not even serialised
    with caplog.at_level(logging.DEBUG, logger="test.mqtt"):
        publisher.publish("datapalooza/main/detections", {"Faces": [Counted()]})
    assert Counted.seen == 1
    assert [r.getMessage() for r in caplog.records] == [
        'datapalooza/main/detections {"Faces":["counted"]}'
    ]


def test_video_file_source_reads_every_frame_then_ends(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (64, 48))
    for value in (20, 120, 220):
        writer.write(np.full((48, 64, 3), value, np.uint8))
    writer.release()
    source = open_source(f"file:{path}")
    levels = [int(source.read().image.mean()) for _ in range(3)]
    assert [abs(a - b) < 10 for a, b in zip(levels, (20, 120, 220), strict=True)] == [True] * 3
    with pytest.raises(SourceExhausted):
        source.read()
    source.close()
