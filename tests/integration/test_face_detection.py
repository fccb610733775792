"""The real detectors on real photographs."""

from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.images import decode_image
from tests.helpers.faces import main_stage_faces

NOW = datetime(2026, 7, 4, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["retinaface", "libfacedetection"])
def test_each_detector_finds_the_one_face_in_a_portrait(name, grace_hopper_jpeg):
    image = decode_image(grace_hopper_jpeg, "image/jpeg")
    faces = load_detector(DetectorSettings(detector=name)).detect(image)
    assert len(faces) == 1
    box = faces[0].box
    # Grace Hopper's face sits in the upper middle of the portrait.
    assert 0.3 < box.left < 0.4 and 0.15 < box.top < 0.25
    assert 0.3 < box.width < 0.4 and faces[0].confidence > 90


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two pixel boxes (x, y, w, h)."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, width) * max(0, height)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_the_detector_finds_the_synthetic_crowds_faces_and_nothing_else():
    # The synthetic festival is what `up`, the benchmarks and the guide run on: its faces
    # must stay detectable as it is drawn (against the boxes it says it pasted).
    from datapalooza.sources.synthetic import SyntheticFestivalSource

    detector = load_detector(DetectorSettings())
    source = SyntheticFestivalSource(stage="main", seed=0)
    near = found = strays = 0
    for index in range(4):
        image, placed = source.compose(index)
        boxes = [face.box.to_pixels(1280, 720) for face in detector.detect(image)]
        for face in placed:
            if face.box[2] >= 30:  # RetinaFace misses some of the farthest 18-30 px faces
                near += 1
                found += any(_overlap(face.box, box) > 0.3 for box in boxes)
        strays += sum(not any(_overlap(f.box, box) > 0.3 for f in placed) for box in boxes)
    assert near >= 20 and found >= 0.95 * near
    assert strays == 0


def test_retinaface_reports_landmarks_inside_the_box(astronaut_rgb):
    (face,) = load_detector(DetectorSettings()).detect(astronaut_rgb)
    names = [lm.type for lm in face.landmarks]
    assert names == ["eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"]
    for lm in face.landmarks:
        assert face.box.left <= lm.x <= face.box.left + face.box.width
        assert face.box.top <= lm.y <= face.box.top + face.box.height


def test_retinaface_clips_landmarks_that_fall_outside_the_frame():
    # The wheel's own Face and Point types, as its postprocess builds them: a face cut by
    # the frame's left and bottom edges, with points the model placed beyond them.
    from retinaface.types import Face, Point

    from datapalooza.detection.retinaface_detector import RetinaFaceDetector

    face = Face(
        0.9,
        -20,
        600,
        80,
        160,
        [Point(-8, 640), Point(30, 641), Point(10, 700), Point(-3, 730), Point(35, 800)],
    )
    raw = RetinaFaceDetector._to_raw(face, 1280, 720)
    assert [(lm.x, lm.y) for lm in raw.landmarks] == [
        (0.0, 640 / 720),
        (30 / 1280, 641 / 720),
        (10 / 1280, 700 / 720),
        (0.0, 1.0),
        (35 / 1280, 1.0),
    ]
    assert all(type(lm.x) is float and type(lm.y) is float for lm in raw.landmarks)
    assert raw.box.left == 0.0 and raw.box.top + raw.box.height == 1.0


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360), (333, 517)])
def test_decoding_the_chosen_anchors_gives_the_wheels_faces_value_for_value(width, height):
    # decode_faces scores first and decodes only what passes; the wheel's postprocess
    # decodes every anchor first. On crowd frames (real portraits), at the shipped
    # threshold and far below it, both must give the same faces, pixel for pixel.
    from retinaface.postprocess import postprocess
    from retinaface.preprocess import preprocess

    from datapalooza.detection.retinaface_decoding import decode_faces
    from datapalooza.sources.synthetic import SyntheticFestivalSource

    session = load_detector(DetectorSettings())._session  # type: ignore[attr-defined]
    source = SyntheticFestivalSource(stage="main", seed=7, width=width, height=height)
    compared = 0
    for index in range(3):
        batch = preprocess(source.compose(index)[0])
        outputs = session.run(None, {"input": batch})
        for threshold in (0.8, 0.3, 0.02):
            (expected,) = postprocess(
                [output.copy() for output in outputs],
                *batch.shape,
                score_threshold=threshold,
                nms_threshold=0.4,
            )
            found = decode_faces(
                outputs, height=height, width=width, score_threshold=threshold, nms_threshold=0.4
            )
            assert sorted(found, key=repr) == sorted(expected, key=repr)
            compared += len(found)
    assert compared > 30  # the frames hold faces, so the comparison says something


