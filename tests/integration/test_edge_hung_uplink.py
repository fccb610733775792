"""The edge against an uplink that accepts connections and never answers. With botocore's
defaults (60 s timeouts, retries) one upload waited minutes."""

from __future__ import annotations

import time

import boto3
import pytest

from datapalooza.adapters.aws.s3_face_store import S3FaceStore
from datapalooza.devices.bootstrap import EDGE_S3_SILENT_UPLINK_S, edge_s3_client
from datapalooza.ports import StoreError
from tests.helpers.silent_uplink import silent_uplink

SLACK_S = 1.0
"""Scheduling and start-up on a busy test machine, on top of the stated margin."""
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
    with silent_uplink() as url:
        store = s3_on(url, monkeypatch)
        started = time.monotonic()
        with pytest.raises(StoreError) as failed:
            store.put("faces/main/2026/07/04/21/1783198800000-f1-0.jpg", b"x" * 20_000, {})
        took = time.monotonic() - started
    assert failed.value.transient, "a hung uplink must be retried later"
    assert took <= EDGE_S3_SILENT_UPLINK_S + SLACK_S
