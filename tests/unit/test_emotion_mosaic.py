"""Mosaic layout limits and mapping faces back to crops by position."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image
from skimage.measure import label, regionprops

from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.emotions.mosaic import (
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    MIN_CELL_PX,
    MosaicAnalyzer,
    assign_faces,
    compose,
    encode_within_limit,
    plan_mosaic,
)
from datapalooza.ports import AnalyzedFace
from tests.helpers.emotions import jpeg


@pytest.mark.parametrize("count", [1, 2, 7, 36, 50, 64, 99, 100])
def test_layout_respects_rekognition_limits(count):
    layout = plan_mosaic(count)
    assert layout.cols * layout.rows >= count
    assert layout.width <= CANVAS_WIDTH and layout.height <= CANVAS_HEIGHT
    # A face fills ~2/3 of a crop: the smallest tile keeps faces well above 40 px.
    assert layout.cell >= MIN_CELL_PX and layout.cell * 2 / 3 >= 40
    # Every tile lies fully inside the canvas and tiles never overlap.
    origins = {layout.origin(i) for i in range(count)}
    assert len(origins) == count
    for x, y in origins:
        assert x + layout.cell <= layout.width and y + layout.cell <= layout.height


@pytest.mark.parametrize("count", [0, 101])
def test_layout_refuses_more_faces_than_one_call_returns(count):
    with pytest.raises(ValueError, match=r"1\.\.100"):
        plan_mosaic(count)


def test_tile_at_ignores_gutters_and_empty_tiles():
    layout = plan_mosaic(5)
    x, y = layout.origin(1)
    assert layout.tile_at(x + 1, y + 1) == 1
    assert layout.tile_at(x + layout.cell + 2, y + 1) is None  # gutter
    assert layout.tile_at(-1, 0) is None
    assert layout.tile_at(layout.width + 50, 0) is None
    assert plan_mosaic(5).cols == 5  # small batches stay one row


class BlobFaceSource:
    """A FaceDetailsSource that knows nothing about the layout: it finds non-grey blobs
    in the mosaic's pixels and scores each HAPPY by its brightness. If mapping by
    position is right, each crop gets back its own brightness."""

    name = "blobs"
    unsupported = frozenset()

    def __init__(self, *, drop_dark: bool = False, shuffle: bool = True):
        self.calls = 0
        self.drop_dark = drop_dark
        self.shuffle = shuffle

    def detect_faces(self, image: bytes) -> list[AnalyzedFace]:
        self.calls += 1
        pixels = np.asarray(Image.open(io.BytesIO(image)).convert("L"), dtype=np.int16)
        height, width = pixels.shape
        faces = []
        for region in regionprops(label(np.abs(pixels - 128) > 40)):
            if region.area < 100:
                continue
            y0, x0, y1, x1 = region.bbox
            value = float(np.median(pixels[y0:y1, x0:x1]))
            if self.drop_dark and value < 100:
                continue
            box = BoundingBox.from_pixels(
                x0, y0, x1 - x0, y1 - y0, frame_width=width, frame_height=height
            )
            faces.append(AnalyzedFace(EmotionScores({Emotion.HAPPY: value / 255 * 100}), box))
        if self.shuffle:
            random.Random(7).shuffle(faces)
        return faces


def brightness_crops(values, size=(120, 90)):
    return [jpeg(np.full((*size, 3), v, dtype=np.uint8)) for v in values]


def test_mosaic_maps_each_face_back_to_its_crop():
    # 37 distinct brightnesses away from the mid-grey background, so each crop is a blob.
    values = [5 + 3 * i for i in range(18)] + [190 + 3 * i for i in range(19)]
    source = BlobFaceSource()
    analyzer = MosaicAnalyzer(source, max_tiles=50)

    faces = analyzer.analyze(brightness_crops(values))

    assert source.calls == 1
    got = [f.scores.scores[Emotion.HAPPY] * 255 / 100 for f in faces]
    assert got == pytest.approx(values, abs=1.4)
    # Boxes come back relative to each crop: the blob is the whole crop.
    assert faces[0].box.width == pytest.approx(1.0, abs=0.05)


def test_crops_without_a_face_in_their_tile_get_none():
    values = [20, 220, 30, 230]
    faces = MosaicAnalyzer(BlobFaceSource(drop_dark=True), max_tiles=10).analyze(
        brightness_crops(values)
    )
    assert [f.scores is None for f in faces] == [True, False, True, False]


def test_batches_larger_than_a_mosaic_are_split():
    source = BlobFaceSource()
    faces = MosaicAnalyzer(source, max_tiles=4).analyze(brightness_crops([20, 220] * 5))
    assert source.calls == 3 and len(faces) == 10


def test_largest_face_in_a_tile_wins_and_stray_faces_are_ignored():
    mosaic = compose([np.zeros((100, 100, 3), np.uint8)] * 2)
    w, h = mosaic.layout.width, mosaic.layout.height
    x, y, _, _ = mosaic.placements[1]

    def face(px, py, size, happy):
        box = BoundingBox.from_pixels(px, py, size, size, frame_width=w, frame_height=h)
        return AnalyzedFace(EmotionScores({Emotion.HAPPY: happy}), box)

    gutter_x = mosaic.layout.cell + 1
    faces = [
        face(x + 5, y + 5, 20, 10.0),
        face(x + 20, y + 20, 60, 90.0),
        face(gutter_x - 10, 10, 20, 50.0),
    ]
    mapped = assign_faces(mosaic, faces)
    assert mapped[0].scores is None
    assert mapped[1].scores.scores[Emotion.HAPPY] == 90.0


def test_mosaic_bytes_stay_under_the_limit():
    noise = np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    data = encode_within_limit(noise, limit=2_000_000)
    assert len(data) <= 2_000_000


def test_rekognition_limits_are_the_documented_ones_and_the_mosaic_keeps_them() -> None:
    from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS as limits

    # https://docs.aws.amazon.com/rekognition/latest/dg/limits.html (and API_Image.html)
    assert limits.min_side_px == 80
    assert limits.max_image_bytes == 5_242_880
    assert (limits.min_face_px, limits.face_reference_px) == (40, (1920, 1080))
    assert limits.formats == {"JPEG", "PNG"} and limits.max_faces == 100
    smallest = plan_mosaic(1)
    assert min(smallest.width, smallest.height) >= limits.min_side_px
