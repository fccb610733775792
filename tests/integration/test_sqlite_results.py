"""SqliteResultsTable: idempotent writes, the dashboard's read API, and one writer with
several reader processes on the same file."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.domain.emotions import Emotion, crowd_mood
from datapalooza.ports import ScoredFace
from tests.helpers.emotions import T0, crop_key, scores
from tests.helpers.sqlite_steps import with_steps

TTL = int((T0 + timedelta(days=7)).timestamp())


def face(stage: str, seconds: float, index: int, **emotions: float) -> ScoredFace:
    key = crop_key(stage, index, ms_offset=int(seconds * 1000))
    return ScoredFace(stage, T0 + timedelta(seconds=seconds), key, "cam-1", scores(**emotions))


@pytest.fixture
def table(tmp_path):
    t = SqliteResultsTable(tmp_path / "festival.db")
    yield t
    t.close()


@pytest.fixture
def festival(table):
    faces = [
        face("main", 5, 0, happy=90, calm=10),
        face("main", 20, 1, happy=70, sad=30),
        face("main", 65, 2, sad=80, calm=20),  # second minute
        face("main", 185, 3, surprised=60, happy=40),  # fourth minute; third is empty
        face("side", 30, 0, calm=100),
        face("side", 400, 1, angry=70, calm=30),
    ]
    for f in faces:
        assert table.put_if_new(f, ttl_epoch_s=TTL)
    return faces


def test_put_if_new_is_idempotent_per_face_key(table):
    f = face("main", 0, 0, happy=99)
    assert table.put_if_new(f, ttl_epoch_s=TTL) is True
    assert table.put_if_new(f, ttl_epoch_s=TTL) is False
    assert len(table.scores_between("main", T0, T0 + timedelta(minutes=1))) == 1


def test_timeline_buckets_per_minute_with_gaps(table, festival):
    buckets = table.timeline("main", T0, T0 + timedelta(minutes=4))
    assert [b.faces for b in buckets] == [2, 1, 0, 1]
    assert [b.start for b in buckets] == [T0 + timedelta(minutes=i) for i in range(4)]
    assert buckets[0].mood == pytest.approx(crowd_mood([festival[0].scores, festival[1].scores]))
    assert buckets[0].mean_scores[Emotion.HAPPY] == pytest.approx(80.0)
    assert buckets[2].mood is None and buckets[2].mean_scores == {}


def test_timelines_of_every_stage_match_each_stage_s_timeline(table, festival):
    start, end = T0, T0 + timedelta(minutes=4)
    timelines = table.timelines(start, end, bucket=timedelta(seconds=30))
    assert set(timelines) == {"main", "side"}
    for stage, buckets in timelines.items():
        one = table.timeline(stage, start, end, bucket=timedelta(seconds=30))
        assert [(b.start, b.faces) for b in buckets] == [(b.start, b.faces) for b in one]
        assert [b.mood for b in buckets] == pytest.approx([b.mood for b in one], nan_ok=True)
    assert [b.faces for b in timelines["side"]] == [0, 1, 0, 0, 0, 0, 0, 0]
    assert table.timelines(T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == {}


def test_emotion_mix_of_a_window(table, festival):
    mix = table.emotion_mix("main", T0, T0 + timedelta(minutes=2))
    assert mix.faces == 3
    assert mix.dominant_counts == {Emotion.HAPPY: 2, Emotion.SAD: 1}
    assert mix.mean_scores[Emotion.SAD] == pytest.approx((30 + 80) / 2)
    assert mix.dominant is Emotion.HAPPY
    empty = table.emotion_mix("main", T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert empty.faces == 0 and empty.mood is None


def test_emotion_mixes_summarise_every_stage_as_emotion_mix_does_one(table, festival):
    start, end = T0, T0 + timedelta(minutes=4)
    mixes = table.emotion_mixes(start, end)
    assert set(mixes) == {"main", "side"}
    for stage, mix in mixes.items():
        one = table.emotion_mix(stage, start, end)
        assert (mix.faces, mix.dominant_counts, mix.dominant) == (
            one.faces,
            one.dominant_counts,
            one.dominant,
        )
        assert mix.mood == pytest.approx(one.mood)
        assert mix.mean_scores == pytest.approx(one.mean_scores)
    assert mixes["main"].dominant_counts == {Emotion.HAPPY: 2, Emotion.SAD: 1, Emotion.SURPRISED: 1}
    # A window where only main has faces leaves side out instead of zero-filling it.
    assert set(table.emotion_mixes(T0 + timedelta(minutes=3), end)) == {"main"}
    assert table.emotion_mixes(T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == {}


def test_when_each_stage_last_saw_a_face(table, festival):
    newest = {
        stage: max(f.captured_at for f in festival if f.stage == stage)
        for stage in ("main", "side")
    }
    assert table.last_seen() == newest
    assert newest["side"] == T0 + timedelta(seconds=400)


def test_recent_faces_and_scores_between(table, festival):
    now = T0 + timedelta(seconds=400)
    recent = table.recent_faces(now=now, minutes=6)
    assert [f.face_key for f in recent] == [
        festival[5].face_key,
        festival[3].face_key,
        festival[2].face_key,
    ]
    assert table.recent_faces(now=now, minutes=6, stage="side")[0].camera == "cam-1"
    song = table.scores_between("main", T0 + timedelta(seconds=10), T0 + timedelta(seconds=70))
    assert [f.face_key for f in song] == [festival[1].face_key, festival[2].face_key]
    assert song[0].scores == festival[1].scores
    assert table.stages() == ["main", "side"]


def test_expired_rows_are_purged(table, festival):
    assert table.purge_expired(T0 + timedelta(days=8)) == len(festival)
    assert table.stages() == []


def test_readers_cannot_write(tmp_path, table, festival):
    reader = SqliteResultsTable(tmp_path / "festival.db", read_only=True)
    assert reader.stages() == ["main", "side"]
    with pytest.raises(Exception, match=r"readonly|read-only|query_only|attempt to write"):
        reader.put_if_new(face("main", 900, 9, happy=1), ttl_epoch_s=TTL)
    reader.close()


def _write(path: str, count: int) -> None:
    table = SqliteResultsTable(path)
    for i in range(count):
        table.put_if_new(face("main", i, i % 10_000, happy=50, calm=50), ttl_epoch_s=TTL)
    table.close()


def _read(path: str, rounds: int, out: multiprocessing.Queue) -> None:
    reader = SqliteResultsTable(path, read_only=True)
    seen = []
    for _ in range(rounds):
        seen.append(reader.emotion_mix("main", T0, T0 + timedelta(hours=1)).faces)
        reader.last_seen()
    reader.close()
    out.put(seen)


def test_one_writer_and_several_reader_processes(tmp_path):
    path = str(tmp_path / "shared.db")
    SqliteResultsTable(path).close()  # schema in place before the processes start
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    writer = ctx.Process(target=_write, args=(path, 300))
    readers = [ctx.Process(target=_read, args=(path, 150, out)) for _ in range(2)]
    for p in [writer, *readers]:
        p.start()
    results = [out.get(timeout=60) for _ in readers]
    for p in [writer, *readers]:
        p.join(timeout=60)
        assert p.exitcode == 0
    for seen in results:
        assert seen == sorted(seen)  # each reader sees committed rows only, never fewer
    assert SqliteResultsTable(path).emotion_mix("main", T0, T0 + timedelta(hours=1)).faces == 300


# --- The per-second sums (face_seconds) against the faces themselves --------------------


def _random_faces(seed: int, count: int = 300) -> list[ScoredFace]:
    """Faces over ten minutes at any millisecond, some with a few expressions scored and
    some with none dominant (a tie), on three stages."""
    rng = random.Random(seed)
    faces = []
    for index in range(count):
        emotions = rng.sample([e.value.lower() for e in Emotion], rng.randint(1, 8))
        values = {name: float(rng.randint(0, 100)) for name in emotions}
        stage = rng.choice(["main", "side", "tent"])
        faces.append(face(stage, rng.randint(0, 600_000) / 1000, index, **values))
    return faces


def _expected_mix(faces: list[ScoredFace]) -> tuple[int, float, dict, dict]:
    """A window's summary computed face by face in Python: the oracle."""
    means = {}
    for emotion in Emotion:
        scored = [f.scores.scores[emotion] for f in faces if emotion in f.scores.scores]
        if scored:
            means[emotion] = sum(scored) / len(scored)
    dominant: dict = {}
    for f in faces:
        if f.scores.dominant is not None:
            dominant[f.scores.dominant] = dominant.get(f.scores.dominant, 0) + 1
    mood = sum(f.scores.valence for f in faces) / len(faces)
    return len(faces), mood, means, dominant


