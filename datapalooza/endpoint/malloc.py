"""Keep a worker's per-request buffers mapped between requests (glibc only).

Each /invocations allocates and frees about 30 MB of temporaries at 1280x720 (the
decoded frame, the detector's float input tensor). Handled in a worker thread, they
came from a non-main malloc arena, which glibc gives back to the kernel after every
request: the next request page-faulted the same memory in again, about 3,000 faults
and 12 ms of kernel time per frame, CPU the bare detector does not spend
(docs/benchmarks.md). One arena for the process and fixed thresholds keep up to
``TRIM_THRESHOLD`` bytes of freed memory for reuse, while anything of ``MMAP_THRESHOLD``
or more (an 8K frame, a hostile image) still gets its own mapping, returned at once.
Call it before the process starts threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

# mallopt(3) parameter numbers from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Allocations this big or bigger get their own mapping (glibc's maximum: 32 MiB)."""
TRIM_THRESHOLD = 64 * 1024 * 1024
"""Freed memory kept for reuse before glibc returns it to the kernel."""


def keep_request_buffers() -> bool:
    """Set glibc's arena count, trim and mmap thresholds; False elsewhere (not glibc)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # One request at a time per worker: one arena costs no contention.
    ok: bool = mallopt(M_ARENA_MAX, 1) == 1
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and ok
    ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    if not ok:
        logger.warning("mallopt refused the endpoint's malloc thresholds; leaving defaults")
    return ok
