"""What each kind of payload gets from decode_image."""

import io
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import ExifTags, Image, TiffImagePlugin

from datapalooza import images
from datapalooza.domain.detections import BoundingBox
from datapalooza.images import (
    CROP_WORKING_PIXELS,
    MAX_ANALYSED_PIXELS,
    MAX_CROP_PIXELS,
    MAX_CROP_SIDE,
    MAX_SIDE,
    BadImage,
    crop_with_margin,
    decode_crop,
    decode_image,
    encode_jpeg,
)
from tests.conftest import to_bytes
from tests.helpers.images import declared_png

RGB = Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))


def test_jpeg_and_png_decode_to_rgb_arrays():
    for fmt, ctype in (
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("PNG", "application/x-image"),
    ):
        image = decode_image(to_bytes(RGB, fmt), ctype)
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (RGB.convert("L"), "PNG"),
        (RGB.convert("CMYK"), "JPEG"),
        (RGB.convert("RGBA"), "PNG"),
        (RGB.convert("LA"), "PNG"),
        (RGB.convert("P"), "PNG"),
        (Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16)), "PNG"),
    ],
    ids=["grayscale", "cmyk", "alpha", "gray-alpha", "palette", "16-bit"],
)
def test_valid_but_unusual_images_are_handled(image, fmt):
    decoded = decode_image(to_bytes(image, fmt))
    assert decoded.shape == (48, 64, 3)
    assert decoded.dtype == np.uint8
    assert decoded.max() > decoded.min()  # real content survived, not a blank frame


def test_sixteen_bit_images_keep_their_contrast():
    ramp = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    decoded = decode_image(to_bytes(Image.fromarray(ramp), "PNG"))
    assert decoded[0, 0, 0] == 0 and decoded[-1, -1, 0] == 255


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    decoded = decode_image(to_bytes(RGB, "JPEG", exif=exif))
    assert decoded.shape == (64, 48, 3)


