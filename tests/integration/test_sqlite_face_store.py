"""The local faces bucket in one SQLite file (SqliteFaceStore): who may read it, what a
put writes, expiry, several writer processes, and a bucket directory from before."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from datapalooza.adapters.local.sqlite_face_store import OBJECTS_FILE, SqliteFaceStore
from datapalooza.domain.keys import parse_object_key
from datapalooza.ports import ObjectMissing, StoreError
from tests.helpers.emotions import crop_key

HOUR_MS = 3_600_000


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_bucket_file_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    old_umask = os.umask(0o022)  # what most shells give: new files readable by all
    try:
        store = SqliteFaceStore(tmp_path / "bucket")
        store.put(crop_key(index=0), b"jpeg", {"camera": "cam-1"})
    finally:
        os.umask(old_umask)
    files = sorted((tmp_path / "bucket").iterdir())
    assert [p.name for p in files] == [OBJECTS_FILE, f"{OBJECTS_FILE}-shm", f"{OBJECTS_FILE}-wal"]
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_crop_is_one_row_with_its_metadata_and_no_file_of_its_own(tmp_path):
    store = SqliteFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"\xff\xd8 jpeg", {"camera": "cam-1", "stage": "main"})
    assert not (tmp_path / "faces").exists()
    with sqlite3.connect(tmp_path / OBJECTS_FILE) as conn:
        rows = conn.execute("SELECT key, hour_ms, metadata, body FROM objects").fetchall()
    captured_ms = parse_object_key(key).epoch_ms
    assert [(k, h, json.loads(m), b) for k, h, m, b in rows] == [
        (
            key,
            captured_ms - captured_ms % HOUR_MS,
            {"camera": "cam-1", "stage": "main"},
            b"\xff\xd8 jpeg",
        )
    ]


def test_putting_a_stored_key_again_replaces_crop_and_metadata_whole(tmp_path):
    store = SqliteFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"first", {"camera": "cam-1"})
    store.put(key, b"second", {"camera": "cam-2", "stage": "main"})
    assert store.get(key) == (b"second", {"camera": "cam-2", "stage": "main"})
    assert store.listing() == [(key, len(b"second"))]


def test_deleting_and_expiring_crops(tmp_path):
    store = SqliteFaceStore(tmp_path)
    kept, deleted = crop_key(index=0), crop_key(index=1)
    old = crop_key(index=0, ms_offset=-2 * HOUR_MS)
    for key in (kept, deleted, old):
        store.put(key, b"jpeg", {"camera": "cam-1"})
    store.delete(deleted)
    store.delete(deleted)  # deleting a missing object is not an error
    with pytest.raises(ObjectMissing):
        store.get(deleted)
    hour_of_kept = parse_object_key(kept).captured_at.replace(minute=0, second=0, microsecond=0)
    old_hour_ends = hour_of_kept - timedelta(hours=1)
    assert store.expire(before=old_hour_ends - timedelta(milliseconds=1)) == 0  # not ended
    assert store.expire(before=old_hour_ends) == 1
    assert list(store.keys()) == [kept]
    assert store.get(kept) == (b"jpeg", {"camera": "cam-1"})


def test_new_crops_reuse_the_pages_of_expired_ones(tmp_path):
    # The file stays the size of the crops kept (up --keep-hours), not of all ever put.
    store = SqliteFaceStore(tmp_path)
    body = os.urandom(20_000)
    for index in range(100):
        store.put(crop_key(index=index, ms_offset=-3 * HOUR_MS), body, {"camera": "cam-1"})
    checkpoint = "PRAGMA wal_checkpoint(TRUNCATE)"
    with sqlite3.connect(tmp_path / OBJECTS_FILE) as conn:
        conn.execute(checkpoint)
    full = (tmp_path / OBJECTS_FILE).stat().st_size
    assert full > 100 * 20_000
    now = parse_object_key(crop_key(index=0)).captured_at
    assert store.expire(before=now - timedelta(hours=1)) == 100
    for index in range(100):
        store.put(crop_key(index=index), body, {"camera": "cam-1"})
    with sqlite3.connect(tmp_path / OBJECTS_FILE) as conn:
        conn.execute(checkpoint)
    assert (tmp_path / OBJECTS_FILE).stat().st_size <= full * 1.05
    assert len(list(store.keys())) == 100


def test_keys_and_listing_stay_under_their_prefix(tmp_path):
    store = SqliteFaceStore(tmp_path)
    main, mainstage = crop_key("main", index=0), crop_key("mainstage", index=0)
    for key in (mainstage, main):
        store.put(key, b"12345", {})
    assert list(store.keys()) == sorted([main, mainstage])
    assert list(store.keys("faces/main/")) == [main]
    assert store.listing("faces/mainstage/") == [(mainstage, 5)]
    assert list(store.keys("faces/none/")) == []


def test_a_file_that_is_not_a_bucket_is_a_store_error_not_a_retry(tmp_path):
    (tmp_path / OBJECTS_FILE).write_bytes(b"not a database, but 100 bytes long " * 3)
    with pytest.raises(StoreError) as caught:
        SqliteFaceStore(tmp_path).put(crop_key(index=0), b"jpeg", {})
    assert not caught.value.transient
    assert OBJECTS_FILE in str(caught.value) or "database" in str(caught.value)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
    from tests.helpers.emotions import crop_key

    store = SqliteFaceStore(Path(sys.argv[1]))
    frame = sys.argv[2]
    for index in range(150):
        store.put(crop_key(index=index, frame=frame), b"jpeg" * 800, {"frame": frame})
    """
)


