"""The outcome ledger on both persistence layers: SQLite locally, DynamoDB (moto) in
AWS. One contract: claim, in progress, settle, release, lease and record expiry."""

from __future__ import annotations

import time

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
from datapalooza.emotions.ledger import IdempotencyLedger
from datapalooza.ports import CropInProgress
from tests.helpers.dynamodb import create_idempotency_table

KEY = "faces/main/2026/07/04/21/1783198800000-f1-0.jpg"


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_ledger(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        yield lambda ttl=3600: IdempotencyLedger(
            SqlitePersistenceLayer(tmp_path / "ledger.sqlite"), expires_after_s=ttl
        )
        return
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb")
        create_idempotency_table(client, "idempotency")
        yield lambda ttl=3600: IdempotencyLedger(
            DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=client),
            expires_after_s=ttl,
        )


def test_a_settled_crop_is_answered_with_its_outcome(make_ledger):
    ledger = make_ledger()
    assert ledger.claim(KEY, "etag-1", lease_ms=60_000) is None
    ledger.settle(KEY, "etag-1", "no_face")
    assert make_ledger().claim(KEY, "etag-1", lease_ms=60_000) == "no_face"  # another process
    assert ledger.claim(KEY, "etag-2", lease_ms=60_000) is None  # a new version is new


def test_a_claimed_crop_is_in_progress_until_settled_released_or_its_lease_ends(make_ledger):
    ledger = make_ledger()
    assert ledger.claim(KEY, "", lease_ms=60_000) is None
    with pytest.raises(CropInProgress):
        ledger.claim(KEY, "", lease_ms=60_000)
    ledger.release(KEY, "")
    assert ledger.claim(KEY, "", lease_ms=1) is None  # a lease that ends at once
    time.sleep(0.01)
    assert ledger.claim(KEY, "", lease_ms=60_000) is None  # the crashed holder's lease ended


def test_a_record_is_forgotten_after_its_expiry(make_ledger):
    ledger = make_ledger(ttl=-1)  # records that have already expired
    assert ledger.claim(KEY, "", lease_ms=60_000) is None
    ledger.settle(KEY, "", "scored")
    assert ledger.claim(KEY, "", lease_ms=60_000) is None
