"""The emotion tracker Lambda end to end on moto: S3 notifies SQS (moto sends the real
notifications, test event and URL-encoded keys included), the handler scores the crops
through a Rekognition client stubbed with botocore's Stubber, writes DynamoDB items
and prints EMF metrics."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.stub import ANY
from moto import mock_aws

from datapalooza import constants
from datapalooza.adapters.aws.calls_at_once import CALLS_AT_ONCE
from datapalooza.adapters.aws.lambda_events import MAX_BODY_BYTES, CropsFailed
from datapalooza.adapters.aws.rekognition_analyzer import RekognitionAnalyzer
from datapalooza.crop_sheets import build_sheet
from datapalooza.domain.keys import SheetKey
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, aws_scorer
from datapalooza.emotions.mosaic import MosaicAnalyzer
from datapalooza.images import decode_image, encode_jpeg
from datapalooza.settings import SettingsError
from tests.helpers.dynamodb import create_idempotency_table, create_results_table
from tests.helpers.emotions import T0, crop_key, mosaic_answer, real_face_crops
from tests.integration.rekognition_stub import stubbed_rekognition

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "events"
BUCKET = "datapalooza-faces-test"
TABLE = "datapalooza-results"
IDEMPOTENCY = "datapalooza-idempotency"
DETECT = {"Image": {"Bytes": ANY}, "Attributes": ["EMOTIONS"]}


@dataclasses.dataclass
class LambdaContext:
    function_name: str = "emotion-tracker"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:emotion-tracker"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"


def load_handler():
    spec = importlib.util.spec_from_file_location(
        "emotion_tracker_handler", REPO / "lambdas" / "emotion_tracker" / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(constants.ENV_FACES_BUCKET, BUCKET)
    monkeypatch.setenv(constants.ENV_RESULTS_TABLE, TABLE)
    monkeypatch.setenv(constants.ENV_IDEMPOTENCY_TABLE, IDEMPOTENCY)
    with mock_aws():
        s3, sqs, dynamodb = boto3.client("s3"), boto3.client("sqs"), boto3.client("dynamodb")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        queue = sqs.create_queue(QueueName="crops")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": arn["Attributes"]["QueueArn"],
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "faces/"}]}},
                    }
                ]
            },
        )
        create_results_table(dynamodb, TABLE)
        create_idempotency_table(dynamodb, IDEMPOTENCY)
        yield {"s3": s3, "sqs": sqs, "queue": queue, "dynamodb": dynamodb}


def wire(monkeypatch, module, *, mode: str, max_attempts: int = 5, queue_url: str = ""):
    """The real composition root under moto, with a stubbed Rekognition client."""
    settings = TrackerSettings.from_env(
        {
            constants.ENV_FACES_BUCKET: BUCKET,
            constants.ENV_RESULTS_TABLE: TABLE,
            constants.ENV_IDEMPOTENCY_TABLE: IDEMPOTENCY,
            constants.ENV_CROPS_QUEUE_URL: queue_url,
        },
        mode=mode,
        max_attempts=max_attempts,
    )
    tracker = aws_scorer(settings)
    # The Lambda's claims, reads and writes run side by side: every test here does so on moto.
    assert tracker.at_once == CALLS_AT_ONCE > 1
    client = boto3.client("rekognition")
    rekognition = RekognitionAnalyzer(
        client,
        max_attempts=max_attempts,
        sleep=lambda _: None,
        on_throttled=module.count_throttled,  # what the handler's scorer() wires
    )
    analyzer = MosaicAnalyzer(rekognition, max_tiles=36) if mode == "mosaic" else rekognition
    monkeypatch.setattr(module, "scorer", lambda: dataclasses.replace(tracker, analyzer=analyzer))
    return client, rekognition


def sqs_event(aws) -> dict:
    """The Lambda event the SQS event source mapping would build from the queue."""
    messages = (
        aws["sqs"]
        .receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10, AttributeNames=["All"])
        .get("Messages", [])
    )
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:crops",
                "awsRegion": "eu-west-1",
            }
            for m in messages
        ]
    }


def put_crops(aws, *bodies: bytes) -> None:
    """Store the crops in the faces bucket, the i-th at crop_key(index=i)."""
    for index, body in enumerate(bodies):
        aws["s3"].put_object(Bucket=BUCKET, Key=crop_key(index=index), Body=body)


def committed_event(name: str) -> dict:
    """One of the canonical Lambda events under tests/events."""
    return json.loads((EVENTS / name).read_text())


def items(aws) -> dict[str, dict]:
    return {i["face_key"]["S"]: i for i in aws["dynamodb"].scan(TableName=TABLE)["Items"]}


def emf(capsys) -> list[dict]:
    lines = capsys.readouterr().out.splitlines()
    return [json.loads(line) for line in lines if line.startswith('{"_aws"')]


def test_sqs_batch_with_every_kind_of_crop(aws, monkeypatch, capsys):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    s3 = aws["s3"]
    s3.put_object(
        Bucket=BUCKET,
        Key=crop_key(index=0),
        Body=astronaut,
        Metadata={"stage": "main", "camera": "cam-1"},
    )
    s3.put_object(
        Bucket=BUCKET,
        Key=crop_key(index=1),
        Body=hopper,
        Metadata={"stage": "main", "camera": "cam-2"},
    )
    s3.put_object(Bucket=BUCKET, Key=crop_key("side", index=0), Body=astronaut)  # no face back
    s3.put_object(Bucket=BUCKET, Key=crop_key(index=2), Body=b"%PDF-1.7 not an image")
    s3.put_object(Bucket=BUCKET, Key="faces/Main Stage/selfie.jpg", Body=astronaut)
    s3.put_object(Bucket=BUCKET, Key=crop_key(index=3), Body=hopper)
    s3.delete_object(Bucket=BUCKET, Key=crop_key(index=3))  # deleted before processing
    event = sqs_event(aws)
    assert json.loads(event["Records"][0]["body"])["Event"] == "s3:TestEvent"
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")

    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces",
            mosaic_answer([astronaut, hopper, astronaut], ["HAPPY", "CALM", None]),
            DETECT,
        )
        response = handler.handler(event, LambdaContext())
        stub.assert_no_pending_responses()

    assert response == {"batchItemFailures": []}
    assert rekognition.calls == 1  # three crops, one DetectFaces call
    stored = items(aws)
    assert set(stored) == {crop_key(index=0), crop_key(index=1)}
    assert stored[crop_key(index=0)]["dominant"]["S"] == "HAPPY"
    assert stored[crop_key(index=1)]["camera"]["S"] == "cam-2"
    documents = emf(capsys)
    counted = {
        (d["Stage"], name): d[name]
        for d in documents
        for name in ("FacesAnalyzed", "NoFaceFound", "CropRejected", "CropMissing")
        if name in d and "Stage" in d
    }
    assert counted == {
        ("main", "FacesAnalyzed"): [2.0],
        ("side", "NoFaceFound"): [1.0],
        ("main", "CropRejected"): [1.0],  # not an image
        ("invalid", "CropRejected"): [1.0],  # key outside the scheme
        ("main", "CropMissing"): [1.0],
    }


def test_throttled_crop_fails_only_its_message(aws, monkeypatch, capsys):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = sqs_event(aws)
    by_key = {
        json.loads(r["body"]).get("Records", [{}])[0].get("s3", {}).get("object", {}).get("key"): r[
            "messageId"
        ]
        for r in event["Records"]
    }
    client, _ = wire(monkeypatch, handler, mode="per-crop", max_attempts=2)

    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces",
            {
                "FaceDetails": [
                    {
                        "BoundingBox": {"Left": 0.2, "Top": 0.2, "Width": 0.6, "Height": 0.6},
                        "Emotions": [{"Type": "HAPPY", "Confidence": 99.0}],
                    }
                ]
            },
            DETECT,
        )
        stub.add_client_error("detect_faces", "ThrottlingException")
        stub.add_client_error("detect_faces", "ThrottlingException")
        response = handler.handler(event, LambdaContext())

    failed_key = crop_key(index=1).replace("/", "%2F")
    assert response == {"batchItemFailures": [{"itemIdentifier": by_key[failed_key]}]}
    assert set(items(aws)) == {crop_key(index=0)}
    # Both throttled answers are counted for the Rekognition quota alarm.
    throttled = [doc for doc in emf(capsys) if constants.REKOGNITION_THROTTLED_METRIC in doc]
    assert len(throttled) == 1
    assert throttled[0][constants.REKOGNITION_THROTTLED_METRIC] == [1.0, 1.0]  # Sum: 2
    assert throttled[0]["service"] == constants.TRACKER_METRICS_SERVICE


def test_duplicate_delivery_writes_nothing_and_emits_no_metric_twice(aws, monkeypatch, capsys):
    handler = load_handler()
    astronaut, _ = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut)
    event = sqs_event(aws)
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")
    with stubbed_rekognition(client) as stub:
        stub.add_response("detect_faces", mosaic_answer([astronaut], ["HAPPY"]), DETECT)
        handler.handler(event, LambdaContext())
        first = emf(capsys)
        handler.handler(event, LambdaContext())  # S3/SQS delivered it again
        second = emf(capsys)
    assert rekognition.calls == 1  # checked before scoring, not only at the write
    assert len(items(aws)) == 1
    assert any("HAPPY" in d for d in first)
    assert not any("HAPPY" in d or "FacesAnalyzed" in d for d in second)


def test_direct_s3_event_with_several_records(aws, monkeypatch):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = committed_event("s3_object_created.json")
    client, _ = wire(monkeypatch, handler, mode="mosaic")
    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces", mosaic_answer([astronaut, hopper], ["HAPPY", "SAD"]), DETECT
        )
        summary = handler.handler(event, LambdaContext())
    assert summary["scored"] == 2 and summary["failed"] == 0
    assert items(aws)[crop_key(index=1)]["dominant"]["S"] == "SAD"


def test_an_object_bigger_than_its_notification_says_is_rejected_unread(aws, monkeypatch):
    """A notification's size is the version it announced: the key may have been written
    again since, bigger. The S3 store refuses it by its ContentLength, unread (read, it
    would have been refused as payload_too_large)."""
    handler = load_handler()
    astronaut, _ = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, b"\xff\xd8" + bytes(6 * 1024 * 1024))
    client, _ = wire(monkeypatch, handler, mode="mosaic")
    announced = [CropRef(crop_key(index=i), f"m{i}", size=5012) for i in range(2)]
    with stubbed_rekognition(client) as stub:
        stub.add_response("detect_faces", mosaic_answer([astronaut], ["HAPPY"]), DETECT)
        scored, rejected = handler.scorer().score(announced).outcomes
    assert scored.status is CropStatus.SCORED
    assert rejected.status is CropStatus.REJECTED
    assert rejected.detail == f"{6 * 1024 * 1024 + 2} bytes is over the 5242880 limit"


def test_direct_s3_event_raises_for_retry_when_throttled(aws, monkeypatch):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = committed_event("s3_object_created.json")
    client, _ = wire(monkeypatch, handler, mode="mosaic", max_attempts=1)
    with stubbed_rekognition(client) as stub:
        stub.add_client_error("detect_faces", "ProvisionedThroughputExceededException")
        with pytest.raises(CropsFailed, match="2 crops failed"):
            handler.handler(event, LambdaContext())
    assert items(aws) == {}


def test_test_event_and_oversized_object_are_handled(aws, monkeypatch):
    handler = load_handler()
    wire(monkeypatch, handler, mode="mosaic")
    test_event = committed_event("s3_test_event.json")
    assert handler.handler(test_event, LambdaContext())["scored"] == 0

    event = committed_event("s3_object_created.json")
    event["Records"] = event["Records"][:1]
    event["Records"][0]["s3"]["object"]["size"] = 20 * 1024 * 1024
    summary = handler.handler(event, LambdaContext())  # rejected before any download
    assert summary["rejected"] == 1 and summary["failed"] == 0


@pytest.mark.parametrize(
    "broken_body",
    [
        lambda good: "{not json",
        # Under SQS's size limit, nested too deep for the parser's recursion.
        lambda good: "[" * 200_000,
        # A real notification padded past what SQS delivers: refused before parsing.
        lambda good: good + " " * MAX_BODY_BYTES,
    ],
    ids=["not-json", "nested-200000-deep", "over-sqs-size"],
)
def test_committed_sqs_event_with_malformed_message(aws, monkeypatch, broken_body):
    """A body that cannot be parsed, whatever the reason, fails its own message only:
    it is reported in batchItemFailures and its neighbours' crops are scored."""
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = committed_event("sqs_s3_batch.json")
    good = event["Records"][0]
    event["Records"].append(dict(good, messageId="broken", body=broken_body(good["body"])))
    client, _ = wire(monkeypatch, handler, mode="mosaic")
    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces", mosaic_answer([astronaut, hopper], ["HAPPY", "CALM"]), DETECT
        )
        response = handler.handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert len(items(aws)) == 2


