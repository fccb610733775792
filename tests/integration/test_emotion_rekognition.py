"""RekognitionAnalyzer through botocore's Stubber (moto has no DetectFaces): request
shape, throttling with backoff, image errors, empty answers, and a mosaic of real face
crops whose answers map back to the right crops."""

from __future__ import annotations

import io

import boto3
import numpy as np
import pytest
from botocore.stub import ANY
from PIL import Image

from datapalooza.adapters.aws.rekognition_analyzer import RekognitionAnalyzer
from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion
from datapalooza.emotions.mosaic import MosaicAnalyzer, compose
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.images import decode_crop
from datapalooza.ports import AnalyzerError
from tests.helpers.emotions import jpeg, real_face_crops
from tests.integration.rekognition_stub import stubbed_rekognition

EXPECTED = {"Image": {"Bytes": ANY}, "Attributes": ["EMOTIONS"]}


def face_detail(box: dict, **emotions: float) -> dict:
    return {
        "BoundingBox": box,
        "Confidence": 99.9,
        "Emotions": [{"Type": k.upper(), "Confidence": v} for k, v in emotions.items()],
    }


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 120)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.fixture
def client():
    return boto3.client(
        "rekognition",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def sleeps():
    return []


def real_crop() -> bytes:
    return real_face_crops()[0][1]


def analyzer_for(client, sleeps, **kw):
    return RekognitionAnalyzer(client, sleep=sleeps.append, jitter=lambda: 1.0, **kw)


def test_asks_only_for_emotions_and_takes_the_largest_face(client, sleeps):
    _, crop = real_face_crops()[0]
    with stubbed_rekognition(client) as stub:
        stub.add_response(
            "detect_faces",
            {
                "FaceDetails": [
                    face_detail({"Left": 0.0, "Top": 0.0, "Width": 0.1, "Height": 0.1}, sad=90.0),
                    face_detail(
                        {"Left": 0.2, "Top": 0.2, "Width": 0.6, "Height": 0.6},
                        happy=97.5,
                        calm=2.0,
                        confused=0.5,
                    ),
                ]
            },
            EXPECTED,
        )
        (face,) = analyzer_for(client, sleeps).analyze([crop])
        stub.assert_no_pending_responses()
    assert face.scores.dominant is Emotion.HAPPY
    assert face.scores.scores[Emotion.CONFUSED] == 0.5
    assert face.box == BoundingBox(0.2, 0.2, 0.6, 0.6)


def test_a_crop_of_a_small_face_is_scaled_up_to_rekognitions_minimum_side(client, sleeps):
    """A 40 px face gives a ~56 px crop; Rekognition refuses images under 80 px a side
    (the stub's limit check fails any such request). The box it returns is a fraction
    of the image, so it holds for the original crop."""
    small = jpeg(np.asarray(Image.open(io.BytesIO(real_crop())).resize((56, 70))))
    sent = []
    with stubbed_rekognition(client) as stub:
        client.meta.events.register(
            "before-parameter-build.rekognition.DetectFaces",
            lambda params, **_: sent.append(params["Image"]["Bytes"]),
        )
        stub.add_response(
            "detect_faces",
            {
                "FaceDetails": [
                    face_detail({"Left": 0.2, "Top": 0.1, "Width": 0.6, "Height": 0.7}, happy=90.0)
                ]
            },
            EXPECTED,
        )
        (face,) = analyzer_for(client, sleeps).analyze([small])
    (image,) = sent
    assert Image.open(io.BytesIO(image)).size == (80, 100)  # both sides scaled by 80/56
    assert face.box == BoundingBox(0.2, 0.1, 0.6, 0.7)
    assert face.scores.dominant is Emotion.HAPPY


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (b"\xff\xd8" + b"\0" * (REKOGNITION_LIMITS.max_image_bytes + 1), "over DetectFaces"),
        (gif_bytes(), "not GIF"),
        (b"%PDF-1.7", "not a usable image"),
    ],
    ids=["over-5-MB", "gif", "not-an-image"],
)
def test_an_image_rekognition_cannot_take_fails_permanently_without_a_call(
    client, sleeps, image, reason
):
    with stubbed_rekognition(client), pytest.raises(AnalyzerError, match=reason) as error:
        analyzer_for(client, sleeps).analyze([image])
    assert error.value.transient is False


