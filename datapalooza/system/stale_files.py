"""Temp files a killed writer left behind.

Every file this project writes atomically goes to a temp file first and is renamed into
place; a SIGKILL between the two leaves the temp file for ever. Each owner sweeps its
own at start: only names of its temp pattern, only those older than TEMP_GRACE_S, so a
write in flight in another process (an endpoint worker, an edge thread) is never touched.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_GRACE_S = 600.0
"""A temp file older than this belongs to no write in flight (a crop write takes ms)."""


def remove_stale_temp_files(
    directory: Path,
    pattern: str,
    *,
    recursive: bool = False,
    older_than_s: float = TEMP_GRACE_S,
    now: float | None = None,
) -> int:
    """Delete files under ``directory`` matching ``pattern`` whose last change is older
    than ``older_than_s``; returns how many went. Missing directories hold none."""
    cutoff = (time.time() if now is None else now) - older_than_s
    removed = 0
    if not directory.is_dir():
        return 0
    matches = directory.rglob(pattern) if recursive else directory.glob(pattern)
    for path in matches:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another sweeper got there first
        except OSError as exc:
            log.warning("could not remove stale temp file %s: %s", path, exc)
    if removed:
        log.warning(
            "removed %d temp files under %s left by a writer that was killed", removed, directory
        )
    return removed
