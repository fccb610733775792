"""DynamoResultsTable on moto: one item per face, conditional put for idempotency."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from moto import mock_aws

from datapalooza.adapters.aws.dynamo_results_table import (
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
    DynamoResultsTable,
)
from datapalooza.ports import ScoredFace
from tests.helpers.dynamodb import create_results_table
from tests.helpers.emotions import T0, crop_key, scores


@pytest.fixture
def dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        create_results_table(client, "results")
        yield client


def test_item_has_keys_scores_dominant_camera_and_ttl(dynamodb):
    face = ScoredFace("main", T0, crop_key(), "cam-1", scores(happy=91.25, calm=8.75))
    ttl = int((T0 + timedelta(days=7)).timestamp())
    assert DynamoResultsTable(dynamodb, "results").put_if_new(face, ttl_epoch_s=ttl)

    item = dynamodb.get_item(
        TableName="results", Key={PARTITION_KEY: {"S": "main"}, SORT_KEY: {"S": face.sort_key}}
    )["Item"]
    assert item[SORT_KEY]["S"] == f"2026-07-18T21:30:00.000+00:00#{crop_key()}"
    assert item["scores"]["M"]["HAPPY"] == {"N": "91.250"}
    assert item["dominant"]["S"] == "HAPPY"
    assert item["camera"]["S"] == "cam-1"
    assert item[TTL_ATTRIBUTE]["N"] == str(ttl)
    assert float(item["mood"]["N"]) == pytest.approx(face.scores.valence, abs=1e-3)


def test_duplicate_notification_writes_nothing(dynamodb):
    table = DynamoResultsTable(dynamodb, "results")
    first = ScoredFace("main", T0, crop_key(), "cam-1", scores(happy=90))
    again = ScoredFace("main", T0, crop_key(), "cam-2", scores(sad=90))  # same face key
    assert table.put_if_new(first, ttl_epoch_s=1) is True
    assert table.put_if_new(again, ttl_epoch_s=1) is False
    (item,) = dynamodb.scan(TableName="results")["Items"]
    assert item["camera"]["S"] == "cam-1"


def test_other_errors_propagate(dynamodb):
    table = DynamoResultsTable(dynamodb, "no-such-table")
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        table.put_if_new(ScoredFace("main", T0, crop_key(), "c", scores(happy=1)), ttl_epoch_s=1)
