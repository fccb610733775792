"""Powertools' idempotency persistence layer on SQLite: the local twin of the
DynamoDB idempotency table, with the same conditions on a claim."""

from __future__ import annotations

import sqlite3
import threading
import time
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

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiration INTEGER NOT NULL,            -- epoch seconds, like DynamoDB's TTL
    in_progress_expiration INTEGER,         -- epoch milliseconds
    data TEXT
);
"""


class SqlitePersistenceLayer(BasePersistenceLayer):
    """Idempotency records in a table of one SQLite file (WAL). A claim succeeds when
    no record exists, the record expired, or it is INPROGRESS with an expired lease:
    DynamoDBPersistenceLayer's condition expression."""

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode = WAL")
        # As the results table: a commit is durable at the next checkpoint, not at once.
        # Claims, results and metrics share one WAL file (emotions.bootstrap), so a power
        # cut loses the last commits of all three together and those crops are scored
        # again: none lost, none counted twice. An fsync per claim and per settle cost
        # the local tracker a third of its CPU per face and four times its wall time.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def release_in_progress(self) -> int:
        """Drop every INPROGRESS record. Only for a single consumer starting up: no one
        else can hold a claim, so any left are from a process that was killed."""
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM idempotency WHERE status = ?", (STATUS_CONSTANTS["INPROGRESS"],)
            )
            return cursor.rowcount

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, status, expiration, in_progress_expiration, data"
                " FROM idempotency WHERE id = ?",
                (idempotency_key,),
            ).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT id, status, expiration, in_progress_expiration, data"
                    " FROM idempotency WHERE id = ?",
                    (data_record.idempotency_key,),
                ).fetchone()
                if row is not None and not _replaceable(row, now):
                    raise IdempotencyItemAlreadyExistsError(old_data_record=_record(row))
                self._conn.execute(
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
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite has already rolled back an I/O error
                    self._conn.execute("ROLLBACK")
                raise

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE idempotency SET status = ?, expiration = ?, data = ? WHERE id = ?",
                (
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.response_data,
                    data_record.idempotency_key,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._conn.execute(
                "DELETE FROM idempotency WHERE id = ?", (data_record.idempotency_key,)
            )


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
