"""The edge against an uplink that accepts connections and never answers. With botocore's
defaults (60 s timeouts, retries) and uploads inside the frame loop, `datapalooza edge
--bucket b --duration 10 --interval 1 --drain-timeout 5` ran 6 min 08 s and captured
1 frame. Now capture keeps its pace, and the run ends by its drain deadline plus at most
one upload in flight (EDGE_S3_SILENT_UPLINK_S)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import boto3
import pytest

from datapalooza.adapters.aws.s3_face_store import S3FaceStore
from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.detection import DetectorSettings
from datapalooza.devices.bootstrap import EDGE_S3_SILENT_UPLINK_S, edge_s3_client
from datapalooza.devices.edge import EdgeService, EdgeSettings
from datapalooza.ports import StoreError
from datapalooza.testing.fakes import FakeDetector, FakeSource
from tests.helpers.processes import run_python
from tests.helpers.silent_uplink import silent_uplink

SLACK_S = 1.0
"""Scheduling and start-up on a busy test machine, on top of the stated margin."""
# Serial: each times the edge against a silent uplink with a second of slack (the
# command's start-up with 5 s); another test's load beside it would eat that slack.
pytestmark = pytest.mark.serial
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")


def s3_on(url: str, monkeypatch: pytest.MonkeyPatch) -> S3FaceStore:
    """The edge's own S3 client, sent to ``url`` (botocore's AWS_ENDPOINT_URL_S3)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    return S3FaceStore(edge_s3_client(session), "faces")


def test_one_upload_to_a_silent_uplink_fails_within_the_stated_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with silent_uplink() as uplink:
        store = s3_on(uplink.url, monkeypatch)
        started = time.monotonic()
        with pytest.raises(StoreError) as failed:
            store.put("faces/main/2026/07/04/21/1783198800000-f1-0.jpg", b"x" * 20_000, {})
        took = time.monotonic() - started
        assert uplink.connections == 1  # one try: the edge's backoff decides the next
    assert failed.value.transient, "a hung uplink must be retried later"
    assert took <= EDGE_S3_SILENT_UPLINK_S + SLACK_S


def test_capture_keeps_its_pace_and_the_drain_deadline_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duration_s, interval_s, drain_timeout_s = 2.0, 0.2, 1.0
    with silent_uplink() as uplink:
        service = EdgeService(
            settings=EdgeSettings(
                stage="main", queue_dir=tmp_path / "queue", interval_s=interval_s
            ),
            open_source=lambda: FakeSource(size=(200, 200)),
            detector=FakeDetector(),
            detector_settings=DetectorSettings(min_face_px=40),
            store=s3_on(uplink.url, monkeypatch),
            publisher=InMemoryPublisher(),
        )
        started = time.monotonic()
        stats = service.run(duration_s=duration_s, drain_timeout_s=drain_timeout_s)
        took = time.monotonic() - started
    assert stats.frames >= duration_s / interval_s - 1  # 10 frames due; 1 before the fix
    assert took <= duration_s + drain_timeout_s + EDGE_S3_SILENT_UPLINK_S + SLACK_S
    assert stats.uploaded == 0
    assert not stats.drained and stats.queue_depth == stats.frames  # every sheet kept


def test_the_edge_command_against_a_silent_uplink_ends_on_time(tmp_path: Path) -> None:
    """The reviewer's reproduction, shortened: the command, its real detector and the
    S3 client it builds for --bucket."""
    duration_s, interval_s, drain_timeout_s = 3.0, 0.5, 2.0
    with silent_uplink() as uplink:
        env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES}
        env |= {
            "AWS_ENDPOINT_URL_S3": uplink.url,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_REGION": "us-east-1",
        }
        started = time.monotonic()
        done = run_python(
            "-m",
            "datapalooza",
            "edge",
            "--stage",
            "main",
            "--source",
            "synthetic:stage=main,seed=3",
            "--bucket",
            "faces",
            "--queue-dir",
            str(tmp_path / "queue"),
            "--duration",
            str(duration_s),
            "--interval",
            str(interval_s),
            "--drain-timeout",
            str(drain_timeout_s),
            env=env,
            timeout=120,
        )
        took = time.monotonic() - started
    assert done.returncode == 1, done.stderr  # sheets left queued: status 1
    stats = json.loads(done.stdout.splitlines()[0])
    assert stats["frames"] >= duration_s / interval_s - 1
    start_up_s = 5.0  # interpreter, ONNX Runtime and the detector's weights
    assert took <= start_up_s + duration_s + drain_timeout_s + EDGE_S3_SILENT_UPLINK_S
    assert "still queued" in done.stdout
