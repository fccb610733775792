"""A folder of images as a frame source (sorted by name), for replaying captured stills."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from datapalooza.sources.base import (
    Clock,
    Frame,
    InvalidSourceSpec,
    SourceBase,
    SourceExhausted,
    frame_id_for,
    utc_now,
)

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class FolderSource(SourceBase):
    """The images of one folder in name order; unreadable files are skipped with a warning.

    ``loop`` starts again after the last image (a demo camera that never ends).
    """

    def __init__(self, folder: Path, *, loop: bool = False, clock: Clock = utc_now) -> None:
        if not folder.is_dir():
            raise InvalidSourceSpec(f"dir source: {str(folder)!r} is not a directory")
        self.name = f"dir:{folder}"
        self._paths = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not self._paths:
            raise InvalidSourceSpec(
                f"dir source: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {str(folder)!r}"
            )
        self._loop = loop
        self._clock = clock
        self._position = 0
        self._index = 0
        self.skipped = 0

    def read(self) -> Frame:
        # Bounded: at most one pass over the folder looking for a readable image.
        for _ in range(len(self._paths)):
            if self._position >= len(self._paths):
                if not self._loop:
                    break
                self._position = 0
            path = self._paths[self._position]
            self._position += 1
            data = np.fromfile(path, dtype=np.uint8)
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if bgr is None:
                self.skipped += 1
                log.warning("dir source: skipping %s (not a readable image)", path)
                continue
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
            frame = Frame(rgb, frame_id_for(self._index), self._clock(), self._index)
            self._index += 1
            return frame
        raise SourceExhausted(f"end of {self.name} after {self._index} frames")
