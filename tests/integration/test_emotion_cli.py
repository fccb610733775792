"""``datapalooza emotions`` on real photos, and the local tracker on real crops."""

from __future__ import annotations

import json
from datetime import timedelta

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from datapalooza.cli import main
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, local_scorer
from tests.integration.conftest_emotions import T0, real_face_crops


@pytest.fixture
def astronaut_png(tmp_path, astronaut_rgb):
    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut_rgb).save(path)
    return path


def test_prints_each_face_box_and_scores_with_the_caveat(astronaut_png, capsys):
    hopper = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    assert main(["emotions", str(astronaut_png), str(hopper)]) == 0
    out = capsys.readouterr().out
    decoder, reports, position = json.JSONDecoder(), [], 0
    while position < len(out):
        report, end = decoder.raw_decode(out, position)
        reports.append(report)
        position = end + 1
    astronaut, portrait = reports
    assert astronaut["Caveat"] == EXPRESSION_CAVEAT
    assert astronaut["UnsupportedTypes"] == ["CONFUSED"]
    (face,) = astronaut["Faces"]
    assert face["Dominant"] == "HAPPY"
    assert face["Emotions"][0]["Type"] == "HAPPY"
    assert 0 < face["BoundingBox"]["Left"] < 1
    assert portrait["Faces"][0]["Dominant"] == "CALM"


def test_a_file_that_is_not_an_image_fails_with_a_message(tmp_path, capsys):
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not a photo")
    assert main(["emotions", str(bogus)]) == 1
    assert "notes.jpg" in capsys.readouterr().err


def test_faces_too_small_to_score_are_listed_without_scores(tmp_path, astronaut_rgb, capsys):
    small = np.asarray(Image.fromarray(astronaut_rgb).resize((160, 160)))
    path = tmp_path / "small.png"
    Image.fromarray(small).save(path)
    assert main(["emotions", str(path), "--min-face-px", "60"]) == 0
    (face,) = json.loads(capsys.readouterr().out)["Faces"]
    assert face["Emotions"] is None and face["Note"] == "too small to score"


def test_local_tracker_scores_real_crops_into_sqlite(tmp_path):
    tracker = local_scorer(
        TrackerSettings(analyzer="local"),
        faces_root=tmp_path / "bucket",
        database=tmp_path / "festival.db",
        cache_dir=tmp_path / "models",
    )
    keys = []
    for index, (_, crop) in enumerate(real_face_crops()):
        key = f"faces/main/2026/07/18/21/{int(T0.timestamp() * 1000)}-f1-{index}.jpg"
        tracker.store.put(key, crop, {"stage": "main", "camera": "cam-1"})
        keys.append(key)
    report = tracker.score([CropRef(k, str(i)) for i, k in enumerate(keys)])
    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * 2
    assert tracker.score([CropRef(keys[0], "again")]).outcomes[0].status is CropStatus.DUPLICATE

    mix = tracker.results.emotion_mix("main", T0, T0 + timedelta(minutes=1))
    assert mix.faces == 2
    assert mix.dominant_counts == {Emotion.HAPPY: 1, Emotion.CALM: 1}
    assert tracker.metrics.statistics(
        "main", "FacesAnalyzed", T0, T0 + timedelta(minutes=1), statistic="Sum"
    ) == [(T0, 2.0)]
