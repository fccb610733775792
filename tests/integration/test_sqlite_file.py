"""SqliteFile, the base of the local SQLite adapters, on a real file under tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from datapalooza.adapters.local.crop_notifications import SqliteCropNotifications
from datapalooza.adapters.local.sqlite_file import SqliteFile
from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable

SCHEMA = "CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, n INTEGER NOT NULL);"


class Items(SqliteFile):
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        super().__init__(path, SCHEMA, read_only=read_only)

    def add(self, *keys: str) -> int:
        return self._execute_many(
            "INSERT OR IGNORE INTO items (key, n) VALUES (?, 0)", [(k,) for k in keys]
        )

    def keys(self) -> list[str]:
        return [row[0] for row in self._query("SELECT key FROM items ORDER BY key")]


def test_statements_report_the_rows_they_changed(tmp_path: Path) -> None:
    items = Items(tmp_path / "sub" / "items.sqlite")

    assert items.add("a", "b") == 2
    assert items.add("b", "c") == 1, "the duplicate is ignored, not counted"
    assert items._execute("UPDATE items SET n = n + 1 WHERE key != ?", ["a"]) == 2
    assert items._query_one("SELECT n FROM items WHERE key = ?", ["b"]) == (1,)
    assert items._query_one("SELECT n FROM items WHERE key = ?", ["z"]) is None
    items.close()


def test_a_transaction_commits_all_or_nothing(tmp_path: Path) -> None:
    items = Items(tmp_path / "items.sqlite")
    items.add("a")

    with pytest.raises(RuntimeError), items._transaction() as conn:
        conn.execute("INSERT INTO items (key, n) VALUES ('b', 0)")
        raise RuntimeError("half-way")
    with items._transaction() as conn:
        conn.execute("INSERT INTO items (key, n) VALUES ('c', 0)")

    assert items.keys() == ["a", "c"]
    assert not items._conn.in_transaction


def test_a_reader_sees_the_writers_rows_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "items.sqlite"
    writer = Items(path)
    writer.add("a")

    reader = Items(path, read_only=True)

    assert reader.keys() == ["a"]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.add("b")
    assert reader._query_one("PRAGMA journal_mode") == ("wal",)


@pytest.mark.parametrize(
    ("open_file", "busy_ms"),
    [
        (lambda path: Items(path), 10_000),
        (lambda path: SqliteResultsTable(path), 10_000),
        (lambda path: SqliteCropNotifications(path), 30_000),
        (lambda path: SqlitePersistenceLayer(path), 30_000),
    ],
)
def test_each_adapter_waits_its_busy_timeout_for_a_locked_file(
    open_file: Callable[[Path], SqliteFile], busy_ms: int, tmp_path: Path
) -> None:
    db = open_file(tmp_path / "file.sqlite")

    assert db._query_one("PRAGMA busy_timeout") == (busy_ms,)
    assert db._query_one("PRAGMA journal_mode") == ("wal",)
    # One durability policy for the file the tracker's claims, results and metrics share:
    # a power cut loses their newest commits together (SqliteFile.__init__).
    normal = 1
    assert db._query_one("PRAGMA synchronous") == (normal,)
    db.close()
