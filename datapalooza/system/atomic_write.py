"""Writing files so that a reader never sees half of one.

``write_atomically`` replaces a file through a temp file beside it and a rename: a
reader (another process, a viewer, the next run) sees the old file or the new one. A
writer killed mid-write leaves a temp file named with ``prefix``, which
``stale_files.remove_stale_temp_files`` sweeps at the next start.

``write_new`` creates a file that nothing reads yet, in place: half the directory
operations of a temp file and a rename. ``create_or_replace`` does that for a new file
and replaces an existing one atomically: the local crop store writes each crop so, and
announces it only once it is whole (``DirectoryFaceStore``).

Both create files readable by their owner only (mode 0o600), as ``tempfile.mkstemp``
did: a face crop is never readable by other users of the machine.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_PRIVATE = 0o600
# Temp names are this process's id and a running number: unique among the live
# writers of a directory without the random names (and their retries) of
# tempfile.mkstemp, which cost a third of a write's CPU (0.060 against 0.041 ms for a
# crop-sized file on a quiet disk of the benchmarks' VM).
# A name left by a killed process whose id came back is skipped, not reused.
_temp_numbers = itertools.count()


def write_atomically(
    path: Path, data: bytes, *, prefix: str = ".tmp-", suffix: str = "", durable: bool = False
) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename. ``durable`` also
    fsyncs the data before the rename, so it survives a crash of the machine, not only
    of the process (an edge device's queue; crops in a local bucket skip it, as an fsync
    per crop costs more than it guards)."""
    fd, tmp = _create_temp(path.parent, prefix, suffix)
    try:
        try:
            _write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` and return True; if ``path`` exists already,
    leave it as it is and return False (the caller then replaces it atomically).

    Not atomic: a reader that opens ``path`` during the write sees part of it. Use it
    only for a file nothing reads until the caller publishes something after it. A
    failed write removes what it wrote, so the next try creates the file afresh; a
    writer killed mid-write leaves a partial file that the next write of the same path
    finds (False) and replaces."""
    try:
        fd = os.open(path, _CREATE_NEW, _PRIVATE)
    except FileExistsError:
        return False
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True


def create_or_replace(path: Path, data: bytes, *, prefix: str = ".tmp-", suffix: str = "") -> None:
    """``write_new`` when ``path`` is new; otherwise ``write_atomically``, so a file
    that readers may already know is never seen half replaced, and one a crash cut
    short is written whole."""
    if not write_new(path, data):
        write_atomically(path, data, prefix=prefix, suffix=suffix)


def _create_temp(directory: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    while True:
        tmp = directory / f"{prefix}{os.getpid()}-{next(_temp_numbers)}{suffix}"
        try:
            return os.open(tmp, _CREATE_NEW, _PRIVATE), tmp
        except FileExistsError:
            continue


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
