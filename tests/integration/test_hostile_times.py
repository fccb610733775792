"""Time values from outside (a request's ts, a stored key, a queued crop) are checked
against stated windows; nothing is stored for a refused request, and code that reads
stored keys skips a bad one and says so instead of crashing or retrying forever."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.domain.keys import (
    CAPTURE_WINDOW_FUTURE,
    CAPTURE_WINDOW_PAST,
    CropKey,
    InvalidKey,
)
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops
from datapalooza.testing.fakes import FakeAnalyzer, FakeFaceStore, FakeMetricsSink, FakeResultsTable
from tests.helpers.emotions import crop_key, scores, solid_jpeg

HEADER = "X-Amzn-SageMaker-Custom-Attributes"
FAR_FUTURE_KEY = "faces/main/9999/12/31/23/253402300799999-f1-0.jpg"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from datapalooza.endpoint.server import create_app

    store = tmp_path_factory.mktemp("bucket")
    with TestClient(create_app({"DATAPALOOZA_DATA_DIR": str(store)})) as test_client:
        test_client.store = store
        yield test_client


def stored_keys(root: Path) -> list[str]:
    return list(SqliteFaceStore(root).keys())


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize(
    "ts",
    [
        "253402300799999",  # 9999-12-31: the crash of issue 9
        "-5",  # before the epoch: was a 500 with a traceback
        "0",
        str(10**30),
        "1e3",
        "",
        "a minute past the window",
        "a minute beyond the window",
    ],
)
def test_a_capture_time_outside_the_window_is_a_400_and_stores_nothing(
    client, grace_hopper_jpeg, ts
):
    # Relative times are computed now: a long suite run must not move them inside.
    if ts == "a minute past the window":
        ts = str(now_ms() - int(CAPTURE_WINDOW_PAST.total_seconds() * 1000) - 60_000)
    elif ts == "a minute beyond the window":
        ts = str(now_ms() + int(CAPTURE_WINDOW_FUTURE.total_seconds() * 1000) + 60_000)
    before = stored_keys(client.store)
    response = client.post(
        "/invocations",
        content=grace_hopper_jpeg,
        headers={"Content-Type": "image/jpeg", HEADER: f"stage=main,camera=cam-1,ts={ts}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_custom_attributes"
    assert "ts" in response.json()["message"]
    assert stored_keys(client.store) == before


def test_a_capture_time_inside_the_window_is_kept(client, grace_hopper_jpeg):
    ts = now_ms() - 3_600_000
    response = client.post(
        "/invocations",
        content=grace_hopper_jpeg,
        headers={"Content-Type": "image/jpeg", HEADER: f"stage=main,camera=cam-1,ts={ts}"},
    )
    assert response.status_code == 200
    assert response.json()["CapturedAtMs"] == ts
    assert SqliteFaceStore(client.store).exists(response.json()["Faces"][0]["CropKey"])


def test_a_406_is_decided_before_any_crop_is_stored(client, grace_hopper_jpeg):
    before = stored_keys(client.store)
    response = client.post(
        "/invocations",
        content=grace_hopper_jpeg,
        headers={
            "Content-Type": "image/jpeg",
            "Accept": "application/x-pickle",
            HEADER: "stage=main,camera=cam-1,frame=f406",
        },
    )
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable"
    assert stored_keys(client.store) == before


def test_the_tracker_rejects_a_far_future_key_and_scores_its_neighbours():
    store = FakeFaceStore()
    good = crop_key(index=0)
    ahead = str(CropKey("main", datetime.now(UTC) + timedelta(hours=1), "f2", 0))
    for key in (good, FAR_FUTURE_KEY, ahead):
        store.put(key, solid_jpeg(60), {"camera": "cam-1"})
    analyzer = FakeAnalyzer({solid_jpeg(60): scores(happy=90.0, calm=10.0)})
    results = FakeResultsTable()
    report = score_crops(
        [CropRef(FAR_FUTURE_KEY, "m1"), CropRef(good, "m2"), CropRef(ahead, "m3")],
        store=store,
        analyzer=analyzer,
        results=results,
        metrics=FakeMetricsSink(),
        settings=TrackerSettings(),
    )
    statuses = [o.status for o in report.outcomes]
    assert statuses == [CropStatus.REJECTED, CropStatus.SCORED, CropStatus.REJECTED]
    assert "future" in report.outcomes[2].detail
    assert report.failed_items == set()  # never retried forever
    assert len(results.items) == 1


def test_the_local_store_refuses_keys_outside_the_key_range(tmp_path):
    store = SqliteFaceStore(tmp_path)
    for bad in (FAR_FUTURE_KEY, "faces/main/2026/13/45/99/1783198800000-f1-0.jpg"):
        with pytest.raises(InvalidKey):
            store.put(bad, b"jpeg", {})
    assert list(store.keys()) == []


def test_crop_files_outside_the_key_range_from_an_older_bucket_go_with_a_warning(tmp_path, caplog):
    """An older bucket kept a file per crop; an up on one holding 9999/12/31/23 crashed at
    start (hour + 1 overflows). Such files are never moved into the bucket's file: no
    tracker would ever read them, and they must not outlive their expiry."""
    good = crop_key(index=0)
    for key in (good, FAR_FUTURE_KEY, "faces/main/2026/13/45/99/1783198800000-f1-0.jpg"):
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"jpeg")
    store = SqliteFaceStore(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert list(store.keys()) == [good]
    assert store.expire(datetime.now(UTC) - timedelta(hours=24 * 365)) == 0
    assert not (tmp_path / "faces").exists()
    assert "253402300799999" in caplog.text  # dropped and reported, not silently


def test_the_sagemaker_entry_refuses_a_406_in_input_fn_before_predict_stores(grace_hopper_jpeg):
    """In the container the toolkit calls input_fn, predict_fn (which stores), output_fn:
    the Accept header is read from the request context and refused in input_fn."""
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location(
        "sagemaker_inference_entry", REPO / "model" / "code" / "inference.py"
    )
    assert spec is not None and spec.loader is not None
    inference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inference)

    class Processor:
        def get_request_properties(self):
            return {"Accept": "application/x-pickle", HEADER: "stage=main"}

    class Context:
        request_processor = [Processor()]

    with pytest.raises(ValueError, match="406"):
        inference.input_fn(grace_hopper_jpeg, "image/jpeg", Context())


def test_the_sagemaker_entry_refuses_a_stage_it_does_not_serve_with_a_400(
    grace_hopper_jpeg, tmp_path, monkeypatch
):
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location(
        "sagemaker_inference_entry", REPO / "model" / "code" / "inference.py"
    )
    assert spec is not None and spec.loader is not None
    inference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(inference)
    monkeypatch.setenv("DATAPALOOZA_STAGES", "main")
    monkeypatch.setenv("DATAPALOOZA_DATA_DIR", str(tmp_path / "bucket"))
    model = inference.model_fn(str(tmp_path))

    class Processor:
        def get_request_properties(self):
            return {HEADER: "stage=made-up"}

    class Context:
        request_processor = [Processor()]

    frame = inference.input_fn(grace_hopper_jpeg, "image/jpeg", Context())
    with pytest.raises(ValueError, match="400: stage 'made-up' is not one of"):
        inference.predict_fn(frame, model)
    assert not (tmp_path / "bucket").exists()


def test_up_expiry_on_a_data_dir_holding_a_year_9999_crop_no_longer_crashes(tmp_path):
    """Every `up` on such a data directory crashed at start (issue 9)."""
    from datapalooza.festival.config import default_config
    from datapalooza.festival.runtime import Festival, FestivalOptions

    festival = Festival(FestivalOptions(data_dir=tmp_path, config=default_config(1)))
    bad = festival.layout.bucket / FAR_FUTURE_KEY
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"jpeg")
    assert festival.expire_old_crops() == 0  # dropped as the older bucket moved in
    assert not bad.exists()
