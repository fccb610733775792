"""The emotion tracker: face crops in, scores, results items and metrics out.

``score_crops`` is the one function the Lambda handler and the local festival call.
A delivered object is a face crop (from the endpoint) or a crop sheet (from an edge
device, ``datapalooza/crop_sheets.py``): a sheet is cut into its crops, each named by
its face's crop key, and from there every crop goes the same way.
Every crop ends in exactly one CropStatus, logged with its key; only FAILED crops
(something that may work on a retry) make their delivery item fail, so SQS redrives
them and, after the last retry, parks them in the dead-letter queue.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeAlias, TypeVar

from datapalooza.constants import (
    CROP_MISSING_METRIC,
    CROP_REJECTED_METRIC,
    NO_FACE_FOUND_METRIC,
)
from datapalooza.crop_sheets import SheetError, SheetLayout
from datapalooza.domain.keys import (
    CAPTURE_WINDOW_FUTURE,
    SHEET_SUFFIX,
    CropKey,
    InvalidKey,
    InvalidName,
    SheetKey,
    parse_object_key,
    validate_slug,
)
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.images import BadImage, decode_crop, encode_jpeg
from datapalooza.ports import (
    AnalyzedFace,
    AnalyzerError,
    CropInProgress,
    DecodedCropAnalyzer,
    EmotionAnalyzer,
    FaceStore,
    MetricsSink,
    ObjectMissing,
    ObjectTooLarge,
    OutcomeLedger,
    ResultsTable,
    RGBImage,
    ScoredFace,
    StoreError,
)
from datapalooza.system.overlap import Each, one_by_one, overlapping
from datapalooza.system.storage_errors import is_storage_full

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

UNKNOWN_CAMERA = "unknown"
RESERVE_MS = 15_000
"""A round of crops (one analyzer batch) is started only while this much of the
caller's time (the Lambda's remaining time) is left beyond the longest round so far:
one DetectFaces call with its throttling retries (5 tries, backoff capped at 5 s) and
the writes after it fit in it. Crops not reached by then are FAILED and come back in
another invocation, instead of the whole batch timing out: an edge device's sheets can
hold up to 100 faces each, and every face costs a claim, a result and a settle."""
DEFAULT_LEASE_MS = 5 * 60 * 1000
"""How long a claim on a crop lasts when the caller does not say (the Lambda passes
its remaining time): after it, another delivery of the crop may score it."""


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
    id, or the S3 record's position), its size when the notification says, and its
    version (S3 version id or ETag; "" where keys are never rewritten). A crop cut from
    a sheet has its face's crop key and the sheet's item and version."""

    key: str
    item_id: str
    size: int | None = None
    version: str = ""


@dataclass(frozen=True, slots=True)
class CropOutcome:
    ref: CropRef
    status: CropStatus
    detail: str = ""
    face: ScoredFace | None = None
    deferred: bool = False
    """FAILED only because the invocation ran out of time before reaching the crop:
    nothing about the crop itself went wrong."""


