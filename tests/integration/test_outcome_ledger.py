"""The outcome ledger on both persistence layers: SQLite locally, DynamoDB (moto) in
AWS. One contract: claim, in progress, settle, release, lease and record expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime

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


def test_expired_local_records_are_deleted_and_live_ones_kept(tmp_path):
    """DynamoDB's TTL deletes expired idempotency records; locally purge_expired does
    (up's expiry pass), so a festival left running does not keep a day's claims forever.
    A claim already treated them as absent: it still succeeds after the purge."""
    layer = SqlitePersistenceLayer(tmp_path / "ledger.sqlite")
    # A layer takes the expiry of the first ledger it serves: one layer each, one file.
    expired = IdempotencyLedger(SqlitePersistenceLayer(layer.path), expires_after_s=-1)
    live = IdempotencyLedger(SqlitePersistenceLayer(layer.path), expires_after_s=3600)
    assert expired.claim(KEY, "old", lease_ms=60_000) is None
    expired.settle(KEY, "old", "scored")
    assert live.claim(KEY, "new", lease_ms=60_000) is None
    live.settle(KEY, "new", "no_face")
    rows = lambda: layer._query("SELECT COUNT(*) FROM idempotency")[0][0]  # noqa: E731
    assert rows() == 2
    assert layer.purge_expired(datetime.now(UTC)) == 1
    assert rows() == 1
    assert live.claim(KEY, "new", lease_ms=60_000) == "no_face"  # the live one answers
    assert expired.claim(KEY, "old", lease_ms=60_000) is None  # as before the purge
