"""Giving a large frame's memory back to the system.

An endpoint worker's memory would otherwise stay at the high-water mark of the
largest frame it ever saw: ONNX Runtime keeps its arena, and glibc keeps freed heap
pages. After a frame above LARGE_FRAME_PIXELS the detector shrinks its arena and the
worker trims the heap, so memory stays flat; typical frames skip both (the arena is
what makes them fast).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

LARGE_FRAME_PIXELS = 1920 * 1080
"""Frames above Full HD are large: analysing one grows memory by hundreds of MB."""


def is_large(height: int, width: int) -> bool:
    return height * width > LARGE_FRAME_PIXELS


def release_free_memory() -> bool:
    """Return freed heap pages to the system (glibc's malloc_trim); False elsewhere."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


@functools.cache
def _malloc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
