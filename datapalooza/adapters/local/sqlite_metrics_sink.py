"""MetricsSink on a SQLite time series: the local twin of CloudWatch metrics."""

# SQL text here is composed only from this module's constants (column names from the
# Emotion enum, a fixed table of statistics, fixed WHERE clauses); every value is a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from datapalooza.adapters.local.sqlite_file import SqliteFile
from datapalooza.constants import CROWD_MOOD_METRIC, FACES_ANALYZED_METRIC
from datapalooza.ports import ScoredFace

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_points (
    stage TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_points_lookup ON metric_points (stage, metric, ts_ms);
-- Points older than the results they describe are deleted every few minutes.
CREATE INDEX IF NOT EXISTS metric_points_time ON metric_points (ts_ms);
"""

STATISTICS = {
    "Average": "AVG(value)",
    "Sum": "SUM(value)",
    "SampleCount": "COUNT(value)",
    "Minimum": "MIN(value)",
    "Maximum": "MAX(value)",
}
"""CloudWatch's statistics, computed the same way over the same data points."""


class SqliteMetricsSink(SqliteFile):
    """MetricsSink: the same data points the EMF sink sends to CloudWatch, as rows.

    Per newly scored face, at its capture time: one point per emotion type (the
    confidence), ``CrowdMood`` (its valence) and ``FacesAnalyzed`` = 1, so
    ``statistics(..., "Sum")`` of FacesAnalyzed counts faces and ``"Average"`` of
    CrowdMood is the crowd mood, as in CloudWatch. Unscored crops (NoFaceFound,
    CropRejected, ...) are points at the time they were counted.
    """

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(path, _SCHEMA, read_only=read_only)
        self._clock = clock

    def record(self, faces: Sequence[ScoredFace]) -> None:
        rows: list[tuple[str, str, int, float]] = []
        for face in faces:
            ts = int(face.captured_at.timestamp() * 1000)
            rows.append((face.stage, FACES_ANALYZED_METRIC, ts, 1.0))
            rows.append((face.stage, CROWD_MOOD_METRIC, ts, face.scores.valence))
            rows.extend(
                (face.stage, emotion.value, ts, confidence)
                for emotion, confidence in face.scores.scores.items()
            )
        self._insert(rows)

    def record_unscored(self, stage: str, reason: str, count: int) -> None:
        ts = int(self._clock().timestamp() * 1000)
        self._insert([(stage, reason, ts, float(count))])

    def purge_before(self, cutoff: datetime) -> int:
        """Delete the points from before ``cutoff``; returns how many. The local festival
        keeps them as long as the results they describe (``results_ttl_days``): every
        scored face adds ten points, about 0.76 KB with their indexes."""
        return self._execute(
            "DELETE FROM metric_points WHERE ts_ms < ?", (int(cutoff.timestamp() * 1000),)
        )

    def _insert(self, rows: list[tuple[str, str, int, float]]) -> None:
        if not rows:
            return
        # One transaction per batch: readers see all of a batch's points or none.
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO metric_points (stage, metric, ts_ms, value) VALUES (?, ?, ?, ?)",
                rows,
            )

    # Read API (what GetMetricStatistics answers in AWS) ---------------------------------

    def statistics(
        self,
        stage: str,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        period_s: int = 60,
        statistic: str = "Average",
    ) -> list[tuple[datetime, float]]:
        """(period start, value) for each period in [start, end) that has data points."""
        aggregate = STATISTICS.get(statistic)
        if aggregate is None:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
        if period_s <= 0:
            raise ValueError("period_s must be positive")
        start_ms, end_ms, width = _ms(start), _ms(end), period_s * 1000
        rows = self._query(
            f"SELECT (ts_ms - ?) / ?, {aggregate} FROM metric_points"
            " WHERE stage = ? AND metric = ? AND ts_ms >= ? AND ts_ms < ? GROUP BY 1 ORDER BY 1",
            [start_ms, width, stage, metric, start_ms, end_ms],
        )
        return [
            (datetime.fromtimestamp((start_ms + int(i) * width) / 1000, tz=UTC), float(v))
            for i, v in rows
        ]

    def metric_names(self, stage: str) -> list[str]:
        """Metrics with data for ``stage`` (what ListMetrics answers)."""
        return [
            row[0]
            for row in self._query(
                "SELECT DISTINCT metric FROM metric_points WHERE stage = ? ORDER BY metric",
                [stage],
            )
        ]


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return int(moment.timestamp() * 1000)
