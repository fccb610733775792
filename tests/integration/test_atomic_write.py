"""Writing files so a reader never sees half of one (datapalooza/system/atomic_write.py):
what a failed or killed write leaves, and who may read."""

from __future__ import annotations

import errno
import itertools
import os
import stat

import pytest

from datapalooza.system import atomic_write
from datapalooza.system.atomic_write import write_atomically


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


def fsynced_paths(monkeypatch) -> list[tuple[str, bool]]:
    """Record what each os.fsync flushes: (the path behind the fd, whether it is a
    directory), read from /proc so the test sees the real descriptor."""
    real_fsync, seen = os.fsync, []

    def fsync(fd):
        seen.append((os.readlink(f"/proc/self/fd/{fd}"), stat.S_ISDIR(os.fstat(fd).st_mode)))
        return real_fsync(fd)

    monkeypatch.setattr(atomic_write.os, "fsync", fsync)
    return seen


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
def test_a_durable_write_fsyncs_the_data_then_the_directory_that_holds_the_rename(
    tmp_path, monkeypatch
):
    # A rename is an entry in the directory: until the directory is flushed, a power
    # cut can lose the renamed file although its data was fsynced.
    seen = fsynced_paths(monkeypatch)
    write_atomically(tmp_path / "entry.crop", b"sheet", durable=True)
    assert [is_dir for _, is_dir in seen] == [False, True]
    assert seen[1][0] == str(tmp_path)


def test_a_write_that_need_not_be_durable_fsyncs_nothing(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(atomic_write.os, "fsync", seen.append)
    write_atomically(tmp_path / "preview.jpg", b"jpeg")
    assert seen == []
