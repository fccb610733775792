"""ResultsTable and ResultsReader on SQLite: the local festival writes scored faces,
the dashboard and the setlist reports read them.

One writer process (the local festival's tracker) and any number of reader processes
(the dashboard, reports) share the file: WAL mode lets readers read while the writer
writes, and every connection waits on a busy lock instead of failing.
"""

# SQL text here is composed only from this module's constants (column names from the
# Emotion enum, a fixed table of statistics, fixed WHERE clauses); every value is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from datapalooza.adapters.local.sqlite_file import SqliteFile
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.domain.moods import EmotionMix, TimelineBucket
from datapalooza.ports import ScoredFace

_EMOTION_COLUMNS = {emotion: emotion.value.lower() for emotion in Emotion}
_SCORE_COLUMNS = ", ".join(_EMOTION_COLUMNS.values())
_MEAN_COLUMNS = ", ".join(f"AVG({c})" for c in _EMOTION_COLUMNS.values())
_MEAN_F_COLUMNS = ", ".join(f"AVG(f.{c})" for c in _EMOTION_COLUMNS.values())

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS faces (
    stage TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    face_key TEXT NOT NULL UNIQUE,
    captured_at_ms INTEGER NOT NULL,
    camera TEXT NOT NULL,
    dominant TEXT,
    mood REAL NOT NULL,
    {", ".join(f"{c} REAL" for c in _EMOTION_COLUMNS.values())},
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (stage, sort_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS faces_stage_time ON faces (stage, captured_at_ms);
CREATE INDEX IF NOT EXISTS faces_time ON faces (captured_at_ms);
"""


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return int(moment.timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _mix(values: Sequence[Any]) -> dict[Emotion, float]:
    """Mean confidence per emotion type; types no face was scored on are left out."""
    return {
        emotion: float(value)
        for emotion, value in zip(_EMOTION_COLUMNS, values, strict=True)
        if value is not None
    }


@dataclass(frozen=True, slots=True)
class _Grid:
    """The buckets of a timeline: [start, end) in steps of ``width`` milliseconds."""

    start_ms: int
    end_ms: int
    width: int

    @classmethod
    def over(cls, start: datetime, end: datetime, bucket: timedelta) -> _Grid:
        width = int(bucket.total_seconds() * 1000)
        if width <= 0:
            raise ValueError("bucket must be positive")
        return cls(_ms(start), _ms(end), width)

    def fill(self, found: Mapping[int, Sequence[Any]]) -> list[TimelineBucket]:
        """Every bucket: ``found`` rows (faces, mood, mean scores) by bucket index, the
        others empty."""
        buckets = []
        for index in range(max(0, -(-(self.end_ms - self.start_ms) // self.width))):
            row = found.get(index)
            buckets.append(
                TimelineBucket(
                    start=_time(self.start_ms + index * self.width),
                    faces=int(row[0]) if row else 0,
                    mood=float(row[1]) if row else None,
                    mean_scores=_mix(row[2:]) if row else {},
                )
            )
        return buckets


class SqliteResultsTable(SqliteFile):
    """ResultsTable and ResultsReader: one row per scored face in SQLite (the local twin
    of DynamoDB).

    ``put_if_new`` is INSERT OR IGNORE on the unique face key: a duplicate notification
    writes nothing and returns False. The query methods are the ResultsReader the local
    dashboard and the setlist reports read through; open readers with ``read_only=True``.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        super().__init__(path, _SCHEMA, read_only=read_only)

    # ResultsTable port ------------------------------------------------------------

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        dominant = face.scores.dominant
        values = [face.scores.scores.get(emotion) for emotion in _EMOTION_COLUMNS]
        inserted = self._execute(
            f"INSERT OR IGNORE INTO faces (stage, sort_key, face_key, captured_at_ms, camera,"
            f" dominant, mood, {_SCORE_COLUMNS}, expires_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(values))}, ?)",
            [
                face.stage,
                face.sort_key,
                face.face_key,
                _ms(face.captured_at),
                face.camera,
                dominant.value if dominant else None,
                face.scores.valence,
                *values,
                ttl_epoch_s,
            ],
        )
        return inserted == 1

    def purge_expired(self, now: datetime) -> int:
        """Delete rows past their TTL (what DynamoDB's TTL does in AWS); returns how many."""
        return self._execute("DELETE FROM faces WHERE expires_at < ?", [int(now.timestamp())])

    # ResultsReader port, then reads for tests and benchmarks ----------------------------

    def stages(self) -> list[str]:
        """Every stage with at least one scored face, sorted."""
        return [row[0] for row in self._query("SELECT DISTINCT stage FROM faces ORDER BY stage")]

    def emotion_mix(self, stage: str, start: datetime, end: datetime) -> EmotionMix:
        """Faces of ``stage`` captured in [start, end), summarised."""
        where, params = (
            "stage = ? AND captured_at_ms >= ? AND captured_at_ms < ?",
            [stage, _ms(start), _ms(end)],
        )
        return self._mix_where(where, params)

    def emotion_mixes(self, start: datetime, end: datetime) -> dict[str, EmotionMix]:
        """Every stage's faces captured in [start, end), summarised, in two queries
        however many stages there are; stages without faces there are left out."""
        where, params = "captured_at_ms >= ? AND captured_at_ms < ?", [_ms(start), _ms(end)]
        rows = self._query(
            f"SELECT stage, COUNT(*), AVG(mood), {_MEAN_COLUMNS} FROM faces WHERE {where}"
            " GROUP BY stage ORDER BY stage",
            params,
        )
        counts = self._dominant_counts_by_stage(
            f"SELECT stage, dominant FROM faces WHERE {where}", params
        )
        return {
            str(row[0]): EmotionMix(
                int(row[1]), float(row[2]), _mix(row[3:]), counts.get(str(row[0]), {})
            )
            for row in rows
        }

    def timeline(
        self,
        stage: str,
        start: datetime,
        end: datetime,
        *,
        bucket: timedelta = timedelta(minutes=1),
    ) -> list[TimelineBucket]:
        """Faces count, mood and mean scores per bucket over [start, end); every bucket
        is present, empty ones with 0 faces and mood None (a chart shows the gap)."""
        grid = _Grid.over(start, end, bucket)
        return grid.fill(self._bucket_rows(grid, stage=stage).get(stage, {}))

    def timelines(
        self, start: datetime, end: datetime, *, bucket: timedelta = timedelta(minutes=1)
    ) -> dict[str, list[TimelineBucket]]:
        """``timeline`` of every stage with faces in [start, end), in one query."""
        grid = _Grid.over(start, end, bucket)
        return {stage: grid.fill(found) for stage, found in self._bucket_rows(grid).items()}

    def last_seen(self) -> dict[str, datetime]:
        """When each stage with faces last saw one, in one query (the stage-and-time
        index answers it without touching the rows)."""
        rows = self._query("SELECT stage, MAX(captured_at_ms) FROM faces GROUP BY stage")
        return {str(stage): _time(int(last)) for stage, last in rows}

    def recent_faces(
        self,
        *,
        now: datetime,
        minutes: float,
        stage: str | None = None,
        limit: int = 1000,
    ) -> list[ScoredFace]:
        """Faces captured in the last ``minutes`` before ``now``, newest first."""
        since = _ms(now - timedelta(minutes=minutes))
        where = "captured_at_ms >= ? AND captured_at_ms <= ?"
        params: list[Any] = [since, _ms(now)]
        if stage is not None:
            where += " AND stage = ?"
            params.append(stage)
        return self._faces(where, params, order="DESC", limit=limit)

    def scores_between(self, stage: str, start: datetime, end: datetime) -> list[ScoredFace]:
        """Every face of ``stage`` captured in [start, end), oldest first (setlist reports:
        one song's start and end)."""
        return self._faces(
            "stage = ? AND captured_at_ms >= ? AND captured_at_ms < ?",
            [stage, _ms(start), _ms(end)],
            order="ASC",
            limit=None,
        )

    # helpers --------------------------------------------------------------------------

    def _mix_where(self, where: str, params: list[Any]) -> EmotionMix:
        row = self._query(
            f"SELECT COUNT(*), AVG(mood), {_MEAN_COLUMNS} FROM faces WHERE {where}", params
        )[0]
        faces = int(row[0])
        if faces == 0:
            return EmotionMix(0, None)
        return EmotionMix(faces, float(row[1]), _mix(row[2:]), self._dominant_counts(where, params))

    def _dominant_counts(self, where: str, params: list[Any]) -> dict[Emotion, int]:
        rows = self._query(
            f"SELECT dominant, COUNT(*) FROM faces WHERE {where} AND dominant IS NOT NULL"
            " GROUP BY dominant",
            params,
        )
        return {Emotion(name): int(count) for name, count in rows}

    def _bucket_rows(
        self, grid: _Grid, *, stage: str | None = None
    ) -> dict[str, dict[int, Sequence[Any]]]:
        """Per stage (or only ``stage``) and bucket index with faces: (faces, mood, mean
        scores)."""
        where = "captured_at_ms >= ? AND captured_at_ms < ?"
        params: list[Any] = [grid.start_ms, grid.end_ms]
        if stage is not None:
            where, params = f"stage = ? AND {where}", [stage, *params]
        rows = self._query(
            f"SELECT stage, (captured_at_ms - ?) / ?, COUNT(*), AVG(mood), {_MEAN_COLUMNS}"
            f" FROM faces WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
            [grid.start_ms, grid.width, *params],
        )
        found: dict[str, dict[int, Sequence[Any]]] = {}
        for row in rows:
            found.setdefault(str(row[0]), {})[int(row[1])] = row[2:]
        return found

    def _dominant_counts_by_stage(
        self, faces: str, params: list[Any]
    ) -> dict[str, dict[Emotion, int]]:
        """How often each expression was dominant, per stage, among the ``(stage,
        dominant)`` rows that the query ``faces`` selects."""
        rows = self._query(
            f"SELECT stage, dominant, COUNT(*) FROM ({faces}) WHERE dominant IS NOT NULL"
            " GROUP BY stage, dominant",
            params,
        )
        counts: dict[str, dict[Emotion, int]] = {}
        for stage, name, count in rows:
            counts.setdefault(str(stage), {})[Emotion(name)] = int(count)
        return counts

    def _faces(
        self, where: str, params: list[Any], *, order: str, limit: int | None
    ) -> list[ScoredFace]:
        sql = (
            f"SELECT stage, captured_at_ms, face_key, camera, {_SCORE_COLUMNS} FROM faces"
            f" WHERE {where} ORDER BY captured_at_ms {order}, face_key {order}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        return [
            ScoredFace(
                stage=row[0],
                captured_at=_time(row[1]),
                face_key=row[2],
                camera=row[3],
                scores=EmotionScores(_mix(row[4:])),
            )
            for row in self._query(sql, params)
        ]
