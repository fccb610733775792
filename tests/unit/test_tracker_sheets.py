"""score_crops on crop sheets (what an edge device uploads): each tile is scored as the
crop it is, under its face's crop key; a sheet that cannot be read fails alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
from datapalooza.constants import CROP_REJECTED_METRIC
from datapalooza.crop_sheets import build_sheet
from datapalooza.deployment import RESULTS_TTL_DAYS
from datapalooza.domain.emotions import Emotion
from datapalooza.domain.keys import SHEET_SUFFIX, SheetKey
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops
from datapalooza.emotions.ledger import IdempotencyLedger
from datapalooza.images import decode_image
from datapalooza.ports import AnalyzedFace, AnalyzerError, RGBImage
from datapalooza.testing.fakes import FakeFaceStore, FakeMetricsSink, FakeResultsTable
from tests.helpers.emotions import T0, crop_key, scores, solid_jpeg

HAPPY = scores(happy=90.0, calm=10.0)
SAD = scores(sad=80.0, calm=20.0)
SHADES = (200, 60, 10)  # bright: HAPPY, dark: SAD, near black: no face


class ShadeAnalyzer:
    """Scores a crop by its brightness; records how many crops each call held."""

    name = "shade"
    unsupported: frozenset[Emotion] = frozenset()
    max_batch = 8

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.fail_with: AnalyzerError | None = None

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        return self.analyze_decoded([decode_image(crop) for crop in crops])

    def analyze_decoded(self, images: Sequence[RGBImage]) -> list[AnalyzedFace]:
        self.calls.append(len(images))
        if self.fail_with is not None:
            raise self.fail_with
        return [AnalyzedFace(self._score(float(image.mean()))) for image in images]

    @staticmethod
    def _score(mean: float):
        return None if mean < 30 else HAPPY if mean > 100 else SAD


class BytesOnly:
    """An analyzer that reads JPEG bytes only, like Rekognition per crop."""

    name = "bytes"
    unsupported: frozenset[Emotion] = frozenset()
    max_batch = 1

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        assert all(crop[:2] == b"\xff\xd8" for crop in crops)
        return ShadeAnalyzer().analyze(crops)


SHEET = str(SheetKey("main", T0, "f1", 0))


def put_sheet(store: FakeFaceStore, key: str = SHEET, **metadata: str) -> None:
    tiles = [np.full((96, 80, 3), shade, dtype=np.uint8) for shade in SHADES]
    sheet = build_sheet(tiles, quality=90)
    store.put(
        key,
        sheet.jpeg,
        {"stage": "main", "camera": "edge-1", **sheet.layout.metadata(), **metadata},
    )


def run(store, analyzer, refs, *, ledger=None, results=None, metrics=None):
    return score_crops(
        refs,
        store=store,
        analyzer=analyzer,
        results=results or FakeResultsTable(),
        metrics=metrics or FakeMetricsSink(),
        settings=TrackerSettings(),
        ledger=ledger,
    )


def test_each_tile_is_scored_under_its_faces_crop_key_with_the_sheets_item() -> None:
    store, analyzer, results = FakeFaceStore(), ShadeAnalyzer(), FakeResultsTable()
    put_sheet(store)
    report = run(store, analyzer, [CropRef(SHEET, "message-1")], results=results)

    assert [(o.ref.key, o.ref.item_id, o.status) for o in report.outcomes] == [
        (crop_key(index=0), "message-1", CropStatus.SCORED),
        (crop_key(index=1), "message-1", CropStatus.SCORED),
        (crop_key(index=2), "message-1", CropStatus.NO_FACE),
    ]
    assert analyzer.calls == [3] and store.gets == 1  # one read, one decode, one call
    faces = sorted((face.face_key, face.scores, face.camera) for face, _ in results.items.values())
    assert faces == [(crop_key(index=0), HAPPY, "edge-1"), (crop_key(index=1), SAD, "edge-1")]
    ttl = {ttl for _, ttl in results.items.values()}
    assert ttl == {int((T0 + timedelta(days=RESULTS_TTL_DAYS)).timestamp())}


def test_a_sheet_delivered_again_costs_no_analyzer_call(tmp_path) -> None:
    store, analyzer = FakeFaceStore(), ShadeAnalyzer()
    put_sheet(store)
    ledger = IdempotencyLedger(
        SqlitePersistenceLayer(tmp_path / "ledger.sqlite"), expires_after_s=3600
    )
    run(store, analyzer, [CropRef(SHEET, "m1")], ledger=ledger)
    again = run(store, analyzer, [CropRef(SHEET, "m2")], ledger=ledger)

    assert [o.status for o in again.outcomes] == [CropStatus.DUPLICATE] * 3
    assert analyzer.calls == [3]


def test_tiles_reach_an_analyzer_that_reads_jpeg_bytes() -> None:
    store = FakeFaceStore()
    put_sheet(store)
    report = run(store, BytesOnly(), [CropRef(SHEET, "m1")])
    assert [o.status for o in report.outcomes] == [
        CropStatus.SCORED,
        CropStatus.SCORED,
        CropStatus.NO_FACE,
    ]


@pytest.mark.parametrize(
    ("metadata", "detail"),
    [
        (
            {"tiles": "80x80,80x80"},
            "unexpected_size: image declares 160x160 pixels, not the 160x80",
        ),
        ({"cell": "eighty"}, "not a whole number"),
        ({"columns": "9"}, "9 columns for 3 tiles"),
    ],
)
def test_a_sheet_whose_layout_does_not_hold_is_rejected_alone(metadata, detail) -> None:
    store, analyzer, metrics = FakeFaceStore(), ShadeAnalyzer(), FakeMetricsSink()
    put_sheet(store, **metadata)
    store.put(crop_key(index=7), solid_jpeg(200), {"stage": "main", "camera": "cam-1"})
    report = run(
        store,
        analyzer,
        [CropRef(SHEET, "bad"), CropRef(crop_key(index=7), "good")],
        metrics=metrics,
    )

    bad, good = report.outcomes
    assert (bad.ref.key, bad.status) == (SHEET, CropStatus.REJECTED) and detail in bad.detail
    assert good.status is CropStatus.SCORED
    assert report.failed_items == set()  # a retry cannot fix it: counted, not retried
    assert metrics.unscored == [("main", CROP_REJECTED_METRIC, 1)]


def test_a_sheet_that_is_gone_is_missing_and_one_that_is_not_an_image_is_rejected() -> None:
    store = FakeFaceStore()
    store.put(SHEET, b"not a jpeg", {"cell": "80", "columns": "1", "tiles": "8x8"})
    gone = str(SheetKey("main", T0, "f2", 0))
    report = run(store, ShadeAnalyzer(), [CropRef(SHEET, "a"), CropRef(gone, "b")])
    assert [o.status for o in report.outcomes] == [CropStatus.REJECTED, CropStatus.MISSING]


def test_an_analyzer_outage_fails_the_sheets_item_for_a_retry() -> None:
    store, analyzer = FakeFaceStore(), ShadeAnalyzer()
    put_sheet(store)
    analyzer.fail_with = AnalyzerError("throttled", transient=True)
    report = run(store, analyzer, [CropRef(SHEET, "message-1")])
    assert [o.status for o in report.outcomes] == [CropStatus.FAILED] * 3
    assert report.failed_items == {"message-1"}


class LambdaClock:
    """A Lambda's remaining time that the tracker's round trips spend: ``spend`` ms per
    analyzer call and per ledger write (a claim, a settle), as DynamoDB and Rekognition
    answers take their time. ``lowest`` is the least time ever left."""

    def __init__(self, left_ms: int) -> None:
        self.left_ms = left_ms
        self.lowest = left_ms

    def spend(self, ms: int) -> None:
        self.left_ms -= ms
        self.lowest = min(self.lowest, self.left_ms)

    def __call__(self) -> int:
        return self.left_ms


class SlowAnalyzer(ShadeAnalyzer):
    def __init__(self, clock: LambdaClock, call_ms: int) -> None:
        super().__init__()
        self._clock, self._call_ms = clock, call_ms

    def analyze_decoded(self, images: Sequence[RGBImage]) -> list[AnalyzedFace]:
        self._clock.spend(self._call_ms)
        return super().analyze_decoded(images)


class SlowLedger(IdempotencyLedger):
    def __init__(self, path: Path, clock: LambdaClock, write_ms: int) -> None:
        super().__init__(SqlitePersistenceLayer(path), expires_after_s=3600)
        self._clock, self._write_ms = clock, write_ms

    def claim(self, key: str, version: str, *, lease_ms: int) -> str | None:
        self._clock.spend(self._write_ms)
        return super().claim(key, version, lease_ms=lease_ms)

    def settle(self, key: str, version: str, outcome: str) -> None:
        self._clock.spend(self._write_ms)
        super().settle(key, version, outcome)

    def release(self, key: str, version: str) -> None:
        self._clock.spend(self._write_ms)
        super().release(key, version)


def score_in_time(store, analyzer, refs, ledger, clock):
    return score_crops(
        refs,
        store=store,
        analyzer=analyzer,
        results=FakeResultsTable(),
        metrics=FakeMetricsSink(),
        settings=TrackerSettings(),
        ledger=ledger,
        time_left_ms=clock,
    )


def test_crops_not_reached_before_the_time_runs_out_come_back_and_are_not_lost(
    tmp_path,
) -> None:
    """A batch of big sheets must not time the whole invocation out: the rounds that fit
    are made, the rest of the crops fail their items and come back."""
    store = FakeFaceStore()
    put_sheet(store)
    # 48 s left, 15 s per call: rounds at 48 and 33 s left (>= 15 + 15), not at 18 s.
    clock = LambdaClock(48_000)
    analyzer = SlowAnalyzer(clock, call_ms=15_000)
    analyzer.max_batch = 1  # one call per crop, as Rekognition per crop
    ledger = IdempotencyLedger(
        SqlitePersistenceLayer(tmp_path / "ledger.sqlite"), expires_after_s=3600
    )
    report = score_in_time(store, analyzer, [CropRef(SHEET, "message-1")], ledger, clock)

    assert [o.status for o in report.outcomes] == [
        CropStatus.SCORED,
        CropStatus.SCORED,
        CropStatus.FAILED,
    ]
    assert "out of time" in report.outcomes[2].detail and report.outcomes[2].deferred
    assert analyzer.calls == [1, 1] and report.failed_items == {"message-1"}
    # Nothing went wrong with it: the Lambda may send it back as a new message.
    assert report.deferred_items == {"message-1"}
    # The redelivered sheet scores only the face that was not reached.
    again = run(store, analyzer, [CropRef(SHEET, "message-1")], ledger=ledger)
    assert [o.status for o in again.outcomes] == [
        CropStatus.DUPLICATE,
        CropStatus.DUPLICATE,
        CropStatus.NO_FACE,
    ]
    assert analyzer.calls == [1, 1, 1]


def test_a_batch_of_crowded_sheets_never_outlasts_the_invocation(tmp_path) -> None:
    """Fifty sheets of 100 faces, every claim and settle a 10 ms round trip and every
    call 1 s: claiming them all would take 50 s before any call, and settling them as
    long again. The tracker works in rounds and stops starting them in time: it never
    runs out of the Lambda's 60 s, scores what fits, and the rest comes back unclaimed."""
    store = FakeFaceStore()
    refs = []
    for index in range(50):
        key = str(SheetKey("main", T0, f"f{index}", 0))
        tiles = [np.full((96, 80, 3), 150, dtype=np.uint8)] * 100
        sheet = build_sheet(tiles, quality=75)
        store.put(key, sheet.jpeg, {"stage": "main", "camera": "edge-1", **sheet.layout.metadata()})
        refs.append(CropRef(key, f"message-{index}"))
    clock = LambdaClock(60_000)
    analyzer = SlowAnalyzer(clock, call_ms=1_000)
    analyzer.max_batch = 36  # a Rekognition mosaic
    ledger = SlowLedger(tmp_path / "ledger.sqlite", clock, write_ms=10)

    report = score_in_time(store, analyzer, refs, ledger, clock)

    assert clock.lowest >= 0  # never timed out
    scored = [o for o in report.outcomes if o.status is CropStatus.SCORED]
    failed = [o for o in report.outcomes if o.status is CropStatus.FAILED]
    assert len(scored) >= 36 * 10  # the rounds that fit were made
    assert failed and all("out of time" in o.detail and o.deferred for o in failed)
    assert report.deferred_items == report.failed_items
    assert len(scored) + sum(100 if o.ref.key.endswith(SHEET_SUFFIX) else 1 for o in failed) == 5000
    # What was not reached comes back: its items fail, the sheets done are not retried.
    done = {o.ref.item_id for o in scored} - report.failed_items
    assert report.failed_items and done


