"""``datapalooza bucket`` as a user runs it: list a local bucket, write a crop to a file,
and a clear error for each wrong input."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

from PIL import Image

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.cli import EXIT_READER_LEFT
from tests.conftest import grace_hopper_path
from tests.helpers.emotions import crop_key
from tests.helpers.processes import run_datapalooza, without_datapalooza_settings


def test_list_then_get_a_crop_the_detector_stored(tmp_path):
    bucket = tmp_path / "bucket"
    stored = run_datapalooza("detect", str(grace_hopper_path()), "--store", str(bucket))
    assert stored.returncode == 0, stored.stderr
    key = json.loads(stored.stdout)["Faces"][0]["CropKey"]

    listed = run_datapalooza("bucket", "--store", str(bucket), "ls", "faces/main/")
    assert listed.returncode == 0, listed.stderr
    body, metadata = SqliteFaceStore(bucket).get(key)
    assert listed.stdout.split() == [f"{len(body):,}", key]

    got = run_datapalooza("bucket", "--store", str(bucket), "get", key, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {"Key": key, "ContentLength": len(body), "Metadata": metadata}
    written = tmp_path / key.rsplit("/", 1)[-1]
    assert written.read_bytes() == body
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # a face: its owner's only
    with Image.open(written) as crop:
        assert crop.format == "JPEG"

    other = run_datapalooza("bucket", "--store", str(bucket), "ls", "faces/tent/")
    assert other.returncode == 0 and other.stdout == ""


def test_the_default_bucket_is_ups_data_directorys(tmp_path):
    SqliteFaceStore(tmp_path / "bucket").put(
        "faces/main/2026/07/04/21/1783198800000-f1-0.jpg", b"jpeg", {}
    )
    env = without_datapalooza_settings(DATAPALOOZA_DATA_DIR=str(tmp_path))
    listed = run_datapalooza("bucket", "ls", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["4", "faces/main/2026/07/04/21/1783198800000-f1-0.jpg"]


def test_wrong_inputs_get_one_clear_line(tmp_path):
    bucket = tmp_path / "bucket"
    SqliteFaceStore(bucket).put("faces/main/2026/07/04/21/1783198800000-f1-0.jpg", b"x", {})
    cases = {
        ("--store", str(tmp_path / "none"), "ls"): "no bucket in",
        ("--store", str(bucket), "get", "../../etc/passwd"): "is not a face crop key",
        (
            "--store",
            str(bucket),
            "get",
            "faces/main/2026/07/04/21/1783198800000-f1-1.jpg",
        ): "no object faces/main/2026/07/04/21/1783198800000-f1-1.jpg",
    }
    for args, message in cases.items():
        result = run_datapalooza("bucket", *args, cwd=tmp_path)
        assert result.returncode == 2, result
        assert result.stderr.startswith("datapalooza: error: ") and message in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "none").exists()  # a read never creates a bucket
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bucket"]  # nor writes a file


def test_a_listing_piped_into_head_stops_quietly(tmp_path):
    """`datapalooza bucket ls | head` printed a BrokenPipeError traceback."""
    store = SqliteFaceStore(tmp_path / "bucket")
    for index in range(3000):  # a listing well past the pipe's buffer
        store.put(crop_key(index=index % 100, frame=f"f{index // 100}"), b"x", {})
    lister = subprocess.Popen(
        [sys.executable, "-m", "datapalooza", "bucket", "--store", str(tmp_path / "bucket"), "ls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert lister.stdout is not None and lister.stderr is not None
    assert lister.stdout.readline().split()[0] == b"1"  # the first line, then the reader leaves
    lister.stdout.close()
    assert lister.wait(timeout=60) == EXIT_READER_LEFT
    assert lister.stderr.read() == b""
