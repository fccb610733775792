"""Powertools' idempotency persistence layer on SQLite: the local twin of the
DynamoDB idempotency table, with the same conditions on a claim."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    STATUS_CONSTANTS,
    DataRecord,
)

from datapalooza.adapters.local.sqlite_file import SqliteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiration INTEGER NOT NULL,            -- epoch seconds, like DynamoDB's TTL
    in_progress_expiration INTEGER,         -- epoch milliseconds
    data TEXT
);
-- Records past their expiration are deleted every few minutes (purge_expired).
CREATE INDEX IF NOT EXISTS idempotency_expiration ON idempotency (expiration);
"""
_SELECT_RECORD = (
    "SELECT id, status, expiration, in_progress_expiration, data FROM idempotency WHERE id = ?"
)


class SqlitePersistenceLayer(SqliteFile, BasePersistenceLayer):
    """Idempotency records in a table of one SQLite file (WAL). A claim succeeds when
    no record exists, the record expired, or it is INPROGRESS with an expired lease:
    DynamoDBPersistenceLayer's condition expression."""

    busy_timeout_s = 30.0

    def __init__(self, path: Path) -> None:
        BasePersistenceLayer.__init__(self)  # type: ignore[no-untyped-call]
        SqliteFile.__init__(self, path, _SCHEMA)

    def release_in_progress(self) -> int:
        """Drop every INPROGRESS record. Only for a single consumer starting up: no one
        else can hold a claim, so any left are from a process that was killed."""
        return self._execute(
            "DELETE FROM idempotency WHERE status = ?", (STATUS_CONSTANTS["INPROGRESS"],)
        )

    def purge_expired(self, now: datetime) -> int:
        """Delete the records past their expiration, as DynamoDB's TTL does in AWS; returns
        how many. A claim already treats them as absent (``_replaceable``): only the
        file's size changes (a scored face's claim is about 0.29 KB, 1 day at most)."""
        return self._execute(
            "DELETE FROM idempotency WHERE expiration < ?", (int(now.timestamp()),)
        )

    def _get_record(self, idempotency_key: str) -> DataRecord:
        row = self._query_one(_SELECT_RECORD, (idempotency_key,))
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        with self._transaction() as conn:
            row = conn.execute(_SELECT_RECORD, (data_record.idempotency_key,)).fetchone()
            if row is not None and not _replaceable(row, now):
                raise IdempotencyItemAlreadyExistsError(old_data_record=_record(row))
            conn.execute(
                "INSERT OR REPLACE INTO idempotency"
                " (id, status, expiration, in_progress_expiration, data)"
                " VALUES (?, ?, ?, ?, NULL)",
                (
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.in_progress_expiry_timestamp,
                ),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        self._execute(
            "UPDATE idempotency SET status = ?, expiration = ?, data = ? WHERE id = ?",
            (
                data_record.status,
                data_record.expiry_timestamp,
                data_record.response_data,
                data_record.idempotency_key,
            ),
        )

    def _delete_record(self, data_record: DataRecord) -> None:
        self._execute("DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,))


def _replaceable(row: tuple[object, ...], now: float) -> bool:
    _, status, expiration, in_progress_expiration, _ = row
    if int(str(expiration)) < int(now):
        return True
    return (
        status == STATUS_CONSTANTS["INPROGRESS"]
        and in_progress_expiration is not None
        and int(str(in_progress_expiration)) < int(now * 1000)
    )


def _record(row: tuple[object, ...]) -> DataRecord:
    key, status, expiration, in_progress_expiration, data = row
    return DataRecord(
        idempotency_key=str(key),
        status=str(status),
        expiry_timestamp=int(str(expiration)),
        in_progress_expiry_timestamp=(
            None if in_progress_expiration is None else int(str(in_progress_expiration))
        ),
        response_data="" if data is None else str(data),
    )
