"""Decoding camera frames safely, encoding JPEG, cropping faces.

Everything a client sends passes through decode_image: it accepts the images a real
camera or phone produces (grayscale, CMYK, 16-bit, alpha, EXIF-rotated) and rejects
anything else with a BadImage that carries the HTTP status to answer with.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
from types import ModuleType

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from datapalooza.constants import MAX_PAYLOAD_BYTES
from datapalooza.domain.detections import BoundingBox
from datapalooza.ports import RGBImage

CONTENT_TYPES = {
    "image/jpeg": ("JPEG",),
    "image/jpg": ("JPEG",),
    "image/png": ("PNG",),
    "application/x-image": ("JPEG", "PNG"),
}
"""Accepted content types and the formats each may hold (SageMaker's image types)."""

# Checked from the header, before any pixel is decoded, so a tiny file declaring huge
# dimensions costs nothing. 8K UHD (7680x4320, 33 MP) is the largest camera frame we
# accept; a side over 8192 px is no camera's (a 39,000,000 x 1 PNG took 9 GB before).
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
# What the detector runs on: full camera resolution up to 4K UHD (3840x2160), where
# small faces still count; a bigger frame is reduced to this many pixels. A JPEG is
# decoded reduced (libjpeg's DCT scaling, 1/2 to 1/8) rather than at full size, so an
# 8000x5000 JPEG no longer takes 2.4 GB and 8 s of a worker.
MAX_ANALYSED_PIXELS = 3840 * 2160

# Face crops, as the emotion tracker reads them (decode_crop). The endpoint cuts each from
# the frame it analysed, at most MAX_ANALYSED_PIXELS (4K UHD), and a face's crop is about
# square: none comes near 4096 px a side, nor holds more pixels than that frame. A crop
# declaring more is refused from its header: 36 PNGs of 6000 x 6000 px, 105 KB each,
# took the tracker (a 1,024 MB Lambda) to 2.5 GB and 19 s of CPU.
MAX_CROP_SIDE = 4096
MAX_CROP_PIXELS = MAX_ANALYSED_PIXELS
CROP_WORKING_PIXELS = 512 * 512
"""What the tracker keeps of each crop between reading it and scoring it: a bigger crop
is reduced to this many pixels (a JPEG decoded reduced, at a fraction of the cost). 50
crops kept at this size take 39 MB; at 4K they took 1.2 GB. Reduced, a crop's long side
is still at least 512 px: twice the largest mosaic tile (256 px,
datapalooza.emotions.mosaic.MAX_CELL_PX), which is all Rekognition sees of it, and 8
times the local model's 64 px input (onnx_emotion_analyzer.INPUT_SIZE), so neither
analyzer loses a pixel it reads (tests/integration/test_tracker_decodes_once.py holds
them so)."""


class BadImage(ValueError):
    """A payload we will not decode; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400, code: str = "bad_image") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def decode_image(
    body: bytes,
    content_type: str | None = None,
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    analysed_pixels: int = MAX_ANALYSED_PIXELS,
    size: tuple[int, int] | None = None,
) -> RGBImage:
    """Decode a JPEG or PNG payload into an H x W x 3 uint8 RGB array of at most
    ``analysed_pixels`` pixels (bigger frames are reduced, keeping their aspect). With
    ``size`` (width, height), an image of any other size is refused from its header."""
    formats = _formats_for(content_type)
    if not body:
        raise BadImage("empty request body: send the image bytes", code="empty_body")
    if len(body) > max_bytes:
        raise BadImage(
            f"payload is {len(body)} bytes; the limit is {max_bytes} bytes",
            status=413,
            code="payload_too_large",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _decode(
                body,
                formats,
                max_pixels=max_pixels,
                max_side=max_side,
                analysed_pixels=analysed_pixels,
                size=size,
            )
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(str(exc), status=413, code="image_too_large") from exc
    except UnidentifiedImageError as exc:
        raise BadImage(f"body is not a {' or '.join(formats)} image", code="not_an_image") from exc
    except MemoryError:
        raise  # the machine's state, not the payload's: a 500 (a retry), never a 400
    except Exception as exc:
        # PIL raises OSError for truncated data and SyntaxError or ValueError for broken
        # headers, but a malformed EXIF block, read for the camera check and rewritten by
        # exif_transpose, raises struct.error, TypeError, AttributeError... (one changed
        # byte is enough: tests/unit/test_images.py). No list of types keeps up with
        # that: whatever the decoder raises on a payload is the payload's fault.
        raise BadImage(f"corrupt image: {exc}", code="corrupt_image") from exc


def _decode(
    body: bytes,
    formats: tuple[str, ...],
    *,
    max_pixels: int,
    max_side: int,
    analysed_pixels: int,
    size: tuple[int, int] | None,
) -> RGBImage:
    """decode_image's work on a body of an accepted size; PIL's errors escape to it."""
    image = Image.open(io.BytesIO(body), formats=formats)
    width, height = image.size
    if width > max_side or height > max_side or width * height > max_pixels:
        raise BadImage(
            f"image declares {width}x{height} pixels; the limits are {max_side} px"
            f" a side and {max_pixels} pixels",
            status=413,
            code="image_too_large",
        )
    if size is not None and image.size != size:
        raise BadImage(
            f"image declares {width}x{height} pixels, not the {size[0]}x{size[1]} expected",
            code="unexpected_size",
        )
    scale = _power_of_two_reduction(width, height, analysed_pixels)
    opencv = _opencv()
    # OpenCV's decode is the fast path for what is analysed as it is; an image over the
    # budget but under twice it (no power-of-two reduction) must still be resized.
    fits = width * height <= analysed_pixels
    if fits and opencv is not None and _is_plain_camera_jpeg(image):
        return _decode_plain_jpeg(opencv, body)
    if scale > 1 and image.format == "JPEG":
        image.draft(image.mode, (math.ceil(width / scale), math.ceil(height / scale)))
    image.load()
    rgb = _fit(_to_rgb(image), analysed_pixels)
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def decode_crop(body: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> RGBImage:
    """A face crop, decoded as the emotion analyzers read it: refused from its header
    above MAX_CROP_SIDE or MAX_CROP_PIXELS, reduced to CROP_WORKING_PIXELS above that."""
    return decode_image(
        body,
        max_bytes=max_bytes,
        max_pixels=MAX_CROP_PIXELS,
        max_side=MAX_CROP_SIDE,
        analysed_pixels=CROP_WORKING_PIXELS,
    )


@functools.cache
def _opencv() -> ModuleType | None:
    """OpenCV where the program's package has it: every one but the tracker Lambda's,
    which only checks crops and encodes mosaics, and gets the same pixels and bytes from
    PIL alone (tests/unit/test_images.py runs both)."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2


# A camera frame: colour, upright, complete. Only the header has been read when this is
# asked; the pixels then go straight from libjpeg-turbo into an RGB array (OpenCV), which
# costs the endpoint 2 ms less per 1280x720 frame than PIL's decode and array copy
# (bench/endpoint.py) with the same pixels. Everything else takes PIL's path below.
def _is_plain_camera_jpeg(image: Image.Image) -> bool:
    return (
        image.format == "JPEG"
        and image.mode == "RGB"
        and image.getexif().get(ExifTags.Base.Orientation, 1) == 1
    )


def _decode_plain_jpeg(cv2: ModuleType, body: bytes) -> RGBImage:
    flags = cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(body, dtype=np.uint8), flags)
    if pixels is None:  # truncated or corrupt scan data (OpenCV refuses, as PIL does)
        raise BadImage("corrupt image: the JPEG data does not decode", code="corrupt_image")
    return np.asarray(pixels, dtype=np.uint8)  # a view: the decoder made uint8 already


