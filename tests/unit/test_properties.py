"""Property-based tests of everything that parses outside input: arbitrary bytes and
values give a result or the module's own clear error, never another exception.

The budget is the Hypothesis profile's (tests/conftest.py): small in the normal run,
``make fuzz`` for the long one.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import ExifTags, Image, TiffImagePlugin

from datapalooza.adapters.aws.lambda_events import MalformedMessage, crop_refs
from datapalooza.crop_sheets import MAX_CELL_PX, MAX_TILES, SheetError, SheetLayout
from datapalooza.domain.frame_attributes import BadAttributes, FrameAttributes, parse_attributes
from datapalooza.domain.keys import (
    KEY_TIME_MAX,
    KEY_TIME_MIN,
    CropKey,
    InvalidKey,
    SheetKey,
    parse_object_key,
)
from datapalooza.images import MAX_ANALYSED_PIXELS, BadImage, decode_image

NOW = datetime(2026, 7, 18, 21, 30, tzinfo=UTC)


def _image_bytes(fmt: str, mode: str, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 100).save(buffer, format=fmt)
    return buffer.getvalue()


def _rotated_jpeg() -> bytes:
    """A JPEG with an EXIF block that decode_image reads and rewrites (to rotate it)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Camera"
    exif[ExifTags.Base.XResolution] = TiffImagePlugin.IFDRational(72, 1)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), 100).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


