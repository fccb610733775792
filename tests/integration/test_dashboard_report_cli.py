"""``datapalooza report``: the artist's report files, and setlist files on disk."""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from datapalooza.adapters.local.json_setlist_store import JsonSetlistStore
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.cli import main
from datapalooza.dashboard.setlists import (
    MAX_FILE_BYTES,
    TimeContext,
    build_setlist,
    load_setlist_file,
)
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion, EmotionScores
from datapalooza.domain.keys import CropKey
from datapalooza.domain.setlists import SetlistError
from datapalooza.festival.layout import DataLayout
from datapalooza.ports import ScoredFace

START = datetime(2025, 7, 19, 21, 0, tzinfo=UTC)
SETLIST_YAML = """
date: 2025-07-19
timezone: UTC
stages:
  main:
    artist: The <Hypotheticals>
    end: "21:12"
    tracks:
      - {title: Warm Up, start: "21:00"}
      - {title: Big Single, start: "21:06"}
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    layout = DataLayout(tmp_path / "festival")
    table = SqliteResultsTable(layout.results_db)
    moods = [(Emotion.CALM, 0), (Emotion.HAPPY, 6)]  # calm opener, smiling single
    n = 0
    for emotion, minute in moods:
        for i in range(24):
            n += 1
            at = START + timedelta(minutes=minute, seconds=10 + 10 * i)
            face = ScoredFace(
                "main",
                at,
                str(CropKey("main", at, f"f{n}", 0)),
                "cam-1",
                EmotionScores({emotion: 85.0, Emotion.SURPRISED: 15.0}),
            )
            table.put_if_new(face, ttl_epoch_s=2_000_000_000)
    table.close()
    return layout.root


@pytest.fixture
def setlist_file(tmp_path: Path) -> Path:
    path = tmp_path / "setlist.yaml"
    path.write_text(SETLIST_YAML)
    return path


def report_main_stage(data_dir: Path, setlist_file: Path, out: Path) -> int:
    """``datapalooza report`` for the main stage with the setlist file; its exit status."""
    return main(
        [
            "report",
            "--stage",
            "main",
            "--setlist",
            str(setlist_file),
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
        ]
    )


def test_html_report_is_self_contained_with_charts_tracks_and_caveat(
    data_dir: Path, setlist_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "report.html"
    assert report_main_stage(data_dir, setlist_file, out) == 0
    assert "2 tracks (2 played), 48 faces" in capsys.readouterr().out
    page = out.read_text()
    assert "Warm Up" in page and "Big Single" in page
    assert "The &lt;Hypotheticals&gt;" in page  # titles are escaped, never markup
    assert EXPRESSION_CAVEAT in page
    assert page.count('class="plotly-graph-div"') == 2
    # plotly.js is inlined: no script is fetched from anywhere
    assert not re.search(r"<script[^>]+src=", page)
    assert len(page) > 1_000_000
    assert "<td class='above'>above the set" in page
    assert "<td class='below'>below the set" in page


def test_png_report(data_dir: Path, setlist_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    assert report_main_stage(data_dir, setlist_file, out) == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 800 and image.height > 600


def test_a_png_of_a_set_without_faces_draws_no_empty_legend(data_dir: Path, tmp_path: Path) -> None:
    # The next day's set: no face was scored during it.
    next_day = tmp_path / "next-day.yaml"
    next_day.write_text(SETLIST_YAML.replace("2025-07-19", "2025-07-20"))
    out = tmp_path / "report.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of a legend with no entries
        assert report_main_stage(data_dir, next_day, out) == 0
    assert out.stat().st_size > 0


def test_without_a_setlist_file_the_stored_setlist_is_used(data_dir: Path, tmp_path: Path) -> None:
    context = TimeContext(START.date(), UTC)
    JsonSetlistStore(DataLayout(data_dir).setlists).save(
        build_setlist("main", [("Stored", "21:00")], context=context, end="21:12")
    )
    out = tmp_path / "r.html"
    assert main(["report", "--stage", "main", "--data-dir", str(data_dir), "--out", str(out)]) == 0
    assert "Stored" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "Main"], "invalid stage name"),
        (["--stage", "forest"], "no setlist for stage 'forest' (stages there: main)"),
        (["--stage", "main", "--out", "report.pdf"], "is .html or .png"),
    ],
)
def test_bad_report_requests_exit_2_with_a_reason(
    data_dir: Path,
    setlist_file: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["report", "--setlist", str(setlist_file), "--data-dir", str(data_dir), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_data_dir_without_results_is_reported_and_left_alone(
    setlist_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "typo"
    code = main(
        ["report", "--stage", "main", "--setlist", str(setlist_file), "--data-dir", str(empty)]
    )
    assert code == 2 and "no festival results" in capsys.readouterr().err
    assert not empty.exists()


def test_setlist_files_in_json(tmp_path: Path) -> None:
    path = tmp_path / "setlist.json"
    path.write_text(
        json.dumps(
            {
                "date": "2025-07-19",
                "timezone": "UTC",
                "stages": {
                    "forest": {"tracks": [{"title": "Drone", "start": "22:00"}], "end": "22:30"}
                },
            }
        )
    )
    (forest,) = load_setlist_file(path, context=TimeContext(START.date(), UTC))
    assert forest.stage == "forest" and forest.end == START + timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"stages: [unclosed", "not valid YAML or JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"stages:\n  main:\n    tracks: [{title: A, start: '9pm'}]", "setlist.yaml: stage main"),
        (b"#" * (MAX_FILE_BYTES + 1), "a setlist file is at most"),
    ],
)
def test_bad_setlist_files_name_the_file_and_the_problem(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "setlist.yaml"
    path.write_bytes(content)
    with pytest.raises(SetlistError, match=re.escape(message)):
        load_setlist_file(path, context=TimeContext(START.date(), UTC))


def test_a_missing_setlist_file(tmp_path: Path) -> None:
    with pytest.raises(SetlistError, match="cannot read setlist file"):
        load_setlist_file(tmp_path / "nope.yaml", context=TimeContext(START.date(), UTC))


def test_the_store_replaces_its_file_atomically_and_keeps_other_stages(tmp_path: Path) -> None:
    store = JsonSetlistStore(tmp_path / "setlists.json")
    context = TimeContext(START.date(), UTC)
    store.save(build_setlist("main", [("A", "21:00")], context=context))
    store.save(build_setlist("forest", [("B", "21:00")], context=context))
    store.save(build_setlist("main", [("C", "22:00")], context=context))
    assert {s: [t.title for t in v.tracks] for s, v in store.all().items()} == {
        "forest": ["B"],
        "main": ["C"],
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["setlists.json"]  # no temp files left


@pytest.mark.parametrize(
    "content",
    [
        "{half a file",
        "[" * 100_000 + "]" * 100_000,  # a hand-edited file nested past the stack
        '{"stages": {}, "pad": "' + "x" * (4 * 1024 * 1024) + '"}',  # past MAX_STORE_BYTES
    ],
    ids=["half-written", "nested-too-deep", "too-large"],
)
def test_a_corrupt_store_is_an_error_not_an_empty_list(tmp_path: Path, content: str) -> None:
    path = tmp_path / "setlists.json"
    path.write_text(content)
    with pytest.raises(SetlistError, match="cannot read"):
        JsonSetlistStore(path).all()
