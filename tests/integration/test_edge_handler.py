"""The edge Lambda handler with the real detector, storing crop sheets in a
SqliteFaceStore."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.crop_sheets import CELL_PX, SheetLayout
from datapalooza.domain.keys import SheetKey, parse_object_key
from datapalooza.images import decode_image
from tests.integration.test_camera_endpoint import load_entry, wait_until


def test_edge_handler_stores_one_crop_sheet_per_frame_of_faces_big_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_IOT_THING_NAME", raising=False)
    edge_lambda = load_entry("deeplens/edge_inference/edge_lambda.py", "edge_lambda")
    store = SqliteFaceStore(tmp_path / "bucket")
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
    assert service.stats.frames == len(keys) == 3
    tiles = []
    for key in keys:
        parsed = parse_object_key(key)
        assert isinstance(parsed, SheetKey) and parsed.stage == "dance" and parsed.first == 0
        body, metadata = store.get(key)
        assert metadata["stage"] == "dance" and metadata["camera"] == "edge-1"
        assert metadata["frame-id"] == parsed.frame_id
        assert "box" not in metadata  # boxes go over MQTT with the detections
        tiles += SheetLayout.from_metadata(metadata).cut(decode_image(body))
    assert len(tiles) == service.stats.crops >= 6
    # Only faces big enough: a 40 px face with its margin stays over 40 px in its cell.
    assert all(40 <= max(t.shape[:2]) <= CELL_PX and min(t.shape[:2]) >= 40 for t in tiles)
    stats = broker.messages("datapalooza/dance/edge-stats")[-1].payload
    assert stats["Uploaded"] == len(keys) and stats["QueueDepth"] == 0
    assert stats["BytesUploaded"] == sum(len(store.get(k)[0]) for k in keys)
