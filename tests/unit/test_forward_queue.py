"""The on-disk store-and-forward queue: order, durability, bounds, recovery."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from datapalooza.crop_sheets import MAX_METADATA_BYTES
from datapalooza.devices.forward_queue import (
    CORRUPT_MAX_BYTES,
    MAGIC,
    MAX_HEADER_BYTES,
    MAX_KEY_BYTES,
    BadEntry,
    ForwardQueue,
    QueueFull,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def notes(queue_dir: Path) -> list[dict[str, object]]:
    """The notes of set-aside entries in ``corrupt/``, oldest first."""
    return [json.loads(p.read_text()) for p in sorted((queue_dir / "corrupt").glob("*"))]


def files_holding(root: Path, data: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


def test_fifo_and_survives_a_restart(tmp_path: Path) -> None:
    queue = ForwardQueue(tmp_path)
    for i in range(3):
        queue.push(f"faces/main/k{i}.jpg", bytes([i]) * 10, {"stage": "main", "i": str(i)})
    reopened = ForwardQueue(tmp_path)  # a new process after a crash
    assert len(reopened) == 3
    entry = reopened.peek()
    assert entry is not None and entry.key == "faces/main/k0.jpg"
    assert entry.body == b"\x00" * 10 and entry.metadata == {"stage": "main", "i": "0"}
    reopened.remove(entry)
    assert [reopened.peek().key for _ in range(1)] == ["faces/main/k1.jpg"]  # type: ignore[union-attr]
    reopened.push("faces/main/k3.jpg", b"x", {})
    keys = []
    while (e := reopened.peek()) is not None:
        keys.append(e.key)
        reopened.remove(e)
    assert keys == ["faces/main/k1.jpg", "faces/main/k2.jpg", "faces/main/k3.jpg"]
    assert len(ForwardQueue(tmp_path)) == 0


def test_when_full_the_oldest_are_dropped_first_and_counted_across_restarts(
    tmp_path: Path,
) -> None:
    queue = ForwardQueue(tmp_path, max_bytes=3000)
    for i in range(10):
        queue.push(f"k{i}", b"x" * 900, {})
    assert queue.size_bytes <= 3000
    assert queue.dropped == 10 - len(queue)
    assert queue.peek().key == f"k{10 - len(queue)}"  # type: ignore[union-attr]
    assert ForwardQueue(tmp_path, max_bytes=3000).dropped == queue.dropped
    with pytest.raises(QueueFull):
        queue.push("huge", b"x" * 5000, {})


def test_crops_older_than_max_age_expire(tmp_path: Path) -> None:
    clock = Clock()
    queue = ForwardQueue(tmp_path, max_age_s=60, clock=clock)
    queue.push("old", b"1", {})
    clock.now += 50
    queue.push("new", b"2", {})
    clock.now += 20
    assert queue.expire() == 1
    assert queue.peek().key == "new"  # type: ignore[union-attr]


def test_interrupted_writes_and_damaged_entries_never_block_the_queue(tmp_path: Path) -> None:
    queue = ForwardQueue(tmp_path)
    queue.push("good-1", b"a", {})
    (tmp_path / ".tmp-abc").write_bytes(b"half a crop")  # killed mid-write: never renamed
    queue.push("good-2", b"b", {})
    first = sorted(tmp_path.glob("*.crop"))[0]
    first.write_bytes(b"garbage")  # disk damage
    reopened = ForwardQueue(tmp_path)
    assert not list(tmp_path.glob(".tmp-*"))
    assert reopened.peek().key == "good-2"  # type: ignore[union-attr]
    assert reopened.corrupt == 1 and not first.exists()
    assert [note["entry"] for note in notes(tmp_path)] == [first.name]


def entry_file(header: bytes, *, declared: int | None = None, body: bytes = b"crop") -> bytes:
    """A queue file as push lays it out, with any header and header length."""
    length = len(header) if declared is None else declared
    return MAGIC + struct.pack(">I", length) + header + body


def header(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "content",
    [
        entry_file(header([])),
        entry_file(header("faces/main/k.jpg")),
        entry_file(header({"key": "k", "metadata": None})),
        entry_file(header({"key": "k", "metadata": []})),
        entry_file(header({"key": "k", "metadata": {"stage": 1}})),
        entry_file(header({"key": "k", "metadata": {"stage": None}})),
        entry_file(header({"key": "k", "metadata": {"tiles": ["80x80"]}})),
        entry_file(header({"metadata": {}})),
        entry_file(header({"key": "k"})),
        entry_file(header({"key": None, "metadata": {}})),
        entry_file(header({"key": 7, "metadata": {}})),
        entry_file(header({"key": "", "metadata": {}})),
        entry_file(header({"key": "k" * (MAX_KEY_BYTES + 1), "metadata": {}})),
        entry_file(header({"key": "k", "metadata": {"m": "x" * MAX_METADATA_BYTES}})),
        entry_file(header({"key": "k\ud800", "metadata": {}})),  # JSON writes it as \ud800
        entry_file(b"[" * 5000),  # nested past the parser's recursion limit
        entry_file(b"\xff\xfe not JSON"),
        entry_file(header({"key": "k", "metadata": {}}), declared=2**32 - 1),
        entry_file(b" " * (MAX_HEADER_BYTES + 1) + header({"key": "k", "metadata": {}})),
        MAGIC + b"\x00",  # cut short inside the length
        b"DPQ9" + entry_file(header({"key": "k", "metadata": {}}))[4:],
    ],
    ids=[
        "header-list",
        "header-string",
        "metadata-null",
        "metadata-list",
        "metadata-number-value",
        "metadata-null-value",
        "metadata-list-value",
        "no-key",
        "no-metadata",
        "key-null",
        "key-number",
        "key-empty",
        "key-over-s3s-1024-bytes",
        "metadata-over-s3s-2048-bytes",
        "key-lone-surrogate",
        "header-nested-5000-deep",
        "header-not-utf8",
        "declares-4-GiB-header",
        "header-over-8-KiB",
        "truncated-start",
        "bad-magic",
    ],
)
def test_an_entry_whose_header_is_not_as_push_writes_it_is_set_aside_and_the_next_uploads(
    tmp_path: Path, content: bytes
) -> None:
    """Each used to raise TypeError/AttributeError/RecursionError from every peek, so
    nothing uploaded until expire() removed the entry up to a day later."""
    queue = ForwardQueue(tmp_path)
    queue.push("faces/main/bad.jpg", b"a", {})
    queue.push("faces/main/good.jpg", b"b", {"stage": "main"})
    bad = sorted(tmp_path.glob("*.crop"))[0]
    bad.write_bytes(content)

    entry = queue.peek()

    assert entry is not None and (entry.key, entry.body) == ("faces/main/good.jpg", b"b")
    assert entry.metadata == {"stage": "main"}
    assert queue.corrupt == 1 and len(queue) == 1 and not bad.exists()
    assert queue.size_bytes == (tmp_path / entry.name).stat().st_size


def test_the_largest_key_and_metadata_s3_takes_are_queued_and_read_back(tmp_path: Path) -> None:
    queue = ForwardQueue(tmp_path)
    key = "k" * MAX_KEY_BYTES
    metadata = {"m": "é" * ((MAX_METADATA_BYTES - 1) // 2)}  # two UTF-8 bytes a character
    queue.push(key, b"x", metadata)
    entry = queue.peek()
    assert entry is not None and (entry.key, entry.metadata) == (key, metadata)


@pytest.mark.parametrize(
    ("key", "metadata"),
    [
        ("", {}),
        ("k" * (MAX_KEY_BYTES + 1), {}),
        ("k", {"m": "é" * (MAX_METADATA_BYTES // 2)}),  # 2,049 bytes with its name
        ("k", {"stage": 1}),
        ("k", {1: "main"}),
        ("k\ud800", {}),
        ("k", {"m": "\x00" * 2047}),  # S3's 2,048 bytes; 12 KB as JSON (\u0000)
    ],
    ids=[
        "empty-key",
        "key-over-1024-bytes",
        "metadata-over-2048-bytes",
        "number-value",
        "number-name",
        "lone-surrogate",
        "header-over-8-KiB",
    ],
)
def test_push_refuses_what_no_store_would_take_and_queues_nothing(
    tmp_path: Path, key: str, metadata: dict[str, str]
) -> None:
    """Queued, such an object would fail its upload or be set aside later: refused now."""
    queue = ForwardQueue(tmp_path)
    with pytest.raises(BadEntry):
        queue.push(key, b"x", metadata)
    assert len(queue) == 0 and not list(tmp_path.glob("*.crop"))


@pytest.mark.parametrize(
    "state",
    ["[]", '"dropped"', '{"dropped": null}', '{"dropped": -1}', '{"dropped": "3"}', "{"],
)
def test_a_state_file_of_the_wrong_shape_restarts_the_dropped_count(
    tmp_path: Path, state: str
) -> None:
    """A list or a string here raised AttributeError and the edge device did not start."""
    (tmp_path / "state.json").write_text(state)
    assert ForwardQueue(tmp_path).dropped == 0


FACE = b"face pixels " * 100  # stands in for a crop sheet's JPEG


def test_an_entry_set_aside_keeps_no_face_bytes_only_a_note_of_why(tmp_path: Path) -> None:
    """Set-aside entries used to be moved whole to corrupt/, where nothing ever expired
    them: face crops outlived the queue's 24 h and its byte budget."""
    clock = Clock()
    queue = ForwardQueue(tmp_path, clock=clock)
    queue.push("faces/main/9999/bad-key.jpg", FACE, {"stage": "main"})
    queue.push("faces/main/damaged.jpg", FACE, {})
    queue.push("faces/main/good.jpg", b"next", {})
    entry = queue.peek()
    assert entry is not None
    entry_bytes = (tmp_path / entry.name).stat().st_size
    damaged = sorted(tmp_path.glob("*.crop"))[1]
    damaged.write_bytes(damaged.read_bytes()[:6])  # cut short by disk damage

    queue.set_aside(entry, "not a face crop key")
    clock.now += 1
    following = queue.peek()

    assert following is not None and following.key == "faces/main/good.jpg"
    assert files_holding(tmp_path, FACE[:24]) == []
    set_aside, unreadable = notes(tmp_path)
    assert set_aside == {
        "entry": entry.name,
        "key": "faces/main/9999/bad-key.jpg",
        "bytes": entry_bytes,
        "why": "not a face crop key",
        "set_aside_at": clock.now - 1,
    }
    assert unreadable["entry"] == damaged.name and unreadable["key"] is None
    assert unreadable["bytes"] == 6 and "shorter than" in str(unreadable["why"])


