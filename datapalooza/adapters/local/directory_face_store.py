"""FaceStore on a local directory that mirrors the faces bucket's keys."""

from __future__ import annotations

import errno
import json
import logging
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datapalooza.constants import FACES_PREFIX
from datapalooza.domain.keys import KEY_TIME_MAX, KEY_TIME_MIN, InvalidKey, parse_object_key
from datapalooza.ports import ObjectMissing, StoreError
from datapalooza.system.atomic_write import create_or_replace
from datapalooza.system.stale_files import TEMP_GRACE_S, remove_stale_temp_files

METADATA_SUFFIX = ".meta.json"
TEMP_PREFIX = ".tmp-"

log = logging.getLogger(__name__)


class DirectoryFaceStore:
    """FaceStore: ``root/faces/{stage}/...jpg`` with the object metadata in a sidecar
    ``.meta.json``, written first. A new crop and its sidecar are created in place (two
    file creations: with temp files and renames a crop cost half as much again in the
    kernel, bench/endpoint.py); a key stored before is replaced through a temp file and
    a rename, so a crop already announced is never seen half written. A crop is
    announced once its put has returned (NotifyingFaceStore): the tracker, the only
    program that reads crops, never sees a partial one, and a crop a crash cut short
    is never announced and goes with its hour (``expire``). Files are owner-only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

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

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Metadata first, so whoever finds the crop finds its metadata.
            create_or_replace(
                path.with_name(path.name + METADATA_SUFFIX),
                _encode(metadata),
                prefix=TEMP_PREFIX,
                suffix=METADATA_SUFFIX,
            )
            create_or_replace(path, body, prefix=TEMP_PREFIX, suffix=path.suffix)
        except OSError as exc:
            transient = exc.errno in (
                errno.ENOSPC,
                errno.EIO,
                errno.EAGAIN,
                errno.EDQUOT,
                errno.EFBIG,
            )
            raise StoreError(f"could not write {key}: {exc}", transient=transient) from exc

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        path = self._path(key)
        try:
            body = path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StoreError(f"could not read {key}: {exc}", transient=True) from exc
        try:
            metadata = json.loads(path.with_name(path.name + METADATA_SUFFIX).read_text())
        except FileNotFoundError:
            metadata = {}
        return body, {str(k): str(v) for k, v in metadata.items()}

    def delete(self, key: str) -> None:
        path = self._path(key)
        for target in (path, path.with_name(path.name + METADATA_SUFFIX)):
            try:
                target.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
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
        bucket's lifecycle rule does in AWS); returns how many crops went. An hour
        directory no valid key can name (month 13, year 9999) holds nothing the tracker
        will ever read: it goes too, with a warning, so no crop outlives its expiry."""
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
                removed += sum(1 for _ in hour_dir.glob("*.jpg"))
                shutil.rmtree(hour_dir, ignore_errors=True)
                continue
            if hour_start + timedelta(hours=1) <= before:
                removed += sum(1 for _ in hour_dir.glob("*.jpg"))
                shutil.rmtree(hour_dir, ignore_errors=True)
        return removed


def _encode(metadata: Mapping[str, str]) -> bytes:
    return json.dumps(dict(metadata), sort_keys=True).encode()
