"""The images named on a command line (``detect``, ``emotions``), decoded one by one."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from datapalooza.ports import RGBImage


class ImageFiles:
    """Yields ``(index, path, image)`` for each file that decodes; a file that cannot be
    read or decoded (or that a caller gives up on: ``failed``) gets one line on stderr and
    is counted in ``failures``, and the others go on."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = paths
        self.failures = 0

    def __iter__(self) -> Iterator[tuple[int, Path, RGBImage]]:
        from datapalooza.images import BadImage, decode_image

        for index, path in enumerate(self.paths):
            try:
                image = decode_image(path.read_bytes())
            except (OSError, BadImage) as exc:
                self.failed(path, exc)
                continue
            yield index, path, image

    def failed(self, path: Path, exc: BaseException) -> None:
        print(f"datapalooza: {path}: {exc}", file=sys.stderr)
        self.failures += 1

    @property
    def exit_status(self) -> int:
        return 1 if self.failures else 0
