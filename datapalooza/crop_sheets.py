"""Crop sheets: a frame's face crops in one JPEG, the edge device's upload format.

An edge device pays for every byte on the festival's uplink. One PutObject per crop
spends ~1.5 KB of request head (SigV4 headers, object metadata) before any pixel, as
much as half a crop, and every crop JPEG repeats its own ~600 B of tables
(docs/benchmarks.md). So an edge device sends one object per frame: the frame's crops
tiled row by row into square cells of ``CELL_PX``, each crop scaled down to fit its cell
with its aspect kept, and the layout in the object's metadata. The tracker cuts the
tiles out again and scores each one as the face crop it is, under the face's crop key
(``SheetKey.face``).

``CELL_PX`` is Rekognition's minimum image side (80 px, ``REKOGNITION_LIMITS``): a tile
is the smallest image DetectFaces accepts on its own, its face (about 57 px with the
crop's 20% margin) is above Rekognition's 40 px minimum face, and the local expression
model reads 64 x 64 px. Cells are a whole number of JPEG MCUs (16 px with 4:2:0 chroma),
so no compressed block mixes two faces.

Everything in the metadata comes from outside when the tracker reads it:
``SheetLayout.from_metadata`` checks every value against the limits below before any
is used, and ``decode`` checks the image's size against the layout from its header,
before it decodes a pixel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from datapalooza.images import (
    MAX_CROP_PIXELS,
    MAX_CROP_SIDE,
    decode_image,
    encode_jpeg,
    shrink_to_fit,
)
from datapalooza.ports import RGBImage

CELL_PX = 80  # REKOGNITION_LIMITS.min_side_px (tests/unit/test_crop_sheets.py holds them equal)
MCU_PX = 16
MAX_TILES = 100
"""Tiles per sheet; a frame with more crops goes up in several sheets."""
MAX_CELL_PX = 512
BACKGROUND = 128  # mid-grey, as in the tracker's mosaic
MAX_METADATA_BYTES = 2048
"""S3 limits user-defined metadata to 2 KB, counted as the UTF-8 bytes of every key and
value ("Working with object metadata", Amazon S3 User Guide,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html). A sheet's
metadata is kept under it, and the tracker reads no more than that."""

CELL_FIELD, COLUMNS_FIELD, TILES_FIELD = "cell", "columns", "tiles"
_TILE = re.compile(r"^(\d{1,3})x(\d{1,3})$")


class SheetError(ValueError):
    """A crop sheet whose metadata or pixels do not describe a valid layout."""


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """Where each tile of a sheet lies: tile ``i`` is the ``sizes[i]`` (width, height)
    rectangle at the top-left of cell ``i``, cells row by row, ``columns`` per row."""

    cell: int
    columns: int
    sizes: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if not 1 <= self.cell <= MAX_CELL_PX:
            raise SheetError(f"cell of {self.cell} px is outside 1..{MAX_CELL_PX}")
        if not 1 <= len(self.sizes) <= MAX_TILES:
            raise SheetError(f"a sheet holds 1..{MAX_TILES} tiles, not {len(self.sizes)}")
        if not 1 <= self.columns <= len(self.sizes):
            raise SheetError(f"{self.columns} columns for {len(self.sizes)} tiles")
        for width, height in self.sizes:
            if not (1 <= width <= self.cell and 1 <= height <= self.cell):
                raise SheetError(f"a {width}x{height} tile does not fit a {self.cell} px cell")

    @classmethod
    def for_tiles(cls, sizes: Sequence[tuple[int, int]], *, cell: int = CELL_PX) -> SheetLayout:
        """The squarest grid for these tile sizes."""
        return cls(cell, math.ceil(math.sqrt(len(sizes))), tuple(sizes))

    @property
    def rows(self) -> int:
        return math.ceil(len(self.sizes) / self.columns)

    @property
    def shape(self) -> tuple[int, int]:
        """The sheet's (height, width) in pixels."""
        return self.rows * self.cell, self.columns * self.cell

    def origin(self, index: int) -> tuple[int, int]:
        """Top-left (x, y) of tile ``index``."""
        row, column = divmod(index, self.columns)
        return column * self.cell, row * self.cell

    def metadata(self) -> dict[str, str]:
        return {
            CELL_FIELD: str(self.cell),
            COLUMNS_FIELD: str(self.columns),
            TILES_FIELD: ",".join(f"{w}x{h}" for w, h in self.sizes),
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> SheetLayout:
        """The layout a sheet's object metadata states; SheetError if it states none."""
        try:
            cell, columns, tiles = (metadata[f] for f in (CELL_FIELD, COLUMNS_FIELD, TILES_FIELD))
        except KeyError as exc:
            raise SheetError(f"the sheet's metadata has no {exc.args[0]!r}") from None
        if len(tiles) > MAX_METADATA_BYTES:
            raise SheetError(f"the tiles field is over {MAX_METADATA_BYTES} characters")
        sizes = []
        for tile in tiles.split(","):
            match = _TILE.match(tile)
            if match is None:
                raise SheetError(f"tile size {tile[:20]!r} is not WIDTHxHEIGHT")
            sizes.append((int(match[1]), int(match[2])))
        return cls(_small_int(cell, CELL_FIELD), _small_int(columns, COLUMNS_FIELD), tuple(sizes))

    def decode(self, body: bytes, *, max_bytes: int) -> list[RGBImage]:
        """The tiles of a stored sheet. BadImage unless ``body`` is an image of exactly
        the layout's size, checked from its header before any pixel is decoded, and
        within a crop's limits (MAX_CROP_SIDE, MAX_CROP_PIXELS): the tracker decodes a
        sheet whole, as it does a crop, and an edge device's is at most 800 x 800 px
        (MAX_TILES cells of CELL_PX in the squarest grid)."""
        height, width = self.shape
        sheet = decode_image(
            body,
            max_bytes=max_bytes,
            max_pixels=MAX_CROP_PIXELS,
            max_side=MAX_CROP_SIDE,
            analysed_pixels=MAX_CROP_PIXELS,  # never reduced: tiles lie at pixel offsets
            size=(width, height),
        )
        return self.cut(sheet)

    def cut(self, sheet: RGBImage) -> list[RGBImage]:
        """Each tile of a decoded sheet, in order; SheetError when the image is not the
        size the layout says."""
        if sheet.shape[:2] != self.shape:
            height, width = sheet.shape[:2]
            expected_height, expected_width = self.shape
            raise SheetError(
                f"the sheet is {width}x{height} px; its layout says "
                f"{expected_width}x{expected_height}"
            )
        tiles = []
        for index, (width, height) in enumerate(self.sizes):
            x, y = self.origin(index)
            tiles.append(np.ascontiguousarray(sheet[y : y + height, x : x + width]))
        return tiles


def _small_int(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        raise SheetError(f"{name} {text[:20]!r} is not a whole number of at most 3 digits")
    return int(text)


@dataclass(frozen=True, slots=True)
class CropSheet:
    """One sheet ready to store: the JPEG and the layout that goes in its metadata."""

    jpeg: bytes
    layout: SheetLayout


def build_sheet(crops: Sequence[RGBImage], *, quality: int, cell: int = CELL_PX) -> CropSheet:
    """Tile ``crops`` (1..MAX_TILES of them) into one JPEG, each scaled down to fit."""
    tiles = [shrink_to_fit(crop, cell) for crop in crops]
    layout = SheetLayout.for_tiles([(t.shape[1], t.shape[0]) for t in tiles], cell=cell)
    canvas = np.full((*layout.shape, 3), BACKGROUND, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        x, y = layout.origin(index)
        canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return CropSheet(encode_jpeg(canvas, quality=quality), layout)
