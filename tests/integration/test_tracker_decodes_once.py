"""The local tracker decodes each crop once: the check before scoring hands its pixels
to the ONNX analyzer (it used to decode every crop twice, half the tracker's CPU)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import datapalooza.adapters.local.onnx_emotion_analyzer as onnx_module
import datapalooza.emotions.scoring as tracker_module
from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings
from datapalooza.emotions.bootstrap import local_scorer
from datapalooza.emotions.mosaic import MAX_CELL_PX
from datapalooza.images import CROP_WORKING_PIXELS, decode_crop
from datapalooza.ports import DecodedCropAnalyzer
from tests.helpers.emotions import crop_key, real_face_crops


def test_each_crop_is_decoded_once_and_scored_as_from_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = local_scorer(
        TrackerSettings(analyzer="local"),
        faces_root=tmp_path / "bucket",
        database=tmp_path / "f.db",
        cache_dir=tmp_path / "models",
    )
    assert isinstance(tracker.analyzer, DecodedCropAnalyzer)
    crops = [crop for _, crop in real_face_crops()]
    refs = []
    for i, crop in enumerate(crops):
        key = crop_key(index=i)
        tracker.store.put(key, crop, {"camera": "cam-1"})
        refs.append(CropRef(key, key))

    decoded: list[int] = []

    def counting(body: bytes, *args, **kwargs):
        decoded.append(len(body))
        return decode_crop(body, *args, **kwargs)

    monkeypatch.setattr(tracker_module, "decode_crop", counting)
    monkeypatch.setattr(onnx_module, "decode_crop", counting)
    report = tracker.score(refs)

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * len(crops)
    assert len(decoded) == len(crops)
    from_bytes = OnnxEmotionAnalyzer(cache_dir=tmp_path / "models").analyze(crops)
    scored = [o.face.scores.scores for o in report.outcomes if o.face is not None]
    for got, want in zip(scored, from_bytes, strict=True):
        for emotion, value in want.scores.scores.items():
            assert got[emotion] == pytest.approx(value, abs=1e-3)


def test_a_crop_reduced_to_the_working_size_keeps_every_pixel_the_analyzers_read() -> None:
    long_side = math.isqrt(CROP_WORKING_PIXELS)  # the least a reduced crop keeps
    assert long_side >= MAX_CELL_PX  # the mosaic's largest tile (Rekognition)
    assert long_side >= onnx_module.INPUT_SIZE  # the local model's input


def test_inference_batch_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inference_batch must be at least 1"):
        OnnxEmotionAnalyzer(cache_dir=tmp_path, inference_batch=0)


def test_any_inference_batch_scores_the_same(tmp_path: Path) -> None:
    crops = [crop for _, crop in real_face_crops()] * 3
    one = OnnxEmotionAnalyzer(cache_dir=tmp_path, inference_batch=1).analyze(crops)
    many = OnnxEmotionAnalyzer(cache_dir=tmp_path, inference_batch=256).analyze(crops)
    for a, b in zip(one, many, strict=True):
        for emotion, value in a.scores.scores.items():
            assert b.scores.scores[emotion] == pytest.approx(value, abs=1e-3)
