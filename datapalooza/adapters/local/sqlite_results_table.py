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

# The sums a summary of any set of faces is made of: faces, the sum of their moods, per
# expression the sum of its scores and how many faces have one, and per expression how
# many faces it was the dominant one of. SQL that sums raw face rows into them:
_SUM_COLUMN_TYPES = (
    ("faces", "INTEGER"),
    ("mood_sum", "REAL"),
    *((f"{c}_sum", "REAL") for c in _EMOTION_COLUMNS.values()),
    *((f"{c}_n", "INTEGER") for c in _EMOTION_COLUMNS.values()),
    *((f"{c}_dominant", "INTEGER") for c in _EMOTION_COLUMNS.values()),
)
_SUM_COLUMNS = ", ".join(name for name, _ in _SUM_COLUMN_TYPES)
_FACE_SUM_EXPRESSIONS = (
    "COUNT(*)",
    "TOTAL(mood)",
    *(f"TOTAL({c})" for c in _EMOTION_COLUMNS.values()),
    *(f"COUNT({c})" for c in _EMOTION_COLUMNS.values()),
    *(f"TOTAL(dominant = '{e.value}')" for e in _EMOTION_COLUMNS),
)
_SUMS_OF_FACES = ", ".join(_FACE_SUM_EXPRESSIONS)
_SUMS_OF_FACES_NAMED = ", ".join(
    f"{expression} AS {name}"
    for expression, (name, _) in zip(_FACE_SUM_EXPRESSIONS, _SUM_COLUMN_TYPES, strict=True)
)
_SUMS_OF_SECONDS = ", ".join(f"TOTAL({name})" for name, _ in _SUM_COLUMN_TYPES)
_ROLLUP = "face_seconds"
_ADD_TO_SECOND = (
    f"INSERT INTO face_seconds (stage, second, {_SUM_COLUMNS})"
    f" VALUES (?, ?, {', '.join('?' * len(_SUM_COLUMN_TYPES))})"
    " ON CONFLICT (stage, second) DO UPDATE SET "
    + ", ".join(f"{name} = {name} + excluded.{name}" for name, _ in _SUM_COLUMN_TYPES)
)

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
-- The expiry pass finds the faces past their TTL without reading the others (a month of
-- faces is tens of millions of rows, and the pass holds the file's write lock).
CREATE INDEX IF NOT EXISTS faces_expiry ON faces (expires_at);
-- Per stage and second of capture, the sums every summary is made of (see _Sums), kept
-- with each face written: a timeline reads one row per second, not one per face.
CREATE TABLE IF NOT EXISTS face_seconds (
    stage TEXT NOT NULL,
    second INTEGER NOT NULL,
    {", ".join(f"{c} {kind} NOT NULL" for c, kind in _SUM_COLUMN_TYPES)},
    PRIMARY KEY (stage, second)
) WITHOUT ROWID;
-- A row here says face_seconds holds every face of the table (a data directory from
-- before the rollup gets it built once, by the first writer that opens it).
CREATE TABLE IF NOT EXISTS rollups (name TEXT PRIMARY KEY);
"""


def _stage_names(table: str) -> str:
    """SQL for the distinct stages of ``table`` (indexed by stage first), read as a loose
    index scan: one seek per stage, where DISTINCT reads every row of the index (a day
    of seconds or faces). Its one column is ``stage``; the last row is NULL."""
    return (
        f"WITH RECURSIVE names(stage) AS (SELECT (SELECT MIN(stage) FROM {table})"
        f" UNION ALL SELECT (SELECT MIN(stage) FROM {table} WHERE stage > names.stage)"
        " FROM names WHERE names.stage IS NOT NULL)"
    )


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
class _Sums:
    """What a summary of some faces is made of (``_SUM_COLUMN_TYPES``, in its order):
    sums add up across seconds and buckets, means do not."""

    values: tuple[float, ...]

    @classmethod
    def of_face(cls, face: ScoredFace) -> _Sums:
        scores = [face.scores.scores.get(emotion) for emotion in _EMOTION_COLUMNS]
        dominant = face.scores.dominant
        return cls(
            (
                1,
                face.scores.valence,
                *(0.0 if score is None else score for score in scores),
                *(0 if score is None else 1 for score in scores),
                *(1 if emotion is dominant else 0 for emotion in _EMOTION_COLUMNS),
            )
        )

    def __add__(self, other: _Sums) -> _Sums:
        return _Sums(tuple(a + b for a, b in zip(self.values, other.values, strict=True)))

    @property
    def faces(self) -> int:
        return int(self.values[0])

    def means(self) -> tuple[float, list[float | None]]:
        """The mean mood, and the mean score of each expression (None: no face had one)."""
        count = len(_EMOTION_COLUMNS)
        sums, scored = self.values[2 : 2 + count], self.values[2 + count : 2 + 2 * count]
        return self.values[1] / self.faces, [
            total / n if n else None for total, n in zip(sums, scored, strict=True)
        ]

    def mix(self) -> EmotionMix:
        mood, means = self.means()
        dominant = self.values[2 + 2 * len(_EMOTION_COLUMNS) :]
        return EmotionMix(
            self.faces,
            mood,
            _mix(means),
            {e: int(n) for e, n in zip(_EMOTION_COLUMNS, dominant, strict=True) if n},
        )


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
        self._rollup_ready = False
        if not read_only:
            self._build_rollup()

    def _build_rollup(self) -> None:
        """Sum the faces already stored into face_seconds, once per data directory."""
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM rollups WHERE name = ?", [_ROLLUP]).fetchone():
                return
            conn.execute("DELETE FROM face_seconds")
            conn.execute(
                f"INSERT INTO face_seconds (stage, second, {_SUM_COLUMNS})"
                f" SELECT stage, captured_at_ms / 1000, {_SUMS_OF_FACES} FROM faces GROUP BY 1, 2"
            )
            conn.execute("INSERT INTO rollups (name) VALUES (?)", [_ROLLUP])

    # ResultsTable port ------------------------------------------------------------

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        """The face's row, and its second's sums with it (one transaction)."""
        dominant = face.scores.dominant
        values = [face.scores.scores.get(emotion) for emotion in _EMOTION_COLUMNS]
        captured_ms = _ms(face.captured_at)
        with self._transaction() as conn:
            inserted = conn.execute(
                f"INSERT OR IGNORE INTO faces (stage, sort_key, face_key, captured_at_ms,"
                f" camera, dominant, mood, {_SCORE_COLUMNS}, expires_at)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(values))}, ?)",
                [
                    face.stage,
                    face.sort_key,
                    face.face_key,
                    captured_ms,
                    face.camera,
                    dominant.value if dominant else None,
                    face.scores.valence,
                    *values,
                    ttl_epoch_s,
                ],
            ).rowcount
            if inserted == 1:
                sums = _Sums.of_face(face).values
                conn.execute(_ADD_TO_SECOND, [face.stage, captured_ms // 1000, *sums])
        return inserted == 1

    def purge_expired(self, now: datetime) -> int:
        """Delete rows past their TTL (what DynamoDB's TTL does in AWS), taking them out
        of their seconds' sums; returns how many."""
        cutoff = int(now.timestamp())
        subtract = ", ".join(
            f"{name} = face_seconds.{name} - gone.{name}" for name, _ in _SUM_COLUMN_TYPES
        )
        with self._transaction() as conn:
            conn.execute(
                f"UPDATE face_seconds SET {subtract} FROM (SELECT stage, captured_at_ms / 1000"
                f" AS second, {_SUMS_OF_FACES_NAMED} FROM faces INDEXED BY faces_expiry"
                " WHERE expires_at < ?"
                " GROUP BY 1, 2) AS gone"
                " WHERE face_seconds.stage = gone.stage AND face_seconds.second = gone.second",
                [cutoff],
            )
            # Only the seconds of the faces going: the others are never emptied here.
            conn.execute(
                "DELETE FROM face_seconds WHERE faces <= 0 AND (stage, second) IN"
                " (SELECT stage, captured_at_ms / 1000 FROM faces WHERE expires_at < ?)",
                [cutoff],
            )
            return int(conn.execute("DELETE FROM faces WHERE expires_at < ?", [cutoff]).rowcount)

    # ResultsReader port, then reads for tests and benchmarks ----------------------------

    def stages(self) -> list[str]:
        """Every stage with at least one scored face, sorted (from the per-second sums
        once built: a row per second, where the faces' index has a row per face)."""
        table = "face_seconds" if self._rollup_built() else "faces"
        rows = self._query(f"{_stage_names(table)} SELECT stage FROM names WHERE stage IS NOT NULL")
        return [row[0] for row in rows]

    def emotion_mix(self, stage: str, start: datetime, end: datetime) -> EmotionMix:
        """Faces of ``stage`` captured in [start, end), summarised."""
        found = self._sums(_ms(start), _ms(end), stage=stage).get((stage, 0))
        return found.mix() if found else EmotionMix(0, None)

    def emotion_mixes(self, start: datetime, end: datetime) -> dict[str, EmotionMix]:
        """Every stage's faces captured in [start, end), summarised, in at most three
        queries however many stages there are; stages without faces there are left out."""
        found = self._sums(_ms(start), _ms(end))
        return {stage: sums.mix() for (stage, _), sums in sorted(found.items())}

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
        """When each stage with faces last saw one, in one query: each stage's last second
        from the per-second sums, then its faces of that second from the stage-and-time
        index (without the sums, the whole index)."""
        if self._rollup_built():
            rows = self._query(
                f"{_stage_names('face_seconds')}, last(stage, second) AS (SELECT stage,"
                " (SELECT MAX(second) FROM face_seconds AS x WHERE x.stage = names.stage)"
                " FROM names WHERE stage IS NOT NULL)"
                " SELECT f.stage, MAX(f.captured_at_ms) FROM faces AS f JOIN last"
                " ON f.stage = last.stage AND f.captured_at_ms >= last.second * 1000"
                " GROUP BY f.stage"
            )
        else:
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

    def _bucket_rows(
        self, grid: _Grid, *, stage: str | None = None
    ) -> dict[str, dict[int, Sequence[Any]]]:
        """Per stage (or only ``stage``) and bucket index with faces: (faces, mood, mean
        scores)."""
        found: dict[str, dict[int, Sequence[Any]]] = {}
        for (name, index), sums in sorted(
            self._sums(grid.start_ms, grid.end_ms, width=grid.width, stage=stage).items()
        ):
            mood, means = sums.means()
            found.setdefault(name, {})[index] = (sums.faces, mood, *means)
        return found

    def _sums(
        self, start_ms: int, end_ms: int, *, width: int | None = None, stage: str | None = None
    ) -> dict[tuple[str, int], _Sums]:
        """The sums of the faces captured in [start_ms, end_ms), per stage (or only
        ``stage``) and bucket of ``width`` ms from ``start_ms`` (one bucket, 0, without).

        Whole seconds are read from face_seconds, a row per second instead of a row per
        face, when its buckets hold whole seconds; the part-seconds at the ends, and any
        other range, from the faces themselves."""
        aligned = width is None or (start_ms % 1000 == 0 and width % 1000 == 0)
        first_s, last_s = -(-start_ms // 1000), end_ms // 1000
        if not (aligned and first_s < last_s and self._rollup_built()):
            return self._face_sums(start_ms, end_ms, start_ms, width=width, stage=stage)
        found = self._second_sums(first_s, last_s, start_ms, width=width, stage=stage)
        for part in (
            self._face_sums(start_ms, first_s * 1000, start_ms, width=width, stage=stage),
            self._face_sums(last_s * 1000, end_ms, start_ms, width=width, stage=stage),
        ):
            for key, sums in part.items():
                found[key] = found[key] + sums if key in found else sums
        return found

    def _face_sums(
        self, start_ms: int, end_ms: int, origin: int, *, width: int | None, stage: str | None
    ) -> dict[tuple[str, int], _Sums]:
        if start_ms >= end_ms:
            return {}
        bucket = "0" if width is None else f"(captured_at_ms - {int(origin)}) / {int(width)}"
        where = "captured_at_ms >= ? AND captured_at_ms < ?"
        params: list[Any] = [start_ms, end_ms]
        if stage is not None:
            where, params = f"stage = ? AND {where}", [stage, *params]
        rows = self._query(
            f"SELECT stage, {bucket}, {_SUMS_OF_FACES} FROM faces WHERE {where} GROUP BY 1, 2",
            params,
        )
        return {(str(r[0]), int(r[1])): _Sums(tuple(r[2:])) for r in rows if r[2]}

    def _second_sums(
        self, first_s: int, last_s: int, origin: int, *, width: int | None, stage: str | None
    ) -> dict[tuple[str, int], _Sums]:
        bucket = "0" if width is None else f"(second * 1000 - {int(origin)}) / {int(width)}"
        if stage is not None:
            rows = self._query(
                f"SELECT stage, {bucket}, {_SUMS_OF_SECONDS} FROM face_seconds"
                " WHERE stage = ? AND second >= ? AND second < ? GROUP BY 1, 2",
                [stage, first_s, last_s],
            )
        else:
            # Each stage's range of its primary key, stage by stage: a range of seconds
            # alone would read every second the festival has had.
            rows = self._query(
                f"{_stage_names('face_seconds')} SELECT face_seconds.stage, {bucket},"
                f" {_SUMS_OF_SECONDS} FROM names JOIN face_seconds"
                " ON face_seconds.stage = names.stage AND second >= ? AND second < ?"
                " GROUP BY 1, 2",
                [first_s, last_s],
            )
        return {(str(r[0]), int(r[1])): _Sums(tuple(r[2:])) for r in rows if r[2]}

    def _rollup_built(self) -> bool:
        """Whether face_seconds holds every face (a reader opened before the first
        writer built it reads the faces themselves until then)."""
        if not self._rollup_ready:
            self._rollup_ready = (
                self._query_one("SELECT 1 FROM rollups WHERE name = ?", [_ROLLUP]) is not None
            )
        return self._rollup_ready

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