def test_several_writer_processes_at_once_lose_no_crop(tmp_path):
    # The endpoint's workers and the edge cameras write to the one bucket together.
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), frame])
        for frame in ("fa", "fb", "fc")
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]
    store = SqliteFaceStore(tmp_path)
    assert len(list(store.keys())) == 3 * 150
    assert store.get(crop_key(index=149, frame="fc")) == (b"jpeg" * 800, {"frame": "fc"})


def test_a_bucket_directory_from_before_moves_into_the_file_and_nothing_is_lost(tmp_path):
    """Data directories written by earlier versions kept a file per crop under faces/
    and the metadata in metadata.sqlite: crops not yet scored must still be scored."""
    crops = {crop_key(index=i): b"jpeg %d" % i for i in range(3)}
    for key, body in crops.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)
    hour = (tmp_path / crop_key(index=0)).parent
    (hour / ".tmp-4242-0.jpg").write_bytes(b"half a crop")  # a killed writer's temp file
    (hour / "notes.jpg").write_bytes(b"not a key")
    with sqlite3.connect(tmp_path / "metadata.sqlite") as old:
        old.execute("CREATE TABLE objects (key TEXT PRIMARY KEY, metadata TEXT NOT NULL)")
        old.execute("INSERT INTO objects VALUES (?, ?)", (crop_key(index=0), '{"camera": "cam-1"}'))

    store = SqliteFaceStore(tmp_path)
    assert sorted(store.keys()) == sorted(crops)
    assert store.get(crop_key(index=0)) == (b"jpeg 0", {"camera": "cam-1"})
    assert store.get(crop_key(index=2)) == (b"jpeg 2", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [OBJECTS_FILE, f"{OBJECTS_FILE}-shm", f"{OBJECTS_FILE}-wal"]
    )
    store.put(crop_key(index=0), b"new", {})
    assert SqliteFaceStore(tmp_path).get(crop_key(index=0)) == (b"new", {})  # no second move


def test_an_older_bucket_whose_metadata_file_is_corrupt_still_moves_its_crops(tmp_path, caplog):
    key = crop_key(index=0)
    (tmp_path / key).parent.mkdir(parents=True)
    (tmp_path / key).write_bytes(b"jpeg")
    (tmp_path / "metadata.sqlite").write_bytes(b"not a database, but 100 bytes long " * 3)
    with caplog.at_level("WARNING"):
        assert SqliteFaceStore(tmp_path).get(key) == (b"jpeg", {})
    assert "without their metadata" in caplog.text
    assert not (tmp_path / "metadata.sqlite").exists()