def _camera_exif_jpeg() -> bytes:
    """A JPEG with the EXIF block a camera writes: rotated (Orientation 6), with its make,
    resolution, software and time. Its first IFD entry (Make) sits 16 bytes after the
    b"Exif\\0\\0" marker: tag at 16-17, type at 18-19."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Camera"
    exif[ExifTags.Base.XResolution] = TiffImagePlugin.IFDRational(72, 1)
    exif[ExifTags.Base.Software] = "fw"
    exif[ExifTags.Base.DateTime] = "2026:07:18 21:30:00"
    return to_bytes(RGB, "JPEG", exif=exif)


@pytest.mark.parametrize(
    ("offset", "value", "raised"),
    [
        (17, 0x00, struct.error),  # Make's tag becomes ImageWidth: text packed as a number
        (17, 0x1A, TypeError),  # Make's tag becomes XResolution: abs() of text
        (19, 11, AttributeError),  # Make's type becomes FLOAT: a float has no .encode()
    ],
    ids=["tag-to-width", "tag-to-resolution", "type-to-float"],
)
# Pillow warns of the broken tags it reads on the way; the answer is the test's subject.
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_a_jpeg_whose_exif_breaks_the_rotation_is_a_corrupt_image(offset, value, raised):
    """Each raised from exif_transpose's rewrite of the EXIF block, outside the decoder's
    guard: the endpoint answered 500 and the tracker retried the crop until the DLQ."""
    data = bytearray(_camera_exif_jpeg())
    data[data.index(b"Exif\0\0") + offset] = value
    with pytest.raises(BadImage) as caught:
        decode_image(bytes(data), "image/jpeg")
    assert (caught.value.status, caught.value.code) == (400, "corrupt_image")
    assert isinstance(caught.value.__cause__, raised)


def test_a_memory_error_while_decoding_is_not_the_payloads_fault(monkeypatch):
    def exhausted(image, **kwargs):
        raise MemoryError

    monkeypatch.setattr(images.ImageOps, "exif_transpose", exhausted)
    with pytest.raises(MemoryError):
        decode_image(_camera_exif_jpeg(), "image/jpeg")


@pytest.mark.parametrize(
    ("body", "ctype", "status", "code"),
    [
        (b"", "image/jpeg", 400, "empty_body"),
        (b"hello, this is not an image", "image/jpeg", 400, "not_an_image"),
        (to_bytes(RGB, "JPEG")[:300], "image/jpeg", 400, "corrupt_image"),
        (to_bytes(RGB, "PNG"), "text/plain", 415, "unsupported_content_type"),
        (to_bytes(RGB, "PNG"), "application/x-npy", 415, "unsupported_content_type"),
        (to_bytes(RGB, "PNG"), "image/jpeg", 400, "not_an_image"),  # declared JPEG, is PNG
        (b"\xff" * (6 * 1024 * 1024 + 1), "image/jpeg", 413, "payload_too_large"),
        (declared_png(100_000, 100_000), "image/png", 413, "image_too_large"),
    ],
    ids=["empty", "not-image", "truncated", "text", "npy", "mislabelled", "oversize", "bomb"],
)
def test_bad_payloads_get_a_clear_error_and_status(body, ctype, status, code):
    with pytest.raises(BadImage) as caught:
        decode_image(body, ctype)
    assert caught.value.status == status
    assert caught.value.code == code
    assert str(caught.value)


def test_content_type_parameters_are_ignored():
    assert decode_image(to_bytes(RGB, "JPEG"), "image/jpeg; charset=binary").shape == (48, 64, 3)


def test_crop_grows_by_the_margin_and_is_clipped_to_the_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    centre = crop_with_margin(frame, BoundingBox(0.25, 0.25, 0.25, 0.5), 0.2)
    assert centre.shape == (70, 70, 3)  # 50x50 box + 10 px each side
    corner = crop_with_margin(frame, BoundingBox(0.0, 0.0, 0.1, 0.2), 0.5)
    assert corner.shape == (30, 30, 3)  # clipped at the top-left edges


def test_jpeg_encoding_round_trips_and_carries_no_exif():
    data = encode_jpeg(np.asarray(RGB))
    assert Image.open(io.BytesIO(data)).getexif() == {}
    assert decode_image(data).shape == (48, 64, 3)


def _real_png_row(width: int) -> bytes:
    """A valid, fully decodable PNG of width x 1 (38 KB of zlib for 39 M pixels)."""
    raw = b"\x00" + b"\x80" * (3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "body",
    [_real_png_row(39_000_000), declared_png(MAX_SIDE + 1, 1), declared_png(1, MAX_SIDE + 1)],
    ids=["39M-by-1-png", "wide-header", "tall-header"],
)
def test_a_side_over_the_limit_is_refused_from_the_header(body):
    """The 39,000,000 x 1 PNG of issue 9 kept a worker busy 47 s and took 9 GB."""
    with pytest.raises(BadImage) as caught:
        decode_image(body, "image/png")
    assert (caught.value.status, caught.value.code) == (413, "image_too_large")
    assert f"{MAX_SIDE} px a side" in str(caught.value)


def test_a_side_at_the_limit_is_accepted():
    assert decode_image(_real_png_row(MAX_SIDE), "image/png").shape == (1, MAX_SIDE, 3)


def _spy_draft(monkeypatch) -> list[tuple[int, int]]:
    from PIL import JpegImagePlugin

    requested: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def draft(self, mode, size):
        requested.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", draft)
    return requested


def test_a_big_jpeg_is_decoded_reduced_never_at_full_size(monkeypatch):
    requested = _spy_draft(monkeypatch)
    big = Image.fromarray(np.full((1000, 1600, 3), 120, np.uint8))
    image = decode_image(to_bytes(big, "JPEG"), analysed_pixels=400 * 250)
    assert requested == [(400, 250)]  # DCT scaling by 4 inside the JPEG decoder
    assert image.shape == (250, 400, 3)


def test_frames_above_4k_are_reduced_to_the_analysed_budget_keeping_their_aspect(monkeypatch):
    requested = _spy_draft(monkeypatch)
    frame = Image.new("RGB", (8000, 5000), (90, 90, 90))
    image = decode_image(to_bytes(frame, "JPEG", quality=60))
    assert requested == [(4000, 2500)]
    height, width = image.shape[:2]
    assert height * width <= MAX_ANALYSED_PIXELS == 3840 * 2160
    assert abs(width / height - 1.6) < 0.01
    flat = Image.new("RGB", (4000, 3000), (5, 6, 7))
    png = decode_image(to_bytes(flat, "PNG", compress_level=1))
    assert png.shape[0] * png.shape[1] <= MAX_ANALYSED_PIXELS and png[0, 0].tolist() == [5, 6, 7]


def test_frames_up_to_4k_keep_their_full_resolution(monkeypatch):
    requested = _spy_draft(monkeypatch)
    image = decode_image(to_bytes(Image.new("RGB", (3840, 2160)), "JPEG"))
    assert image.shape == (2160, 3840, 3) and requested == []


def test_an_image_not_of_the_expected_size_is_refused_from_its_header():
    # A header alone: its 16 bytes of pixel data would not decode (corrupt_image).
    with pytest.raises(BadImage) as caught:
        decode_image(declared_png(160, 160), "image/png", size=(160, 80))
    assert (caught.value.status, caught.value.code) == (400, "unexpected_size")
    assert "declares 160x160 pixels, not the 160x80 expected" in str(caught.value)
    assert decode_image(to_bytes(RGB, "PNG"), size=(64, 48)).shape == (48, 64, 3)


@pytest.mark.parametrize(
    "body",
    [
        declared_png(MAX_CROP_SIDE + 1, 1),
        declared_png(1, MAX_CROP_SIDE + 1),
        declared_png(3000, 3000),  # 9 MP: each side within, the pixels not
        declared_png(6000, 6000),  # took the tracker 2.5 GB and 25 s of CPU as 36 crops
    ],
    ids=["wide", "tall", "9-megapixels", "6000-square"],
)
def test_a_crop_over_a_crops_limits_is_refused_from_its_header(body):
    with pytest.raises(BadImage) as caught:
        decode_crop(body)
    assert (caught.value.status, caught.value.code) == (413, "image_too_large")
    assert f"limits are {MAX_CROP_SIDE} px a side and {MAX_CROP_PIXELS} pixels" in str(caught.value)


def test_a_crop_within_the_limits_is_accepted_and_reduced_to_the_working_size():
    assert decode_crop(_real_png_row(MAX_CROP_SIDE)).shape == (1, MAX_CROP_SIDE, 3)
    square = decode_crop(to_bytes(Image.new("RGB", (2880, 2880), (9, 8, 7)), "PNG"))
    assert square.shape == (512, 512, 3) and square[0, 0].tolist() == [9, 8, 7]


def test_a_big_jpeg_crop_is_decoded_reduced_to_the_working_size(monkeypatch):
    requested = _spy_draft(monkeypatch)
    crop = decode_crop(to_bytes(Image.new("RGB", (3840, 2160), (90, 90, 90)), "JPEG"))
    assert requested == [(960, 540)]  # DCT scaling by 4: 16 times fewer pixels decoded
    height, width = crop.shape[:2]
    assert height * width <= CROP_WORKING_PIXELS and width >= 512
    assert abs(width / height - 16 / 9) < 0.01


@pytest.mark.parametrize(("width", "height"), [(800, 400), (700, 700)])
def test_a_jpeg_between_the_budget_and_twice_it_is_still_reduced(width, height):
    """No power-of-two reduction applies to these (each half is under the budget), so the
    decoder reads them whole; they must still come out within the working size, on
    OpenCV's fast path as on PIL's."""
    body = encode_jpeg(np.full((height, width, 3), 120, np.uint8))
    crop = decode_crop(body)
    assert crop.shape[0] * crop.shape[1] <= CROP_WORKING_PIXELS
    assert abs(crop.shape[1] / crop.shape[0] - width / height) < 0.01
    frame = decode_image(body, analysed_pixels=width * height // 2)
    assert frame.shape[0] * frame.shape[1] <= width * height // 2


def test_a_crop_within_the_working_size_is_decoded_as_it_is():
    data = encode_jpeg(np.random.default_rng(6).integers(0, 255, (160, 200, 3), dtype=np.uint8))
    assert np.array_equal(decode_crop(data), decode_image(data))


@pytest.fixture(params=["opencv", "pil-only"])
def jpeg_library(request, monkeypatch):
    """Both ways a program decodes and encodes: with OpenCV, and with PIL alone (the
    tracker Lambda's package has no OpenCV)."""
    images._opencv.cache_clear()
    if request.param == "pil-only":
        monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` raises ImportError
        assert images._opencv() is None
    yield request.param
    images._opencv.cache_clear()


def _pil_pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_a_camera_jpeg_decodes_to_the_same_pixels_as_pil(jpeg_library):
    # The fast path (libjpeg-turbo through OpenCV) must not change what the detector sees.
    frame = np.random.default_rng(3).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    for quality in (40, 75, 95):
        data = encode_jpeg(frame, quality=quality)
        assert np.array_equal(decode_image(data, "image/jpeg"), _pil_pixels(data))
    padded = encode_jpeg(frame) + b"\x00" * 16  # some cameras pad after the end marker
    assert np.array_equal(decode_image(padded, "image/jpeg"), _pil_pixels(padded))


def test_a_jpeg_cut_off_inside_its_pixels_is_refused_not_filled_with_grey(jpeg_library):
    data = encode_jpeg(np.random.default_rng(4).integers(0, 255, (360, 640, 3), dtype=np.uint8))
    with pytest.raises(BadImage) as caught:
        decode_image(data[: len(data) // 2], "image/jpeg")
    assert caught.value.code == "corrupt_image"


def test_jpeg_encoding_matches_pil_byte_for_byte(jpeg_library):
    # encode_jpeg uses OpenCV for speed; the files are PIL's, so crops and frames are
    # the same size and quality as before.
    crop = np.random.default_rng(5).integers(0, 255, (97, 120, 3), dtype=np.uint8)
    for quality in (75, 90):
        expected = io.BytesIO()
        Image.fromarray(crop).save(expected, format="JPEG", quality=quality)
        assert encode_jpeg(crop, quality=quality) == expected.getvalue()
