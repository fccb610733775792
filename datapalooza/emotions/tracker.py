"""The emotion tracker: face crops in, scores, results items and metrics out.

``track_crops`` is the one function the Lambda handler and the local festival call.
Every crop ends in exactly one CropStatus, logged with its key; only FAILED crops
(something that may work on a retry) make their delivery item fail, so SQS redrives
them and, after the last retry, parks them in the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from datapalooza.constants import (
    CROP_MISSING_METRIC,
    CROP_REJECTED_METRIC,
    NO_FACE_FOUND_METRIC,
)
from datapalooza.domain.keys import CropKey, InvalidKey, InvalidName, validate_slug
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.images import BadImage, decode_image
from datapalooza.ports import (
    AnalyzedFace,
    AnalyzerError,
    DecodedCropAnalyzer,
    EmotionAnalyzer,
    FaceStore,
    MetricsSink,
    ObjectMissing,
    ResultsTable,
    RGBImage,
    ScoredFace,
    StoreError,
)

logger = logging.getLogger(__name__)

UNKNOWN_CAMERA = "unknown"

# Metric names for crops that got no scores (dimension Stage, unit Count).


class CropStatus(StrEnum):
    """What happened to one crop."""

    SCORED = "scored"  # new results item written, metrics emitted
    DUPLICATE = "duplicate"  # already scored (S3 delivers at least once): nothing written
    NO_FACE = "no_face"  # the analyzer found no face: counted as NoFaceFound
    MISSING = "missing"  # object deleted before processing: counted as CropMissing
    REJECTED = "rejected"  # bad key, not an image, too big: counted, never retried
    FAILED = "failed"  # may work on a retry (throttling, outage): the item fails


@dataclass(frozen=True, slots=True)
class CropRef:
    """A crop to score: its object key, the delivery item it came in (an SQS message
    id, or the S3 record's position), and its size when the notification says."""

    key: str
    item_id: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class CropOutcome:
    ref: CropRef
    status: CropStatus
    detail: str = ""
    face: ScoredFace | None = None


@dataclass(slots=True)
class TrackReport:
    """Every crop's outcome, in input order."""

    outcomes: list[CropOutcome] = field(default_factory=list)

    @property
    def failed_items(self) -> set[str]:
        """Delivery items to report as failed (retried by SQS / Lambda)."""
        return {o.ref.item_id for o in self.outcomes if o.status is CropStatus.FAILED}

    @property
    def counts(self) -> Mapping[CropStatus, int]:
        return Counter(o.status for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        return {status.value: self.counts.get(status, 0) for status in CropStatus}


@dataclass(slots=True)
class _Pending:
    ref: CropRef
    key: CropKey
    body: bytes
    camera: str
    image: RGBImage | None = None
    """The crop decoded when it was checked, kept for a DecodedCropAnalyzer."""


def track_crops(
    refs: Sequence[CropRef],
    *,
    store: FaceStore,
    analyzer: EmotionAnalyzer,
    results: ResultsTable,
    metrics: MetricsSink,
    settings: TrackerSettings,
) -> TrackReport:
    """Score every crop, write one results item per new face, emit metrics once."""
    outcomes: dict[int, CropOutcome] = {}
    pending: list[tuple[int, _Pending]] = []
    seen: set[str] = set()
    # Every crop is decoded once, to check it; an analyzer that scores decoded crops gets
    # those pixels instead of decoding the JPEG a second time (half the local tracker's
    # CPU, docs/benchmarks.md).
    keep_images = isinstance(analyzer, DecodedCropAnalyzer)
    for position, ref in enumerate(refs):
        if ref.key in seen:
            outcomes[position] = CropOutcome(ref, CropStatus.DUPLICATE, "repeated in this batch")
            continue
        seen.add(ref.key)
        loaded = _load(ref, store, settings, keep_image=keep_images)
        if isinstance(loaded, CropOutcome):
            outcomes[position] = loaded
        else:
            pending.append((position, loaded))

    batch = max(1, analyzer.max_batch)
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        for position, outcome in _score(chunk, analyzer, results, settings):
            outcomes[position] = outcome

    report = TrackReport([outcomes[i] for i in range(len(refs))])
    for outcome in report.outcomes:
        _log(outcome)
    _emit_metrics(report, metrics)
    return report


def _load(
    ref: CropRef, store: FaceStore, settings: TrackerSettings, *, keep_image: bool = False
) -> _Pending | CropOutcome:
    try:
        key = CropKey.parse(ref.key)
    except InvalidKey as exc:
        return CropOutcome(ref, CropStatus.REJECTED, f"not a face crop key: {exc}")
    if ref.size is not None and ref.size > settings.max_crop_bytes:
        return CropOutcome(
            ref,
            CropStatus.REJECTED,
            f"{ref.size} bytes is over the {settings.max_crop_bytes} limit",
        )
    try:
        body, metadata = store.get(ref.key)
    except ObjectMissing:
        return CropOutcome(ref, CropStatus.MISSING, "object no longer exists")
    except StoreError as exc:
        # Even a permanent store error (access denied) fails the item: the DLQ keeps it.
        return CropOutcome(ref, CropStatus.FAILED, f"could not read the crop: {exc}")
    try:
        image = decode_image(body, max_bytes=settings.max_crop_bytes)
    except BadImage as exc:
        return CropOutcome(ref, CropStatus.REJECTED, f"{exc.code}: {exc}")
    return _Pending(ref, key, body, _camera(metadata), image if keep_image else None)


def _camera(metadata: Mapping[str, str]) -> str:
    camera = metadata.get("camera", UNKNOWN_CAMERA)
    try:
        return validate_slug(camera, what="camera")
    except InvalidName:
        return UNKNOWN_CAMERA


def _score(
    chunk: Sequence[tuple[int, _Pending]],
    analyzer: EmotionAnalyzer,
    results: ResultsTable,
    settings: TrackerSettings,
) -> list[tuple[int, CropOutcome]]:
    try:
        images = [item.image for _, item in chunk if item.image is not None]
        if isinstance(analyzer, DecodedCropAnalyzer) and len(images) == len(chunk):
            analyzed = analyzer.analyze_decoded(images)
        else:
            analyzed = analyzer.analyze([item.body for _, item in chunk])
        if len(analyzed) != len(chunk):
            raise AnalyzerError(
                f"{analyzer.name} answered {len(analyzed)} results for {len(chunk)} crops",
                transient=False,
            )
    except AnalyzerError as exc:
        # A crop the analyzer cannot read is the crop's fault only when it was alone in
        # the call; a failed mosaic or batch is retried (and ends in the DLQ if it keeps
        # failing) rather than dropping every crop in it.
        status = CropStatus.REJECTED if not exc.transient and len(chunk) == 1 else CropStatus.FAILED
        return [
            (pos, CropOutcome(item.ref, status, f"{analyzer.name}: {exc}")) for pos, item in chunk
        ]
    except Exception as exc:  # an unexpected analyzer bug must not lose the batch
        logger.exception("analyzer %s failed", analyzer.name)
        return [(pos, CropOutcome(item.ref, CropStatus.FAILED, repr(exc))) for pos, item in chunk]
    return [
        (position, _record(item, face, results, settings))
        for (position, item), face in zip(chunk, analyzed, strict=True)
    ]


def _record(
    item: _Pending, analyzed: AnalyzedFace, results: ResultsTable, settings: TrackerSettings
) -> CropOutcome:
    if analyzed.scores is None or not analyzed.scores.scores:
        return CropOutcome(item.ref, CropStatus.NO_FACE, "the analyzer found no face")
    face = ScoredFace(
        stage=item.key.stage,
        captured_at=item.key.captured_at,
        face_key=item.ref.key,
        camera=item.camera,
        scores=analyzed.scores,
    )
    ttl = int((face.captured_at + timedelta(seconds=settings.ttl_seconds)).timestamp())
    try:
        written = results.put_if_new(face, ttl_epoch_s=ttl)
    except Exception as exc:  # DynamoDB / SQLite errors: retry the item, never lose it
        return CropOutcome(item.ref, CropStatus.FAILED, f"could not write the result: {exc!r}")
    if not written:
        return CropOutcome(item.ref, CropStatus.DUPLICATE, "already in the results table")
    return CropOutcome(item.ref, CropStatus.SCORED, str(face.scores.dominant), face)


def _log(outcome: CropOutcome) -> None:
    extra = {"key": outcome.ref.key, "status": outcome.status.value, "detail": outcome.detail}
    if outcome.status is CropStatus.FAILED:
        logger.error("crop %s failed: %s", outcome.ref.key, outcome.detail, extra=extra)
    elif outcome.status in (CropStatus.REJECTED, CropStatus.MISSING, CropStatus.NO_FACE):
        logger.warning(
            "crop %s %s: %s", outcome.ref.key, outcome.status.value, outcome.detail, extra=extra
        )
    else:
        logger.info("crop %s %s", outcome.ref.key, outcome.status.value, extra=extra)


_UNSCORED_METRICS = {
    CropStatus.NO_FACE: NO_FACE_FOUND_METRIC,
    CropStatus.REJECTED: CROP_REJECTED_METRIC,
    CropStatus.MISSING: CROP_MISSING_METRIC,
}


def _emit_metrics(report: TrackReport, metrics: MetricsSink) -> None:
    scored = [o.face for o in report.outcomes if o.face is not None]
    unscored: Counter[tuple[str, str]] = Counter()
    for outcome in report.outcomes:
        metric = _UNSCORED_METRICS.get(outcome.status)
        if metric is not None:
            unscored[(_stage_of(outcome.ref.key), metric)] += 1
    try:
        if scored:
            metrics.record(scored)
        for (stage, metric), count in sorted(unscored.items()):
            metrics.record_unscored(stage, metric, count)
    except Exception:
        # The results are written: failing the items now would not bring the metrics
        # back (a retry finds them already written), so log loudly instead.
        logger.exception("could not emit metrics for %d faces", len(scored))


def _stage_of(key: str) -> str:
    """The stage of a key for counting; keys outside the scheme count under 'invalid'."""
    try:
        return CropKey.parse(key).stage
    except InvalidKey:
        return "invalid"