def test_notes_of_set_aside_entries_expire_with_the_queues_age_limit(tmp_path: Path) -> None:
    clock = Clock()
    queue = ForwardQueue(tmp_path, max_age_s=60, clock=clock)
    queue.push("faces/main/bad.jpg", b"x", {})
    queue.set_aside(queue.peek(), "not a face crop key")  # type: ignore[arg-type]
    clock.now += 59
    queue.expire()
    assert len(notes(tmp_path)) == 1
    clock.now += 2
    queue.expire()
    assert notes(tmp_path) == []


def test_the_notes_never_take_more_than_their_byte_budget_and_the_newest_stay(
    tmp_path: Path,
) -> None:
    clock = Clock()
    queue = ForwardQueue(tmp_path, clock=clock)
    corrupt = tmp_path / "corrupt"
    for i in range(200):
        clock.now += 1
        queue.push(f"faces/main/{i}.jpg", b"x", {})
        queue.set_aside(queue.peek(), "why " * 200)  # type: ignore[arg-type]
        assert sum(p.stat().st_size for p in corrupt.iterdir()) <= CORRUPT_MAX_BYTES
    kept = notes(tmp_path)
    assert 100 < len(kept) < 200 and kept[-1]["key"] == "faces/main/199.jpg"
    assert [n["set_aside_at"] for n in kept] == sorted(n["set_aside_at"] for n in kept)


