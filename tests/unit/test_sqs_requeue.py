"""Sending messages back to the crops queue: in batches SQS takes, and only the ones
SQS took are reported sent."""

from __future__ import annotations

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.stub import Stubber
from moto import mock_aws

from datapalooza.adapters.aws.sqs_requeue import (
    MAX_BATCH_BYTES,
    MAX_ENTRIES_PER_BATCH,
    SqsRequeue,
    _batches,
)


def record(message_id: str, body: str = '{"Records": []}') -> SQSRecord:
    return SQSRecord({"messageId": message_id, "body": body})


@pytest.fixture
def queue(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sqs = boto3.client("sqs")
        yield sqs, sqs.create_queue(QueueName="crops")["QueueUrl"]


def test_every_message_goes_back_in_batches_of_ten(queue) -> None:
    sqs, url = queue
    records = [record(f"m{i}", f'{{"n": {i}}}') for i in range(23)]
    assert SqsRequeue(sqs, url)(records) == {f"m{i}" for i in range(23)}
    bodies = []
    while answer := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in answer]
    assert sorted(bodies) == sorted(r.body for r in records)


def test_batches_keep_to_the_entry_and_byte_limits() -> None:
    small = [record(f"s{i}") for i in range(MAX_ENTRIES_PER_BATCH + 1)]
    assert [len(b) for b in _batches(small)] == [MAX_ENTRIES_PER_BATCH, 1]
    big = [record(f"b{i}", "x" * (MAX_BATCH_BYTES // 2)) for i in range(3)]
    assert [len(b) for b in _batches(big)] == [2, 1]


def test_a_message_sqs_refuses_or_a_failed_call_is_not_reported_sent() -> None:
    sqs = boto3.client(
        "sqs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/crops"
    records = [record("kept"), record("refused")]
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "new", "MD5OfMessageBody": "x"}],
                "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError"}],
            },
        )
        stub.add_client_error("send_message_batch", "AWS.SimpleQueueService.NonExistentQueue")
        requeue = SqsRequeue(sqs, url)
        assert requeue(records) == {"kept"}
        assert requeue(records) == set()