def test_decoding_keeps_the_wheels_cap_on_boxes_sent_to_suppression():
    # With no threshold at all, every one of a 1280x720 frame's 37,840 anchors passes:
    # like the wheel, only the best TOP_SCORES go to NMS, and the faces are the same.
    from retinaface.postprocess import postprocess
    from retinaface.preprocess import preprocess

    from datapalooza.detection.retinaface_decoding import TOP_SCORES, decode_faces
    from datapalooza.sources.synthetic import SyntheticFestivalSource

    session = load_detector(DetectorSettings())._session  # type: ignore[attr-defined]
    batch = preprocess(SyntheticFestivalSource(stage="main", seed=7).compose(0)[0])
    outputs = session.run(None, {"input": batch})
    assert int((outputs[1][0, :, 1] > 0.0).sum()) > TOP_SCORES
    (expected,) = postprocess(
        [output.copy() for output in outputs], *batch.shape, score_threshold=0.0, nms_threshold=0.4
    )
    found = decode_faces(outputs, height=720, width=1280, score_threshold=0.0, nms_threshold=0.4)
    assert sorted(found, key=repr) == sorted(expected, key=repr)


def test_decoding_nothing_above_the_threshold_is_no_faces():
    from datapalooza.detection.retinaface_decoding import decode_faces

    anchors = 2 * (16 * 16 + 8 * 8 + 4 * 4)  # a 128x128 frame's three strides
    conf = np.zeros((1, anchors, 2), np.float32)
    conf[..., 0] = 1.0
    outputs = [np.zeros((1, anchors, 4), np.float32), conf, np.zeros((1, anchors, 10), np.float32)]
    found = decode_faces(outputs, height=128, width=128, score_threshold=0.5, nms_threshold=0.4)
    assert found == []


def test_no_faces_is_a_valid_empty_answer():
    blank = np.full((360, 640, 3), 90, np.uint8)
    assert load_detector(DetectorSettings()).detect(blank) == []


def test_crop_contains_the_face_and_is_keyed_with_metadata(grace_hopper_jpeg):
    frame, crops = main_stage_faces(decode_image(grace_hopper_jpeg), captured_at=NOW)
    assert frame.to_json()["FaceCount"] == 1 and len(crops) == 1
    crop = crops[0]
    assert crop.key == "faces/main/2026/07/04/21/1783198800000-f1-0.jpg"
    assert crop.metadata["stage"] == "main" and crop.metadata["camera"] == "cam-1"
    assert crop.metadata["frame-id"] == "f1" and '"Left"' in crop.metadata["box"]
    # The crop holds a face: the same detector finds one filling most of it.
    cropped = decode_image(crop.jpeg, "image/jpeg")
    (again,) = load_detector(DetectorSettings()).detect(cropped)
    assert again.box.width > 0.5 and again.box.height > 0.5


def test_faces_below_the_minimum_size_are_reported_but_not_cropped(grace_hopper_jpeg):
    small = Image.open(__import__("io").BytesIO(grace_hopper_jpeg)).resize((128, 150))
    image = np.asarray(small)
    settings = DetectorSettings(min_face_px=60, min_confidence=50)
    frame, crops = main_stage_faces(image, captured_at=NOW, frame_id="f2", settings=settings)
    assert len(frame.faces) == 1 and frame.faces[0].crop_key is None
    assert frame.faces[0].size_px < 60 and crops == []


def test_max_faces_keeps_the_most_confident(astronaut_rgb):
    # Four copies of the portrait side by side: four faces; keep two.
    mosaic = np.concatenate([astronaut_rgb[:, :256]] * 4, axis=1)
    assert len(load_detector(DetectorSettings()).detect(mosaic)) == 4
    limited = load_detector(DetectorSettings(max_faces=2)).detect(mosaic)
    assert len(limited) == 2
