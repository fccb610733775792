"""EmotionAnalyzer on Amazon Rekognition DetectFaces."""

from __future__ import annotations

import io
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image, UnidentifiedImageError

from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion, EmotionScores, InvalidScores
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.images import encode_jpeg
from datapalooza.ports import AnalyzedFace, AnalyzerError

logger = logging.getLogger(__name__)

THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})
# Errors that are the image's fault: retrying the same bytes cannot help.
IMAGE_ERROR_CODES = frozenset(
    {
        "InvalidImageFormatException",
        "ImageTooLargeException",
        "InvalidParameterException",
    }
)


class RekognitionAnalyzer:
    """EmotionAnalyzer and mosaic FaceDetailsSource: Rekognition DetectFaces.

    Asks only for ``Attributes=["EMOTIONS"]`` (no age range, no gender: nothing the
    festival does not need). Throttling is retried ``max_attempts`` times in total with
    exponential backoff and full jitter; then AnalyzerError(transient=True) fails the
    item so SQS retries it and finally moves it to the dead-letter queue. Every throttled
    answer is counted (``throttled``) and reported to ``on_throttled`` (the Lambda turns it
    into the RekognitionThrottled metric that an alarm watches). Give it a
    client with botocore's own retries off (see ``rekognition_client``) so that this is
    the only retry policy.

    Per crop (``analyze``), the crop's face is the largest one Rekognition returns.
    Every image is first fitted to Rekognition's limits (``fit_for_detect_faces``): a crop
    of a small face (a 40 px face gives a ~56 px crop) is scaled up to the 80 px minimum
    side, which Rekognition would otherwise refuse.
    """

    name = "rekognition"
    unsupported: frozenset[Emotion] = frozenset()
    max_batch = 1  # one DetectFaces call per crop: a throttled call fails one crop only

    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 5,
        base_delay_s: float = 0.2,
        max_delay_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        on_throttled: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep
        self._jitter = jitter
        self._on_throttled = on_throttled
        self.calls = 0
        """DetectFaces calls made (throttled attempts included): what Rekognition bills."""
        self.throttled = 0
        """Calls Rekognition throttled (each retry counts): the quota is reached."""

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        answers = []
        for crop in crops:
            faces = self.detect_faces(crop)
            largest = max(
                faces,
                key=lambda f: f.box.width * f.box.height if f.box else 0.0,
                default=AnalyzedFace(None),
            )
            answers.append(largest)
        return answers

    def detect_faces(self, image: bytes) -> list[AnalyzedFace]:
        response = self._call(fit_for_detect_faces(image))
        faces = []
        for detail in response.get("FaceDetails", []):
            try:
                scores = EmotionScores.from_rekognition(detail.get("Emotions", []))
                box = BoundingBox.from_json(detail["BoundingBox"])
            except (InvalidScores, KeyError, TypeError, ValueError) as exc:
                raise AnalyzerError(
                    f"unexpected DetectFaces answer: {exc}", transient=False
                ) from exc
            faces.append(AnalyzedFace(scores, box))
        return faces

    def _call(self, image: bytes) -> dict[str, Any]:
        for attempt in range(1, self.max_attempts + 1):
            self.calls += 1
            try:
                response: dict[str, Any] = self._client.detect_faces(
                    Image={"Bytes": image}, Attributes=["EMOTIONS"]
                )
                return response
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in IMAGE_ERROR_CODES:
                    raise AnalyzerError(
                        f"DetectFaces refused the image: {code}", transient=False
                    ) from exc
                if code not in THROTTLING_CODES:
                    raise AnalyzerError(f"DetectFaces failed: {code}", transient=True) from exc
                self.throttled += 1
                if self._on_throttled is not None:
                    self._on_throttled(code)
                if attempt == self.max_attempts:
                    raise AnalyzerError(
                        f"DetectFaces still throttled after {attempt} attempts ({code})",
                        transient=True,
                    ) from exc
                delay = self.backoff(attempt)
                logger.warning(
                    "DetectFaces throttled (%s); retry %d in %.2fs", code, attempt, delay
                )
                self._sleep(delay)
            except BotoCoreError as exc:
                raise AnalyzerError(f"DetectFaces failed: {exc}", transient=True) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^(attempt-1))] (AWS Architecture
        Blog, "Exponential Backoff And Jitter"), so throttled Lambdas spread out."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return float(ceiling * self._jitter())


def fit_for_detect_faces(image: bytes) -> bytes:
    """``image`` as DetectFaces accepts it (``REKOGNITION_LIMITS``): a JPEG or PNG of at
    most 5 MB whose sides are at least 80 px. A smaller image is scaled up, both sides by
    the same factor, so boxes Rekognition returns (fractions of the image) still hold for
    the original. Anything else raises a permanent AnalyzerError before any call."""
    limits = REKOGNITION_LIMITS
    if len(image) > limits.max_image_bytes:
        raise AnalyzerError(
            f"image is {len(image)} bytes, over DetectFaces' {limits.max_image_bytes}",
            transient=False,
        )
    try:
        with Image.open(io.BytesIO(image)) as opened:
            kind, (width, height) = opened.format, opened.size
            if kind not in limits.formats:
                raise AnalyzerError(
                    f"DetectFaces takes {' or '.join(sorted(limits.formats))}, not {kind}",
                    transient=False,
                )
            if min(width, height) >= limits.min_side_px:
                return image
            scale = limits.min_side_px / min(width, height)
            size = (math.ceil(width * scale), math.ceil(height * scale))
            # Bicubic: the smoothest of Pillow's upscalers for a face a few dozen px wide.
            larger = opened.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AnalyzerError(f"not a usable image: {exc}", transient=False) from exc
    return encode_jpeg(np.asarray(larger), quality=95)


def rekognition_client(session: Any = None, region_name: str | None = None) -> Any:
    """A Rekognition client whose own retries are off: RekognitionAnalyzer retries."""
    import boto3
    from botocore.config import Config

    session = session or boto3.session.Session()
    return session.client(
        "rekognition",
        region_name=region_name,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
