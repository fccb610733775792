"""ResultsTable on Amazon DynamoDB."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from datapalooza import constants
from datapalooza.ports import ScoredFace

PARTITION_KEY = constants.RESULTS_PARTITION_KEY
SORT_KEY = constants.RESULTS_SORT_KEY
TTL_ATTRIBUTE = constants.RESULTS_TTL_ATTRIBUTE
"""Attribute names the table's schema (stacks/constructs/emotion_tracker.py) and this
adapter share."""


def to_item(face: ScoredFace, *, ttl_epoch_s: int) -> dict[str, dict[str, Any]]:
    """The DynamoDB item (low-level attribute values) for one scored face."""
    dominant = face.scores.dominant
    return {
        PARTITION_KEY: {"S": face.stage},
        SORT_KEY: {"S": face.sort_key},
        "face_key": {"S": face.face_key},
        "captured_at": {"S": face.captured_at.isoformat(timespec="milliseconds")},
        "camera": {"S": face.camera},
        "dominant": {"S": dominant.value if dominant else "NONE"},
        "mood": {"N": f"{face.scores.valence:.3f}"},
        "scores": {"M": {e.value: {"N": f"{c:.3f}"} for e, c in face.scores.scores.items()}},
        TTL_ATTRIBUTE: {"N": str(ttl_epoch_s)},
    }


class DynamoResultsTable:
    """ResultsTable: one item per scored face in a DynamoDB table (partition ``stage``,
    sort ``sk`` = ``{iso_time}#{face_key}``, TTL ``ttl``).

    ``put_if_new`` is a conditional PutItem: a duplicate S3 notification for the same
    crop finds the item there and writes nothing. Other errors propagate (the tracker
    fails the item so it is retried).
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=to_item(face, ttl_epoch_s=ttl_epoch_s),
                ConditionExpression="attribute_not_exists(#sk)",
                ExpressionAttributeNames={"#sk": SORT_KEY},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
