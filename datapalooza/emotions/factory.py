"""Builds the configured EmotionAnalyzer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from datapalooza.emotions.mosaic import MosaicAnalyzer
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.ports import EmotionAnalyzer


def default_cache_dir() -> Path:
    """Where converted models are cached (per user, outside the repository)."""
    import platformdirs  # not in the Lambda bundle, which never converts models

    return Path(platformdirs.user_cache_dir("datapalooza")) / "models"


def build_analyzer(
    settings: TrackerSettings,
    *,
    rekognition_client: Any = None,
    cache_dir: Path | None = None,
    on_throttled: Callable[[str], None] | None = None,
) -> EmotionAnalyzer:
    """``local``: the ONNX model (batched). ``rekognition``: DetectFaces per crop, or
    through a mosaic of up to ``mosaic_size`` crops per call (``mode="mosaic"``);
    ``on_throttled`` hears each throttled DetectFaces answer."""
    if settings.analyzer == "local":
        # Imported here: the Lambda never loads ONNX Runtime or h5py.
        from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer

        return OnnxEmotionAnalyzer(
            cache_dir=cache_dir or default_cache_dir(),
            threads=settings.threads,
            max_batch=settings.local_batch,
        )
    from datapalooza.adapters.aws.rekognition_analyzer import (
        RekognitionAnalyzer,
    )
    from datapalooza.adapters.aws.rekognition_analyzer import (
        rekognition_client as make_client,
    )

    analyzer = RekognitionAnalyzer(
        rekognition_client if rekognition_client is not None else make_client(),
        max_attempts=settings.max_attempts,
        on_throttled=on_throttled,
    )
    if settings.mode == "mosaic":
        return MosaicAnalyzer(analyzer, max_tiles=settings.mosaic_size)
    return analyzer
