"""The emotion tracker's DynamoDB tables on moto, keyed as
stacks/constructs/emotion_tracker.py makes them."""

from __future__ import annotations

from typing import Any

from datapalooza import constants


def _create_table(client: Any, name: str, keys: dict[str, str]) -> None:
    """An on-demand table with string ``keys``: attribute name -> HASH or RANGE."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": a, "KeyType": kind} for a, kind in keys.items()],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def create_results_table(client: Any, name: str) -> None:
    """One item per face: the stage, then capture time and crop key."""
    _create_table(
        client,
        name,
        {constants.RESULTS_PARTITION_KEY: "HASH", constants.RESULTS_SORT_KEY: "RANGE"},
    )


def create_idempotency_table(client: Any, name: str) -> None:
    """The outcome ledger: one record per crop version."""
    _create_table(client, name, {constants.IDEMPOTENCY_KEY_ATTRIBUTE: "HASH"})
