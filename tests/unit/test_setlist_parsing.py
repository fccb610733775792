"""Setlists: what each source shape means, and what each bad input gets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from datapalooza.dashboard.setlist_report import verdict
from datapalooza.dashboard.setlists import (
    MAX_TRACKS,
    TimeContext,
    build_setlist,
    parse_document,
    parse_lines,
    zone_named,
)
from datapalooza.domain.setlists import Setlist, SetlistError

BERLIN = ZoneInfo("Europe/Berlin")
CTX = TimeContext(date(2025, 7, 19), BERLIN)


def at(hh: int, mm: int, day: int = 19) -> datetime:
    return datetime(2025, 7, day, hh, mm, tzinfo=BERLIN)


def test_tracks_run_until_the_next_track_and_the_last_until_the_end() -> None:
    setlist = build_setlist(
        "main",
        [("Opener", "21:00"), ("Single", "21:06"), ("Encore", "21:12")],
        context=CTX,
        artist="The Hypotheticals",
        end="21:20",
    )
    assert [(t.title, t.start, t.end) for t in setlist.tracks] == [
        ("Opener", at(21, 0), at(21, 6)),
        ("Single", at(21, 6), at(21, 12)),
        ("Encore", at(21, 12), at(21, 20)),
    ]
    assert setlist.artist == "The Hypotheticals" and not setlist.end_assumed
    assert setlist.start == at(21, 0) and setlist.end == at(21, 20)


def test_without_an_end_the_last_track_gets_the_median_length_and_says_so() -> None:
    setlist = build_setlist(
        "main", [("A", "21:00"), ("B", "21:04"), ("C", "21:10"), ("D", "21:14")], context=CTX
    )
    assert setlist.end_assumed
    assert setlist.tracks[-1].duration == timedelta(minutes=4)  # median of 4, 6, 4


def test_a_one_track_set_without_an_end_lasts_four_minutes() -> None:
    setlist = build_setlist("main", [("Only", "21:00")], context=CTX)
    assert setlist.end == at(21, 4) and setlist.end_assumed


def test_a_set_crossing_midnight_continues_on_the_next_day() -> None:
    setlist = build_setlist(
        "main", [("Late", "23:50"), ("Later", "00:05")], context=CTX, end="00:20"
    )
    assert setlist.tracks[1].start == at(0, 5, day=20)
    assert setlist.end == at(0, 20, day=20)


def test_iso_times_with_offsets_are_taken_as_they_are() -> None:
    setlist = build_setlist(
        "main",
        [("A", "2025-07-19T19:00:00+00:00"), ("B", "2025-07-19T21:05:00+02:00")],
        context=CTX,
        end="2025-07-19T19:10:00Z",
    )
    assert setlist.tracks[0].start == datetime(2025, 7, 19, 19, 0, tzinfo=UTC)
    assert setlist.tracks[1].start == datetime(2025, 7, 19, 19, 5, tzinfo=UTC)


def test_pasted_lines_with_an_end_line() -> None:
    text = """
    # the set
    21:00 Opening Jam
    21:06 - Second Song
    21:12   The Big Single
    21:18 end
    """
    setlist = parse_lines("main", text, context=CTX, artist="X")
    assert [t.title for t in setlist.tracks] == ["Opening Jam", "Second Song", "The Big Single"]
    assert setlist.end == at(21, 18) and not setlist.end_assumed


def test_pasted_lines_on_the_12_hour_clock() -> None:
    # As a browser in a 12-hour locale shows times, and artists there type them.
    text = """
    11:50 PM Opening Jam
    11:55pm Second Song
    11:58 p.m. - Third Song
    12:01 AM - AM Radio
    12:04 a.m. end
    """
    setlist = parse_lines("main", text, context=CTX)
    assert [(t.title, t.start) for t in setlist.tracks] == [
        ("Opening Jam", at(23, 50)),
        ("Second Song", at(23, 55)),
        ("Third Song", at(23, 58)),
        ("AM Radio", at(0, 1, day=20)),
    ]
    assert setlist.end == at(0, 4, day=20)


@pytest.mark.parametrize(
    ("start", "expected"),
    [("12:00 AM", (0, 0)), ("12:30 PM", (12, 30)), ("1:05 PM", (13, 5)), ("9:05 am", (9, 5))],
)
def test_am_and_pm_hours(start: str, expected: tuple[int, int]) -> None:
    (track,) = build_setlist("main", [("A", start)], context=CTX).tracks
    assert track.start == at(*expected)


def test_am_or_pm_right_after_a_time_is_the_times() -> None:
    # "9:05 AM Radio" is a track called Radio; a title starting with AM takes a dash.
    (read,) = parse_lines("main", "9:05 AM Radio", context=CTX).tracks
    (kept,) = parse_lines("main", "09:05 - AM Radio", context=CTX).tracks
    assert (read.title, read.start) == ("Radio", at(9, 5))
    assert (kept.title, kept.start) == ("AM Radio", at(9, 5))
    (pmx,) = parse_lines("main", "21:05 PMX Tour", context=CTX).tracks
    assert pmx.title == "PMX Tour"  # only a whole word is AM or PM


def test_a_yaml_document_with_unquoted_times_and_its_own_date() -> None:
    # YAML reads an unquoted 21:05 as the sexagesimal number 1265: it still means 21:05.
    document = yaml.safe_load(
        """
        date: 2025-08-01
        timezone: "+02:00"
        stages:
          main:
            artist: Band
            end: 21:20
            tracks:
              - {title: One, start: 21:00}
              - {title: Two, start: "21:10"}
          forest:
            tracks:
              - {title: Drone, start: 2025-08-01T22:00:00+02:00}
        """
    )
    main, forest = parse_document(document, context=CTX)
    offset = zone_named("+02:00")
    assert main.stage == "main" and main.tracks[0].start == datetime(
        2025, 8, 1, 21, 0, tzinfo=offset
    )
    assert main.end == datetime(2025, 8, 1, 21, 20, tzinfo=offset)
    assert forest.tracks[0].start == datetime(2025, 8, 1, 20, 0, tzinfo=UTC)


def test_stored_form_round_trips() -> None:
    setlist = build_setlist("main", [("A", "21:00"), ("B", "21:05")], context=CTX, end="21:09")
    assert Setlist.from_json(setlist.to_json()) == setlist


@pytest.mark.parametrize(
    ("entries", "end", "message"),
    [
        ([], None, "no tracks"),
        ([("  ", "21:00")], None, "title is empty"),
        ([("x" * 201, "21:00")], None, "longer than 200"),
        ([("A", "21:10"), ("B", "21:05")], None, "not after the track before it"),
        ([("A", "21:10"), ("B", "21:10")], None, "not after the track before it"),
        ([("A", "25:00")], None, "not a time of day"),
        ([("A", "13:05 PM")], None, "AM/PM hours are 1-12"),
        ([("A", "0:05 AM")], None, "AM/PM hours are 1-12"),
        ([("A", "nine pm")], None, "is not a time"),
        ([("A", "21:00")], "20:59", "not after the last track starts"),
        (
            [("A", "2025-07-19T10:00:00+00:00"), ("B", "2025-07-21T10:00:00+00:00")],
            None,
            "more than 1 day",
        ),
    ],
)
def test_bad_setlists_are_refused_with_the_reason(
    entries: list[tuple[str, str]], end: str | None, message: str
) -> None:
    with pytest.raises(SetlistError, match=message):
        build_setlist("main", entries, context=CTX, end=end)


def test_too_many_tracks_are_refused() -> None:
    entries = [
        (f"T{i}", (datetime(2025, 7, 19, 0, 0) + timedelta(minutes=i)).strftime("%H:%M"))
        for i in range(MAX_TRACKS + 1)
    ]
    with pytest.raises(SetlistError, match=f"at most {MAX_TRACKS}"):
        build_setlist("main", entries, context=CTX)


def test_a_stage_name_that_is_not_a_slug_is_refused() -> None:
    with pytest.raises(SetlistError, match="invalid stage name"):
        build_setlist("../etc", [("A", "21:00")], context=CTX)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("21:00 A\n21:10 end\n21:20 B", "line 3: nothing may follow the end line"),
        ("just words", "not 'HH:MM Title'"),
        # The API's 20,000 characters in one line, spaces inside: refused for its title
        # (the lazy title pattern that took 0.5 s to match this is gone).
        ("21:00 " + "x" + " " * 9_994 + "y" + " " * 9_999, "longer than 200"),
        ("", "no tracks"),
    ],
)
def test_bad_pasted_text_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SetlistError, match=message):
        parse_lines("main", text, context=CTX)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["a list"], "must be a mapping"),
        ({"stages": {}}, "needs 'stages'"),
        ({"stages": {"main": "21:00 A"}}, "expected a mapping with 'tracks'"),
        ({"stages": {"main": {"tracks": "A"}}}, "'tracks' must be a list"),
        ({"stages": {"main": {"tracks": [{"title": "A"}]}}}, "needs 'title' and 'start'"),
        ({"date": "19/07/2025", "stages": {"main": {"tracks": []}}}, "not YYYY-MM-DD"),
        ({"timezone": "Mars/Olympus", "stages": {}}, "unknown time zone"),
    ],
)
def test_bad_documents_say_what_is_wrong(document: object, message: str) -> None:
    with pytest.raises(SetlistError, match=message):
        parse_document(document, context=CTX)


@pytest.mark.parametrize(
    ("delta", "faces", "expected"),
    [
        (6.0, 50, "above"),
        (-6.0, 50, "below"),
        (4.9, 50, "average"),
        (30.0, 4, "too_few_faces"),
        (None, 0, "too_few_faces"),
    ],
)
def test_how_a_track_landed(delta: float | None, faces: int, expected: str) -> None:
    assert verdict(delta, faces, margin=5.0, min_faces=5) == expected
