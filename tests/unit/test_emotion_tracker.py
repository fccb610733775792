"""score_crops with fakes: every crop ends in one status, only retryable ones fail."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from datapalooza.deployment import RESULTS_TTL_DAYS
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops
from datapalooza.emotions.scoring import CropOutcome, ScoringReport
from datapalooza.ports import AnalyzerError
from datapalooza.testing.fakes import FakeAnalyzer, FakeFaceStore, FakeMetricsSink, FakeResultsTable
from tests.helpers.emotions import T0, crop_key, scores, solid_jpeg

HAPPY = scores(happy=90.0, calm=10.0)
SAD = scores(sad=80.0, calm=20.0)


@pytest.fixture
def world():
    store = FakeFaceStore()
    crops = {i: solid_jpeg(40 + 10 * i) for i in range(6)}
    for i, body in crops.items():
        store.put(crop_key(index=i), body, {"stage": "main", "camera": "cam-1"})
    analyzer = FakeAnalyzer({crops[0]: HAPPY, crops[1]: SAD, crops[2]: HAPPY, crops[3]: None})
    return store, analyzer, FakeResultsTable(), FakeMetricsSink(), crops


def run(world, refs, **settings):
    store, analyzer, results, metrics, _ = world
    return score_crops(
        refs,
        store=store,
        analyzer=analyzer,
        results=results,
        metrics=metrics,
        settings=TrackerSettings(**settings),
    )


def ref(i: int, item: str = "m1", **kw) -> CropRef:
    return CropRef(crop_key(index=i), item, **kw)


def test_scores_crops_writes_one_item_each_and_emits_metrics(world):
    _, analyzer, results, metrics, _ = world
    report = run(world, [ref(0), ref(1), ref(2)])

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * 3
    assert analyzer.calls == [3]  # one batch
    assert len(results.items) == 3
    face, ttl = results.items[("main", report.outcomes[1].face.sort_key)]
    assert face.scores == SAD and face.camera == "cam-1" and face.captured_at == T0
    assert ttl == int((T0 + timedelta(days=RESULTS_TTL_DAYS)).timestamp())
    assert [f.face_key for f in metrics.faces] == [crop_key(index=i) for i in range(3)]
    assert report.failed_items == set()


def test_duplicate_notification_writes_nothing_and_emits_no_metric_twice(world):
    _, _, results, metrics, _ = world
    run(world, [ref(0), ref(1)])
    again = run(world, [ref(0), ref(1)])

    assert [o.status for o in again.outcomes] == [CropStatus.DUPLICATE] * 2
    assert len(results.items) == 2
    assert len(metrics.faces) == 2


def test_same_key_twice_in_one_batch_is_analyzed_once(world):
    _, analyzer, results, _, _ = world
    report = run(world, [ref(0, "a"), ref(0, "b")])
    assert [o.status for o in report.outcomes] == [CropStatus.SCORED, CropStatus.DUPLICATE]
    assert analyzer.calls == [1] and len(results.items) == 1


def test_a_scored_crops_log_lines_name_no_expression(world, caplog):
    # Scores per face are kept results_ttl_days; log lines stay for the log group's own
    # retention, so a face's expression must not be in them.
    with caplog.at_level(logging.DEBUG):
        report = run(world, [ref(0), ref(1)])
        run(world, [ref(0)])  # a duplicate notification

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * 2
    assert crop_key(index=1) in caplog.text
    logged = [
        str(value)
        for record in caplog.records
        for value in (record.getMessage(), *vars(record).values())
    ]
    for expression in ("HAPPY", "SAD", "CALM"):
        assert not any(expression in text for text in logged), expression


def test_no_face_is_counted_not_dropped(world):
    _, _, results, metrics, _ = world
    report = run(world, [ref(3)])
    assert report.outcomes[0].status is CropStatus.NO_FACE
    assert results.items == {}
    assert metrics.unscored == [("main", "NoFaceFound", 1)]
    assert report.failed_items == set()  # retrying would find no face again


def test_object_deleted_before_processing_is_missing(world, caplog):
    store, _, _, metrics, _ = world
    store.delete(crop_key(index=0))
    with caplog.at_level(logging.WARNING):
        report = run(world, [ref(0), ref(1)])
    assert [o.status for o in report.outcomes] == [CropStatus.MISSING, CropStatus.SCORED]
    assert ("main", "CropMissing", 1) in metrics.unscored
    assert crop_key(index=0) in caplog.text


def test_object_that_is_not_an_image_is_rejected(world, caplog):
    store, analyzer, _, metrics, _ = world
    store.put(crop_key(index=5), b"<html>not a jpeg</html>", {})
    with caplog.at_level(logging.WARNING):
        report = run(world, [ref(5)])
    assert report.outcomes[0].status is CropStatus.REJECTED
    assert "not_an_image" in report.outcomes[0].detail
    assert analyzer.calls == []
    assert metrics.unscored == [("main", "CropRejected", 1)]
    assert crop_key(index=5) in caplog.text


@pytest.mark.parametrize(
    "key",
    [
        "uploads/main/2026/07/18/21/1784410200000-f1-0.jpg",  # outside faces/
        "faces/Main Stage/2026/07/18/21/1784410200000-f1-0.jpg",  # malformed stage
        "faces/../etc/2026/07/18/21/1784410200000-f1-0.jpg",  # path traversal
        "faces/main/2026/07/18/21/1784410200000-f1-0.png",  # not the scheme
    ],
)
def test_key_outside_the_scheme_is_rejected_without_reading_it(world, key):
    store, _, _, metrics, _ = world
    report = run(world, [CropRef(key, "m1")])
    assert report.outcomes[0].status is CropStatus.REJECTED
    assert store.gets == 0
    assert metrics.unscored == [("invalid", "CropRejected", 1)]


def test_oversized_object_is_rejected_before_download_and_after(world):
    store, _, _, _, _ = world
    report = run(world, [ref(0, size=6_000_000)])
    assert report.outcomes[0].status is CropStatus.REJECTED and store.gets == 0

    # A notification without a size: the store refuses the object by its own size.
    report = run(world, [ref(1)], max_crop_bytes=100)
    size = len(world[4][1])
    assert report.outcomes[0].status is CropStatus.REJECTED
    assert report.outcomes[0].detail == f"{size} bytes is over the 100 limit"


def test_throttled_batch_fails_its_items_only(world):
    _, analyzer, results, _, _ = world
    analyzer.max_batch = 2
    original = analyzer.analyze
    calls = {"n": 0}

    def flaky(crops):
        calls["n"] += 1
        if calls["n"] == 2:
            raise AnalyzerError("throttled", transient=True)
        return original(crops)

    analyzer.analyze = flaky
    report = run(world, [ref(0, "a"), ref(1, "a"), ref(2, "b"), ref(3, "c")])
    statuses = [o.status for o in report.outcomes]
    assert statuses == [CropStatus.SCORED, CropStatus.SCORED, CropStatus.FAILED, CropStatus.FAILED]
    assert report.failed_items == {"b", "c"}
    assert len(results.items) == 2


def test_non_transient_error_on_a_single_crop_rejects_it(world):
    _, analyzer, _, _, _ = world
    analyzer.max_batch = 1
    analyzer.fail_with = AnalyzerError("InvalidImageFormatException", transient=False)
    report = run(world, [ref(0)])
    assert report.outcomes[0].status is CropStatus.REJECTED


def test_non_transient_error_on_a_batch_fails_it_rather_than_dropping_it(world):
    _, analyzer, _, _, _ = world
    analyzer.fail_with = AnalyzerError("bad mosaic", transient=False)
    report = run(world, [ref(0, "a"), ref(1, "b")])
    assert report.failed_items == {"a", "b"}


def test_results_table_failure_fails_the_item(world):
    _, _, results, metrics, _ = world
    results.down = True
    report = run(world, [ref(0)])
    assert report.outcomes[0].status is CropStatus.FAILED
    assert metrics.faces == []


def test_metrics_failure_is_logged_and_does_not_fail_written_items(world, caplog):
    _, _, results, metrics, _ = world
    metrics.down = True
    with caplog.at_level(logging.ERROR):
        report = run(world, [ref(0)])
    assert report.outcomes[0].status is CropStatus.SCORED and len(results.items) == 1
    assert "could not emit metrics" in caplog.text


def test_bad_camera_metadata_is_not_trusted(world):
    store, _, _, _, crops = world
    store.put(crop_key(index=0), crops[0], {"camera": "../../etc"})
    report = run(world, [ref(0)])
    assert report.outcomes[0].face.camera == "unknown"


def test_summary_counts_every_status(world):
    store, _, _, _, _ = world
    store.delete(crop_key(index=2))
    report = run(world, [ref(0), ref(3), ref(2), CropRef("nope", "x")])
    assert report.summary() == {
        "scored": 1,
        "duplicate": 0,
        "no_face": 1,
        "missing": 1,
        "rejected": 1,
        "failed": 0,
    }


def test_only_items_whose_every_failure_was_lack_of_time_are_deferred() -> None:
    def outcome(item: str, status: CropStatus, *, deferred: bool = False) -> CropOutcome:
        return CropOutcome(CropRef(f"{item}-{status}", item), status, deferred=deferred)

    report = ScoringReport(
        [
            outcome("late", CropStatus.SCORED),
            outcome("late", CropStatus.FAILED, deferred=True),
            outcome("broken", CropStatus.FAILED, deferred=True),
            outcome("broken", CropStatus.FAILED),  # e.g. throttled past its retries
            outcome("done", CropStatus.SCORED),
        ]
    )
    assert report.failed_items == {"late", "broken"}
    assert report.deferred_items == {"late"}