@dataclass(slots=True)
class ScoringReport:
    """Every crop's outcome, in input order."""

    outcomes: list[CropOutcome] = field(default_factory=list)

    @property
    def failed_items(self) -> set[str]:
        """Delivery items to report as failed (retried by SQS / Lambda)."""
        return {o.ref.item_id for o in self.outcomes if o.status is CropStatus.FAILED}

    @property
    def deferred_items(self) -> set[str]:
        """Failed items none of whose crops went wrong: every failed one was only not
        reached in time. They may go back to the queue as new messages instead of
        spending one of the receives that send a broken message to the dead-letter
        queue (datapalooza.adapters.aws.sqs_requeue)."""
        went_wrong = {
            o.ref.item_id for o in self.outcomes if o.status is CropStatus.FAILED and not o.deferred
        }
        return self.failed_items - went_wrong

    @property
    def counts(self) -> Mapping[CropStatus, int]:
        return Counter(o.status for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        return {status.value: self.counts.get(status, 0) for status in CropStatus}


SHEET_TILE_QUALITY = 95
"""A sheet's tile re-encoded for an analyzer that reads JPEG bytes loses next to nothing."""


@dataclass(slots=True)
class _Pending:
    ref: CropRef
    key: CropKey
    body: bytes | None
    """The crop's JPEG; None for a tile of a sheet, which exists only decoded."""
    camera: str
    image: RGBImage | None = None
    """The crop decoded when it was checked (crop-sized: ``decode_crop``), kept for a
    DecodedCropAnalyzer."""

    def jpeg(self) -> bytes:
        """The crop as JPEG bytes, for an analyzer that reads JPEGs (Rekognition)."""
        if self.body is None:
            assert self.image is not None
            self.body = encode_jpeg(self.image, quality=SHEET_TILE_QUALITY)
        return self.body


@dataclass(frozen=True, slots=True)
class _Read:
    """A crop or crop sheet read from the store, in one of ``each``'s threads, and not
    decoded yet: it is decoded in the calling thread (``_check_crop``, ``_cut_sheet``).
    A decode is CPU, of which the tracker Lambda has 0.58 of a core, and may hold a crop
    at full size for a moment before it is reduced (a 4K PNG with alpha: about 150 MB
    while it is flattened). 8 side by side took the 1,024 MB Lambda to 1.4 GB; one at a
    time in 8 threads, still 0.67 GB, each thread's malloc arena keeping what its
    decodes had freed; one at a time in one thread, 0.24 GB."""

    ref: CropRef
    key: CropKey | SheetKey
    body: bytes
    metadata: Mapping[str, str]


_Loader: TypeAlias = Callable[[], _Read | CropOutcome] | _Pending
"""A crop's pixels: a sheet's tile, already cut, or how to read a crop."""


def score_crops(
    refs: Sequence[CropRef],
    *,
    store: FaceStore,
    analyzer: EmotionAnalyzer,
    results: ResultsTable,
    metrics: MetricsSink,
    settings: TrackerSettings,
    ledger: OutcomeLedger | None = None,
    lease_ms: int = DEFAULT_LEASE_MS,
    time_left_ms: Callable[[], int] | None = None,
    at_once: int = 1,
) -> ScoringReport:
    """Score every crop, write one results item per new face, emit metrics once.

    The crops go in rounds of one analyzer batch: each crop of a round is claimed and
    loaded, the round's crops are scored and written, and its claims are settled. With
    a ``ledger``, a crop already settled is a DUPLICATE that costs no analyzer call;
    every outcome but FAILED is settled in it. A crop that raises anything is FAILED on
    its own; its neighbours are scored. With ``time_left_ms``, a round starts only while
    RESERVE_MS and the longest round so far are left (``_Deadline``): the crops not
    reached are FAILED without being claimed, so their items come back and the
    invocation never times out as a whole. Up to ``at_once`` of a round's crops are
    claimed and read, written and settled at the same time
    (datapalooza.system.overlap): the Lambda's are network round trips; they are
    decoded one at a time, in the calling thread (``_Read``). Only a full
    local disk (datapalooza.system.storage_errors) is raised: no crop is to blame for
    it and retrying each would only park them all as dead."""
    outcomes: list[CropOutcome | None] = []
    seen: set[str] = set()
    # Every crop is decoded once, to check it; an analyzer that scores decoded crops gets
    # those pixels instead of decoding the JPEG a second time (half the local tracker's
    # CPU, docs/benchmarks.md).
    keep_images = isinstance(analyzer, DecodedCropAnalyzer)
    deadline = _Deadline(time_left_ms)
    batch = max(1, analyzer.max_batch)

    def open_crop(item: tuple[CropRef, _Loader]) -> tuple[bool, _Read | _Pending | CropOutcome]:
        """Claim the crop (True when this call now holds it), then read it: its bytes,
        a sheet's tile, or its outcome (earlier, or why it cannot be scored)."""
        ref, load = item
        if ledger is not None:
            earlier = _claim(ref, ledger, lease_ms)
            if earlier is not None:
                return False, earlier
        loaded = load if isinstance(load, _Pending) else _guarded(ref, load)
        return ledger is not None, loaded

    with overlapping(at_once) as each:
        work = _Work(refs, store, settings, outcomes=outcomes, each=each, at_once=at_once)
        while work.left():
            if not deadline.allows_round():
                work.fail_rest("out of time in this invocation: retried")
                break
            with deadline.round():
                positions, items = _next_round(work, batch, seen, outcomes)
                pending: list[tuple[int, _Pending]] = []
                claimed = []
                for position, (held, opened) in zip(positions, each(open_crop, items), strict=True):
                    if held:
                        claimed.append(position)
                    loaded = _checked(opened, settings, keep_image=keep_images)
                    if isinstance(loaded, CropOutcome):
                        outcomes[position] = loaded
                    else:
                        pending.append((position, loaded))
                if pending:
                    for position, outcome in _score(pending, analyzer, results, settings, each):
                        outcomes[position] = outcome
                if ledger is not None:
                    _settle([o for i in claimed if (o := outcomes[i]) is not None], ledger, each)

    report = ScoringReport([o for o in outcomes if o is not None])
    for outcome in report.outcomes:
        _log(outcome)
    _emit_metrics(report, metrics)
    return report


def _next_round(
    work: _Work, batch: int, seen: set[str], outcomes: list[CropOutcome | None]
) -> tuple[list[int], list[tuple[CropRef, _Loader]]]:
    """The next ``batch`` crops, each given its slot in ``outcomes``: a crop already seen
    in this delivery gets DUPLICATE there; the others are returned with their slots."""
    positions, items = [], []
    for _ in range(batch):
        item = work.next()
        if item is None:
            break
        ref = item[0]
        outcomes.append(None)
        if ref.key in seen:
            outcomes[-1] = CropOutcome(ref, CropStatus.DUPLICATE, "repeated in this batch")
            continue
        seen.add(ref.key)
        positions.append(len(outcomes) - 1)
        items.append(item)
    return positions, items


class _Work:
    """The crops of a delivery in order. Crop sheets are opened (read, decoded, cut) only
    when their turn comes, up to ``at_once`` consecutive ones read at the same time with
    ``each``; an object that cannot be opened gets its outcome in ``outcomes`` in its
    place."""

    def __init__(
        self,
        refs: Sequence[CropRef],
        store: FaceStore,
        settings: TrackerSettings,
        *,
        outcomes: list[CropOutcome | None],
        each: Each = one_by_one,
        at_once: int = 1,
    ) -> None:
        self._refs = list(refs)
        self._next_ref = 0
        self._opened: deque[_Pending | CropOutcome] = deque()
        self._store, self._settings = store, settings
        self._outcomes = outcomes
        self._each, self._at_once = each, at_once

    def left(self) -> bool:
        return bool(self._opened) or self._next_ref < len(self._refs)

    def next(self) -> tuple[CropRef, _Loader] | None:
        while True:
            if not self._opened:
                if self._next_ref >= len(self._refs):
                    return None
                ref = self._refs[self._next_ref]
                if not ref.key.endswith(SHEET_SUFFIX):
                    self._next_ref += 1
                    return ref, functools.partial(_read_crop, ref, self._store, self._settings)
                self._open_sheets()
            entry = self._opened.popleft()
            if isinstance(entry, CropOutcome):  # the whole sheet is missing or unusable
                self._outcomes.append(entry)
                continue
            return entry.ref, entry

    def _open_sheets(self) -> None:
        """Open the next run of consecutive sheets, up to ``at_once``: read side by side,
        then decoded one by one (``_Read``)."""
        sheets: list[CropRef] = []
        while (
            len(sheets) < self._at_once
            and self._next_ref < len(self._refs)
            and self._refs[self._next_ref].key.endswith(SHEET_SUFFIX)
        ):
            sheets.append(self._refs[self._next_ref])
            self._next_ref += 1
        for read in self._each(self._read, sheets):
            opened = self._cut(read)
            if isinstance(opened, CropOutcome):
                self._opened.append(opened)
            else:
                self._opened.extend(opened)

    def _read(self, ref: CropRef) -> _Read | CropOutcome:
        return _guarded(ref, functools.partial(_read_sheet, ref, self._store, self._settings))

    def _cut(self, read: _Read | CropOutcome) -> list[_Pending] | CropOutcome:
        if isinstance(read, CropOutcome):
            return read
        return _guarded(read.ref, functools.partial(_cut_sheet, read, self._settings))

    def fail_rest(self, reason: str) -> None:
        """FAILED for every crop not reached: the tiles of sheets opened, then each
        object not opened yet (unclaimed: nothing to release). A sheet opened but found
        unusable keeps its own outcome."""
        for entry in self._opened:
            if isinstance(entry, CropOutcome):
                self._outcomes.append(entry)
            else:
                self._outcomes.append(_not_reached(entry.ref, reason))
        rest = self._refs[self._next_ref :]
        self._outcomes.extend(_not_reached(ref, reason) for ref in rest)
        self._opened, self._next_ref = deque(), len(self._refs)


def _not_reached(ref: CropRef, reason: str) -> CropOutcome:
    return CropOutcome(ref, CropStatus.FAILED, reason, deferred=True)


class _Deadline:
    """When to stop starting rounds: while RESERVE_MS and the longest round so far are
    left of the caller's time (a Lambda's remaining time). A round's claims, reads,
    analyzer call, results writes and settles are all round trips, so a batch of big
    crop sheets cannot spend the reserve on claims and time out while settling them."""

    def __init__(self, time_left_ms: Callable[[], int] | None) -> None:
        self._time_left_ms = time_left_ms
        self._longest_ms = 0

    def allows_round(self) -> bool:
        if self._time_left_ms is None:
            return True
        return self._time_left_ms() >= RESERVE_MS + self._longest_ms

    @contextmanager
    def round(self) -> Iterator[None]:
        if self._time_left_ms is None:
            yield
            return
        before = self._time_left_ms()
        yield
        self._longest_ms = max(self._longest_ms, before - self._time_left_ms())


def _guarded(ref: CropRef, load: Callable[[], _T]) -> _T | CropOutcome:
    """``load()``, or FAILED for ``ref`` if it raises: one object that breaks a parser
    never fails its neighbours."""
    try:
        return load()
    except Exception as exc:
        if is_storage_full(exc):
            raise
        logger.exception("crop %s could not be loaded", ref.key, extra={"key": ref.key})
        return CropOutcome(ref, CropStatus.FAILED, f"could not load the crop: {exc!r}")


def _claim(ref: CropRef, ledger: OutcomeLedger, lease_ms: int) -> CropOutcome | None:
    """None when this call now holds the crop; otherwise the crop's outcome now."""
    try:
        earlier = ledger.claim(ref.key, ref.version, lease_ms=lease_ms)
    except CropInProgress as exc:
        return CropOutcome(ref, CropStatus.FAILED, str(exc))
    except Exception as exc:  # the ledger is down: retry later rather than score twice
        if is_storage_full(exc):
            raise
        logger.exception("could not claim crop %s", ref.key, extra={"key": ref.key})
        return CropOutcome(ref, CropStatus.FAILED, f"could not claim the crop: {exc!r}")
    if earlier is None:
        return None
    return CropOutcome(ref, CropStatus.DUPLICATE, f"already handled: {earlier}")


def _settle(outcomes: Sequence[CropOutcome], ledger: OutcomeLedger, each: Each) -> None:
    def settle(outcome: CropOutcome) -> None:
        ref = outcome.ref
        try:
            if outcome.status is CropStatus.FAILED:
                ledger.release(ref.key, ref.version)
            else:
                ledger.settle(ref.key, ref.version, outcome.status.value)
        except Exception as exc:
            if is_storage_full(exc):
                raise
            # The outcome stands (a scored crop's results item is written once anyway,
            # by its conditional write); only the next duplicate costs a call.
            logger.exception("could not record the outcome of %s", ref.key)

    each(settle, outcomes)


def _read_crop(ref: CropRef, store: FaceStore, settings: TrackerSettings) -> _Read | CropOutcome:
    try:
        key = CropKey.parse(ref.key)
    except InvalidKey as exc:
        return CropOutcome(ref, CropStatus.REJECTED, f"not a face crop key: {exc}")
    return _fetch(ref, key, store, settings)


def _read_sheet(ref: CropRef, store: FaceStore, settings: TrackerSettings) -> _Read | CropOutcome:
    try:
        key = parse_object_key(ref.key)
    except InvalidKey as exc:
        return CropOutcome(ref, CropStatus.REJECTED, f"not a crop sheet key: {exc}")
    assert isinstance(key, SheetKey)  # the key ends in SHEET_SUFFIX
    return _fetch(ref, key, store, settings)


def _checked(
    opened: _Read | _Pending | CropOutcome, settings: TrackerSettings, *, keep_image: bool
) -> _Pending | CropOutcome:
    """A crop as ``open_crop`` left it, decoded if it was read: in the calling thread."""
    if not isinstance(opened, _Read):
        return opened
    return _guarded(
        opened.ref, functools.partial(_check_crop, opened, settings, keep_image=keep_image)
    )


def _check_crop(
    read: _Read, settings: TrackerSettings, *, keep_image: bool
) -> _Pending | CropOutcome:
    """A crop read, decoded to check it (its pixels kept with ``keep_image``)."""
    assert isinstance(read.key, CropKey)  # read by _read_crop
    try:
        image = decode_crop(read.body, max_bytes=settings.max_crop_bytes)
    except BadImage as exc:
        return CropOutcome(read.ref, CropStatus.REJECTED, f"{exc.code}: {exc}")
    camera = _camera(read.metadata)
    return _Pending(read.ref, read.key, read.body, camera, image if keep_image else None)


def _cut_sheet(read: _Read, settings: TrackerSettings) -> list[_Pending] | CropOutcome:
    """A crop sheet's tiles, each a decoded crop under its face's crop key; or the
    sheet's one outcome when it cannot be used (not an image, a bad layout)."""
    ref, key = read.ref, read.key
    assert isinstance(key, SheetKey)  # read by _read_sheet
    try:
        layout = SheetLayout.from_metadata(read.metadata)
        tiles = layout.decode(read.body, max_bytes=settings.max_crop_bytes)
        faces = [key.face(offset) for offset in range(len(tiles))]
    except BadImage as exc:
        return CropOutcome(ref, CropStatus.REJECTED, f"not a usable crop sheet: {exc.code}: {exc}")
    except (SheetError, ValueError) as exc:  # ValueError: face indexes past the scheme's
        return CropOutcome(ref, CropStatus.REJECTED, f"not a usable crop sheet: {exc}")
    camera = _camera(read.metadata)
    return [
        _Pending(CropRef(str(face), ref.item_id, None, ref.version), face, None, camera, tile)
        for face, tile in zip(faces, tiles, strict=True)
    ]


def _fetch(
    ref: CropRef, key: CropKey | SheetKey, store: FaceStore, settings: TrackerSettings
) -> _Read | CropOutcome:
    """The object's bytes and metadata, unless its key's time or its size rules it out."""
    if key.captured_at > datetime.now(UTC) + CAPTURE_WINDOW_FUTURE:
        # No endpoint writes such a key (it refuses the request): someone wrote it past
        # the contract. Scoring it would put a result in the dashboard's future.
        return CropOutcome(
            ref, CropStatus.REJECTED, f"captured in the future ({key.captured_at.isoformat()})"
        )
    if ref.size is not None and ref.size > settings.max_crop_bytes:  # as notified: not read
        return _too_large(ref, ref.size, settings.max_crop_bytes)
    try:
        body, metadata = store.get(ref.key, max_bytes=settings.max_crop_bytes)
    except ObjectTooLarge as exc:  # no size notified, or an earlier version's: not read
        return _too_large(ref, exc.size, exc.limit)
    except ObjectMissing:
        return CropOutcome(ref, CropStatus.MISSING, "object no longer exists")
    except StoreError as exc:
        # Even a permanent store error (access denied) fails the item: the DLQ keeps it.
        return CropOutcome(ref, CropStatus.FAILED, f"could not read the crop: {exc}")
    return _Read(ref, key, body, metadata)


def _too_large(ref: CropRef, size: int, limit: int) -> CropOutcome:
    return CropOutcome(ref, CropStatus.REJECTED, f"{size} bytes is over the {limit} limit")


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
    each: Each = one_by_one,
    *,
    isolating: bool = False,
) -> list[tuple[int, CropOutcome]]:
    try:
        images = [item.image for _, item in chunk if item.image is not None]
        if isinstance(analyzer, DecodedCropAnalyzer) and len(images) == len(chunk):
            analyzed = analyzer.analyze_decoded(images)
        else:
            analyzed = analyzer.analyze([item.jpeg() for _, item in chunk])
        if len(analyzed) != len(chunk):
            raise AnalyzerError(
                f"{analyzer.name} answered {len(analyzed)} results for {len(chunk)} crops",
                transient=False,
            )
    except AnalyzerError as exc:
        if exc.transient:  # throttling, an outage: no crop's fault, retry them all
            return [
                (pos, CropOutcome(item.ref, CropStatus.FAILED, f"{analyzer.name}: {exc}"))
                for pos, item in chunk
            ]
        if len(chunk) == 1:
            ((pos, item),) = chunk
            # Alone in its own call, the analyzer cannot read it: retrying will not help.
            # Found by splitting a failed batch, it fails on its own and, if it keeps
            # failing, ends in the dead-letter queue where someone can look at it.
            status = CropStatus.FAILED if isolating else CropStatus.REJECTED
            return [(pos, CropOutcome(item.ref, status, f"{analyzer.name}: {exc}"))]
        return _isolate(chunk, analyzer, results, settings, each, exc)
    except Exception as exc:  # an unexpected analyzer bug must not lose the batch
        logger.exception("analyzer %s failed on %d crops", analyzer.name, len(chunk))
        if len(chunk) == 1:
            ((pos, item),) = chunk
            return [(pos, CropOutcome(item.ref, CropStatus.FAILED, repr(exc)))]
        return _isolate(chunk, analyzer, results, settings, each, exc)
    recorded = each(
        lambda pair: _record(pair[0][1], pair[1], results, settings),
        list(zip(chunk, analyzed, strict=True)),
    )
    return [(position, outcome) for (position, _), outcome in zip(chunk, recorded, strict=True)]


