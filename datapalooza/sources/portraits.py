"""Real face photographs that installed packages ship, for the synthetic festival.

Only photographs of real people are used, so the emotion model scores real facial
expressions; nothing here draws or warps a face into an expression it does not have.
What the available photos honestly carry:

- ``grace_hopper`` (matplotlib's sample data, always installed): Rear Admiral Grace
  Hopper's official portrait — a closed-mouth, slight smile; mostly a neutral face
  (expect CALM with some HAPPY or SAD from a FER2013 model).
- ``astronaut`` (scikit-image's ``astronaut.png``, present when scikit-image is
  installed): astronaut Eileen Collins' NASA portrait — a broad open-mouth smile
  (expect HAPPY).

So the festival can show smiling and neutral crowds and the mix between them; it cannot
show anger, fear, disgust or surprise, because no installed package ships a photo of
such a face. Both photos are public-domain US government works.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from datapalooza.ports import RGBImage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Portrait:
    """A head-and-shoulders cut of a real photo, with where its face is."""

    name: str
    expression: str
    image: RGBImage
    face: tuple[int, int, int, int]
    """(x, y, w, h) of the face inside ``image``."""


@dataclass(frozen=True, slots=True)
class _PortraitSpec:
    name: str
    expression: str
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in the original photo
    face: tuple[int, int, int, int]  # x0, y0, x1, y1 in the original photo


# Rectangles measured on the shipped photos (grace_hopper.jpg is 512x600, astronaut.png
# 512x512): the head-and-shoulders cut, and the face from brow to chin.
_SPECS = {
    "grace_hopper": _PortraitSpec(
        "grace_hopper",
        "closed-mouth slight smile (mostly neutral)",
        (110, 15, 420, 420),
        (165, 135, 355, 335),
    ),
    "astronaut": _PortraitSpec(
        "astronaut", "broad open-mouth smile", (105, 0, 345, 275), (172, 45, 282, 185)
    ),
}


def _photo_path(name: str) -> Path | None:
    if name == "grace_hopper":
        from matplotlib import cbook

        return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    if name == "astronaut":
        # Located without importing scikit-image (slow, and only a dev dependency).
        spec = importlib.util.find_spec("skimage")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
        return path if path.is_file() else None
    raise KeyError(name)


def _load(spec: _PortraitSpec) -> Portrait | None:
    path = _photo_path(spec.name)
    if path is None:
        log.info("portrait %s is not installed (needs scikit-image); skipping", spec.name)
        return None
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        log.warning("portrait %s at %s is unreadable; skipping", spec.name, path)
        return None
    x0, y0, x1, y1 = spec.crop
    rgb = np.ascontiguousarray(cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB), dtype=np.uint8)
    fx0, fy0, fx1, fy1 = spec.face
    return Portrait(spec.name, spec.expression, rgb, (fx0 - x0, fy0 - y0, fx1 - fx0, fy1 - fy0))


@cache
def available_portraits() -> tuple[Portrait, ...]:
    """The portraits installed here (at least grace_hopper: matplotlib is a dependency)."""
    portraits = tuple(p for p in (_load(s) for s in _SPECS.values()) if p is not None)
    if not portraits:
        raise RuntimeError("no face photographs found (matplotlib's sample data is missing)")
    return portraits