SEEDS = [
    _image_bytes("JPEG", "RGB", (16, 12)),
    _rotated_jpeg(),
    _image_bytes("JPEG", "L", (9, 7)),
    _image_bytes("JPEG", "CMYK", (8, 8)),
    _image_bytes("PNG", "RGBA", (5, 3)),
    _image_bytes("PNG", "P", (4, 4)),
    _image_bytes("PNG", "I;16", (3, 5)),
]


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    """A valid JPEG or PNG with a few bytes changed, cut or inserted (headers included)."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["set", "cut", "insert"]))
        if action == "set":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 16))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        if not data:
            break
    return bytes(data)


@st.composite
def declared_pngs(draw: st.DrawFn) -> bytes:
    """A PNG whose header declares any size, depth and colour type, with some pixels."""
    width, height = draw(st.integers(0, 2**31)), draw(st.integers(0, 2**31))
    depth, colour = draw(st.sampled_from([1, 2, 4, 8, 16])), draw(st.sampled_from([0, 2, 3, 4, 6]))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    pixels = zlib.compress(draw(st.binary(max_size=256)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["image/jpeg", "image/png", "application/x-image", "image/jpg; q=1"]),
    st.text(max_size=30),
)


def check_decoded(image: np.ndarray) -> None:
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert 0 < image.shape[0] * image.shape[1] <= MAX_ANALYSED_PIXELS


# Pillow warns of the broken EXIF tags of some mutated images; the answer is what counts.
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
@given(
    body=st.one_of(st.binary(max_size=2048), mutated_images(), declared_pngs()), ctype=CONTENT_TYPES
)
def test_decode_image_gives_an_rgb_array_or_bad_image(body, ctype):
    try:
        image = decode_image(body, ctype)
    except BadImage as exc:
        assert 400 <= exc.status < 500 and exc.code and str(exc)
    else:
        check_decoded(image)


ATTRIBUTE_VALUES = st.one_of(
    st.text(max_size=50),
    st.integers(-(10**30), 10**30).map(str),
    st.integers(int(NOW.timestamp() * 1000) - 10**9, int(NOW.timestamp() * 1000) + 10**9).map(str),
)


@given(
    header=st.one_of(
        st.none(),
        st.text(max_size=2000),
        st.lists(
            st.tuples(
                st.sampled_from(["stage", "camera", "frame", "ts", "x", "TS"]), ATTRIBUTE_VALUES
            ),
            max_size=6,
        ).map(lambda pairs: ",".join(f"{k}={v}" for k, v in pairs)),
    )
)
@example(header="ts=253402300799999")
@example(header="ts=-5")
@example(header="ts=--5")
def test_custom_attributes_parse_or_give_bad_attributes(header):
    try:
        attributes = parse_attributes(header, now=NOW)
    except BadAttributes as exc:
        assert str(exc)
    else:
        assert isinstance(attributes, FrameAttributes)
        assert KEY_TIME_MIN <= attributes.captured_at < KEY_TIME_MAX
        str(CropKey(attributes.stage, attributes.captured_at, attributes.frame_id, 0))
        assert parse_attributes(attributes.to_header(), now=NOW) == attributes


KEY_LIKE = st.from_regex(
    r"\Afaces/[a-z0-9-]{1,6}/\d{4}/\d{2}/\d{2}/\d{2}/\d{1,15}-[a-z0-9-]{1,6}-\d{1,4}"
    r"(\.sheet)?\.jpg\Z"
)


@given(key=st.one_of(st.text(max_size=120), KEY_LIKE))
@example(key="faces/main/9999/12/31/23/253402300799999-f1-0.jpg")
@example(key="faces/main/2026/07/18/21/01784410200000-f1-0.jpg")
@example(key="faces/main/2026/07/18/21/1784410200000-f1-00.sheet.jpg")
def test_object_keys_parse_to_their_canonical_form_or_give_invalid_key(key):
    try:
        parsed = parse_object_key(key)
    except InvalidKey as exc:
        assert str(exc)
    else:
        assert str(parsed) == key  # one crop, one key: no two spellings of it
        assert isinstance(parsed, SheetKey) == key.endswith(".sheet.jpg")


TILE_LIKE = st.from_regex(r"\A\d{1,3}x\d{1,3}(,\d{1,3}x\d{1,3}){0,5}\Z")


@given(
    metadata=st.dictionaries(
        st.sampled_from(["cell", "columns", "tiles", "stage"]),
        st.one_of(st.text(max_size=30), st.from_regex(r"\A\d{1,4}\Z"), TILE_LIKE),
    )
)
@example(metadata={"cell": "80", "columns": "1", "tiles": "80x80"})
def test_a_sheet_layout_is_read_or_gives_sheet_error(metadata):
    try:
        layout = SheetLayout.from_metadata(metadata)
    except SheetError as exc:
        assert str(exc)
    else:
        height, width = layout.shape
        assert 0 < height <= MAX_CELL_PX * MAX_TILES and 0 < width <= MAX_CELL_PX * MAX_TILES
        assert len(layout.cut(np.zeros((height, width, 3), dtype=np.uint8))) == len(layout.sizes)


@given(
    moment=st.datetimes(
        min_value=KEY_TIME_MIN.replace(tzinfo=None),
        max_value=KEY_TIME_MAX.replace(tzinfo=None, microsecond=0),
        timezones=st.just(UTC),
    ),
    index=st.integers(0, 9999),
)
def test_every_key_we_build_parses_back(moment, index):
    if moment >= KEY_TIME_MAX:
        return
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    key = CropKey("main", moment, "f1", index)
    assert CropKey.parse(str(key)) == key


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def s3_notifications(draw: st.DrawFn) -> dict:
    """S3 notifications shaped like the real one, with any field replaced by any JSON."""
    with open("tests/events/s3_object_created.json", encoding="utf-8") as handle:
        event = json.load(handle)
    record = event["Records"][0]
    paths = [
        ("eventName",),
        ("s3",),
        ("s3", "object"),
        ("s3", "object", "key"),
        ("s3", "object", "size"),
        ("s3", "bucket"),
        ("s3", "bucket", "name"),
    ]
    for path in draw(st.lists(st.sampled_from(paths), max_size=3)):
        target = record
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = draw(JSON)
        except (KeyError, TypeError, IndexError):
            pass
    if draw(st.booleans()):
        event["Records"] = draw(st.one_of(JSON, st.just([record, draw(JSON)])))
    return event


@given(
    notification=st.one_of(
        s3_notifications(), st.dictionaries(st.text(max_size=10), JSON, max_size=4)
    )
)
def test_s3_notifications_give_crop_refs_or_malformed_message(notification):
    try:
        refs = crop_refs(notification, item_id="m1", bucket="datapalooza-faces-test")
    except MalformedMessage as exc:
        assert str(exc)
    else:
        for ref in refs:
            assert isinstance(ref.key, str) and (ref.size is None or ref.size >= 0)
