"""A botocore Stubber for Rekognition that also enforces Rekognition's documented image
limits (``REKOGNITION_LIMITS``) on every request it receives: a request Rekognition
would refuse fails the test, even where the code under test would swallow the error."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.stub import Stubber
from PIL import Image

from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS


class RekognitionLimitViolation(AssertionError):
    """A request carried an image that Rekognition's limits refuse."""


def image_problems(image: bytes) -> list[str]:
    """Why Rekognition would refuse ``image`` passed as ``Image.Bytes`` (empty: it is fine)."""
    limits = REKOGNITION_LIMITS
    problems = []
    if not 1 <= len(image) <= limits.max_image_bytes:
        problems.append(f"{len(image)} bytes (allowed 1..{limits.max_image_bytes})")
    try:
        with Image.open(io.BytesIO(image)) as opened:
            kind, (width, height) = opened.format, opened.size
    except Exception as exc:  # anything Pillow cannot open is a violation
        return [*problems, f"not an image ({type(exc).__name__})"]
    if kind not in limits.formats:
        problems.append(f"format {kind} (allowed {sorted(limits.formats)})")
    if min(width, height) < limits.min_side_px:
        problems.append(f"{width}x{height} px (each side at least {limits.min_side_px})")
    return problems


@contextmanager
def stubbed_rekognition(client: Any) -> Iterator[Stubber]:
    """``with Stubber(client)``, plus the limits check on every image-bearing request."""
    violations: list[str] = []

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        image = params.get("Image") or {}
        if "Bytes" in image:
            problems = image_problems(image["Bytes"])
            if problems:
                violations.append(f"{model.name}: {'; '.join(problems)}")
                raise RekognitionLimitViolation(violations[-1])

    event = "before-parameter-build.rekognition.*"
    client.meta.events.register(event, check, unique_id="rekognition-limits")
    try:
        with Stubber(client) as stub:
            yield stub
    finally:
        client.meta.events.unregister(event, unique_id="rekognition-limits")
    assert not violations, f"requests Rekognition would refuse: {violations}"
