"""The local S3 -> SQS twin, and the tracker worker that consumes it."""

import dataclasses
import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from datapalooza.adapters.local.crop_notifications import (
    MAX_ATTEMPTS,
    NotifyingFaceStore,
    SqliteCropNotifications,
)
from datapalooza.adapters.local.sqlite_face_store import OBJECTS_FILE, SqliteFaceStore
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.detection.face_crops import store_crops
from datapalooza.emotions.bootstrap import local_scorer
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.festival.scoring_worker import ScoringWorker
from datapalooza.images import decode_image
from tests.helpers.faces import main_stage_faces
from tests.helpers.sqlite_steps import with_steps

KEY = "faces/main/2026/07/04/21/1783198800000-f1-{}.jpg"


def test_keys_are_queued_once_and_stay_pending_until_done(tmp_path):
    queue = SqliteCropNotifications(tmp_path / "n.sqlite")
    assert queue.announce([KEY.format(0), KEY.format(1)]) == 2
    assert queue.announce([KEY.format(0)]) == 0  # a duplicate notification is a no-op
    assert [n.key for n in queue.receive(10)] == [KEY.format(0), KEY.format(1)]
    queue.done([KEY.format(0)])
    assert [n.key for n in queue.receive(10)] == [KEY.format(1)]
    # Another process (a restart) sees the same pending work.
    assert [n.key for n in SqliteCropNotifications(tmp_path / "n.sqlite").receive(10)] == [
        KEY.format(1)
    ]


def test_a_key_that_keeps_failing_is_parked_as_dead(tmp_path):
    queue = SqliteCropNotifications(tmp_path / "n.sqlite")
    queue.announce([KEY.format(0)])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        dead = queue.failed({KEY.format(0): "throttled"})
        assert dead == ([KEY.format(0)] if attempt == MAX_ATTEMPTS else [])
    assert queue.receive(10) == []
    assert queue.counts() == {"pending": 0, "done": 0, "dead": 1}


def test_finished_notifications_are_forgotten_once_old_but_pending_ones_stay(tmp_path):
    queue = SqliteCropNotifications(tmp_path / "n.sqlite")
    queue.announce([KEY.format(0), KEY.format(1)])
    queue.done([KEY.format(0)])
    assert queue.forget(before_ms=0) == 0  # nothing is that old
    assert queue.forget(before_ms=2**62) == 1  # the done one goes, the pending one stays
    assert [n.key for n in queue.receive(10)] == [KEY.format(1)]


def test_the_notifying_store_announces_what_it_writes(tmp_path):
    queue = SqliteCropNotifications(tmp_path / "n.sqlite")
    store = NotifyingFaceStore(SqliteFaceStore(tmp_path / "bucket"), queue)
    store.put(KEY.format(3), b"jpeg", {"stage": "main"})
    assert [(n.key, n.size) for n in queue.receive(5)] == [(KEY.format(3), 4)]
    assert store.get(KEY.format(3))[0] == b"jpeg"


@pytest.fixture
def festival_crops(tmp_path, astronaut_rgb, grace_hopper_jpeg):
    """Real face crops in a bucket directory, announced, none scored yet."""
    bucket, queue = tmp_path / "bucket", SqliteCropNotifications(tmp_path / "n.sqlite")
    store = NotifyingFaceStore(SqliteFaceStore(bucket), queue)
    for i, image in enumerate([astronaut_rgb, decode_image(grace_hopper_jpeg)]):
        _, crops = main_stage_faces(image, captured_at=datetime.now(UTC), frame_id=f"f{i}")
        store_crops(crops, store)
    return bucket, queue


def local_tracker(tmp_path, bucket):
    """A freshly started local tracker (each call is a restart) for the crops in
    ``bucket``; its results and ledger in tmp_path/festival.sqlite."""
    return local_scorer(
        TrackerSettings(analyzer="local"),
        faces_root=bucket,
        database=tmp_path / "festival.sqlite",
        cache_dir=tmp_path / "cache",
    )