class MeetingStore(FakeFaceStore):
    """Every read waits until ``size`` reads are under way: one after another, the first
    never returns (the barrier breaks after its timeout and the sheet fails)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(size, timeout=5)

    def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        self.barrier.wait()
        return super().get(key, max_bytes=max_bytes)


def test_consecutive_sheets_are_opened_side_by_side_and_keep_their_order() -> None:
    keys = [str(SheetKey("main", T0, f"f{i}", 0)) for i in range(4)]
    refs = [CropRef(key, f"message-{i}") for i, key in enumerate(keys)]

    def outcomes(store: FakeFaceStore, at_once: int) -> list[tuple[str, CropStatus]]:
        for key in keys[:2] + keys[3:]:  # the third sheet is gone
            put_sheet(store, key)
        report = score_crops(
            refs,
            store=store,
            analyzer=ShadeAnalyzer(),
            results=FakeResultsTable(),
            metrics=FakeMetricsSink(),
            settings=TrackerSettings(),
            at_once=at_once,
        )
        return [(o.ref.key, o.status) for o in report.outcomes]

    side_by_side = outcomes(MeetingStore(len(keys)), len(keys))
    assert side_by_side == outcomes(FakeFaceStore(), 1)
    assert [status for _, status in side_by_side] == [
        *[CropStatus.SCORED, CropStatus.SCORED, CropStatus.NO_FACE] * 2,
        CropStatus.MISSING,  # in the missing sheet's place
        CropStatus.SCORED,
        CropStatus.SCORED,
        CropStatus.NO_FACE,
    ]
