"""FaceStore on a local directory that mirrors the faces bucket's keys."""

from __future__ import annotations

import errno
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datapalooza.adapters.local.sqlite_file import SqliteFile
from datapalooza.constants import FACES_PREFIX
from datapalooza.domain.keys import KEY_TIME_MAX, KEY_TIME_MIN, InvalidKey, parse_object_key
from datapalooza.ports import ObjectMissing, StoreError
from datapalooza.system.atomic_write import create_or_replace
from datapalooza.system.stale_files import TEMP_GRACE_S, remove_stale_temp_files
from datapalooza.system.storage_errors import is_storage_full

METADATA_FILE = "metadata.sqlite"
"""Every object's user metadata, in one SQLite file at the top of the directory."""
TEMP_PREFIX = ".tmp-"

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,  -- the object's key, as in the faces bucket
    metadata TEXT NOT NULL  -- its user metadata (S3's x-amz-meta-*): a JSON object
) WITHOUT ROWID;
"""


class ObjectMetadata(SqliteFile):
    """The user metadata of a directory's objects, by key: what S3 keeps with each
    object. Shared by every process that writes to the directory (WAL mode)."""

    busy_timeout_s = 30.0

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def put(self, key: str, metadata: Mapping[str, str]) -> None:
        self._execute(
            "INSERT OR REPLACE INTO objects (key, metadata) VALUES (?, ?)",
            (key, json.dumps(dict(metadata), sort_keys=True)),
        )

    def get(self, key: str) -> str | None:
        """The metadata's JSON text, or None for an object stored without any."""
        row = self._query_one("SELECT metadata FROM objects WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def delete(self, key: str) -> None:
        self._execute("DELETE FROM objects WHERE key = ?", (key,))

    def delete_under(self, prefix: str) -> int:
        """Forget every key under ``prefix`` (which ends with "/"); returns how many."""
        # The keys from prefix up to, not including, prefix with its "/" raised to "0".
        return self._execute(
            "DELETE FROM objects WHERE key >= ? AND key < ?", (prefix, prefix[:-1] + "0")
        )


class DirectoryFaceStore:
    """FaceStore: ``root/faces/{stage}/...jpg``, one file per object, with the objects'
    metadata in ``root/metadata.sqlite`` (``ObjectMetadata``), written first.

    One file per crop, created in place: the kernel's cost of creating a file (a new
    inode) is most of what a crop costs here, and it moves with the machine's state,
    from 0.02 to 0.6 ms on the benchmarks' VM; a metadata file beside each crop doubled
    it, where a row costs 0.02 ms (bench/endpoint.py, "store in kernel"). A key stored
    before is replaced through a temp file and a rename, so a crop already announced is
    never seen half written. A crop is announced once its put has returned
    (NotifyingFaceStore): the tracker, the only program that reads crops, never sees a
    partial one, and a crop a crash cut short is never announced and goes with its hour
    (``expire``). Crops are readable by their owner only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._metadata: ObjectMetadata | None = None
        self._opening = threading.Lock()

    def remove_stale_temp_files(self, *, older_than_s: float = TEMP_GRACE_S) -> int:
        """Delete write temp files a killed writer left (see datapalooza.system.stale_files)."""
        return remove_stale_temp_files(
            self.root / FACES_PREFIX,
            f"{TEMP_PREFIX}*",
            recursive=True,
            older_than_s=older_than_s,
        )

    def _path(self, key: str) -> Path:
        # Only crop and crop sheet keys are accepted: this keeps keys out of arbitrary paths.
        parse_object_key(key)
        return self.root / key

    def _objects(self) -> ObjectMetadata:
        """The metadata file, opened at first use (a store that is never used, or whose
        directory cannot be made, fails in its first call, as a StoreError)."""
        with self._opening:
            if self._metadata is None:
                self._metadata = ObjectMetadata(self.root / METADATA_FILE)
            return self._metadata

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Metadata first, so whoever finds the crop finds its metadata.
            self._objects().put(key, metadata)
            create_or_replace(path, body, prefix=TEMP_PREFIX, suffix=path.suffix)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"could not write {key}: {exc}", transient=_transient(exc)) from exc

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        path = self._path(key)
        try:
            body = path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StoreError(f"could not read {key}: {exc}", transient=True) from exc
        try:
            stored = self._objects().get(key)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"could not read {key}'s metadata: {exc}", transient=True) from exc
        metadata = {} if stored is None else json.loads(stored)
        return body, {str(k): str(v) for k, v in metadata.items()}

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            self._objects().delete(key)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"could not delete {key}: {exc}", transient=True) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "faces/") -> Iterator[str]:
        """Every crop key under ``prefix``, in key order (oldest first within a stage)."""
        base = self.root / prefix
        if not base.exists():
            return
        for path in sorted(base.rglob("*.jpg")):
            key = path.relative_to(self.root).as_posix()
            try:
                parse_object_key(key)
            except InvalidKey as exc:
                log.warning("skipping %s: %s", key, exc)
                continue
            yield key

    def expire(self, before: datetime) -> int:
        """Delete every crop captured in an hour that ended before ``before`` (what the
        bucket's lifecycle rule does in AWS), with its metadata; returns how many crops
        went. An hour directory no valid key can name (month 13, year 9999) holds
        nothing the tracker will ever read: it goes too, with a warning, so no crop
        outlives its expiry."""
        removed = 0
        base = self.root / FACES_PREFIX
        for hour_dir in sorted(
            base.glob("*/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/[0-9][0-9]")
        ):
            year, month, day, hour = (int(part) for part in hour_dir.parts[-4:])
            try:
                hour_start = datetime(year, month, day, hour, tzinfo=UTC)
            except ValueError:
                hour_start = None
            if hour_start is None or not KEY_TIME_MIN <= hour_start < KEY_TIME_MAX:
                log.warning(
                    "removing %s: no crop key names that hour",
                    hour_dir.relative_to(self.root).as_posix(),
                )
            elif hour_start + timedelta(hours=1) > before:
                continue
            removed += sum(1 for _ in hour_dir.glob("*.jpg"))
            shutil.rmtree(hour_dir, ignore_errors=True)
            self._objects().delete_under(hour_dir.relative_to(self.root).as_posix() + "/")
        return removed


def _transient(exc: BaseException) -> bool:
    """Whether a retry may succeed: a full disk freed (storage_errors says which errors
    mean full), an I/O hiccup passed, a busy file released."""
    if is_storage_full(exc):
        return True
    if isinstance(exc, OSError):
        return exc.errno in (errno.EIO, errno.EAGAIN)
    return isinstance(exc, sqlite3.OperationalError)