def test_composition_root_names_a_missing_setting(monkeypatch):
    handler = load_handler()
    monkeypatch.delenv(constants.ENV_RESULTS_TABLE, raising=False)
    monkeypatch.setenv(constants.ENV_FACES_BUCKET, BUCKET)
    with pytest.raises(SettingsError, match=constants.ENV_RESULTS_TABLE):
        handler.scorer()


def message_ids(event) -> dict[str, str]:
    """Crop key -> the SQS message that announced it (test events left out)."""
    ids = {}
    for record in event["Records"]:
        body = json.loads(record["body"])
        for s3_record in body.get("Records", []):
            key = unquote_plus(s3_record["s3"]["object"]["key"])
            ids[key] = record["messageId"]
    return ids


def test_a_crop_that_breaks_the_mosaic_fails_only_its_own_message(aws, monkeypatch):
    """Rekognition refuses a mosaic because of one crop: the tracker splits the call
    until it finds that crop; its message alone is reported, the others are scored."""
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    poison = real_face_crops()[0][1][:-2] + b"\xff\xd9"  # decodes here, refused there
    put_crops(aws, astronaut, poison, hopper)
    event = sqs_event(aws)
    ids = message_ids(event)
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")

    refused = "InvalidImageFormatException"
    with stubbed_rekognition(client) as stub:
        stub.add_client_error("detect_faces", refused)  # the mosaic of all three
        stub.add_response("detect_faces", mosaic_answer([astronaut], ["HAPPY"]), DETECT)
        stub.add_client_error("detect_faces", refused)  # [poison, hopper]
        stub.add_client_error("detect_faces", refused)  # [poison]
        stub.add_response("detect_faces", mosaic_answer([hopper], ["CALM"]), DETECT)
        response = handler.handler(event, LambdaContext())
        stub.assert_no_pending_responses()

    assert response == {"batchItemFailures": [{"itemIdentifier": ids[crop_key(index=1)]}]}
    assert set(items(aws)) == {crop_key(index=0), crop_key(index=2)}
    assert rekognition.calls == 5


