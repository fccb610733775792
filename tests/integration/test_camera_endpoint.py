"""The Greengrass camera handler against the REAL local endpoint server
(``datapalooza serve-endpoint`` as a subprocess): down first, then up."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.domain.keys import CropKey
from tests.conftest import REPO, free_port, start_datapalooza, stop_server


def load_entry(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def camera_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.delenv("AWS_IOT_THING_NAME", raising=False)
    module = load_entry("greengrass/camera/camera_lambda.py", "camera_lambda")
    yield module
    module.stop()


def test_camera_handler_survives_endpoint_outage_then_publishes_real_detections(
    camera_lambda: ModuleType, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "DATAPALOOZA_STAGE": "main",
        "DATAPALOOZA_CAMERA": "cam-1",
        "DATAPALOOZA_SOURCE": "synthetic:stage=main,seed=5",
        "DATAPALOOZA_INTERVAL_SECONDS": "0.2",
        "DATAPALOOZA_ENDPOINT_NAME": "datapalooza-face-detection",
        "DATAPALOOZA_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    broker = InMemoryPublisher()
    # Given the camera runs while the endpoint is down
    service = camera_lambda.start(env, publisher=broker)
    service._loop.backoff.base_s, service._loop.backoff.cap_s = 0.1, 0.4  # keep the test short
    wait_until(lambda: service.counters.endpoint_errors >= 3, timeout=30)
    assert service.counters.published == 0
    assert service.counters.errors_by_kind.get("unavailable", 0) >= 3
    # When the endpoint comes up
    store = tmp_path / "bucket"
    process = start_datapalooza(
        "serve-endpoint", "--port", str(port), "--store", str(store), port=port
    )
    try:
        # Then the same loop resumes and publishes the endpoint's detections
        wait_until(lambda: len(broker.messages("datapalooza/main/detections")) >= 2, 60)
    finally:
        camera_lambda.stop()
        stop_server(process)
    answer = broker.messages("datapalooza/main/detections")[0].payload
    assert answer["Stage"] == "main" and answer["Camera"] == "cam-1"
    assert answer["ImageWidth"] == 1280 and answer["ImageHeight"] == 720
    assert answer["FaceCount"] >= 5  # a crowd of real faces, found by the real detector
    keys = [f["CropKey"] for f in answer["Faces"] if f["CropKey"]]
    assert keys and all(CropKey.parse(k).stage == "main" for k in keys)
    assert all(SqliteFaceStore(store).exists(k) for k in keys)  # the endpoint stored them
    assert service.counters.unexpected_errors == 0


def test_camera_handler_returns_counters_and_rejects_missing_stage(
    camera_lambda: ModuleType,
) -> None:
    from datapalooza.devices.camera import CameraSettingsError

    with pytest.raises(CameraSettingsError, match="stage is not set"):
        camera_lambda.start({}, publisher=InMemoryPublisher())
