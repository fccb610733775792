"""The endpoint's HTTP contract, in-process and as a real server process."""

import json

import boto3
import numpy as np
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient
from PIL import Image

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.domain.keys import CropKey
from tests.conftest import grace_hopper_path, to_bytes
from tests.helpers.processes import run_datapalooza

HEADER = "X-Amzn-SageMaker-Custom-Attributes"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from datapalooza.endpoint.server import create_app

    store = tmp_path_factory.mktemp("bucket")
    app = create_app({"DATAPALOOZA_DATA_DIR": str(store)})
    with TestClient(app) as test_client:
        test_client.store = store
        yield test_client


def invoke(client, body, ctype="image/jpeg", attrs="stage=main,camera=cam-1"):
    return client.post("/invocations", content=body, headers={"Content-Type": ctype, HEADER: attrs})


def test_ping_answers_200(client):
    assert client.get("/ping").status_code == 200


def test_a_portrait_returns_the_face_and_its_stored_crop(client, grace_hopper_jpeg):
    response = invoke(client, grace_hopper_jpeg, attrs="stage=main,camera=cam-1,frame=f9")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["ImageWidth"] == 512 and body["ImageHeight"] == 600
    assert body["ModelId"] == "retinaface-mobilenet0.25-onnx"
    assert body["FaceCount"] == 1 and body["CropCount"] == 1
    face = body["Faces"][0]
    assert set(face["BoundingBox"]) == {"Left", "Top", "Width", "Height"}
    assert 90 < face["Confidence"] <= 100
    key = CropKey.parse(face["CropKey"])
    assert (key.stage, key.frame_id) == ("main", "f9")
    body_stored, meta = SqliteFaceStore(client.store).get(face["CropKey"])
    assert body_stored.startswith(b"\xff\xd8")  # a JPEG
    assert meta["camera"] == "cam-1" and meta["frame-id"] == "f9"


def test_an_image_without_faces_is_an_empty_result(client):
    blank = to_bytes(Image.new("RGB", (640, 360), (40, 90, 160)), "PNG")
    body = invoke(client, blank, "image/png").json()
    assert body["FaceCount"] == 0 and body["Faces"] == []


def _bomb():
    from tests.helpers.images import declared_png

    return declared_png(60_000, 60_000)


@pytest.mark.parametrize(
    ("body", "ctype", "attrs", "status", "code"),
    [
        (b"", "image/jpeg", "stage=main", 400, "empty_body"),
        (b"not an image at all", "image/jpeg", "stage=main", 400, "not_an_image"),
        ("TRUNCATED", "image/jpeg", "stage=main", 400, "corrupt_image"),
        ("PORTRAIT", "text/csv", "stage=main", 415, "unsupported_content_type"),
        (b"\0" * (6 * 1024 * 1024 + 10), "image/jpeg", "stage=main", 413, "payload_too_large"),
        ("BOMB", "image/png", "stage=main", 413, "image_too_large"),
        ("PORTRAIT", "image/jpeg", "stage=../../etc", 400, "bad_custom_attributes"),
        ("PORTRAIT", "image/jpeg", "stage=" + "x" * 60, 400, "bad_custom_attributes"),
    ],
    ids=["empty", "garbage", "truncated", "csv", "oversize", "bomb", "path-stage", "long-stage"],
)
def test_bad_requests_get_json_errors_and_the_server_keeps_serving(
    client, grace_hopper_jpeg, body, ctype, attrs, status, code
):
    body = {
        "TRUNCATED": grace_hopper_jpeg[: len(grace_hopper_jpeg) // 3],
        "PORTRAIT": grace_hopper_jpeg,
        "BOMB": _bomb(),
    }.get(body, body)
    before = set(SqliteFaceStore(client.store).keys())
    response = invoke(client, body, ctype, attrs)
    assert response.status_code == status
    assert response.json()["error"] == code and response.json()["message"]
    assert set(SqliteFaceStore(client.store).keys()) == before  # nothing stored for it
    assert invoke(client, grace_hopper_jpeg).status_code == 200


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "I;16"])
def test_grayscale_cmyk_alpha_and_16_bit_frames_are_served(client, grace_hopper_jpeg, mode):
    portrait = Image.open(grace_hopper_path())
    if mode == "I;16":
        image = Image.fromarray(np.asarray(portrait.convert("L")).astype(np.uint16) * 257)
    else:
        image = portrait.convert(mode)
    fmt, ctype = ("JPEG", "image/jpeg") if mode in ("L", "CMYK") else ("PNG", "image/png")
    response = invoke(client, to_bytes(image, fmt), ctype)
    assert response.status_code == 200
    assert response.json()["FaceCount"] == 1


