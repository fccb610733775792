"""Crop sheets: an edge device's one object per frame, and every value of its layout
checked before the tracker uses it."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from datapalooza.crop_sheets import (
    CELL_PX,
    MAX_METADATA_BYTES,
    MAX_TILES,
    MCU_PX,
    SheetError,
    SheetLayout,
    build_sheet,
)
from datapalooza.detection.face_crops import FaceCrop, pack_sheets
from datapalooza.domain.detections import BoundingBox, Detection
from datapalooza.domain.keys import CropKey, SheetKey, parse_object_key
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.images import decode_image

T0 = datetime(2026, 7, 18, 21, 30, tzinfo=UTC)


def gradient(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth image (JPEG keeps it closely) that differs per seed."""
    y, x = np.mgrid[0:height, 0:width]
    base = x * 150 // width + y * 100 // height + seed % 5
    return np.stack([base, 255 - base, np.full_like(base, 128)], axis=-1).astype(np.uint8)


def test_a_cell_is_rekognitions_smallest_image_and_whole_jpeg_blocks() -> None:
    assert REKOGNITION_LIMITS.min_side_px == CELL_PX
    assert CELL_PX % MCU_PX == 0  # no 4:2:0 MCU spans two tiles


def test_tiles_come_back_at_their_size_with_their_pixels() -> None:
    crops = [gradient(h, w, i) for i, (h, w) in enumerate([(163, 120), (60, 50), (80, 80)])]
    sheet = build_sheet(crops, quality=95)
    layout = SheetLayout.from_metadata(sheet.layout.metadata())
    tiles = layout.cut(decode_image(sheet.jpeg))

    # Scaled down to fit the cell with the aspect kept; a small crop is not enlarged.
    assert [t.shape for t in tiles] == [(80, 59, 3), (60, 50, 3), (80, 80, 3)]
    small = tiles[1].astype(int) - crops[1].astype(int)
    assert np.abs(small).mean() < 4  # only JPEG's loss at q95


def test_the_grid_is_square_and_the_sheet_is_its_size() -> None:
    sheet = build_sheet([gradient(90, 90, i) for i in range(10)], quality=75)
    assert (sheet.layout.columns, sheet.layout.rows) == (4, 3)
    assert decode_image(sheet.jpeg).shape[:2] == (3 * CELL_PX, 4 * CELL_PX)


def face_crops(count: int, *, stage: str, frame: str) -> list[FaceCrop]:
    crops = []
    for i in range(count):
        key = str(CropKey(stage, T0, frame, i))
        detection = Detection(BoundingBox(0.1, 0.1, 0.2, 0.2), 99.0, 80, crop_key=key)
        metadata = {
            "stage": stage,
            "camera": "c" * 40,
            "frame-id": frame,
            "box": "{}",
            "confidence": "99.00",
            "model-id": "retinaface-mobilenet0.25-onnx",
        }
        crops.append(FaceCrop(detection, b"", metadata, gradient(120, 96, i)))
    return crops


def test_a_frame_with_many_faces_goes_up_in_sheets_that_each_fit_s3s_metadata_limit() -> None:
    stage, frame = "s" * 40, "f" * 40  # the longest slugs
    sheets = pack_sheets(face_crops(250, stage=stage, frame=frame), quality=75)

    assert [s.faces for s in sheets] == [MAX_TILES, MAX_TILES, 50]
    keys = [parse_object_key(s.key) for s in sheets]
    assert keys == [SheetKey(stage, T0, frame, first) for first in (0, 100, 200)]
    for sheet in sheets:
        # S3 counts the UTF-8 bytes of every metadata key and value.
        size = sum(len(k.encode()) + len(v.encode()) for k, v in sheet.metadata.items())
        assert size <= MAX_METADATA_BYTES
        assert set(sheet.metadata) == {
            "stage",
            "camera",
            "frame-id",
            "model-id",
            "cell",
            "columns",
            "tiles",
        }  # no per-face box: nothing but the layout and the frame's names


GOOD = {"cell": "80", "columns": "2", "tiles": "80x64,40x40,80x80"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cell": None}, "no 'cell'"),
        ({"tiles": None}, "no 'tiles'"),
        ({"cell": "0"}, "outside"),
        ({"cell": "999"}, "outside"),
        ({"cell": "-80"}, "not a whole number"),
        ({"cell": "8e1"}, "not a whole number"),
        ({"cell": "٨٠"}, "not a whole number"),  # Arabic-Indic digits pass str.isdigit
        ({"cell": "0000080"}, "not a whole number"),
        ({"columns": "0"}, "columns"),
        ({"columns": "4"}, "columns"),  # more columns than tiles
        ({"tiles": ""}, "WIDTHxHEIGHT"),
        ({"tiles": "80x64,,80x80"}, "WIDTHxHEIGHT"),
        ({"tiles": "81x64,8x8"}, "does not fit"),
        ({"tiles": "8x8,0x64"}, "does not fit"),
        ({"tiles": "80X64"}, "WIDTHxHEIGHT"),
        ({"tiles": ",".join(["8x8"] * (MAX_TILES + 1))}, "1..100 tiles"),
        ({"tiles": "8x8," * 5000 + "8x8"}, "over 2048 characters"),
    ],
)
def test_a_layout_that_states_anything_else_is_refused(change: dict, reason: str) -> None:
    metadata = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(SheetError, match=reason):
        SheetLayout.from_metadata(metadata)


def test_an_image_that_is_not_the_layouts_size_is_refused() -> None:
    layout = SheetLayout.from_metadata(GOOD)
    assert layout.shape == (160, 160)
    with pytest.raises(SheetError, match="the sheet is 160x80 px"):
        layout.cut(np.zeros((80, 160, 3), dtype=np.uint8))
    assert len(layout.cut(np.zeros((160, 160, 3), dtype=np.uint8))) == 3
