"""Replacing a file atomically: a temp file beside it, then a rename.

A reader (another process, a viewer, the next run) sees the old file or the new one,
never half of one. A writer killed mid-write leaves a temp file named with ``prefix``,
which ``stale_files.remove_stale_temp_files`` sweeps at the next start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(
    path: Path, data: bytes, *, prefix: str = ".tmp-", suffix: str = "", durable: bool = False
) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename. ``durable`` also
    fsyncs the data before the rename, so it survives a crash of the machine, not only
    of the process (an edge device's queue; crops in a local bucket skip it, as an fsync
    per crop costs more than it guards)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