def test_a_crop_that_crashes_its_parser_does_not_fail_the_batch(aws, monkeypatch):
    """A key whose timestamp is beyond the calendar made the whole invocation raise,
    failing every message of the batch (up to 50) over and over."""
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    bad_key = "faces/main/9999/12/31/23/253402300800000-f1-0.jpg"  # year 10000
    aws["s3"].put_object(Bucket=BUCKET, Key=crop_key(index=0), Body=astronaut)
    aws["s3"].put_object(Bucket=BUCKET, Key=bad_key, Body=astronaut)
    aws["s3"].put_object(Bucket=BUCKET, Key=crop_key(index=1), Body=hopper)
    event = sqs_event(aws)
    ids = message_ids(event)
    client, _ = wire(monkeypatch, handler, mode="mosaic")
    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces", mosaic_answer([astronaut, hopper], ["HAPPY", "SAD"]), DETECT
        )
        response = handler.handler(event, LambdaContext())

    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed <= {ids[bad_key]}  # failed on its own, or rejected outright
    assert set(items(aws)) == {crop_key(index=0), crop_key(index=1)}


def test_a_repeated_notification_costs_no_rekognition_call_whatever_the_outcome(
    aws, monkeypatch, capsys
):
    """Scored, no face, rejected and missing crops are all answered from the
    idempotency table the second time: no DetectFaces call, no metric, no item."""
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    # Crop 0 is scored, 1 has no face, 2 is not an image and 3 goes missing.
    put_crops(aws, astronaut, hopper, b"not an image", hopper)
    aws["s3"].delete_object(Bucket=BUCKET, Key=crop_key(index=3))
    event = sqs_event(aws)
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")
    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces", mosaic_answer([astronaut, hopper], ["HAPPY", None]), DETECT
        )
        first = handler.handler(event, LambdaContext())
        first_metrics = emf(capsys)
        again = handler.handler(event, LambdaContext())  # every message delivered again
        second_metrics = emf(capsys)
        stub.assert_no_pending_responses()

    assert first == again == {"batchItemFailures": []}
    assert rekognition.calls == 1
    assert len(items(aws)) == 1
    names = ("FacesAnalyzed", "NoFaceFound", "CropRejected", "CropMissing")
    assert {n for d in first_metrics for n in names if n in d and "Stage" in d} == set(names)
    assert not [n for d in second_metrics for n in names if n in d and "Stage" in d]
    records = aws["dynamodb"].scan(TableName=IDEMPOTENCY)["Items"]
    outcomes = sorted(json.loads(r["data"]["S"])["outcome"] for r in records)
    assert outcomes == ["missing", "no_face", "rejected", "scored"]
    assert all(r["status"]["S"] == "COMPLETED" for r in records)