def test_a_crop_store_failure_is_a_5xx_and_leaves_nothing_behind(tmp_path, grace_hopper_jpeg):
    from datapalooza.endpoint.server import create_app

    blocked = tmp_path / "bucket"
    blocked.mkdir()
    (blocked / "objects.sqlite").mkdir()  # a directory where the bucket's file should be
    with TestClient(create_app({"DATAPALOOZA_DATA_DIR": str(blocked)})) as failing:
        response = invoke(failing, grace_hopper_jpeg)
    assert response.status_code in (500, 503)
    assert response.json()["error"] == "store_failed"
    assert [p.name for p in blocked.rglob("*")] == ["objects.sqlite"]


def test_an_endpoint_with_stages_listed_refuses_others_and_stores_nothing(
    tmp_path, grace_hopper_jpeg
):
    from datapalooza.endpoint.server import create_app

    store = tmp_path / "bucket"
    env = {"DATAPALOOZA_DATA_DIR": str(store), "DATAPALOOZA_STAGES": "main,dance"}
    with TestClient(create_app(env)) as festival:
        refused = invoke(festival, grace_hopper_jpeg, attrs="stage=made-up,camera=cam-1")
        served = invoke(festival, grace_hopper_jpeg, attrs="stage=dance,camera=cam-1")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "bad_custom_attributes",
        "message": "stage 'made-up' is not one of this endpoint's stages (dance, main)",
    }
    assert served.status_code == 200 and served.json()["FaceCount"] == 1
    keys = [key for key, _ in SqliteFaceStore(store).listing()]
    assert keys and all(key.startswith("faces/dance/") for key in keys)


def test_a_bad_stage_list_stops_the_endpoint_at_start(tmp_path):
    from datapalooza.endpoint.server import create_app

    with pytest.raises(ValueError, match="invalid stage name 'Main Stage'"):
        create_app({"DATAPALOOZA_DATA_DIR": str(tmp_path), "DATAPALOOZA_STAGES": "Main Stage"})


def test_unmodified_boto3_talks_to_the_real_server_with_two_workers(tmp_path, grace_hopper_jpeg):
    from tests.conftest import start_endpoint

    process, port = start_endpoint(tmp_path / "bucket", workers=2)
    try:
        runtime = boto3.client(
            "sagemaker-runtime",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )
        keys = set()
        for i in range(4):
            response = runtime.invoke_endpoint(
                EndpointName="datapalooza-faces",
                ContentType="image/jpeg",
                Accept="application/json",
                Body=grace_hopper_jpeg,
                CustomAttributes=f"stage=side,camera=cam-2,frame=f{i}",
            )
            body = json.loads(response["Body"].read())
            assert response["ContentType"] == "application/json"
            assert body["Stage"] == "side" and body["FaceCount"] == 1
            keys.add(body["Faces"][0]["CropKey"])
        assert len(keys) == 4
        assert all(SqliteFaceStore(tmp_path / "bucket").exists(key) for key in keys)
        with pytest.raises(runtime.exceptions.ClientError) as caught:
            runtime.invoke_endpoint(EndpointName="x", ContentType="image/jpeg", Body=b"nope")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_busy_port_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_datapalooza("serve-endpoint", "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "in use" in result.stderr
