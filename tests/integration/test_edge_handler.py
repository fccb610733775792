"""The edge Lambda handler with the real detector, storing crops in a DirectoryFaceStore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from datapalooza.adapters.local.directory_face_store import DirectoryFaceStore
from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.domain.keys import CropKey
from tests.integration.test_camera_endpoint import load_entry, wait_until


def test_edge_handler_stores_only_face_crops_with_keys_and_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_IOT_THING_NAME", raising=False)
    edge_lambda = load_entry("deeplens/edge_inference/edge_lambda.py", "edge_lambda")
    store = DirectoryFaceStore(tmp_path / "bucket")
    broker = InMemoryPublisher()
    env = {
        "DATAPALOOZA_STAGE": "dance",
        "DATAPALOOZA_CAMERA": "edge-1",
        "DATAPALOOZA_SOURCE": "synthetic:stage=dance,seed=2,frames=3",
        "DATAPALOOZA_QUEUE_DIR": str(tmp_path / "queue"),
    }
    service = edge_lambda.start(env, publisher=broker, store=store)
    try:
        wait_until(lambda: service.stats.drained, timeout=60)
    finally:
        edge_lambda.stop()
    keys = list(store.keys())
    assert service.stats.frames == 3
    assert len(keys) == service.stats.crops >= 6
    for key in keys:
        parsed = CropKey.parse(key)
        _body, metadata = store.get(key)
        assert parsed.stage == "dance"
        assert metadata["stage"] == "dance" and metadata["camera"] == "edge-1"
        assert metadata["frame-id"] == parsed.frame_id
        box = json.loads(metadata["box"])
        assert 0 <= box["Left"] <= 1 and 0 < box["Width"] <= 1
        with Image.open(tmp_path / "bucket" / key) as crop:
            assert crop.format == "JPEG" and min(crop.size) >= 40  # only faces big enough
    stats = broker.messages("datapalooza/dance/edge-stats")[-1].payload
    assert stats["Uploaded"] == len(keys) and stats["QueueDepth"] == 0
    assert stats["BytesUploaded"] == sum(len(store.get(k)[0]) for k in keys)
