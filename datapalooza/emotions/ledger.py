"""The tracker's outcome ledger on Powertools' idempotency persistence layer.

S3 delivers each notification at least once, so the same crop can arrive twice (or
more). Before a crop is scored it is claimed here; a crop whose outcome is already
recorded is answered from the record, without an analyzer call, whatever the outcome
was (scored, no face, rejected, missing).

Why the persistence layer and not ``@idempotent_function``: the decorator makes one
call idempotent, but the tracker scores up to 50 crops in one mosaic DetectFaces call.
Decorating a per-crop function would mean one Rekognition call per crop (50 times the
cost); decorating the batch would key the whole batch, which SQS regroups on every
redelivery. So the ledger drives the same layer the decorator uses, with the same
records and conditions (INPROGRESS with a lease, then COMPLETED with the outcome, both
expiring), one record per crop: DynamoDBPersistenceLayer in AWS,
SqlitePersistenceLayer (datapalooza.adapters.local) on a laptop.
"""

from __future__ import annotations

import json
import logging

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS

from datapalooza.ports import CropInProgress

logger = logging.getLogger(__name__)

KEY_PREFIX = "datapalooza.crop"
"""Records are keyed ``datapalooza.crop#sha256({key, version})``: not by function name,
so a redeployed function still finds what the previous one recorded."""


class IdempotencyLedger:
    """OutcomeLedger on a Powertools persistence layer: one record per crop version."""

    def __init__(self, layer: BasePersistenceLayer, *, expires_after_s: int) -> None:
        layer.configure(
            IdempotencyConfig(expires_after_seconds=expires_after_s, hash_function="sha256"),
            key_prefix=KEY_PREFIX,
        )
        self._layer = layer

    def claim(self, key: str, version: str, *, lease_ms: int) -> str | None:
        data = _data(key, version)
        try:
            self._layer.save_inprogress(data, remaining_time_in_millis=lease_ms)
            return None
        except IdempotencyItemAlreadyExistsError as exc:
            record = exc.old_data_record
        if record is None:  # a store that does not return the old item with the refusal
            try:
                record = self._layer.get_record(data)
            except IdempotencyItemNotFoundError:
                raise CropInProgress(f"{key}: its claim changed hands; retry") from None
        if record is None or record.status != STATUS_CONSTANTS["COMPLETED"]:
            raise CropInProgress(f"{key} is being scored by another invocation")
        outcome = json.loads(record.response_data or "{}").get("outcome", "unknown")
        return str(outcome)

    def settle(self, key: str, version: str, outcome: str) -> None:
        self._layer.save_success(_data(key, version), result={"outcome": outcome})

    def release(self, key: str, version: str) -> None:
        self._layer.delete_record(_data(key, version), RuntimeError("crop failed"))


def _data(key: str, version: str) -> dict[str, str]:
    return {"key": key, "version": version}
