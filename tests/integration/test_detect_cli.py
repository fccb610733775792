"""``datapalooza detect`` as a user runs it."""

import json
import stat
import subprocess

from PIL import Image

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from tests.conftest import grace_hopper_path
from tests.helpers.processes import run_datapalooza


def detect(*args: str) -> subprocess.CompletedProcess[str]:
    return run_datapalooza("detect", *args)


def test_detect_prints_the_contract_json_and_writes_an_annotated_image(tmp_path):
    result = detect(str(grace_hopper_path()), "--annotate", str(tmp_path))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["FaceCount"] == 1 and answer["Faces"][0]["Confidence"] > 90
    assert answer["Faces"][0]["CropKey"] is None  # nothing stored without --store
    annotated = tmp_path / "grace_hopper.annotated.jpg"
    assert Image.open(annotated).size == (512, 600)
    # It shows a person's face: private to its owner, like the crops.
    assert stat.S_IMODE(annotated.stat().st_mode) == 0o600


def test_detect_can_store_crops_under_a_directory(tmp_path):
    result = detect(str(grace_hopper_path()), "--store", str(tmp_path), "--stage", "tent")
    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)["Faces"][0]["CropKey"]
    assert key.startswith("faces/tent/") and SqliteFaceStore(tmp_path).exists(key)


def test_unreadable_images_are_reported_and_the_others_still_run(tmp_path):
    (tmp_path / "notes.txt").write_text("not a photo")
    result = detect(str(tmp_path / "notes.txt"), str(grace_hopper_path()))
    assert result.returncode == 1
    assert "notes.txt" in result.stderr
    assert json.loads(result.stdout)["FaceCount"] == 1
    only_bad = detect(str(tmp_path / "missing.jpg"))
    assert only_bad.returncode == 2 and "no image could be read" in only_bad.stderr
