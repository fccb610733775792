"""One SQLite file as the local adapters share it: between processes through WAL mode
and a busy timeout, between one process's threads through one connection and a lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar


class SqliteFile:
    """Base of the local SQLite adapters: one connection to the file, in WAL mode with a
    busy timeout and the schema created if missing, that this process's threads share,
    each statement or transaction under one lock.

    Readers (``read_only``) set ``query_only`` so a bug in a dashboard can never write;
    they still create the schema first, so a dashboard started before the first face
    works.
    """

    busy_timeout_s: ClassVar[float] = 10.0
    """How long a statement waits for another connection's write lock before failing."""

    def __init__(self, path: Path, schema: str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, check_same_thread=False, isolation_level=None
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        # Durable at checkpoints, not at each commit; WAL keeps the file consistent.
        # Claims, results and metrics share one file (emotions.bootstrap), so a power cut
        # loses the last commits of all of them together and those crops are scored
        # again: none lost, none counted twice. An fsync per idempotency claim and settle
        # cost the local tracker a third of its CPU per face and 4x its wall time.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(schema)
        if read_only:
            self._conn.execute("PRAGMA query_only = ON")
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows one SELECT returns."""
        with self._lock:
            return list(self._conn.execute(sql, list(params)).fetchall())

    def _query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row one SELECT returns, or None."""
        with self._lock:
            row = self._conn.execute(sql, list(params)).fetchone()
        return None if row is None else tuple(row)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns how many rows it changed."""
        with self._lock:
            return self._conn.execute(sql, list(params)).rowcount

    def _execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row; returns how many rows they changed in all."""
        with self._lock:
            return self._conn.executemany(sql, rows).rowcount

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements that commit together or not at all. BEGIN IMMEDIATE takes the
        file's write lock up front, so a busy file makes it wait, not fail half-way."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite has already rolled back an I/O error
                    self._conn.execute("ROLLBACK")
                raise
