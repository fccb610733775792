from datetime import UTC, datetime

import pytest

from datapalooza.detection import DetectorSettings
from datapalooza.domain.frame_attributes import BadAttributes, parse_attributes
from datapalooza.endpoint.handlers import UnsupportedAccept, output_fn
from datapalooza.settings import SettingsError


def test_custom_attributes_carry_stage_camera_frame_and_capture_time():
    now = datetime(2026, 7, 4, 21, 6, tzinfo=UTC)
    attrs = parse_attributes("stage=main,camera=cam-2,frame=f17,ts=1783199109123", now=now)
    assert (attrs.stage, attrs.camera, attrs.frame_id) == ("main", "cam-2", "f17")
    assert attrs.captured_at == datetime(2026, 7, 4, 21, 5, 9, 123000, tzinfo=UTC)
    assert parse_attributes(attrs.to_header(), now=now) == attrs


@pytest.mark.parametrize(
    ("ts", "accepted"),
    [
        ("1782594360000", True),  # exactly 7 days before now
        ("1782594359999", False),
        ("1783199460000", True),  # exactly 5 minutes after now
        ("1783199460001", False),
        ("253402300799999", False),
        ("-5", False),
        ("--5", False),
        (" 1783199109123 ", True),
        ("+1783199109123", False),
        ("1783199109123.5", False),
        ("١٧٨٣١٩٩١٠٩١٢٣", False),  # non-ASCII digits
    ],
)
def test_the_capture_time_window_is_seven_days_back_to_five_minutes_ahead(ts, accepted):
    now = datetime(2026, 7, 4, 21, 6, tzinfo=UTC)
    if accepted:
        assert parse_attributes(f"ts={ts}", now=now).captured_at.year == 2026
    else:
        with pytest.raises(BadAttributes, match="ts"):
            parse_attributes(f"ts={ts}", now=now)


def test_missing_attributes_get_defaults_and_a_fresh_frame_id():
    first, second = parse_attributes(None), parse_attributes("")
    assert first.stage == "main" and first.camera == "camera-1"
    assert first.frame_id != second.frame_id


@pytest.mark.parametrize(
    "header",
    [
        "stage=../../etc",
        "stage=" + "a" * 41,
        "stage=Main",
        "camera=a/b",
        "garbage",
        "ts=soon",
        "stage=x," * 200,
    ],
)
def test_bad_attributes_are_rejected(header):
    with pytest.raises(BadAttributes):
        parse_attributes(header)


def test_responses_are_json_and_never_pickle():
    body, ctype = output_fn({"Faces": []}, "application/json")
    assert (body, ctype) == (b'{"Faces":[]}', "application/json")
    assert output_fn({"Faces": []}, None)[1] == "application/json"
    with pytest.raises(UnsupportedAccept):
        output_fn({"Faces": []}, "application/x-pickle")


def test_detector_settings_come_from_overrides_then_env_then_defaults():
    env = {"DATAPALOOZA_MIN_CONFIDENCE": "60", "DATAPALOOZA_MIN_FACE_PX": "32"}
    settings = DetectorSettings.from_env(env, min_face_px=48)
    assert (settings.min_confidence, settings.min_face_px, settings.detector) == (
        60.0,
        48,
        "retinaface",
    )
    with pytest.raises(SettingsError, match="DATAPALOOZA_MIN_CONFIDENCE"):
        DetectorSettings.from_env({"DATAPALOOZA_MIN_CONFIDENCE": "high"})
    with pytest.raises(SettingsError, match="detector"):
        DetectorSettings(detector="ssd-mxnet")
    with pytest.raises(SettingsError, match="min_confidence"):
        DetectorSettings(min_confidence=120)
