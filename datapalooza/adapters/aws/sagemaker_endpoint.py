"""DetectionEndpoint over the SageMaker Runtime API (boto3 ``invoke_endpoint``).

With ``endpoint_url`` the same client talks to the local ``datapalooza serve-endpoint``,
which answers boto3's ``POST /endpoints/{name}/invocations`` route.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from datapalooza.domain.frame_attributes import FrameAttributes
from datapalooza.ports import EndpointError, EndpointErrorKind

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "429"}
)
# The endpoint is there but cannot answer right now (or is being updated / not created).
UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "ModelNotReadyException",
        "500",
        "502",
        "503",
        "504",
    }
)


class SageMakerDetectionEndpoint:
    """DetectionEndpoint: sends a JPEG frame to a SageMaker real-time endpoint.

    ``client`` is a ``boto3.client("sagemaker-runtime", ...)`` built by the composition
    root (with retries off: the camera's own backoff decides when to try again). Stage,
    camera, frame id and capture time travel in the CustomAttributes header. Every
    failure becomes an EndpointError whose ``kind`` tells throttling, timeouts and
    outages apart.
    """

    def __init__(self, client: Any, endpoint_name: str) -> None:
        self._client = client
        self.endpoint_name = endpoint_name

    def detect(
        self, frame_jpeg: bytes, *, stage: str, camera: str, frame_id: str
    ) -> dict[str, Any]:
        attributes = FrameAttributes(stage, camera, frame_id, datetime.now(UTC))
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType="image/jpeg",
                Accept="application/json",
                CustomAttributes=attributes.to_header(),
                Body=frame_jpeg,
            )
            raw = response["Body"].read()
        except ClientError as exc:
            raise _client_error(self.endpoint_name, exc) from exc
        except (ReadTimeoutError, ConnectTimeoutError) as exc:
            raise EndpointError(f"{self.endpoint_name}: timed out: {exc}", kind="timeout") from exc
        except (EndpointConnectionError, BotoConnectionError) as exc:
            raise EndpointError(
                f"{self.endpoint_name}: cannot connect: {exc}", kind="unavailable"
            ) from exc
        except BotoCoreError as exc:
            raise EndpointError(f"{self.endpoint_name}: {exc}", kind="unavailable") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise EndpointError(
                f"{self.endpoint_name} answered something that is not JSON ({len(raw)} bytes)",
                kind="rejected",
            ) from exc
        if not isinstance(answer, dict) or "Faces" not in answer:
            raise EndpointError(
                f"{self.endpoint_name} answered JSON without Faces: {str(answer)[:200]}",
                kind="rejected",
            )
        return answer


def _client_error(name: str, exc: ClientError) -> EndpointError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    message = str(error.get("Message", "")) or str(exc)
    # ModelError wraps the container's own status; SageMaker passes 4xx/5xx through.
    original = str(exc.response.get("OriginalStatusCode", ""))
    kind: EndpointErrorKind
    if code in THROTTLING_CODES or status == "429" or original == "429":
        kind = "throttled"
    elif code in UNAVAILABLE_CODES or status in UNAVAILABLE_CODES or original.startswith("5"):
        kind = "unavailable"
    elif code == "ValidationError" and "not found" in message.lower():
        kind = "unavailable"  # the endpoint does not exist (yet): deploying, or a typo
    else:
        kind = "rejected"
    return EndpointError(f"{name}: {code or status} {message}".strip(), kind=kind)
