from datetime import UTC, datetime

import pytest

from datapalooza.domain.keys import (
    CropKey,
    InvalidKey,
    InvalidName,
    SheetKey,
    TimeOutOfRange,
    parse_object_key,
    time_from_epoch_ms,
    validate_slug,
)

WHEN = datetime(2026, 7, 4, 21, 5, 9, 123000, tzinfo=UTC)


def test_key_follows_the_scheme_and_parses_back():
    key = CropKey("main-stage", WHEN, "f000042", 3)
    assert str(key) == "faces/main-stage/2026/07/04/21/1783199109123-f000042-3.jpg"
    assert CropKey.parse(str(key)) == key


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../etc",
        "Main",
        "main/stage",
        "main stage",
        "-main",
        "main-",
        "a" * 41,
        "ma\x00in",
        "main.stage",
        "ü",
    ],
)
def test_stage_names_that_could_escape_paths_are_rejected(name):
    with pytest.raises(InvalidName):
        validate_slug(name)


@pytest.mark.parametrize(
    "key",
    [
        "uploads/main/2026/07/04/21/1783199109123-f1-0.jpg",  # outside faces/
        "faces/../2026/07/04/21/1783199109123-f1-0.jpg",
        "faces/Main/2026/07/04/21/1783199109123-f1-0.jpg",
        "faces/main/2026/07/04/22/1783199109123-f1-0.jpg",  # hour does not match timestamp
        "faces/main/2026/07/04/21/1783199109123-f1-0.png",
        "faces/main/1783199109123-f1-0.jpg",
    ],
)
def test_keys_outside_the_scheme_are_rejected(key):
    with pytest.raises(InvalidKey):
        CropKey.parse(key)


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        CropKey("main", datetime(2026, 7, 4), "f1", 0)


@pytest.mark.parametrize(
    "key",
    [
        "faces/main/9999/12/31/23/253402300799999-f1-0.jpg",  # parsed before: year 9999
        "faces/main/3000/01/01/00/999999999999999-f1-0.jpg",  # was a bare ValueError
        "faces/main/1999/12/31/23/946684799999-f1-0.jpg",  # before the key range
        "faces/main/1970/01/01/00/0-f1-0.jpg",
    ],
)
def test_keys_outside_the_key_time_range_are_rejected(key):
    with pytest.raises(InvalidKey, match="outside"):
        CropKey.parse(key)


@pytest.mark.parametrize(
    "text",
    [
        "--5",  # reached int() and raised a bare ValueError: HTTP 500 at the endpoint
        "-----1783199109123",
        "-",
        "+5",
        "+1783199109123",
        "",
        "   ",
        "1783 199109123",
        "1783199109123\n5",
        "1_783_199_109_123",
        "١٧٨٣١٩٩١٠٩١٢٣",  # Arabic-Indic digits: int() reads them
        "9" * 20,
        "9" * 5000,  # past int()'s 4300-digit limit: its own ValueError
    ],
)
def test_a_malformed_epoch_ms_text_is_a_time_out_of_range(text):
    with pytest.raises(TimeOutOfRange, match="not a whole number of epoch milliseconds"):
        time_from_epoch_ms(text)


@pytest.mark.parametrize("text", ["-5", "-0", "0", "9" * 19])
def test_a_whole_number_outside_the_key_range_is_a_time_out_of_range(text):
    with pytest.raises(TimeOutOfRange, match="outside 2000-01-01 to 2100-01-01"):
        time_from_epoch_ms(text)


def test_an_epoch_ms_text_may_have_surrounding_whitespace():
    assert time_from_epoch_ms(" 1783199109123\t") == time_from_epoch_ms(1783199109123)


def test_the_key_time_range_is_2000_to_2100():
    assert CropKey.parse("faces/main/2000/01/01/00/946684800000-f1-0.jpg").index == 0
    assert CropKey.parse("faces/main/2099/12/31/23/4102444799999-f1-0.jpg").index == 0
    with pytest.raises(ValueError, match="key range"):
        CropKey("main", datetime(2100, 1, 1, tzinfo=UTC), "f1", 0)


def test_a_crop_sheet_key_names_its_first_face_and_parses_back():
    sheet = SheetKey("main-stage", WHEN, "f000042", 100)
    assert str(sheet) == "faces/main-stage/2026/07/04/21/1783199109123-f000042-100.sheet.jpg"
    assert parse_object_key(str(sheet)) == sheet
    assert sheet.face(3) == CropKey("main-stage", WHEN, "f000042", 103)
    assert parse_object_key(str(sheet.face(3))) == sheet.face(3)


def test_a_sheet_key_is_never_taken_for_a_crop_key_or_the_other_way_round():
    with pytest.raises(InvalidKey, match="crop sheet"):
        CropKey.parse(str(SheetKey("main", WHEN, "f-12", 0)))
    # Frame "f-12"'s sheet and frame "f"'s crop 12 are different names.
    assert str(SheetKey("main", WHEN, "f-12", 0)) != str(CropKey("main", WHEN, "f", 12))
    assert isinstance(parse_object_key(str(CropKey("main", WHEN, "f", 12))), CropKey)


@pytest.mark.parametrize(
    "key",
    [
        "faces/main/2026/07/04/21/1783199109123-f1-01.sheet.jpg",  # leading zero
        "faces/main/2026/07/04/21/1783199109123-f1.sheet.jpg",  # no first index
        "faces/main/2026/07/04/21/1783199109123-f1-0.sheet.png",
        "faces/main/2026/07/04/21/1783199109123-f1-0.sheet.sheet.jpg",
        "faces/main/2026/07/04/21/1783199109123-f1-0.SHEET.jpg",
    ],
)
def test_sheet_keys_outside_the_scheme_are_rejected(key):
    with pytest.raises(InvalidKey):
        parse_object_key(key)


def test_a_sheet_cannot_name_a_face_past_the_schemes_last_index():
    sheet = SheetKey("main", WHEN, "f1", 9_999)
    with pytest.raises(ValueError, match="out of range"):
        sheet.face(1)
