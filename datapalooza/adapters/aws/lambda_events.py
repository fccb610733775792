"""From Lambda events to crop references, and back to the answer Lambda expects.

Two deliveries are supported:

- S3 ObjectCreated notifications straight to the function (asynchronous invocation):
  one event may carry several records; keys arrive URL-encoded.
- The same notifications through an SQS queue (batch size and window set on the event
  source mapping): each message body is an S3 event, or an ``s3:TestEvent`` that S3
  sends when the notification is configured. The answer lists failed message ids
  (``ReportBatchItemFailures``) so one bad crop does not retry the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import Metrics, MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import S3Event, SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from datapalooza.emotions.bootstrap import CropScorer
from datapalooza.emotions.scoring import DEFAULT_LEASE_MS, CropRef, CropStatus, ScoringReport

logger = logging.getLogger(__name__)

TEST_EVENT = "s3:TestEvent"
MAX_BODY_BYTES = 262_144
"""The crops queue's largest message: a queue's MaximumMessageSize defaults to 256 KiB
(SendMessage takes up to 1 MiB where a queue allows it,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html),
and the stack keeps the default (tests/infra/test_resources.py). An S3 notification is
a few KB. A longer body is malformed, refused before parsing."""


Requeue = Callable[[Sequence[SQSRecord]], set[str]]
"""Sends messages back to their queue as new ones; returns the ids of those it sent."""


class CropsFailed(RuntimeError):
    """Some crops of a delivery item may succeed on a retry (throttling, an outage)."""


class MalformedMessage(ValueError):
    """An SQS message whose body is not an S3 notification."""


def is_sqs_event(event: Mapping[str, Any]) -> bool:
    records = event.get("Records") or []
    return bool(records) and records[0].get("eventSource") == "aws:sqs"


def crop_refs(
    notification: Mapping[str, Any], *, item_id: str | None, bucket: str | None
) -> list[CropRef]:
    """The crops an S3 notification announces. A test event gives none; records that
    are not ObjectCreated, or come from another bucket, are logged and skipped. A
    notification that is not shaped like S3's raises MalformedMessage.

    ``item_id`` names the delivery item (an SQS message id); None numbers the records.
    """
    if not isinstance(notification, Mapping):
        raise MalformedMessage(f"notification is a {type(notification).__name__}, not an object")
    if notification.get("Event") == TEST_EVENT:
        logger.info("ignoring %s for bucket %s", TEST_EVENT, notification.get("Bucket"))
        return []
    try:
        return _record_refs(notification, item_id=item_id, bucket=bucket)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedMessage(f"malformed S3 record: {exc!r}") from exc


def _record_refs(
    notification: Mapping[str, Any], *, item_id: str | None, bucket: str | None
) -> list[CropRef]:
    refs = []
    for position, record in enumerate(S3Event(dict(notification)).records):
        key = unquote_plus(record.s3.get_object.key)
        if not record.event_name.startswith("ObjectCreated:"):
            logger.info("ignoring %s for %s", record.event_name, key, extra={"key": key})
            continue
        if bucket and record.s3.bucket.name != bucket:
            logger.warning(
                "ignoring %s from bucket %s: not the faces bucket %s",
                key,
                record.s3.bucket.name,
                bucket,
                extra={"key": key},
            )
            continue
        refs.append(
            CropRef(
                key=key,
                item_id=item_id if item_id is not None else str(position),
                size=_size(record.s3.get_object.get("size")),
                # The ledger's key: a duplicate notification names the same version.
                version=str(
                    record.s3.get_object.get("versionId") or record.s3.get_object.get("eTag") or ""
                ),
            )
        )
    return refs


def _size(value: Any) -> int | None:
    """The object size S3 reports: a whole number of bytes, or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"object size {value!r} is not a number of bytes")
    return value


def record_summary(metrics: Metrics | None, report: ScoringReport) -> None:
    """Per-invocation counts of every status (``Crops<Status>``) on the handler's own
    metrics (function-level, no Stage): CropsFailed is what an alarm on retries watches."""
    if metrics is None:
        return
    for status, count in report.summary().items():
        name = "Crops" + "".join(part.title() for part in status.split("_"))
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)