def _assert_mix_is(mix, faces: list[ScoredFace]) -> None:
    count, mood, means, dominant = _expected_mix(faces)
    assert mix.faces == count
    assert mix.mood == pytest.approx(mood)
    assert mix.mean_scores == pytest.approx(means)
    assert mix.dominant_counts == dominant


@pytest.mark.parametrize("seed", range(4))
def test_summaries_read_from_the_per_second_sums_are_the_faces_own(tmp_path, seed):
    faces = _random_faces(seed)
    table = SqliteResultsTable(tmp_path / "festival.db")
    for f in faces:
        table.put_if_new(f, ttl_epoch_s=TTL)
    rng = random.Random(seed)
    windows = [(0, 600_001), (1_500, 61_500), (60_000, 120_000)]  # ms from T0
    windows += [tuple(sorted(rng.sample(range(600_001), 2))) for _ in range(8)]
    for start_ms, end_ms in windows:
        start, end = T0 + timedelta(milliseconds=start_ms), T0 + timedelta(milliseconds=end_ms)
        inside = [f for f in faces if start <= f.captured_at < end]
        mixes = table.emotion_mixes(start, end)
        assert sorted(mixes) == sorted({f.stage for f in inside})
        for stage, mix in mixes.items():
            _assert_mix_is(mix, [f for f in inside if f.stage == stage])
        if inside:
            _assert_mix_is(
                table.emotion_mix(inside[0].stage, start, end),
                [f for f in inside if f.stage == inside[0].stage],
            )
    for bucket_s, start_s in ((10, 0), (60, 0), (7, 3), (2.5, 1)):  # whole seconds or not
        bucket = timedelta(seconds=bucket_s)
        start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=600.5)
        for stage, points in table.timelines(start, end, bucket=bucket).items():
            for point in points:
                inside = [
                    f
                    for f in faces
                    if f.stage == stage and point.start <= f.captured_at < point.start + bucket
                ]
                assert point.faces == len(inside)
                if inside:
                    assert point.mood == pytest.approx(_expected_mix(inside)[1])
                    assert point.mean_scores == pytest.approx(_expected_mix(inside)[2])
    table.close()


def test_a_data_directory_from_before_the_sums_is_read_right_then_summed_once(tmp_path):
    path = tmp_path / "festival.db"
    faces = _random_faces(7, count=120)
    writer = SqliteResultsTable(path)
    for f in faces:
        writer.put_if_new(f, ttl_epoch_s=TTL)
    writer.close()
    with sqlite3.connect(path) as old:  # what a data directory from before holds
        old.execute("DELETE FROM face_seconds")
        old.execute("DELETE FROM rollups")
    start, end = T0, T0 + timedelta(minutes=11)

    reader = SqliteResultsTable(path, read_only=True)  # no writer yet: reads the faces
    stages = sorted({f.stage for f in faces})
    last = {s: max(f.captured_at for f in faces if f.stage == s) for s in stages}
    assert reader.stages() == stages
    assert reader.last_seen() == last
    _assert_mix_is(
        reader.emotion_mixes(start, end)["main"], [f for f in faces if f.stage == "main"]
    )
    SqliteResultsTable(path).close()  # the first writer sums what is there, once
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT SUM(faces) FROM face_seconds").fetchone()[0] == len(faces)
        assert db.execute("SELECT COUNT(*) FROM rollups").fetchone()[0] == 1
    fresh = SqliteResultsTable(path, read_only=True)
    assert fresh.stages() == stages
    assert fresh.last_seen() == last
    _assert_mix_is(fresh.emotion_mixes(start, end)["main"], [f for f in faces if f.stage == "main"])
    SqliteResultsTable(path).close()  # a second writer does not count them again
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT SUM(faces) FROM face_seconds").fetchone()[0] == len(faces)
    reader.close()
    fresh.close()


