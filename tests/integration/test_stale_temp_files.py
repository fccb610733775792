"""Temp files left by a killed writer are swept at start, once older than the grace
period; a write in flight (a fresh temp file) is never touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from datapalooza.system.stale_files import TEMP_GRACE_S


def leave_temp(path: Path, *, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a crop")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_an_edge_service_sweeps_stale_preview_temp_files(tmp_path):
    from datapalooza.testing.fakes import FakeFaceStore
    from tests.unit.test_edge import make

    stale = leave_temp(tmp_path / "preview" / ".tmp-preview-abc", age_s=TEMP_GRACE_S + 60)
    fresh = leave_temp(tmp_path / "preview" / ".tmp-preview-new", age_s=1)
    make(tmp_path, FakeFaceStore(), frames=1, preview_path=tmp_path / "preview" / "latest.jpg")
    assert not stale.exists() and fresh.exists()
