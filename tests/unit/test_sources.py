"""Frame sources: the synthetic festival, folders, live captures, the spec parser."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from datapalooza.sources import InvalidSourceSpec, SourceExhausted, open_source
from datapalooza.sources.folder import FolderSource
from datapalooza.sources.spec import redacted
from datapalooza.sources.synthetic import MOOD_SCRIPTS, SyntheticFestivalSource, phase_at


# -- synthetic festival ---------------------------------------------------------------
def test_synthetic_frames_are_deterministic_by_seed_and_stage() -> None:
    a = SyntheticFestivalSource(stage="main", seed=3, width=640, height=360)
    b = SyntheticFestivalSource(stage="main", seed=3, width=640, height=360)
    c = SyntheticFestivalSource(stage="main", seed=4, width=640, height=360)
    d = SyntheticFestivalSource(stage="dance", seed=3, width=640, height=360)
    first = a.read()
    assert first.image.shape == (360, 640, 3) and first.image.dtype == np.uint8
    assert first.frame_id == "f000000"
    assert np.array_equal(first.image, b.read().image)
    assert not np.array_equal(first.image, c.read().image)
    assert not np.array_equal(first.image, d.read().image)
    assert not np.array_equal(a.read().image, first.image)  # frames change over time


def test_synthetic_crowd_has_small_and_large_faces_mirrored_both_ways() -> None:
    source = SyntheticFestivalSource(stage="main", seed=1)
    sizes: list[int] = []
    mirrored: set[bool] = set()
    for index in range(6):
        image, faces = source.compose(index)
        assert image.shape == (720, 1280, 3)
        assert len(faces) == source.faces
        sizes += [f.box[2] for f in faces]
        mirrored |= {f.mirrored for f in faces}
    assert min(sizes) < 30, "a crowd has small, far-away faces"
    assert max(sizes) > 70, "and a few near ones"
    assert mirrored == {True, False}


def test_mood_script_changes_the_mix_of_real_photos_over_time() -> None:
    # main: phase 2 (60-105 s) is mostly the neutral portrait, phase 3 mostly the smile.
    source = SyntheticFestivalSource(stage="main", seed=2, width=640, height=360, fps=1.0)
    assert phase_at(MOOD_SCRIPTS["main"], 70).weights["grace_hopper"] > 0.8
    quiet = Counter(f.portrait for i in range(60, 100) for f in source.compose(i)[1])
    hit = Counter(f.portrait for i in range(110, 150) for f in source.compose(i)[1])
    assert quiet["grace_hopper"] > 3 * quiet["astronaut"]
    assert hit["astronaut"] > 3 * hit["grace_hopper"]


def test_synthetic_bounded_length_ends_with_exhausted() -> None:
    source = SyntheticFestivalSource(stage="main", width=320, height=180, frames=2)
    source.read()
    source.read()
    with pytest.raises(SourceExhausted):
        source.read()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic:stage=Main!", "invalid stage"),
        ("synthetic:colour=red", "unknown synthetic option 'colour'"),
        ("synthetic:seed=x", "seed='x'"),
        ("synthetic:faces", "not key=value"),
        ("synthetic:width=10", "out of range"),
        ("synthetic:portraits=mona_lisa", "unknown or uninstalled portraits"),
        ("webcam:front", "not a device index"),
        ("file:/nonexistent/video.mp4", "does not exist"),
        ("dir:/nonexistent/folder", "is not a directory"),
        ("ftp://host/x", "unknown source"),
        ("camera0", "unknown source"),
    ],
)
def test_bad_source_specs_get_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(InvalidSourceSpec, match=message.replace("(", r"\(").replace("?", r"\?")):
        open_source(spec)


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream", "rtsp://***@10.0.0.5:554/stream"),
        ("https://user@cams.example/a@b.mjpg", "https://***@cams.example/a@b.mjpg"),
        ("rtsp://p%40ss:w@rd@host/x", "rtsp://***@host/x"),  # the last @ ends the userinfo
        ("rtsp://10.0.0.5/stream", "rtsp://10.0.0.5/stream"),
        ("webcam:0", "webcam:0"),
        ("synthetic:stage=main,seed=1", "synthetic:stage=main,seed=1"),
    ],
)
def test_a_stream_urls_credentials_are_never_shown(spec: str, shown: str) -> None:
    assert redacted(spec) == shown


def test_a_stream_source_is_named_without_its_credentials() -> None:
    source = open_source("rtsp://admin:s3cret@127.0.0.1:9/none", read_timeout_s=0.01)
    try:
        assert source.name == "rtsp://***@127.0.0.1:9/none"
    finally:
        source.close()


def test_spec_parser_builds_the_synthetic_source_with_options() -> None:
    source = open_source("synthetic:stage=dance,seed=7,faces=5,width=320,height=240")
    assert isinstance(source, SyntheticFestivalSource)
    assert (source.stage, source.seed, source.faces) == ("dance", 7, 5)
    assert source.read().image.shape == (240, 320, 3)
    assert open_source("synthetic:", stage="acoustic").stage == "acoustic"  # type: ignore[attr-defined]


# -- folders ----------------------------------------------------------------------------
def test_folder_source_reads_images_in_order_and_skips_unreadable(tmp_path: Path) -> None:
    for i, value in enumerate((10, 200)):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), np.full((8, 12, 3), value, np.uint8))
    (tmp_path / "01a.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(f"dir:{tmp_path}")
    assert int(source.read().image[0, 0, 0]) == 10
    assert int(source.read().image[0, 0, 0]) == 200  # 01a.jpg skipped
    with pytest.raises(SourceExhausted):
        source.read()
    assert isinstance(source, FolderSource) and source.skipped == 1


def test_folder_source_loops_and_rejects_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(InvalidSourceSpec, match="no images"):
        FolderSource(tmp_path)
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    source = open_source(f"dir:{tmp_path}?loop")
    ids = [source.read().frame_id for _ in range(3)]
    assert ids == ["f000000", "f000001", "f000002"]