def handle_s3_event(
    event: Mapping[str, Any],
    tracker: CropScorer,
    *,
    context: LambdaContext | None = None,
    metrics: Metrics | None = None,
) -> dict[str, int]:
    """Score every crop of a direct S3 notification.

    Raises CropsFailed if any crop may succeed on a retry, after every other crop was
    handled: Lambda retries the event (the scored crops are then duplicates that write
    nothing) and finally sends it to the function's on-failure destination.
    """
    refs = crop_refs(event, item_id=None, bucket=tracker.settings.faces_bucket)
    report = tracker.score(refs, lease_ms=_lease_ms(context), time_left_ms=_clock(context))
    record_summary(metrics, report)
    failed = [o.ref.key for o in report.outcomes if o.ref.item_id in report.failed_items]
    if failed:
        raise CropsFailed(f"{len(failed)} crops failed and will be retried: {failed}")
    return report.summary()


def handle_sqs_batch(
    event: Mapping[str, Any],
    tracker: CropScorer,
    *,
    processor: BatchProcessor | None = None,
    context: LambdaContext | None = None,
    metrics: Metrics | None = None,
    requeue: Requeue | None = None,
) -> dict[str, Any]:
    """Score the crops of every message in one pass (so a mosaic spans the batch),
    then report the messages with a failed crop through Powertools' BatchProcessor.
    With ``requeue``, a message the invocation only ran out of time for goes back to
    the queue as a new message and is reported done (sqs_requeue.py); one it cannot
    send back is reported failed like the others."""
    refs: list[CropRef] = []
    malformed: dict[str, str] = {}
    records = list(SQSEvent(dict(event)).records)
    for record in records:
        try:
            refs.extend(_message_refs(record, tracker.settings.faces_bucket))
        except MalformedMessage as exc:
            logger.error("message %s is not an S3 notification: %s", record.message_id, exc)
            malformed[record.message_id] = str(exc)
    report: ScoringReport = tracker.score(
        refs, lease_ms=_lease_ms(context), time_left_ms=_clock(context)
    )
    record_summary(metrics, report)
    failed = report.failed_items - _sent_back(
        records, report.deferred_items - malformed.keys(), requeue
    )

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in malformed:
            # Failed, not dropped: after the queue's retries it lands in the DLQ for a look.
            raise MalformedMessage(malformed[record.message_id])
        if record.message_id in failed:
            keys = [
                o.ref.key
                for o in report.outcomes
                if o.ref.item_id == record.message_id and o.status is CropStatus.FAILED
            ]
            raise CropsFailed(f"crops failed and will be retried: {keys}")

    processor = processor or BatchProcessor(event_type=EventType.SQS)
    response: dict[str, Any] = dict(
        process_partial_response(
            event=dict(event),
            record_handler=record_handler,
            processor=processor,
            context=context,
        )
    )
    return response


def _sent_back(
    records: Sequence[SQSRecord], deferred: set[str], requeue: Requeue | None
) -> set[str]:
    """The ids of the ``deferred`` messages that ``requeue`` sent back to the queue."""
    if requeue is None or not deferred:
        return set()
    waiting = [r for r in records if r.message_id in deferred]
    sent = requeue(waiting)
    logger.info(
        "%d of %d messages not reached in time went back to the queue", len(sent), len(waiting)
    )
    return sent


def _clock(context: LambdaContext | None) -> Callable[[], int] | None:
    """The invocation's remaining milliseconds, asked as scoring goes (None outside
    Lambda): the tracker starts no analyzer call it may not have time to finish."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining if callable(remaining) else None


def _lease_ms(context: LambdaContext | None) -> int:
    """A crop's claim lasts while this invocation can still be running: a redelivery
    after a crash or timeout (the queue's visibility timeout is six times the function
    timeout) finds the claim expired and scores the crop."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        return max(1, int(remaining()))
    return DEFAULT_LEASE_MS


def _message_refs(record: SQSRecord, bucket: str | None) -> list[CropRef]:
    body = _parsed_body(record.body)
    if not isinstance(body, dict) or ("Records" not in body and body.get("Event") != TEST_EVENT):
        raise MalformedMessage("body has neither Records nor an s3:TestEvent")
    return crop_refs(body, item_id=record.message_id, bucket=bucket)


def _parsed_body(body: Any) -> Any:
    """A message body's JSON. Every way one body can fail to parse is MalformedMessage,
    that message's failure alone: a RecursionError (a body of nested brackets) or any
    other error escaping would fail the whole batch and retry every neighbour."""
    if not isinstance(body, str):
        raise MalformedMessage(f"body is a {type(body).__name__}, not text")
    if len(body) > MAX_BODY_BYTES:  # each character is at least one byte
        raise MalformedMessage(f"body is over SQS's {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedMessage(f"body is not JSON: {exc}") from exc
