"""What the two custom-resource Lambdas share (``lambdas/core_device_teardown`` and
``lambdas/device_certificate``): answering CloudFormation, and retiring the IoT
certificates attached to a Greengrass core device's thing.

Both bundles carry this module at ``lambdas/shared/custom_resource.py`` beside their
handler, and the ``datapalooza`` package (stacks/build/custom_resource_function.py):
retiring certificates is ``datapalooza.adapters.aws.iot_certificates``, which
``datapalooza workshop teardown`` uses too. boto3 comes with the Lambda runtime.

Lambda-backed custom resource: CloudFormation waits for the response the handler PUTs
to the pre-signed ``ResponseURL``, so a response is sent whatever happens.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from datapalooza.adapters.aws.iot_certificates import (
    DETACH_WAIT_S,
    POLL_S,
    CertificateStillAttached,
    Sleep,
    is_gone,
    retire_certificates,
    thing_principals,
)

__all__ = [
    "DETACH_WAIT_S",
    "POLL_S",
    "CertificateStillAttached",
    "Outcome",
    "Sleep",
    "answer",
    "is_gone",
    "retire_certificates",
    "thing_principals",
]
log = logging.getLogger()
log.setLevel(logging.INFO)

REASON_LIMIT = 1000  # keep the response small; the log has the details


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request that succeeded tells CloudFormation: the resource's physical id and
    the attributes ``Fn::GetAtt`` reads (never a secret: the response is logged)."""

    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)


def answer(
    event: dict[str, Any],
    context: Any,
    run: Callable[[dict[str, Any]], Outcome],
    *,
    failed_physical_id: str,
) -> None:
    """Run the request and PUT its outcome to CloudFormation; any exception becomes a
    FAILED response naming it (with ``failed_physical_id``), never a silent timeout."""
    try:
        outcome = run(event)
        status, reason = "SUCCESS", ""
    except Exception as exc:  # the stack must hear back, whatever failed
        log.exception("custom resource %s failed", event.get("RequestType"))
        outcome = Outcome(failed_physical_id)
        status, reason = "FAILED", f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
    _respond(event, context, status=status, reason=reason, outcome=outcome)


def _respond(
    event: dict[str, Any],
    context: Any,
    *,
    status: str,
    reason: str,
    outcome: Outcome,
) -> None:
    """PUT the custom resource response to CloudFormation's pre-signed URL."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"see log stream {getattr(context, 'log_stream_name', '?')}",
            "PhysicalResourceId": outcome.physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(outcome.data),
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (CloudFormation's https URL)
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    response = urllib.request.urlopen(request)  # noqa: S310 (CloudFormation's https URL)
    getattr(response, "close", lambda: None)()