def test_empty_result_means_no_face(client, sleeps):
    with stubbed_rekognition(client) as stub:
        stub.add_response("detect_faces", {"FaceDetails": []}, EXPECTED)
        (face,) = analyzer_for(client, sleeps).analyze([real_crop()])
    assert face.scores is None


def test_throttling_is_retried_with_growing_jittered_backoff(client, sleeps):
    with stubbed_rekognition(client) as stub:
        stub.add_client_error("detect_faces", "ProvisionedThroughputExceededException")
        stub.add_client_error("detect_faces", "ThrottlingException")
        stub.add_response(
            "detect_faces",
            {
                "FaceDetails": [
                    face_detail({"Left": 0.1, "Top": 0.1, "Width": 0.5, "Height": 0.5}, calm=88.0)
                ]
            },
            EXPECTED,
        )
        analyzer = analyzer_for(client, sleeps, base_delay_s=0.2)
        (face,) = analyzer.analyze([real_crop()])
    assert face.scores.dominant is Emotion.CALM
    assert sleeps == [0.2, 0.4]  # full jitter's ceiling doubles (jitter pinned to 1.0)
    assert analyzer.calls == 3


def test_jitter_spreads_retries_below_the_ceiling(client):
    analyzer = RekognitionAnalyzer(client, base_delay_s=1.0, max_delay_s=3.0)
    delays = [analyzer.backoff(5) for _ in range(200)]
    assert max(delays) <= 3.0 and min(delays) >= 0.0
    assert len({round(d, 3) for d in delays}) > 100


def test_throttling_that_persists_fails_the_item_as_transient(client, sleeps):
    with stubbed_rekognition(client) as stub:
        for _ in range(3):
            stub.add_client_error("detect_faces", "ThrottlingException")
        with pytest.raises(AnalyzerError) as error:
            analyzer_for(client, sleeps, max_attempts=3).analyze([real_crop()])
    assert error.value.transient is True
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("InvalidImageFormatException", False),
        ("ImageTooLargeException", False),
        ("AccessDeniedException", True),
        ("InternalServerError", True),
    ],
)
def test_errors_say_whether_a_retry_may_help(client, sleeps, code, transient):
    with stubbed_rekognition(client) as stub:
        stub.add_client_error("detect_faces", code)
        with pytest.raises(AnalyzerError) as error:
            analyzer_for(client, sleeps).analyze([real_crop()])
    assert error.value.transient is transient
    assert sleeps == []


def test_mosaic_of_real_crops_maps_rekognition_faces_back(client, sleeps):
    """Six real face crops in one DetectFaces call. The stubbed answer is built from the
    mosaic's real layout (a face box inside each crop's tile, in shuffled order), each
    tile with a different dominant emotion; tile 4 gets no face."""
    crops = [crop for _, crop in real_face_crops()] * 3
    mosaic = compose([decode_crop(c) for c in crops])
    width, height = mosaic.layout.width, mosaic.layout.height
    emotions = ["happy", "sad", "surprised", "calm", None, "angry"]
    details = []
    for index, emotion in enumerate(emotions):
        if emotion is None:
            continue
        x, y, w, h = mosaic.placements[index]
        # The face sits in the middle 2/3 of the crop, as the detector's margin leaves it.
        box = BoundingBox.from_pixels(
            x + w / 6, y + h / 6, w * 2 / 3, h * 2 / 3, frame_width=width, frame_height=height
        )
        details.append(
            face_detail(
                box.to_json(),
                **{emotion: 95.0, "calm": 3.0} if emotion != "calm" else {"calm": 95.0},
            )
        )
    details.reverse()
    rekognition = analyzer_for(client, sleeps)
    with stubbed_rekognition(client) as stub:
        stub.add_response("detect_faces", {"FaceDetails": details}, EXPECTED)
        faces = MosaicAnalyzer(rekognition, max_tiles=36).analyze(crops)
        stub.assert_no_pending_responses()

    assert rekognition.calls == 1
    dominant = [f.scores.dominant.value.lower() if f.scores else None for f in faces]
    assert dominant == emotions
    assert faces[0].box.left == pytest.approx(1 / 6, abs=0.02)
