"""The emotion tracker's composition root: the analyzer, and the scoring use case wired
to its adapters (AWS for the Lambda, local for ``datapalooza up``), from typed settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapalooza.emotions.mosaic import MosaicAnalyzer
from datapalooza.emotions.scoring import DEFAULT_LEASE_MS, CropRef, ScoringReport, score_crops
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.ports import (
    EmotionAnalyzer,
    FaceStore,
    MetricsSink,
    OutcomeLedger,
    ResultsTable,
)


@dataclass(frozen=True, slots=True)
class CropScorer:
    """The scoring use case wired to its ports: ``score`` is ``score_crops`` with them."""

    store: FaceStore
    analyzer: EmotionAnalyzer
    results: ResultsTable
    metrics: MetricsSink
    settings: TrackerSettings
    ledger: OutcomeLedger | None = None
    at_once: int = 1
    """Crops of a round claimed, loaded, written and settled at the same time
    (``score_crops``): several for the Lambda's network round trips, one for local
    files and SQLite, whose work is CPU."""

    def score(
        self,
        refs: Sequence[CropRef],
        *,
        lease_ms: int = DEFAULT_LEASE_MS,
        time_left_ms: Callable[[], int] | None = None,
    ) -> ScoringReport:
        return score_crops(
            refs,
            store=self.store,
            analyzer=self.analyzer,
            results=self.results,
            metrics=self.metrics,
            settings=self.settings,
            ledger=self.ledger,
            lease_ms=lease_ms,
            time_left_ms=time_left_ms,
            at_once=self.at_once,
        )


def aws_scorer(
    settings: TrackerSettings,
    *,
    session: Any = None,
    on_throttled: Callable[[str], None] | None = None,
) -> CropScorer:
    """S3 faces bucket, Rekognition, DynamoDB results and idempotency records,
    CloudWatch EMF (the Lambda);
    ``on_throttled`` hears each throttled DetectFaces answer."""
    import boto3
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from datapalooza.adapters.aws.calls_at_once import CALLS_AT_ONCE
    from datapalooza.adapters.aws.dynamo_results_table import DynamoResultsTable
    from datapalooza.adapters.aws.emf_metrics_sink import EmfMetricsSink
    from datapalooza.adapters.aws.rekognition_analyzer import rekognition_client
    from datapalooza.adapters.aws.s3_face_store import S3FaceStore
    from datapalooza.emotions.ledger import IdempotencyLedger

    settings.require("faces_bucket", "results_table", "idempotency_table")
    session = session or boto3.session.Session()
    layer = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=session.client("dynamodb")
    )
    return CropScorer(
        store=S3FaceStore(session.client("s3"), settings.faces_bucket),
        analyzer=build_analyzer(
            settings, rekognition_client=rekognition_client(session), on_throttled=on_throttled
        ),
        results=DynamoResultsTable(session.client("dynamodb"), settings.results_table),
        metrics=EmfMetricsSink(namespace=settings.metric_namespace),
        settings=settings,
        ledger=IdempotencyLedger(layer, expires_after_s=settings.idempotency_ttl_s),
        # Each of the three clients (S3, the results table's and the ledger's DynamoDB)
        # takes CALLS_AT_ONCE requests at a time within its own connection pool.
        at_once=CALLS_AT_ONCE,
    )


def local_scorer(
    settings: TrackerSettings,
    *,
    faces_root: Path,
    database: Path,
    cache_dir: Path | None = None,
) -> CropScorer:
    """The local bucket (SqliteFaceStore), the ONNX model (unless settings say
    rekognition), SQLite results, metrics and idempotency records in ``database`` (the
    local festival).
    The local tracker is the only consumer: claims left by a killed run are released."""
    from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
    from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
    from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
    from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
    from datapalooza.emotions.ledger import IdempotencyLedger

    layer = SqlitePersistenceLayer(database)
    layer.release_in_progress()
    return CropScorer(
        store=SqliteFaceStore(faces_root),
        analyzer=build_analyzer(settings, cache_dir=cache_dir),
        results=SqliteResultsTable(database),
        metrics=SqliteMetricsSink(database),
        settings=settings,
        ledger=IdempotencyLedger(layer, expires_after_s=settings.idempotency_ttl_s),
    )


def default_cache_dir() -> Path:
    """Where converted models are cached (per user, outside the repository)."""
    import platformdirs  # not in the Lambda bundle, which never converts models

    return Path(platformdirs.user_cache_dir("datapalooza")) / "models"


def build_analyzer(
    settings: TrackerSettings,
    *,
    rekognition_client: Any = None,
    cache_dir: Path | None = None,
    on_throttled: Callable[[str], None] | None = None,
) -> EmotionAnalyzer:
    """``local``: the ONNX model (batched). ``rekognition``: DetectFaces per crop, or
    through a mosaic of up to ``mosaic_size`` crops per call (``mode="mosaic"``);
    ``on_throttled`` hears each throttled DetectFaces answer."""
    if settings.analyzer == "local":
        # Imported here: the Lambda never loads ONNX Runtime or h5py.
        from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer

        return OnnxEmotionAnalyzer(
            cache_dir=cache_dir or default_cache_dir(),
            threads=settings.threads,
            max_batch=settings.local_batch,
        )
    from datapalooza.adapters.aws.rekognition_analyzer import (
        RekognitionAnalyzer,
    )
    from datapalooza.adapters.aws.rekognition_analyzer import (
        rekognition_client as make_client,
    )

    analyzer = RekognitionAnalyzer(
        rekognition_client if rekognition_client is not None else make_client(),
        max_attempts=settings.max_attempts,
        on_throttled=on_throttled,
    )
    if settings.mode == "mosaic":
        return MosaicAnalyzer(analyzer, max_tiles=settings.mosaic_size)
    return analyzer
