"""An endpoint worker's memory: flat under load, and flat after a hostile frame.

Two opposite needs, both about glibc's malloc:

- Keep per-request buffers mapped between requests (``keep_request_buffers``, called
  once per worker before it starts threads). Each /invocations allocates and frees
  about 30 MB of temporaries at 1280x720 (the decoded frame, the detector's float input
  tensor). Handled in a worker thread, they came from a non-main malloc arena, which
  glibc gives back to the kernel after every request: the next request page-faulted the
  same memory in again, about 3,000 faults and 12 ms of kernel time per frame, CPU the
  bare detector does not spend (docs/benchmarks.md). One arena and fixed thresholds keep
  up to ``TRIM_THRESHOLD`` bytes of freed memory for reuse, while anything of
  ``MMAP_THRESHOLD`` or more (an 8K frame, a hostile image) still gets its own mapping,
  returned at once.
- Give a large frame's memory back (``release_free_memory``). A worker's memory would
  otherwise stay at the high-water mark of the largest frame it ever saw: ONNX Runtime
  keeps its arena, and glibc keeps freed heap pages. After a frame above
  ``LARGE_FRAME_PIXELS`` the detector shrinks its arena and the worker trims the heap;
  typical frames skip both (the arena is what makes them fast).

Elsewhere than glibc (musl, macOS) both are no-ops that return False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)

LARGE_FRAME_PIXELS = 1920 * 1080
"""Frames above Full HD are large: analysing one grows memory by hundreds of MB."""

# mallopt(3) parameter numbers from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Allocations this big or bigger get their own mapping (glibc's maximum: 32 MiB)."""
TRIM_THRESHOLD = 64 * 1024 * 1024
"""Freed memory kept for reuse before glibc returns it to the kernel."""


def is_large(height: int, width: int) -> bool:
    return height * width > LARGE_FRAME_PIXELS


def keep_request_buffers() -> bool:
    """Set glibc's arena count, trim and mmap thresholds; False where there is no glibc."""
    libc = _glibc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None:
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


def release_free_memory() -> bool:
    """Return freed heap pages to the system (glibc's malloc_trim); False elsewhere."""
    libc = _glibc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    return bool(trim(0)) if trim is not None else False


@functools.cache
def _glibc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None
