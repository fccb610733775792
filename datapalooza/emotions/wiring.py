"""Composition roots: the tracker's adapters, built from typed settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapalooza.emotions.factory import build_analyzer
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.emotions.tracker import CropRef, TrackReport, track_crops
from datapalooza.ports import EmotionAnalyzer, FaceStore, MetricsSink, ResultsTable


@dataclass(frozen=True, slots=True)
class Tracker:
    """The tracker's ports, wired: ``track`` is ``track_crops`` with them."""

    store: FaceStore
    analyzer: EmotionAnalyzer
    results: ResultsTable
    metrics: MetricsSink
    settings: TrackerSettings

    def track(self, refs: Sequence[CropRef]) -> TrackReport:
        return track_crops(
            refs,
            store=self.store,
            analyzer=self.analyzer,
            results=self.results,
            metrics=self.metrics,
            settings=self.settings,
        )


def aws_tracker(
    settings: TrackerSettings,
    *,
    session: Any = None,
    on_throttled: Callable[[str], None] | None = None,
) -> Tracker:
    """S3 faces bucket, Rekognition, DynamoDB, CloudWatch EMF (the Lambda);
    ``on_throttled`` hears each throttled DetectFaces answer."""
    import boto3

    from datapalooza.adapters.aws.dynamo_results_table import DynamoResultsTable
    from datapalooza.adapters.aws.emf_metrics_sink import EmfMetricsSink
    from datapalooza.adapters.aws.rekognition_analyzer import rekognition_client
    from datapalooza.adapters.aws.s3_face_store import S3FaceStore

    settings.require("faces_bucket", "results_table")
    session = session or boto3.session.Session()
    return Tracker(
        store=S3FaceStore(session.client("s3"), settings.faces_bucket),
        analyzer=build_analyzer(
            settings, rekognition_client=rekognition_client(session), on_throttled=on_throttled
        ),
        results=DynamoResultsTable(session.client("dynamodb"), settings.results_table),
        metrics=EmfMetricsSink(),
        settings=settings,
    )


def local_tracker(
    settings: TrackerSettings,
    *,
    faces_root: Path,
    database: Path,
    cache_dir: Path | None = None,
) -> Tracker:
    """A directory of crops, the ONNX model (unless settings say rekognition), SQLite
    results and metrics in ``database`` (the local festival)."""
    from datapalooza.adapters.local.directory_face_store import DirectoryFaceStore
    from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
    from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable

    return Tracker(
        store=DirectoryFaceStore(faces_root),
        analyzer=build_analyzer(settings, cache_dir=cache_dir),
        results=SqliteResultsTable(database),
        metrics=SqliteMetricsSink(database),
        settings=settings,
    )