def test_the_worker_scores_pending_crops_and_a_restart_counts_nothing_twice(
    tmp_path, festival_crops
):
    bucket, queue = festival_crops

    def worker():
        return ScoringWorker(local_tracker(tmp_path, bucket), queue)

    assert worker().run_once() == 2
    assert queue.counts()["pending"] == 0
    # The same notifications delivered again (at least once), then a restart.
    queue._conn.execute("UPDATE notifications SET state = 'pending'")
    again = worker()
    assert again.run_once() == 2
    assert again.counters.duplicate == 2 and again.counters.scored == 0
    results = SqliteResultsTable(tmp_path / "festival.sqlite", read_only=True)
    assert (
        len(
            results.scores_between(
                "main", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
            )
        )
        == 2
    )


def test_a_crop_deleted_before_scoring_is_counted_missing_not_retried(tmp_path, festival_crops):
    bucket, queue = festival_crops
    first = queue.receive(1)[0].key
    SqliteFaceStore(bucket).delete(first)
    worker = ScoringWorker(local_tracker(tmp_path, bucket), queue)
    worker.run_once()
    assert worker.counters.missing == 1 and worker.counters.scored == 1
    assert queue.counts() == {"pending": 0, "done": 2, "dead": 0}


def test_a_crop_that_raises_fails_alone_with_its_reason_then_is_parked(tmp_path, festival_crops):
    """A crop whose stored metadata is corrupt made every batch raise: the worker
    retried the same batch forever and scored nothing more."""
    bucket, queue = festival_crops
    poisoned, healthy = (n.key for n in queue.receive(2))
    with sqlite3.connect(bucket / OBJECTS_FILE) as tampered:
        tampered.execute("UPDATE objects SET metadata = '{not json' WHERE key = ?", (poisoned,))
    worker = ScoringWorker(local_tracker(tmp_path, bucket), queue)

    worker.run_once()
    assert worker.counters.scored == 1 and worker.counters.failed == 1
    state, attempts, reason = queue.state_of(poisoned)
    assert (state, attempts) == ("pending", 1) and "JSONDecodeError" in reason
    assert queue.state_of(healthy)[0] == "done"
    for _ in range(MAX_ATTEMPTS - 1):
        worker.run_once()
    assert queue.state_of(poisoned)[:2] == ("dead", MAX_ATTEMPTS)
    assert worker.counters.dead == 1 and worker.run_once() == 0


class CountingAnalyzer:
    """Wraps an analyzer and counts the crops it is asked to score."""

    def __init__(self, inner):
        self.inner, self.crops = inner, 0
        self.name, self.unsupported, self.max_batch = inner.name, inner.unsupported, 64

    def analyze(self, crops):
        self.crops += len(crops)
        return self.inner.analyze(crops)


def test_a_repeated_notification_is_answered_from_the_ledger_whatever_the_outcome(
    tmp_path, festival_crops
):
    bucket, queue = festival_crops
    store = NotifyingFaceStore(SqliteFaceStore(bucket), queue)
    store.put(KEY.format(7), b"not an image", {"stage": "main"})  # rejected
    store.put(KEY.format(8), b"gone", {"stage": "main"})
    SqliteFaceStore(bucket).delete(KEY.format(8))  # missing

    def worker():
        tracker = local_tracker(tmp_path, bucket)
        counting = CountingAnalyzer(tracker.analyzer)
        return ScoringWorker(dataclasses.replace(tracker, analyzer=counting), queue), counting

    first, analyzer = worker()
    assert first.run_once() == 4
    assert (first.counters.scored, first.counters.rejected, first.counters.missing) == (2, 1, 1)
    assert analyzer.crops == 2
    queue._conn.execute("UPDATE notifications SET state = 'pending'")  # delivered again
    again, analyzer = worker()  # after a restart
    assert again.run_once() == 4
    assert again.counters.duplicate == 4 and analyzer.crops == 0
    with sqlite3.connect(tmp_path / "festival.sqlite") as conn:
        rejected = conn.execute(
            "SELECT COALESCE(SUM(value), 0) FROM metric_points WHERE metric = 'CropRejected'"
        ).fetchone()[0]
    assert rejected == 1


