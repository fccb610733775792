"""The emotion tracker: face crops -> SQS -> Lambda -> DynamoDB results (+ EMF metrics)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from datapalooza.constants import (
    ENV_CROPS_QUEUE_URL,
    ENV_IDEMPOTENCY_TABLE,
    ENV_IDEMPOTENCY_TTL_SECONDS,
    ENV_RESULTS_TABLE,
    FACES_PREFIX,
    IDEMPOTENCY_KEY_ATTRIBUTE,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    IDEMPOTENCY_TTL_S,
    RESULTS_PARTITION_KEY,
    RESULTS_SORT_KEY,
    RESULTS_TTL_ATTRIBUTE,
)
from stacks.build.python_function import FunctionSpec, python_function


class EmotionTracker(Construct):
    """Scores every face crop that lands under ``faces/`` and stores the results.

    S3 notifies an SQS queue (not the function directly) so crops arrive in batches -
    one Rekognition call can score a whole mosaic of them - and a crop that keeps
    failing ends up in the dead-letter queue instead of being lost or retried forever.
    The function reports partial batch failures, so one bad crop never retries the
    others. Results go to a DynamoDB table (partition key ``stage``, sort key ``sk`` =
    ``{iso_time}#{face_key}``) whose items expire through TTL. Metrics leave through
    the function's logs (Embedded Metric Format): no PutMetricData permission.

    Every crop is checked against an idempotency table (Powertools' DynamoDB
    persistence layer) before it is scored, so a duplicate S3 notification costs no
    Rekognition call; its records expire (TTL) once no duplicate can still be queued.

    The function starts with no permissions to data; the stack grants them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        faces_bucket: s3.IBucket,
        function_spec: FunctionSpec,
        batch_size: int,
        max_batching_window: Duration,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, id)
        self.table = _table(
            self,
            "Results",
            partition_key=RESULTS_PARTITION_KEY,
            sort_key=RESULTS_SORT_KEY,
            time_to_live_attribute=RESULTS_TTL_ATTRIBUTE,
        )
        self.idempotency = _table(
            self,
            "Idempotency",
            partition_key=IDEMPOTENCY_KEY_ATTRIBUTE,
            time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE,
            # Every DynamoDB table is encrypted at rest; the AWS owned key needs no KMS
            # permission on the role (docs.aws.amazon.com/amazondynamodb/latest/
            # developerguide/EncryptionAtRest.html).
            encryption=dynamodb.TableEncryptionV2.dynamo_owned_key(),
        )

        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = python_function(self, "Function", function_spec)
        self.function.add_environment(ENV_RESULTS_TABLE, self.table.table_name)
        self.function.add_environment(ENV_IDEMPOTENCY_TABLE, self.idempotency.table_name)
        self.function.add_environment(ENV_IDEMPOTENCY_TTL_SECONDS, str(IDEMPOTENCY_TTL_S))
        self.queue = sqs.Queue(
            self,
            "Crops",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's guidance: at least six times the function timeout, so a batch that
            # is being retried is not redelivered to another invocation meanwhile.
            visibility_timeout=Duration.seconds(function_spec.timeout.to_seconds() * 6),
            # A duplicate notification waits here at most this long: the idempotency
            # records are kept as long, so none outlives its record.
            retention_period=Duration.seconds(IDEMPOTENCY_TTL_S),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=max_receive_count
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Messages it ran out of time for go back as new ones (sqs_requeue.py).
        self.function.add_environment(ENV_CROPS_QUEUE_URL, self.queue.queue_url)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                report_batch_item_failures=True,
            )
        )
        faces_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=FACES_PREFIX, suffix=".jpg"),
        )


def _table(
    scope: Construct,
    id: str,
    *,
    partition_key: str,
    sort_key: str | None = None,
    time_to_live_attribute: str,
    encryption: dynamodb.TableEncryptionV2 | None = None,
) -> dynamodb.TableV2:
    """An on-demand table of string keys whose items expire (TTL), deleted with the
    stack, and without point-in-time recovery: its continuous backups would keep every
    item restorable for 35 days by default (docs.aws.amazon.com/amazondynamodb/latest/
    APIReference/API_PointInTimeRecoverySpecification.html), long after its TTL
    removed it. Scores per face are kept ``results_ttl_days`` (a week by default) and
    outcome records a day, and neither is worth restoring (docs/responsible-use.md)."""
    return dynamodb.TableV2(
        scope,
        id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=(
            None
            if sort_key is None
            else dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING)
        ),
        billing=dynamodb.Billing.on_demand(),
        time_to_live_attribute=time_to_live_attribute,
        encryption=encryption,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=False
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )
