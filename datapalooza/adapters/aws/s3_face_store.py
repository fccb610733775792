"""FaceStore on the S3 faces bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from datapalooza.adapters.aws.calls_at_once import CALLS_AT_ONCE
from datapalooza.ports import ObjectMissing, ObjectTooLarge, StoreError

# Errors where retrying later can succeed; anything else (AccessDenied, NoSuchBucket,
# InvalidAccessKeyId...) needs a person to fix configuration.
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "Throttling",
        "ThrottlingException",
        "500",
        "503",
        *(
            # Expired temporary credentials: S3's "The provided token has expired"
            # (ExpiredToken, "Error responses", Amazon S3 API Reference,
            # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList),
            # and the codes every AWS API may answer for the same, and for a request
            # signed more than 15 minutes before it arrived (ExpiredTokenException,
            # RequestExpired: "Common Errors", e.g. the IAM API Reference,
            # https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
            # A device's credentials come from Greengrass's token exchange service, and
            # botocore fetches new ones before they run out; an expired token means
            # they ran out in between (a request that waited, a device clock running
            # behind until NTP corrects it), which a later try fixes like
            # RequestTimeTooSkewed: the role is not to blame, and uploads must not pause
            # for minutes under a message that says it is.
            "ExpiredToken",
            "ExpiredTokenException",
            "RequestExpired",
        ),
    }
)
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3FaceStore:
    """FaceStore: objects in one S3 bucket, encrypted at rest, with the crop's
    metadata as S3 user metadata."""

    puts_at_once = CALLS_AT_ONCE
    """Crops of one frame the endpoint puts at the same time (``store_crops``): each
    PutObject waits a network round trip (datapalooza/adapters/aws/calls_at_once.py)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="image/jpeg",
                Metadata=dict(metadata),
                ServerSideEncryption="AES256",
            )
        except ClientError as exc:
            raise _store_error("put", key, exc) from exc
        except BotoCoreError as exc:  # network: endpoint unreachable, timeouts
            raise StoreError(f"could not put {key}: {exc}", transient=True) from exc

    def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
            body = _body(key, response, max_bytes)
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise ObjectMissing(key) from exc
            raise _store_error("get", key, exc) from exc
        except BotoCoreError as exc:
            raise StoreError(f"could not get {key}: {exc}", transient=True) from exc
        return body, dict(response.get("Metadata", {}))

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise _store_error("delete", key, exc) from exc
        except BotoCoreError as exc:
            raise StoreError(f"could not delete {key}: {exc}", transient=True) from exc

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return False
            raise _store_error("head", key, exc) from exc
        except BotoCoreError as exc:
            raise StoreError(f"could not head {key}: {exc}", transient=True) from exc
        return True


def _body(key: str, response: Mapping[str, Any], max_bytes: int | None) -> bytes:
    """A GetObject answer's body, or ObjectTooLarge from its ContentLength alone: the
    notification's size may be missing, or name an earlier version of the key."""
    stream = response["Body"]
    size = int(response["ContentLength"])
    if max_bytes is not None and size > max_bytes:
        stream.close()  # unread: the connection is dropped, not pooled with data left
        raise ObjectTooLarge(key, size, max_bytes)
    body: bytes = stream.read()
    return body


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _store_error(action: str, key: str, exc: ClientError) -> StoreError:
    code = _code(exc)
    return StoreError(f"S3 {action} {key} failed: {code}: {exc}", transient=code in TRANSIENT_CODES)
