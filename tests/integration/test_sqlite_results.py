"""SqliteResultsTable: idempotent writes, the dashboard's read API, and one writer with
several reader processes on the same file."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.domain.emotions import Emotion, crowd_mood
from datapalooza.ports import ScoredFace
from tests.helpers.emotions import T0, crop_key, scores

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
