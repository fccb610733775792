"""Decoding camera frames safely, encoding JPEG, cropping faces.

Everything a client sends passes through decode_image: it accepts the images a real
camera or phone produces (grayscale, CMYK, 16-bit, alpha, EXIF-rotated) and rejects
anything else with a BadImage that carries the HTTP status to answer with.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

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

# 8K UHD is 33 MP; nothing a festival camera sends is bigger. Checked from the header,
# before any pixel is decoded, so a tiny file declaring huge dimensions costs nothing.
MAX_PIXELS = 40_000_000


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
) -> RGBImage:
    """Decode a JPEG or PNG payload into an H x W x 3 uint8 RGB array."""
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
            image = Image.open(io.BytesIO(body), formats=formats)
            width, height = image.size
            if width * height > max_pixels:
                raise BadImage(
                    f"image declares {width}x{height} pixels; the limit is {max_pixels} pixels",
                    status=413,
                    code="image_too_large",
                )
            image.load()
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(str(exc), status=413, code="image_too_large") from exc
    except UnidentifiedImageError as exc:
        raise BadImage(f"body is not a {' or '.join(formats)} image", code="not_an_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        # PIL raises OSError for truncated data, SyntaxError/ValueError for broken headers.
        raise BadImage(f"corrupt image: {exc}", code="corrupt_image") from exc
    return _to_rgb(image)


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


def _to_rgb(image: Image.Image) -> RGBImage:
    # In place: a camera frame without an EXIF rotation is not copied (2.7 MB at 720p).
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and 32-bit grayscale: rescale to 8 bits by the image's own range.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        gray = ((values - low) * scale).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Flatten transparency onto mid-grey: neither black nor white biases detection.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        image = Image.alpha_composite(background, rgba)
    # convert() handles L, P, CMYK, YCbCr, 1; an RGB image (every colour JPEG) is used as
    # it is, since convert() would only copy it.
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def encode_jpeg(image: RGBImage, *, quality: int = 90) -> bytes:
    """Encode an RGB array as a baseline JPEG (no EXIF: nothing but pixels leaves)."""
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


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