def _isolate(
    chunk: Sequence[tuple[int, _Pending]],
    analyzer: EmotionAnalyzer,
    results: ResultsTable,
    settings: TrackerSettings,
    each: Each,
    error: Exception,
) -> list[tuple[int, CropOutcome]]:
    """A call over several crops failed for a reason one crop may cause (a mosaic
    Rekognition refuses, a crop that crashes the model): score each half on its own,
    down to single crops, so only the culprit fails. One bad crop in 50 costs about
    2 x log2(50) = 12 extra calls instead of failing 50."""
    logger.warning(
        "%s failed on %d crops (%s); splitting the call to find the crop at fault",
        analyzer.name,
        len(chunk),
        error,
    )
    middle = len(chunk) // 2
    return [
        *_score(chunk[:middle], analyzer, results, settings, each, isolating=True),
        *_score(chunk[middle:], analyzer, results, settings, each, isolating=True),
    ]


def _record(
    item: _Pending, analyzed: AnalyzedFace, results: ResultsTable, settings: TrackerSettings
) -> CropOutcome:
    """Turn the analyzer's answer for one crop into the crop's outcome: a new face
    becomes one results item (written once, expiring with the TTL) and carries its
    scores on to the metrics."""
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
        if is_storage_full(exc):
            raise
        return CropOutcome(item.ref, CropStatus.FAILED, f"could not write the result: {exc!r}")
    if not written:
        return CropOutcome(item.ref, CropStatus.DUPLICATE, "already in the results table")
    return CropOutcome(item.ref, CropStatus.SCORED, str(face.scores.dominant), face)