def test_a_batch_waits_for_its_window_unless_it_is_full_or_the_run_drains(tmp_path, festival_crops):
    """As the Lambda's SQS batching window: one analyzer run for many crops."""
    bucket, queue = festival_crops  # two crops, announced just now
    created_s = max(n.created_ms for n in queue.receive(10)) / 1000
    now = [created_s + 0.1]
    tracker = local_tracker(tmp_path, bucket)
    worker = ScoringWorker(tracker, queue, window_s=0.5, clock=lambda: now[0])

    assert worker.run_once(wait_for_batch=True) == 0  # 0.1 s into its 0.5 s window
    assert queue.counts()["pending"] == 2 and worker.counters.pending == 2
    now[0] = created_s + 0.6
    assert worker.run_once(wait_for_batch=True) == 2  # the window has passed
    assert worker.counters.scored == 2

    queue._conn.execute("UPDATE notifications SET state = 'pending'")
    full = ScoringWorker(tracker, queue, batch=2, window_s=60, clock=lambda: created_s)
    assert full.run_once(wait_for_batch=True) == 2  # a full batch does not wait

    queue._conn.execute("UPDATE notifications SET state = 'pending'")
    draining = ScoringWorker(tracker, queue, window_s=60, clock=lambda: created_s)
    stop, drain = threading.Event(), threading.Event()
    drain.set()
    draining.run(stop, drain=drain)  # returns once nothing is pending
    assert queue.counts()["pending"] == 0 and draining.counters.duplicate == 2


def test_the_pending_count_costs_the_same_after_a_day_of_finished_notifications(tmp_path):
    """The tracker and the status loop read the pending count every batch and second;
    finished notifications stay for a day (until ``forget``), so counting must not read
    them. SQLite's virtual-machine steps are counted, not time: deterministic."""
    queue = SqliteCropNotifications(tmp_path / "n.sqlite")
    queue.announce([KEY.format(i) for i in range(3)])

    def pending_with_steps() -> tuple[int, int]:
        return with_steps(queue._conn, queue.pending_count)

    pending, few_finished = pending_with_steps()
    assert pending == 3
    finished = [f"faces/main/2026/07/04/21/1783198800000-f{i}-0.jpg" for i in range(2, 5000)]
    queue.announce(finished)
    queue.done(finished[:4000])
    for _ in range(MAX_ATTEMPTS):
        queue.failed({key: "unreadable" for key in finished[4000:]})
    assert queue.counts() == {"pending": 3, "done": 4000, "dead": len(finished) - 4000}
    assert pending_with_steps() == (3, few_finished)


def test_forgetting_reads_only_what_it_forgets(tmp_path):
    """up forgets finished notifications every 5 minutes under the file's write lock,
    which the endpoint needs to announce its crops: a day of recent ones stays unread."""

    def forget_steps(name: str, recent: int) -> tuple[int, int]:
        queue = SqliteCropNotifications(tmp_path / name)
        old = [KEY.format(i) for i in range(3)]
        queue.announce(old)
        queue.done(old)
        with sqlite3.connect(tmp_path / name) as db:  # announced long ago
            db.execute("UPDATE notifications SET created_ms = 1000")
        fresh = [f"faces/main/2026/07/04/21/1783198800000-f2-{i}.jpg" for i in range(recent)]
        queue.announce(fresh)
        queue.done(fresh)
        return with_steps(queue._conn, lambda: queue.forget(2000))

    forgotten, few = forget_steps("few.sqlite", recent=1)
    assert forgotten == 3
    assert forget_steps("many.sqlite", recent=3000) == (3, few)
