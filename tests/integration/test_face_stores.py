"""FaceStore adapters: the local bucket (one SQLite file), and S3 (moto)."""

import json
import logging
import threading

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from datapalooza import constants
from datapalooza.adapters.aws.s3_face_store import S3FaceStore
from datapalooza.adapters.local.log_publisher import InMemoryPublisher
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.detection import DetectorSettings
from datapalooza.detection.face_crops import FaceCrop, store_crops
from datapalooza.devices.edge import EdgeService, EdgeSettings
from datapalooza.domain.backoff import Backoff
from datapalooza.domain.detections import BoundingBox, Detection
from datapalooza.ports import ObjectMissing, ObjectTooLarge, StoreError
from datapalooza.testing.fakes import FakeClock, FakeDetector, FakeSource

KEY = "faces/main/2026/07/04/21/1783198800000-f1-{}.jpg"


def crop(i: int) -> FaceCrop:
    detection = Detection(BoundingBox(0.1, 0.1, 0.2, 0.2), 99.0, 80, crop_key=KEY.format(i))
    pixels = np.zeros((80, 80, 3), dtype=np.uint8)
    return FaceCrop(detection, b"\xff\xd8jpeg%d" % i, {"stage": "main", "camera": "cam-1"}, pixels)


def test_local_store_keeps_bucket_keys_with_metadata(tmp_path):
    store = SqliteFaceStore(tmp_path)
    store.put(KEY.format(0), b"jpeg", {"stage": "main"})
    assert store.listing() == [(KEY.format(0), 4)]
    assert store.get(KEY.format(0)) == (b"jpeg", {"stage": "main"})
    assert list(store.keys()) == [KEY.format(0)]
    store.delete(KEY.format(0))
    store.delete(KEY.format(0))  # deleting twice is fine
    with pytest.raises(ObjectMissing):
        store.get(KEY.format(0))


def test_local_store_refuses_an_object_over_the_readers_limit(tmp_path):
    store = SqliteFaceStore(tmp_path)
    store.put(KEY.format(0), b"jpeg-6", {"stage": "main"})
    with pytest.raises(ObjectTooLarge) as caught:
        store.get(KEY.format(0), max_bytes=5)
    assert (caught.value.size, caught.value.limit) == (6, 5)
    assert str(caught.value) == f"{KEY.format(0)} is 6 bytes; the limit is 5 bytes"
    assert store.get(KEY.format(0), max_bytes=6) == (b"jpeg-6", {"stage": "main"})
    with pytest.raises(ObjectMissing):
        store.get(KEY.format(1), max_bytes=5)


def test_local_store_refuses_keys_outside_the_scheme(tmp_path):
    store = SqliteFaceStore(tmp_path / "bucket")
    for key in ("../escape.jpg", "faces/../../etc/passwd", "/abs.jpg", "faces/main/x.jpg"):
        with pytest.raises(ValueError):
            store.put(key, b"x", {})
        with pytest.raises(ValueError):
            store.get(key)
    assert not (tmp_path / "escape.jpg").exists()


def test_local_store_failure_is_a_store_error(tmp_path):
    blocker = tmp_path / "bucket"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(StoreError):
        SqliteFaceStore(blocker).put(KEY.format(0), b"x", {})


class FailingAfter:
    """A store whose n-th put fails, as a disk or network failure would."""

    def __init__(self, inner, fail_at: int):
        self.inner, self.fail_at, self.puts = inner, fail_at, 0

    def put(self, key, body, metadata):
        self.puts += 1
        if self.puts == self.fail_at:
            raise StoreError("disk full", transient=True)
        self.inner.put(key, body, metadata)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_failed_batch_leaves_no_half_written_crops(tmp_path):
    inner = SqliteFaceStore(tmp_path)
    with pytest.raises(StoreError):
        store_crops([crop(0), crop(1), crop(2)], FailingAfter(inner, fail_at=3))
    assert list(inner.keys()) == []


@mock_aws
def test_s3_store_puts_private_encrypted_objects_with_metadata():
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="faces", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    store = S3FaceStore(s3, "faces")
    store_crops([crop(0), crop(1)], store)
    head = s3.head_object(Bucket="faces", Key=KEY.format(1))
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "image/jpeg"
    assert head["Metadata"] == {"stage": "main", "camera": "cam-1"}
    assert store.get(KEY.format(0))[0] == b"\xff\xd8jpeg0"
    assert store.exists(KEY.format(0)) and not store.exists(KEY.format(9))
    with pytest.raises(ObjectMissing):
        store.get(KEY.format(9))


class Unread:
    """A GetObject body that fails the test if read; records that it was closed."""

    def __init__(self) -> None:
        self.closed = False

    def read(self, *args):
        raise AssertionError("the body of an object over the limit was read")

    def close(self) -> None:
        self.closed = True


@mock_aws
def test_s3_store_refuses_an_object_over_the_readers_limit_without_reading_it():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="faces")
    s3.put_object(Bucket="faces", Key=KEY.format(0), Body=b"jpeg-6", Metadata={"stage": "main"})
    store = S3FaceStore(s3, "faces")
    assert store.get(KEY.format(0), max_bytes=6) == (b"jpeg-6", {"stage": "main"})

    bodies = []
    real_get = s3.get_object

    def unread_get(**kwargs):
        response = real_get(**kwargs)
        bodies.append(Unread())
        return {**response, "Body": bodies[-1]}

    s3.get_object = unread_get
    with pytest.raises(ObjectTooLarge) as caught:
        store.get(KEY.format(0), max_bytes=5)
    assert (caught.value.size, caught.value.limit) == (6, 5)
    assert bodies[0].closed  # its connection is not handed back with the body unread