def _power_of_two_reduction(width: int, height: int, budget: int) -> int:
    """The largest of 1, 2, 4, 8 that keeps the image at or above ``budget`` pixels
    (the final resize brings it down), so the JPEG decoder skips what we would drop."""
    scale = 1
    while scale < 8 and (width // (scale * 2)) * (height // (scale * 2)) >= budget:
        scale *= 2
    return scale


def _fit(image: Image.Image, budget: int) -> Image.Image:
    width, height = image.size
    if width * height <= budget:
        return image
    factor = math.sqrt(budget / (width * height))
    size = (max(1, int(width * factor)), max(1, int(height * factor)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _formats_for(content_type: str | None) -> tuple[str, ...]:
    if content_type is None:
        return ("JPEG", "PNG")
    media_type = content_type.split(";", 1)[0].strip().lower()
    formats = CONTENT_TYPES.get(media_type)
    if formats is None:
        accepted = ", ".join(sorted(CONTENT_TYPES))
        raise BadImage(
            f"unsupported content type {content_type!r}; send one of: {accepted}",
            status=415,
            code="unsupported_content_type",
        )
    return formats


def _to_rgb(image: Image.Image) -> Image.Image:
    # In place: a camera frame without an EXIF rotation is not copied (2.7 MB at 720p).
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and 32-bit grayscale: rescale to 8 bits by the image's own range.
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        gray = ((values - low) * scale).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Flatten transparency onto mid-grey: neither black nor white biases detection.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        image = Image.alpha_composite(background, rgba)
    # convert() handles L, P, CMYK, YCbCr, 1; an RGB image (every colour JPEG) is used as
    # it is, since convert() would only copy it.
    return image if image.mode == "RGB" else image.convert("RGB")


def encode_jpeg(image: RGBImage, *, quality: int = 90) -> bytes:
    """Encode an RGB array as a baseline JPEG (no EXIF: nothing but pixels leaves).

    OpenCV's libjpeg-turbo where installed: the same settings and bytes as PIL's (4:2:0,
    no optimised Huffman tables) at a third of PIL's cost per face crop."""
    cv2 = _opencv()
    if cv2 is None:
        buffer = io.BytesIO()
        Image.fromarray(image, mode="RGB").save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError(f"could not encode a {image.shape} image as JPEG")
    return bytes(data.tobytes())


def shrink_to_fit(image: RGBImage, side: int) -> RGBImage:
    """``image`` scaled down, aspect kept, so that neither side exceeds ``side`` px (area
    averaging, as a camera's scaler does); an image that already fits is returned as is."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    cv2 = _opencv()
    if cv2 is None:
        return np.asarray(Image.fromarray(image, mode="RGB").resize(size, Image.Resampling.BOX))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def crop_with_margin(image: RGBImage, box: BoundingBox, margin: float) -> RGBImage:
    """Crop ``box`` grown by ``margin`` (a fraction of the box's size) on every side,
    clipped to the frame."""
    height, width = image.shape[:2]
    x, y, w, h = box.to_pixels(width, height)
    dx, dy = round(w * margin), round(h * margin)
    x0, y0 = max(x - dx, 0), max(y - dy, 0)
    x1, y1 = min(x + w + dx, width), min(y + h + dy, height)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {box} lies outside the {width}x{height} frame")
    return np.ascontiguousarray(image[y0:y1, x0:x1])
