"""Mosaic mode: tile many face crops into one image, score them with one DetectFaces
call, and map each returned face back to its crop by position.

One call per crop costs about $1 per 1,000 faces; one call per mosaic of 50 crops costs
50 times less. The layout respects Rekognition's limits:

(``REKOGNITION_LIMITS``, with the AWS page they come from):

- at most 100 faces per call (DetectFaces returns only the 100 largest), so a mosaic
  holds at most ``max_faces`` tiles;
- a face must be at least 40 x 40 px in a 1920 x 1080 image (larger images need larger
  faces), so the canvas never exceeds 1920 x 1080 and a tile is never smaller than
  ``MIN_CELL_PX``: a crop's face fills about two thirds of the crop, so the face in the
  smallest tile is ~64 px, well above 40;
- at most 5 MB of image bytes: the mosaic is re-encoded at a lower JPEG quality if needed.

Tiles are separated by a grey gutter so that no face straddles two tiles, and a face
is assigned to the tile that contains its centre; when a crop holds more than one face
(a neighbour at the edge of the crop), the largest one is the crop's face.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.images import BadImage, decode_crop, encode_jpeg
from datapalooza.ports import AnalyzedFace, AnalyzerError, RGBImage

logger = logging.getLogger(__name__)

CANVAS_WIDTH, CANVAS_HEIGHT = REKOGNITION_LIMITS.face_reference_px
MIN_CELL_PX = 96
MAX_CELL_PX = 256  # bigger tiles only upscale small crops and add bytes
GUTTER_PX = 8
BACKGROUND = 128  # mid-grey: no edge that looks like part of a face


class FaceDetailsSource(Protocol):
    """Something that finds and scores every face in one image (Rekognition DetectFaces)."""

    name: str
    unsupported: frozenset[Emotion]

    def detect_faces(self, image: bytes) -> list[AnalyzedFace]:
        """Every face of the image, boxes as fractions of the image."""
        ...


@dataclass(frozen=True, slots=True)
class MosaicLayout:
    """Where each of ``count`` square tiles of side ``cell`` sits on the canvas."""

    count: int
    cols: int
    rows: int
    cell: int
    gutter: int = GUTTER_PX

    @property
    def pitch(self) -> int:
        return self.cell + self.gutter

    @property
    def width(self) -> int:
        return self.cols * self.pitch - self.gutter

    @property
    def height(self) -> int:
        return self.rows * self.pitch - self.gutter

    def origin(self, index: int) -> tuple[int, int]:
        """Top-left pixel of tile ``index`` (row-major)."""
        row, col = divmod(index, self.cols)
        return col * self.pitch, row * self.pitch

    def tile_at(self, x: float, y: float) -> int | None:
        """The tile containing pixel (x, y); None in a gutter, off the canvas or past the
        last tile."""
        if x < 0 or y < 0:
            return None
        col, dx = divmod(x, self.pitch)
        row, dy = divmod(y, self.pitch)
        if dx >= self.cell or dy >= self.cell or col >= self.cols or row >= self.rows:
            return None
        index = int(row) * self.cols + int(col)
        return index if index < self.count else None


def plan_mosaic(
    count: int, *, width: int = CANVAS_WIDTH, height: int = CANVAS_HEIGHT
) -> MosaicLayout:
    """The largest square tiles (up to MAX_CELL_PX) that fit ``count`` crops on the canvas."""
    if not 1 <= count <= REKOGNITION_LIMITS.max_faces:
        raise ValueError(f"a mosaic holds 1..{REKOGNITION_LIMITS.max_faces} crops, not {count}")
    for cell in range(MAX_CELL_PX, MIN_CELL_PX - 1, -1):
        pitch = cell + GUTTER_PX
        cols = (width + GUTTER_PX) // pitch
        rows = (height + GUTTER_PX) // pitch
        if cols * rows >= count:
            cols = min(cols, count)
            return MosaicLayout(count, cols, math.ceil(count / cols), cell)
    raise ValueError(f"{count} crops do not fit a {width}x{height} mosaic")


@dataclass(frozen=True, slots=True)
class Mosaic:
    """The composed image and where each crop landed inside its tile."""

    layout: MosaicLayout
    image: RGBImage
    placements: tuple[tuple[int, int, int, int], ...]  # (x, y, w, h) of each crop, pixels


def compose(crops: Sequence[RGBImage]) -> Mosaic:
    """Scale each crop (keeping its aspect ratio) into the centre of its tile."""
    layout = plan_mosaic(len(crops))
    canvas = np.full((layout.height, layout.width, 3), BACKGROUND, dtype=np.uint8)
    placements = []
    for index, crop in enumerate(crops):
        h, w = crop.shape[:2]
        scale = layout.cell / max(h, w)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        # Pillow, not OpenCV: the Lambda bundle carries numpy and Pillow only.
        resized = np.asarray(
            Image.fromarray(crop).resize(
                (new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=2.0
            )
        )
        x0, y0 = layout.origin(index)
        x = x0 + (layout.cell - new_w) // 2
        y = y0 + (layout.cell - new_h) // 2
        canvas[y : y + new_h, x : x + new_w] = resized
        placements.append((x, y, new_w, new_h))
    return Mosaic(layout, canvas, tuple(placements))


def assign_faces(mosaic: Mosaic, faces: Sequence[AnalyzedFace]) -> list[AnalyzedFace]:
    """One AnalyzedFace per crop: the largest face whose centre lies in the crop's tile,
    its box re-expressed as fractions of the crop; AnalyzedFace(None) where none did."""
    layout = mosaic.layout
    best: dict[int, tuple[float, AnalyzedFace]] = {}
    for face in faces:
        if face.box is None or face.scores is None:
            continue
        x, y, w, h = face.box.to_pixels(layout.width, layout.height)
        tile = layout.tile_at(x + w / 2, y + h / 2)
        if tile is None:
            logger.info("mosaic face at (%d, %d) lies in no tile; ignored", x, y)
            continue
        area = float(w * h)
        if tile not in best or area > best[tile][0]:
            px, py, pw, ph = mosaic.placements[tile]
            crop_box = BoundingBox.from_pixels(
                x - px, y - py, w, h, frame_width=pw, frame_height=ph
            )
            best[tile] = (area, AnalyzedFace(face.scores, crop_box))
    return [best[i][1] if i in best else AnalyzedFace(None) for i in range(layout.count)]


def encode_within_limit(
    image: RGBImage, *, limit: int = REKOGNITION_LIMITS.max_image_bytes
) -> bytes:
    """JPEG bytes under ``limit``, lowering quality step by step if needed."""
    for quality in (90, 80, 70, 60, 50):
        data = encode_jpeg(image, quality=quality)
        if len(data) <= limit:
            return data
    raise AnalyzerError(f"mosaic does not fit in {limit} bytes", transient=False)


class MosaicAnalyzer:
    """EmotionAnalyzer that scores up to ``max_batch`` crops with one call of ``source``.

    A crop whose tile gets no face back is answered with AnalyzedFace(None), which the
    tracker records as NoFaceFound.
    """

    def __init__(self, source: FaceDetailsSource, *, max_tiles: int = 50) -> None:
        if not 1 <= max_tiles <= REKOGNITION_LIMITS.max_faces:
            raise ValueError(
                f"max_tiles must be 1..{REKOGNITION_LIMITS.max_faces}, not {max_tiles}"
            )
        self.source = source
        self.name = f"{source.name}-mosaic"
        self.unsupported = source.unsupported
        self.max_batch = max_tiles

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        try:
            images = [decode_crop(crop) for crop in crops]
        except BadImage as exc:
            raise AnalyzerError(f"crop is not a usable image: {exc}", transient=False) from exc
        return self.analyze_decoded(images)

    def analyze_decoded(self, images: Sequence[RGBImage]) -> list[AnalyzedFace]:
        """``analyze`` for crops the tracker has already decoded (and a sheet's tiles)."""
        results: list[AnalyzedFace] = []
        for start in range(0, len(images), self.max_batch):
            mosaic = compose(images[start : start + self.max_batch])
            faces = self.source.detect_faces(encode_within_limit(mosaic.image))
            results.extend(assign_faces(mosaic, faces))
        return results
