"""Temp files left by a killed writer are swept at start, once older than the grace
period; a write in flight (a fresh temp file) is never touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from datapalooza.adapters.local.directory_face_store import DirectoryFaceStore
from datapalooza.system.stale_files import TEMP_GRACE_S
from tests.helpers.emotions import crop_key


def leave_temp(path: Path, *, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a crop")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_the_directory_store_sweeps_stale_write_temp_files_and_keeps_fresh_ones(tmp_path):
    store = DirectoryFaceStore(tmp_path)
    key = crop_key(index=0)
    store.put(key, b"jpeg", {"camera": "cam-1"})
    hour = (tmp_path / key).parent
    stale = leave_temp(hour / ".tmp-k1ll3d.jpg", age_s=TEMP_GRACE_S + 60)
    stale_meta = leave_temp(hour / ".tmp-k1ll3d.json", age_s=TEMP_GRACE_S + 60)
    fresh = leave_temp(hour / ".tmp-inflight.jpg", age_s=1)
    assert store.remove_stale_temp_files() == 2
    assert not stale.exists() and not stale_meta.exists()
    assert fresh.exists()  # another worker's write in flight
    assert list(store.keys()) == [key] and store.get(key)[0] == b"jpeg"


def test_an_endpoint_worker_sweeps_its_store_at_start(tmp_path):
    from datapalooza.endpoint.server import create_app

    stale = leave_temp(
        tmp_path / "faces" / "main" / "2026" / "07" / "18" / "21" / ".tmp-x.jpg",
        age_s=TEMP_GRACE_S + 60,
    )
    create_app({"DATAPALOOZA_DATA_DIR": str(tmp_path)})
    assert not stale.exists()


def test_an_edge_service_sweeps_stale_preview_temp_files(tmp_path):
    from datapalooza.testing.fakes import FakeFaceStore
    from tests.unit.test_edge import make

    stale = leave_temp(tmp_path / "preview" / ".tmp-preview-abc", age_s=TEMP_GRACE_S + 60)
    fresh = leave_temp(tmp_path / "preview" / ".tmp-preview-new", age_s=1)
    make(tmp_path, FakeFaceStore(), frames=1, preview_path=tmp_path / "preview" / "latest.jpg")
    assert not stale.exists() and fresh.exists()
