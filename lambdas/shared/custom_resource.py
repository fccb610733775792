"""What the two custom-resource Lambdas share (``lambdas/core_device_teardown`` and
``lambdas/device_certificate``): answering CloudFormation, and retiring the IoT
certificates attached to a Greengrass core device's thing.

Both bundles carry this module at ``lambdas/shared/custom_resource.py`` beside their
handler (stacks/build/custom_resource_function.py); boto3 comes with the Lambda runtime.

Lambda-backed custom resource: CloudFormation waits for the response the handler PUTs
to the pre-signed ``ResponseURL``, so a response is sent whatever happens.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

# DetachThingPrincipal "is asynchronous. It might take several seconds for the detachment
# to propagate", and a principal or thing already gone answers ResourceNotFoundException:
# https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
# (tests/unit/test_core_device_teardown.py waits it out and treats "gone" as done).
DETACH_WAIT_S = 60.0
POLL_S = 3.0
REASON_LIMIT = 1000  # keep the response small; the log has the details
_GONE = {"ResourceNotFoundException"}

Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request that succeeded tells CloudFormation: the resource's physical id and
    the attributes ``Fn::GetAtt`` reads (never a secret: the response is logged)."""

    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)


class CertificateStillAttached(RuntimeError):
    """DetachThingPrincipal did not take effect within DETACH_WAIT_S."""


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


def retire_certificates(
    iot: Any, thing_name: str, principals: Sequence[str], *, sleep: Sleep = time.sleep
) -> tuple[list[str], list[str]]:
    """Detach ``principals`` from ``thing_name``, wait until IoT shows them detached, then
    set each certificate among them INACTIVE and delete it (``forceDelete`` also drops
    its policy attachments). Anything already gone is fine, and one certificate that
    cannot go does not stop the others.

    Returns the ids of the certificates removed and a line for each one that could not
    be. Raises CertificateStillAttached when detaching does not take effect in time.
    """
    for principal in principals:
        _ignore_gone(iot.detach_thing_principal, thingName=thing_name, principal=principal)
    _wait_detached(iot, thing_name, principals, sleep=sleep)
    removed: list[str] = []
    problems: list[str] = []
    for principal in principals:
        if ":cert/" not in principal:
            continue  # not a certificate: detached, and not ours to delete
        certificate_id = principal.rsplit("/", 1)[1]
        try:
            _ignore_gone(iot.update_certificate, certificateId=certificate_id, newStatus="INACTIVE")
            _ignore_gone(iot.delete_certificate, certificateId=certificate_id, forceDelete=True)
        except ClientError as exc:
            problems.append(f"certificate {certificate_id}: {exc}")
        else:
            removed.append(certificate_id)
            log.info("certificate %s of %s removed", certificate_id, thing_name)
    return removed, problems


def thing_principals(iot: Any, thing_name: str) -> list[str]:
    """The principals attached to ``thing_name`` (none when the thing is gone)."""
    try:
        pages = iot.get_paginator("list_thing_principals").paginate(thingName=thing_name)
        return [p for page in pages for p in page.get("principals", [])]
    except ClientError as exc:
        if is_gone(exc):
            return []
        raise


def is_gone(exc: ClientError) -> bool:
    """Whether AWS refused because the resource does not exist (any more)."""
    return str(exc.response.get("Error", {}).get("Code", "")) in _GONE


def _wait_detached(iot: Any, thing_name: str, principals: Sequence[str], *, sleep: Sleep) -> None:
    waited = 0.0
    while principals and set(principals) & set(thing_principals(iot, thing_name)):
        if waited >= DETACH_WAIT_S:
            raise CertificateStillAttached(
                f"{', '.join(principals)} still attached to {thing_name} after {waited:g} s"
            )
        sleep(POLL_S)
        waited += POLL_S


def _ignore_gone(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as exc:
        if not is_gone(exc):
            raise
