"""Messages the tracker had no time for go back to the crops queue as new messages.

A message the Lambda reports as failed becomes visible again with its receive count
one higher, and after ``max_receive_count`` receives SQS moves it to the dead-letter
queue: the place for messages that cannot be processed. A message the tracker only ran
out of time for (``ScoringReport.deferred_items``: a batch of crowded crop sheets that
needs more than one invocation) has nothing wrong with it. Sent again as a new message,
its receive count starts over, and it is visible at once instead of after the queue's
visibility timeout (six function timeouts). Its crops already scored are duplicates to
the idempotency records and cost no Rekognition call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

MAX_ENTRIES_PER_BATCH = 10
"""SendMessageBatch takes at most 10 messages (Amazon SQS message quotas,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)."""
MAX_BATCH_BYTES = 262_144
"""The sum of a batch's message sizes: SendMessageBatch's reference gives 256 KiB
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html),
the developer guide now 1 MiB (sqs-batch-api.html); the smaller holds under either. An S3
notification is about 1 KB, so ten of them never come near it."""


class SqsRequeue:
    """Sends messages to ``queue_url`` again as new messages."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def __call__(self, records: Sequence[SQSRecord]) -> set[str]:
        """The message ids of ``records`` sent again. One that was not (SQS refused it,
        or the call failed) is left to the caller to report as failed, as before."""
        sent: set[str] = set()
        for batch in _batches(records):
            entries = [
                {"Id": str(index), "MessageBody": record.body} for index, record in enumerate(batch)
            ]
            try:
                answer = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except (BotoCoreError, ClientError):
                logger.exception("could not send %d messages back to the queue", len(batch))
                continue
            for entry in answer.get("Successful", []):
                sent.add(batch[int(entry["Id"])].message_id)
            for entry in answer.get("Failed", []):
                logger.error(
                    "SQS refused to take message %s back: %s",
                    batch[int(entry["Id"])].message_id,
                    entry.get("Message") or entry.get("Code"),
                )
        return sent


def _batches(records: Sequence[SQSRecord]) -> Iterator[list[SQSRecord]]:
    """``records`` in batches SendMessageBatch takes: at most MAX_ENTRIES_PER_BATCH
    messages and MAX_BATCH_BYTES of bodies each (a body is never larger than a
    message SQS delivered)."""
    batch: list[SQSRecord] = []
    size = 0
    for record in records:
        body_bytes = len(record.body.encode())
        if batch and (len(batch) == MAX_ENTRIES_PER_BATCH or size + body_bytes > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += body_bytes
    if batch:
        yield batch


def crops_queue_requeue(queue_url: str, *, session: Any = None) -> SqsRequeue:
    """The requeue of the tracker's crops queue (the Lambda's)."""
    import boto3

    session = session or boto3.session.Session()
    return SqsRequeue(session.client("sqs"), queue_url)
