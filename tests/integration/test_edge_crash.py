"""The edge process killed with SIGKILL mid-run, then restarted: nothing already captured
is lost or duplicated (real subprocesses, the real detector, a SqliteFaceStore)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.devices.forward_queue import ForwardQueue
from tests.conftest import REPO


def edge(store: Path, queue: Path, frames: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "datapalooza",
        "edge",
        "--stage",
        "main",
        "--source",
        "synthetic:stage=main,seed=9",
        "--store",
        str(store),
        "--queue-dir",
        str(queue),
        "--frames",
        str(frames),
        "--drain-timeout",
        "20",
    ]


def queued_keys(queue: Path) -> list[str]:
    q = ForwardQueue(queue)
    keys = []
    for path in sorted(queue.glob("*.crop")):
        entry = q.peek()
        assert entry is not None and entry.name == path.name
        keys.append(entry.key)
        q._slots.popleft()  # read-only walk: look at each entry without uploading
    return keys


def kill_when(process: subprocess.Popen[bytes], ready: callable, timeout: float = 60) -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the edge exited before it could be killed"
        assert time.monotonic() < deadline, "the edge made no progress"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_sigkill_mid_upload_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    store_dir, queue = tmp_path / "bucket", tmp_path / "queue"
    store = SqliteFaceStore(store_dir)
    process = subprocess.Popen(edge(store_dir, queue, 500), cwd=REPO)
    kill_when(process, lambda: len(list(store.keys())) >= 12)
    stored_before = set(store.keys())
    pending = queued_keys(queue)
    captured = stored_before | set(pending)
    # Restart with no new frames: it only forwards what the killed run left.
    subprocess.run(edge(store_dir, queue, 0), cwd=REPO, check=True, timeout=60)
    stored_after = sorted(store.keys())
    assert set(stored_after) == captured  # nothing lost, nothing invented
    assert len(stored_after) == len(set(stored_after))
    assert not list(queue.glob("*.crop")) and not list(queue.glob(".tmp-*"))
    for key in stored_after:
        with Image.open(io.BytesIO(store.get(key)[0])) as crop:
            crop.verify()  # every crop whole: no half-written file survived the kill
        assert store.get(key)[1]["stage"] == "main"


def test_sigkill_while_the_store_is_down_then_restart_forwards_the_queue(
    tmp_path: Path,
) -> None:
    store_dir, queue = tmp_path / "bucket", tmp_path / "queue"
    store_dir.write_text("not a directory")  # the store fails: every upload errors
    process = subprocess.Popen(edge(store_dir, queue, 500), cwd=REPO, stderr=subprocess.DEVNULL)
    kill_when(process, lambda: len(list(queue.glob("*.crop"))) >= 15)
    pending = queued_keys(queue)
    assert len(pending) >= 15
    store_dir.unlink()  # the store is back
    subprocess.run(edge(store_dir, queue, 0), cwd=REPO, check=True, timeout=60)
    assert sorted(SqliteFaceStore(store_dir).keys()) == sorted(pending)
    assert not list(queue.glob("*.crop"))