def test_a_crop_claimed_by_a_running_invocation_is_retried_not_scored_twice(aws, monkeypatch):
    handler = load_handler()
    astronaut, _ = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut)
    event = sqs_event(aws)
    ids = message_ids(event)
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")
    etag = aws["s3"].head_object(Bucket=BUCKET, Key=crop_key(index=0))["ETag"].strip('"')
    handler.scorer().ledger.claim(crop_key(index=0), etag, lease_ms=60_000)  # elsewhere
    with stubbed_rekognition(client):
        response = handler.handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[crop_key(index=0)]}]}
    assert rekognition.calls == 0


def test_an_edge_devices_crop_sheet_is_scored_face_by_face(aws, monkeypatch, capsys):
    handler = load_handler()
    crops = [decode_image(crop) for _, crop in real_face_crops()]
    sheet = build_sheet(crops, quality=75)
    tiles = sheet.layout.cut(decode_image(sheet.jpeg))
    names = {"stage": "main", "camera": "edge-1", "frame-id": "f1"}
    key = str(SheetKey("main", T0, "f1", 0))
    aws["s3"].put_object(
        Bucket=BUCKET, Key=key, Body=sheet.jpeg, Metadata={**names, **sheet.layout.metadata()}
    )
    broken = str(SheetKey("main", T0, "f2", 0))
    aws["s3"].put_object(
        Bucket=BUCKET, Key=broken, Body=sheet.jpeg, Metadata={**names, "cell": "80"}
    )
    event = sqs_event(aws)
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")

    with stubbed_rekognition(client) as stub:
        # The mosaic the tracker composes from the two tiles (their shapes place them).
        answer = mosaic_answer([encode_jpeg(t, quality=95) for t in tiles], ["HAPPY", "CALM"])
        stub.add_response("detect_faces", answer, DETECT)
        response = handler.handler(event, LambdaContext())
        stub.assert_no_pending_responses()

    assert response == {"batchItemFailures": []}  # the broken sheet cannot be retried into shape
    assert rekognition.calls == 1
    stored = items(aws)
    assert set(stored) == {crop_key(index=0), crop_key(index=1)}  # the faces' own crop keys
    assert stored[crop_key(index=0)]["dominant"]["S"] == "HAPPY"
    assert {item["camera"]["S"] for item in stored.values()} == {"edge-1"}
    counted = {
        (d["Stage"], name): d[name]
        for d in emf(capsys)
        for name in ("FacesAnalyzed", "CropRejected")
        if name in d and "Stage" in d
    }
    assert counted == {("main", "FacesAnalyzed"): [2.0], ("main", "CropRejected"): [1.0]}