def _log(outcome: CropOutcome) -> None:
    """One line per crop. A crop that was scored (or already was) is logged by key and
    status only, never with its expression: a face's scores are kept in the results
    table for ``results_ttl_days``, while log lines stay for the log group's retention,
    a separate setting, and a per-face score in a log would outlive a shorter TTL
    (docs/responsible-use.md). The metrics carry the per-stage mood."""
    if outcome.status in (CropStatus.SCORED, CropStatus.DUPLICATE):
        extra = {"key": outcome.ref.key, "status": outcome.status.value}
        logger.info("crop %s %s", outcome.ref.key, outcome.status.value, extra=extra)
        return
    extra = {"key": outcome.ref.key, "status": outcome.status.value, "detail": outcome.detail}
    if outcome.status is CropStatus.FAILED:
        logger.error("crop %s failed: %s", outcome.ref.key, outcome.detail, extra=extra)
    else:  # REJECTED, MISSING, NO_FACE: the detail says why, and holds no score
        logger.warning(
            "crop %s %s: %s", outcome.ref.key, outcome.status.value, outcome.detail, extra=extra
        )


_UNSCORED_METRICS = {
    CropStatus.NO_FACE: NO_FACE_FOUND_METRIC,
    CropStatus.REJECTED: CROP_REJECTED_METRIC,
    CropStatus.MISSING: CROP_MISSING_METRIC,
}


def _emit_metrics(report: ScoringReport, metrics: MetricsSink) -> None:
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
    except Exception as exc:
        if is_storage_full(exc):
            raise
        # The results are written: failing the items now would not bring the metrics
        # back (a retry finds them already written), so log loudly instead.
        logger.exception("could not emit metrics for %d faces", len(scored))


def _stage_of(key: str) -> str:
    """The stage of a key for counting; keys outside the scheme count under 'invalid'."""
    try:
        return parse_object_key(key).stage
    except (ValueError, OverflowError):  # InvalidKey, or a date the calendar cannot hold
        return "invalid"
