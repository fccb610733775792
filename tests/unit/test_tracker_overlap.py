"""score_crops with at_once: a round's claims, reads, results writes and settles run
side by side (the Lambda's are network round trips), with the same outcomes as one by one."""

from __future__ import annotations

import threading

import pytest

from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops
from datapalooza.ports import ScoredFace
from datapalooza.testing.fakes import FakeAnalyzer, FakeFaceStore, FakeMetricsSink, FakeResultsTable
from tests.helpers.emotions import crop_key, scores, solid_jpeg

HAPPY = scores(happy=90.0, calm=10.0)
ROUND = 4


class Meeting:
    """Every call of one kind waits until ROUND of them are under way: made one after
    another, the first never returns (the barrier breaks after its timeout)."""

    def __init__(self) -> None:
        self._barriers: dict[str, threading.Barrier] = {}
        self._lock = threading.Lock()
        self.met: list[str] = []

    def wait(self, kind: str) -> None:
        with self._lock:
            barrier = self._barriers.setdefault(kind, threading.Barrier(ROUND, timeout=5))
        barrier.wait()
        with self._lock:
            self.met.append(kind)


class MeetingStore(FakeFaceStore):
    def __init__(self, meeting: Meeting) -> None:
        super().__init__()
        self.meeting = meeting

    def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        self.meeting.wait("get")
        return super().get(key, max_bytes=max_bytes)


class MeetingResults(FakeResultsTable):
    def __init__(self, meeting: Meeting) -> None:
        super().__init__()
        self.meeting = meeting

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        self.meeting.wait("result")
        return super().put_if_new(face, ttl_epoch_s=ttl_epoch_s)


class DictLedger:
    """OutcomeLedger in a dict: claim once, settle with the outcome, release on failure."""

    def __init__(self, meeting: Meeting | None = None) -> None:
        self.meeting = meeting
        self.records: dict[str, str] = {}
        self._lock = threading.Lock()

    def _wait(self, kind: str) -> None:
        if self.meeting is not None:
            self.meeting.wait(kind)

    def claim(self, key: str, version: str, *, lease_ms: int) -> str | None:
        self._wait("claim")
        with self._lock:
            earlier = self.records.get(key)
            if earlier is None:
                self.records[key] = "in progress"
            return earlier

    def settle(self, key: str, version: str, outcome: str) -> None:
        self._wait("settle")
        with self._lock:
            self.records[key] = outcome

    def release(self, key: str, version: str) -> None:
        with self._lock:
            self.records.pop(key, None)


def put_crops(store: FakeFaceStore, count: int) -> tuple[list[CropRef], dict[bytes, object]]:
    refs, answers = [], {}
    for i in range(count):
        body = solid_jpeg(40 + 10 * i)
        store.put(crop_key(index=i), body, {"stage": "main", "camera": "cam-1"})
        refs.append(CropRef(crop_key(index=i), f"m{i}"))
        answers[body] = HAPPY
    return refs, answers


def score(refs, store, analyzer, ledger, *, at_once: int, results=None):
    return score_crops(
        refs,
        store=store,
        analyzer=analyzer,
        results=FakeResultsTable() if results is None else results,
        metrics=FakeMetricsSink(),
        settings=TrackerSettings(),
        ledger=ledger,
        at_once=at_once,
    )


def test_a_rounds_claims_reads_writes_and_settles_run_side_by_side() -> None:
    meeting = Meeting()
    store, results, ledger = MeetingStore(meeting), MeetingResults(meeting), DictLedger(meeting)
    refs, answers = put_crops(store, ROUND)
    analyzer = FakeAnalyzer(answers, max_batch=ROUND)

    report = score(refs, store, analyzer, ledger, at_once=ROUND, results=results)

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * ROUND
    assert sorted(set(meeting.met)) == ["claim", "get", "result", "settle"]
    assert len(meeting.met) == 4 * ROUND
    assert analyzer.calls == [ROUND]  # still one analyzer call for the round
    assert set(ledger.records.values()) == {"scored"}


def mixed_batch() -> tuple[list[CropRef], FakeFaceStore, FakeAnalyzer, DictLedger]:
    """Scored, no face, missing, not an image, repeated in the batch, already settled,
    in two rounds of 4."""
    store = FakeFaceStore()
    refs, answers = put_crops(store, 7)
    answers.pop(solid_jpeg(40 + 10 * 2))  # no face in crop 2
    store.objects.pop(crop_key(index=3))  # deleted before its turn
    store.put(crop_key(index=4), b"not a jpeg", {"stage": "main"})
    ledger = DictLedger()
    ledger.records[crop_key(index=6)] = "scored"  # an earlier delivery
    refs.insert(2, refs[0])  # the same crop twice in the batch
    return refs, store, FakeAnalyzer(answers, max_batch=4), ledger


@pytest.mark.parametrize("at_once", [2, 8])
def test_side_by_side_gives_the_outcomes_one_by_one_gives(at_once: int) -> None:
    reports, tables = [], []
    for n in (1, at_once):
        refs, store, analyzer, ledger = mixed_batch()
        results = FakeResultsTable()
        reports.append(score(refs, store, analyzer, ledger, at_once=n, results=results))
        tables.append(sorted(results.items))
    one, many = reports
    assert [(o.ref, o.status) for o in many.outcomes] == [(o.ref, o.status) for o in one.outcomes]
    assert tables[0] == tables[1]
    assert [o.status for o in one.outcomes] == [
        CropStatus.SCORED,
        CropStatus.SCORED,
        CropStatus.DUPLICATE,  # repeated in this batch
        CropStatus.NO_FACE,
        CropStatus.MISSING,
        CropStatus.REJECTED,  # not an image
        CropStatus.SCORED,
        CropStatus.DUPLICATE,  # settled by an earlier delivery
    ]


def test_a_failing_read_among_side_by_side_ones_fails_that_crop_only() -> None:
    class FlakyStore(FakeFaceStore):
        def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
            if key == crop_key(index=1):
                raise ConnectionResetError("connection reset by peer")
            return super().get(key, max_bytes=max_bytes)

    store = FlakyStore()
    refs, answers = put_crops(store, 4)
    ledger = DictLedger()
    report = score(refs, store, FakeAnalyzer(answers, max_batch=4), ledger, at_once=4)
    statuses = [o.status for o in report.outcomes]
    assert statuses == [CropStatus.SCORED, CropStatus.FAILED, CropStatus.SCORED, CropStatus.SCORED]
    assert report.failed_items == {"m1"}
    assert crop_key(index=1) not in ledger.records  # released: the retry may claim it
