"""CropScorer settings from the environment, and S3/SQS events to crop references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datapalooza import constants
from datapalooza.adapters.aws.lambda_events import crop_refs, is_sqs_event
from datapalooza.emotions import TrackerSettings
from datapalooza.settings import SettingsError

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_settings_explicit_beats_env_beats_default():
    env = {
        constants.ENV_MOSAIC_SIZE: "36",
        constants.ENV_ANALYZER_MODE: "per-crop",
        constants.ENV_FACES_BUCKET: "b",
    }
    settings = TrackerSettings.from_env(env, mosaic_size=20)
    assert settings.mosaic_size == 20
    assert settings.mode == "per-crop"
    assert settings.faces_bucket == "b"
    assert TrackerSettings.from_env({}).mode == "mosaic"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({constants.ENV_MOSAIC_SIZE: "101"}, constants.ENV_MOSAIC_SIZE),
        ({constants.ENV_MOSAIC_SIZE: "lots"}, constants.ENV_MOSAIC_SIZE),
        ({constants.ENV_ANALYZER_MODE: "tiles"}, constants.ENV_ANALYZER_MODE),
        ({constants.ENV_RESULTS_TTL_DAYS: "0"}, constants.ENV_RESULTS_TTL_DAYS),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        TrackerSettings.from_env(env)


def test_missing_bucket_is_reported_by_name():
    with pytest.raises(SettingsError, match=constants.ENV_RESULTS_TABLE):
        TrackerSettings(faces_bucket="b").require("faces_bucket", "results_table")


def test_s3_records_become_refs_with_sizes_and_positions():
    refs = crop_refs(load("s3_object_created.json"), item_id=None, bucket="datapalooza-faces-test")
    assert [(r.key.endswith("-f1-0.jpg"), r.item_id, r.size) for r in refs] == [
        (True, "0", 5012),
        (False, "1", 5012),
    ]
    assert not is_sqs_event(load("s3_object_created.json"))
    assert is_sqs_event(load("sqs_s3_batch.json"))


def test_keys_are_url_decoded():
    (ref,) = crop_refs(load("s3_object_created_bad_key.json"), item_id="m", bucket=None)
    assert ref.key == "faces/Main Stage/2026/07/18/21/photo=1.jpg"


def test_test_event_gives_no_crops():
    assert crop_refs(load("s3_test_event.json"), item_id="m", bucket=None) == []


def test_other_buckets_and_other_event_types_are_skipped():
    event = load("s3_object_created.json")
    event["Records"][1]["eventName"] = "ObjectRemoved:Delete"
    assert len(crop_refs(event, item_id=None, bucket="datapalooza-faces-test")) == 1
    assert crop_refs(event, item_id=None, bucket="someone-elses-bucket") == []