def test_a_note_is_small_whatever_the_text_it_quotes(tmp_path: Path) -> None:
    """Each text is cut, so even escaped characters (12 bytes each in JSON) keep one note
    a small part of the budget."""
    queue = ForwardQueue(tmp_path)
    queue.push("\U0001f600" * 250, b"x", {})  # the longest key S3 takes, 4-byte characters
    queue.set_aside(queue.peek(), "\U0001f600" * 10_000)  # type: ignore[arg-type]
    (note,) = (tmp_path / "corrupt").iterdir()
    assert note.stat().st_size <= 11 * 1024 < CORRUPT_MAX_BYTES // 5


def test_crops_an_older_version_left_in_corrupt_are_deleted_at_start(tmp_path: Path) -> None:
    """Earlier versions moved set-aside entries there whole; they are face crops."""
    queue = ForwardQueue(tmp_path)
    queue.push("faces/main/bad.jpg", b"x", {})
    queue.set_aside(queue.peek(), "not a face crop key")  # type: ignore[arg-type]
    corrupt = tmp_path / "corrupt"
    (corrupt / "1700000000000-000000003.crop").write_bytes(FACE)
    (corrupt / ".tmp-123-0").write_bytes(FACE)  # a note's write the crash interrupted

    ForwardQueue(tmp_path)

    assert files_holding(tmp_path, FACE[:24]) == []
    assert [n["key"] for n in notes(tmp_path)] == ["faces/main/bad.jpg"]


def test_an_entry_a_push_drops_while_peek_reads_it_is_gone_not_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge's frame loop pushes while its uploader peeks: a push over the byte budget
    can delete the oldest entry between peek's look at the queue and its read of the file.
    That entry is dropped (counted once), not damaged: no note, no corrupt count."""
    queue = ForwardQueue(tmp_path, max_bytes=1_000)  # room for the first entry alone
    queue.push("faces/main/2026/07/04/21/1783198800000-f1-0.jpg", b"a" * 900, {})
    real_read = Path.read_bytes
    pushed: list[str] = []

    def read_while_a_push_drops_it(path: Path) -> bytes:
        if path.suffix == ".crop" and not pushed:
            pushed.append(queue.push("faces/main/2026/07/04/21/1783198800001-f2-0.jpg", b"b", {}))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_while_a_push_drops_it)
    entry = queue.peek()
    assert entry is not None and entry.body == b"b"
    assert (queue.dropped, queue.corrupt, len(queue)) == (1, 0, 1)
    assert not (tmp_path / "corrupt").exists()
