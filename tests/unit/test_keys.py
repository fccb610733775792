from datetime import UTC, datetime

import pytest

from datapalooza.domain.keys import CropKey, InvalidKey, InvalidName, validate_slug

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
