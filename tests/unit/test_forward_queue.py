"""The on-disk store-and-forward queue: order, durability, bounds, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapalooza.devices.forward_queue import ForwardQueue, QueueFull


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


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
    assert reopened.corrupt == 1 and (tmp_path / "corrupt" / first.name).exists()