def test_a_duplicate_face_adds_nothing_and_purged_faces_leave_the_sums(tmp_path):
    table = SqliteResultsTable(tmp_path / "festival.db")
    early = face("main", 1.2, 0, happy=90, calm=10)
    late = face("main", 1.7, 1, sad=80)
    assert table.put_if_new(early, ttl_epoch_s=TTL)
    assert not table.put_if_new(early, ttl_epoch_s=TTL)
    assert table.put_if_new(late, ttl_epoch_s=TTL + 3600)
    window = (T0, T0 + timedelta(minutes=1))
    _assert_mix_is(table.emotion_mixes(*window)["main"], [early, late])

    assert table.purge_expired(datetime.fromtimestamp(TTL + 1, tz=UTC)) == 1
    _assert_mix_is(table.emotion_mixes(*window)["main"], [late])
    assert table.purge_expired(datetime.fromtimestamp(TTL + 3601, tz=UTC)) == 1
    assert table.emotion_mixes(*window) == {}
    assert table.timelines(*window, bucket=timedelta(seconds=10)) == {}
    table.close()


def test_whole_seconds_are_read_from_the_sums_not_the_faces(tmp_path):
    path = tmp_path / "festival.db"
    table = SqliteResultsTable(path)
    for index in range(50):
        table.put_if_new(face("main", 2 + index, index, happy=90), ttl_epoch_s=TTL)
    with sqlite3.connect(path) as db:  # the rows go; only their seconds' sums are left
        db.execute("DELETE FROM faces")
    whole = table.emotion_mixes(T0, T0 + timedelta(minutes=1))
    assert whole["main"].faces == 50
    points = table.timelines(T0, T0 + timedelta(minutes=1), bucket=timedelta(seconds=10))
    assert sum(p.faces for p in points["main"]) == 50
    # A part-second at a window's end is read from the faces themselves.
    assert table.emotion_mixes(T0 + timedelta(seconds=2.5), T0 + timedelta(seconds=3)) == {}
    table.close()


def test_the_dashboards_reads_cost_the_same_after_hours_of_festival(tmp_path):
    """The page polls these every few seconds all day: what they read must not grow with
    the seconds the festival has already had (a day of them is 86,400 rows a stage).
    SQLite's virtual-machine steps are counted, not time."""
    table = SqliteResultsTable(tmp_path / "festival.db")
    now = T0 + timedelta(hours=3)
    recent = [
        face(stage, 3 * 3600 - 100 + i, i, happy=80)
        for stage in ("main", "side")
        for i in range(90)
    ]

    def reads() -> list[int]:
        window = (now - timedelta(minutes=30), now)
        calls = [
            table.stages,
            table.last_seen,
            lambda: table.emotion_mixes(now - timedelta(minutes=1), now),
            lambda: table.timelines(*window, bucket=timedelta(seconds=15)),
        ]
        return [with_steps(table._conn, call)[1] for call in calls]

    for f in recent:
        table.put_if_new(f, ttl_epoch_s=TTL)
    reads()  # the first read also looks up, once, whether the per-second sums are built
    before = reads()
    # Two hours of earlier seconds on both stages, one face each.
    for second in range(0, 2 * 3600, 2):
        for stage in ("main", "side"):
            table.put_if_new(face(stage, second, 1000 + second, calm=60), ttl_epoch_s=TTL)
    assert table.stages() == ["main", "side"]
    assert reads() == before
    table.close()


def test_the_expiry_pass_reads_only_the_faces_past_their_ttl(tmp_path):
    """up's expiry pass runs every 5 minutes under the file's write lock, while a month of
    faces and their seconds may be stored: it must read only what it deletes."""
    expired_at = int(T0.timestamp())

    def purge_steps(name: str, live: int) -> tuple[int, int]:
        table = SqliteResultsTable(tmp_path / name)
        for index in range(3):
            table.put_if_new(face("main", index, index, happy=90), ttl_epoch_s=expired_at)
        for index in range(10, 10 + live):
            table.put_if_new(face("side", index, index, calm=90), ttl_epoch_s=TTL)
        try:
            return with_steps(table._conn, lambda: table.purge_expired(T0 + timedelta(seconds=1)))
        finally:
            table.close()

    removed, few = purge_steps("few.db", live=1)
    assert removed == 3
    assert purge_steps("many.db", live=2000) == (3, few)