@dataclasses.dataclass
class ShortOfTime(LambdaContext):
    remaining_ms: int = 5_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_an_invocation_short_of_time_starts_no_call_and_returns_its_crops(aws, monkeypatch):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = sqs_event(aws)
    ids = {r["messageId"] for r in event["Records"][1:]}  # [0] is S3's test event
    client, rekognition = wire(monkeypatch, handler, mode="mosaic")

    with stubbed_rekognition(client) as stub:
        response = handler.handler(event, ShortOfTime())
        stub.assert_no_pending_responses()

    assert rekognition.calls == 0 and items(aws) == {}
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == ids


def test_messages_not_reached_in_time_go_back_to_the_queue_as_new_ones(aws, monkeypatch):
    """Nothing was wrong with them: sent again, they do not spend a receive toward the
    dead-letter queue, and the invocation reports them done."""
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = sqs_event(aws)
    bodies = sorted(r["body"] for r in event["Records"][1:])  # [0] is S3's test event
    client, rekognition = wire(monkeypatch, handler, mode="mosaic", queue_url=aws["queue"])

    with stubbed_rekognition(client) as stub:
        response = handler.handler(event, ShortOfTime())
        stub.assert_no_pending_responses()

    assert rekognition.calls == 0 and response["batchItemFailures"] == []
    again = aws["sqs"].receive_message(
        QueueUrl=aws["queue"], MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in again) == bodies
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"1"}


def test_messages_that_cannot_go_back_fail_as_before(aws, monkeypatch):
    handler = load_handler()
    astronaut, hopper = (crop for _, crop in real_face_crops())
    put_crops(aws, astronaut, hopper)
    event = sqs_event(aws)
    ids = {r["messageId"] for r in event["Records"][1:]}
    gone = aws["queue"].replace("/crops", "/deleted")  # SQS answers QueueDoesNotExist
    client, _ = wire(monkeypatch, handler, mode="mosaic", queue_url=gone)

    with stubbed_rekognition(client):
        response = handler.handler(event, ShortOfTime())

    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == ids