@mock_aws
def test_s3_store_rolls_back_a_batch_when_the_bucket_fails_midway():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="faces")
    store = S3FaceStore(s3, "faces")
    real_put = s3.put_object
    calls = {"n": 0}

    def flaky_put(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "PutObject")
        return real_put(**kwargs)

    s3.put_object = flaky_put
    with pytest.raises(StoreError) as caught:
        store_crops([crop(0), crop(1)], store)
    assert caught.value.transient
    assert s3.list_objects_v2(Bucket="faces")["KeyCount"] == 0


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("AccessDenied", False),
        ("NoSuchBucket", False),
        ("SlowDown", True),
        ("ServiceUnavailable", True),
        # Temporary credentials that ran out: the next try signs with fresh ones.
        ("ExpiredToken", True),
        ("ExpiredTokenException", True),
        ("RequestExpired", True),
    ],
)
def test_s3_errors_say_whether_a_retry_can_help(code, transient):
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(s3) as stub:
        stub.add_client_error("put_object", service_error_code=code, http_status_code=403)
        with pytest.raises(StoreError) as caught:
            S3FaceStore(s3, "faces").put(KEY.format(0), b"x", {})
    assert caught.value.transient is transient
    assert code in str(caught.value)
    json.dumps(str(caught.value))


def test_local_store_expires_old_hours_like_the_bucket_lifecycle(tmp_path):
    from datetime import UTC, datetime, timedelta

    from datapalooza.domain.keys import CropKey

    store = SqliteFaceStore(tmp_path)
    now = datetime(2026, 7, 4, 21, 30, tzinfo=UTC)
    old = str(CropKey("main", now - timedelta(hours=30), "f1", 0))
    recent = str(CropKey("main", now - timedelta(hours=2), "f2", 0))
    for key in (old, recent):
        store.put(key, b"jpeg", {"stage": "main"})
    assert store.expire(now - timedelta(hours=24)) == 1
    assert list(store.keys()) == [recent]
    assert not store.exists(old)


@mock_aws
def test_s3_store_takes_a_frames_crops_several_at_a_time_all_or_none():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="faces")
    store = S3FaceStore(s3, "faces")
    frame = [crop(i) for i in range(10)]
    store_crops(frame, store, at_once=store.puts_at_once)
    listed = s3.list_objects_v2(Bucket="faces")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(c.key for c in frame)

    real_put, lock, calls = s3.put_object, threading.Lock(), {"n": 0}

    def flaky_put(**kwargs):
        with lock:
            calls["n"] += 1
            failing = calls["n"] == 4
        if failing:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "PutObject")
        return real_put(**kwargs)

    s3.put_object = flaky_put
    for c in frame:
        s3.delete_object(Bucket="faces", Key=c.key)
    with pytest.raises(StoreError, match="SlowDown"):
        store_crops(frame, store, at_once=store.puts_at_once)
    assert s3.list_objects_v2(Bucket="faces")["KeyCount"] == 0


@mock_aws
def test_the_endpoint_puts_crops_several_at_a_time_to_a_bucket_and_one_by_one_locally(
    tmp_path, monkeypatch
):
    from datapalooza.endpoint.bootstrap import build_endpoint_model

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # what SageMaker's container sets
    to_bucket = build_endpoint_model(None, {constants.ENV_FACES_BUCKET: "faces"})
    to_directory = build_endpoint_model(None, {constants.ENV_DATA_DIR: str(tmp_path)})
    assert isinstance(to_bucket.store, S3FaceStore)
    assert to_bucket.puts_at_once == S3FaceStore.puts_at_once > 1
    assert isinstance(to_directory.store, SqliteFaceStore)
    assert to_directory.puts_at_once == 1


def test_an_expired_token_pauses_the_edge_for_its_backoff_not_as_a_rejection(
    tmp_path, caplog: pytest.LogCaptureFixture
):
    """Greengrass's token exchange credentials ran out: the edge used to call that a
    rejection, pause 300 s and tell a person to check the role."""
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    clock = FakeClock()
    edge = EdgeService(
        settings=EdgeSettings(stage="main", queue_dir=tmp_path / "queue"),
        open_source=FakeSource,
        detector=FakeDetector(faces=()),
        detector_settings=DetectorSettings(),
        store=S3FaceStore(s3, "faces"),
        publisher=InMemoryPublisher(),
        backoff=Backoff(base_s=1.0, cap_s=60.0),
        monotonic=clock,
    )
    edge.queue.push(KEY.format(0), b"sheet", {"stage": "main"})
    with Stubber(s3) as stub, caplog.at_level(logging.WARNING):
        stub.add_client_error(
            "put_object",
            service_error_code="ExpiredToken",
            service_message="The provided token has expired.",
            http_status_code=400,
        )
        stub.add_response("put_object", {})
        assert edge.drain() == 0
        clock.advance(1.0)  # the first backoff is 0.5 to 1 s, far from 300 s
        assert edge.drain() == 1
    assert edge.stats.store_rejections == 0 and edge.stats.upload_errors == 1
    assert "REJECTS" not in caplog.text and "retrying in" in caplog.text
