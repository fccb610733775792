"""Writing files so a reader never sees half of one (datapalooza/system/atomic_write.py),
and the local crop store's files: what a failed or killed write leaves, who may read,
where the metadata goes."""

from __future__ import annotations

import errno
import itertools
import json
import os
import sqlite3
import stat

import pytest

from datapalooza.adapters.local.directory_face_store import METADATA_FILE, DirectoryFaceStore
from datapalooza.domain.keys import parse_object_key
from datapalooza.system import atomic_write
from datapalooza.system.atomic_write import create_or_replace, write_atomically, write_new
from tests.helpers.emotions import crop_key


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fail_writes_after(monkeypatch, calls: int) -> None:
    """os.write fails with ENOSPC from call ``calls + 1`` on, as a full disk would."""
    real_write, made = os.write, itertools.count()

    def write(fd, data):
        if next(made) >= calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data[:3])  # short writes: the rest must still go out

    monkeypatch.setattr(atomic_write.os, "write", write)


def test_write_atomically_replaces_the_file_whole_private_and_leaves_no_temp(tmp_path):
    target = tmp_path / "state.json"
    write_atomically(target, b"old")
    write_atomically(target, b"new contents", prefix=".tmp-", suffix=".json")
    assert target.read_bytes() == b"new contents"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_temp_name_left_by_a_killed_writer_is_skipped_not_reused(tmp_path, monkeypatch):
    # A process killed mid-write whose id came back to us: its temp file holds the
    # name we would take next; ours goes to the following one, and theirs is left
    # for the stale sweep (stale_files), whole.
    monkeypatch.setattr(atomic_write, "_temp_numbers", itertools.count())
    left = tmp_path / f".tmp-{os.getpid()}-0.jpg"
    left.write_bytes(b"half of someone else's crop")
    write_atomically(tmp_path / "crop.jpg", b"jpeg", prefix=".tmp-", suffix=".jpg")
    assert (tmp_path / "crop.jpg").read_bytes() == b"jpeg"
    assert left.read_bytes() == b"half of someone else's crop"


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temp(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    fail_writes_after(monkeypatch, calls=2)
    with pytest.raises(OSError) as raised:
        write_atomically(target, b"0123456789")
    assert raised.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_write_new_creates_a_private_file_once_and_never_overwrites(tmp_path, monkeypatch):
    target = tmp_path / "crop.jpg"
    fail_writes_after(monkeypatch, calls=10)  # short writes of 3 bytes still complete
    assert write_new(target, b'{"stage":"main"}') is True
    assert target.read_bytes() == b'{"stage":"main"}'
    assert mode(target) == 0o600
    assert write_new(target, b"{}") is False
    assert target.read_bytes() == b'{"stage":"main"}'


def test_a_failed_write_new_removes_what_it_wrote(tmp_path, monkeypatch):
    target = tmp_path / "crop.jpg"
    fail_writes_after(monkeypatch, calls=1)
    with pytest.raises(OSError):
        write_new(target, b'{"stage":"main"}')
    assert not target.exists()  # so the next put creates it afresh


def test_create_or_replace_creates_in_place_and_replaces_by_rename(tmp_path):
    target = tmp_path / "crop.jpg"
    create_or_replace(target, b"first", suffix=".jpg")
    first = target.stat().st_ino
    with target.open("rb") as reader:  # a reader that opened the file before
        create_or_replace(target, b"second", suffix=".jpg")
        assert reader.read() == b"first"  # still the old file whole, not a rewrite of it
    assert target.read_bytes() == b"second"
    assert target.stat().st_ino != first
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["crop.jpg"]


def test_crops_are_readable_by_their_owner_only(tmp_path):
    store = DirectoryFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"jpeg", {"camera": "cam-1"})
    assert mode(tmp_path / key) == 0o600


def test_a_crop_is_one_file_and_its_metadata_a_row(tmp_path):
    # One new inode a crop: creating a file is what a crop costs the kernel.
    store = DirectoryFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"jpeg", {"camera": "cam-1", "stage": "main"})
    hour = (tmp_path / key).parent
    assert [p.name for p in hour.iterdir()] == [(tmp_path / key).name]
    rows = sqlite3.connect(tmp_path / METADATA_FILE).execute("SELECT key, metadata FROM objects")
    assert [(k, json.loads(m)) for k, m in rows] == [(key, {"camera": "cam-1", "stage": "main"})]


def test_a_crop_a_crash_cut_short_is_replaced_by_the_next_put(tmp_path):
    # Killed mid-crop: never announced, so the tracker never read it; the retry of the
    # same frame writes it whole.
    store = DirectoryFaceStore(tmp_path)
    key = crop_key(index=0)
    crop = tmp_path / key
    crop.parent.mkdir(parents=True)
    crop.write_bytes(b"\xff\xd8 ha")
    store.put(key, b"\xff\xd8 whole jpeg", {"camera": "cam-1"})
    assert store.get(key) == (b"\xff\xd8 whole jpeg", {"camera": "cam-1"})
    assert [p.name for p in crop.parent.iterdir()] == [crop.name]


def test_putting_a_stored_key_again_replaces_crop_and_metadata_whole(tmp_path):
    store = DirectoryFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"first", {"camera": "cam-1"})
    store.put(key, b"second", {"camera": "cam-2", "stage": "main"})
    assert store.get(key) == (b"second", {"camera": "cam-2", "stage": "main"})


def test_deleting_and_expiring_crops_forgets_their_metadata(tmp_path):
    store = DirectoryFaceStore(tmp_path)
    kept, deleted = crop_key(index=0), crop_key(index=1)
    old = crop_key(index=0, ms_offset=-2 * 3600 * 1000)
    for key in (kept, deleted, old):
        store.put(key, b"jpeg", {"camera": "cam-1"})
    store.delete(deleted)
    hour_of_kept = parse_object_key(kept).captured_at.replace(minute=0, second=0, microsecond=0)
    assert store.expire(before=hour_of_kept) == 1
    rows = sqlite3.connect(tmp_path / METADATA_FILE).execute("SELECT key FROM objects")
    assert [key for (key,) in rows] == [kept]
    assert store.get(kept) == (b"jpeg", {"camera": "cam-1"})
