"""CloudFormation custom resource: on stack delete, remove what the Greengrass installer
created for a core device outside CloudFormation, so ``cdk destroy`` leaves nothing.

The installer (``--provision true``) creates the device's X.509 certificate and attaches
it to the thing and its IoT policy; once the device connects, Greengrass also keeps a
core device record. CloudFormation cannot delete a thing or a policy that still has a
certificate attached, and never knew about the record. On ``Delete`` this handler, for
the one thing named in its properties:

1. detaches each certificate from the thing, waits until IoT shows it detached, sets it
   INACTIVE and deletes it (``forceDelete`` also drops its policy attachments: a
   certificate made for this thing is ours to remove);
2. deletes the Greengrass core device record (none yet is fine).

One certificate that cannot go (attached to another thing too) does not stop the
others; the response then reports FAILED naming it, so the stack stops before deleting
the thing and the instructor sees why. ``Create`` and ``Update`` do nothing.

Lambda-backed custom resource: CloudFormation waits for the response this handler PUTs
to the pre-signed ``ResponseURL``, so a response is sent whatever happens.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

DETACH_WAIT_S = 60.0  # DetachThingPrincipal is asynchronous: seconds to propagate
POLL_S = 3.0
REASON_LIMIT = 1000  # keep the response small; the log has the details


class TeardownIncomplete(RuntimeError):
    """Some certificates could not be removed; names each one and why."""


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, context, *_run(event))


def _run(event: dict[str, Any]) -> tuple[str, str]:
    try:
        if event["RequestType"] == "Delete":
            import boto3

            props = event["ResourceProperties"]
            removed = remove_core_device(
                props["ThingName"], iot=boto3.client("iot"), greengrass=boto3.client("greengrassv2")
            )
            log.info("removed certificates %s of %s", removed, props["ThingName"])
        return "SUCCESS", ""
    except Exception as exc:  # the stack must hear back, whatever failed
        log.exception("core device teardown failed")
        return "FAILED", f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]


def remove_core_device(
    thing_name: str,
    *,
    iot: Any,
    greengrass: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Remove ``thing_name``'s certificates and core device record; return the ids of the
    certificates removed. Raises TeardownIncomplete after trying every certificate."""
    principals = _principals(iot, thing_name)
    for principal in principals:
        iot.detach_thing_principal(thingName=thing_name, principal=principal)
    _wait_detached(iot, thing_name, principals, sleep=sleep)

    removed: list[str] = []
    problems: list[str] = []
    for principal in principals:
        if ":cert/" not in principal:
            continue  # not a certificate (nothing else is created by the installer)
        certificate_id = principal.rsplit("/", 1)[1]
        try:
            iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
            iot.delete_certificate(certificateId=certificate_id, forceDelete=True)
            removed.append(certificate_id)
        except ClientError as exc:
            problems.append(f"certificate {certificate_id}: {exc}")
    # A device that never connected has no record: nothing to delete.
    with contextlib.suppress(greengrass.exceptions.ResourceNotFoundException):
        greengrass.delete_core_device(coreDeviceThingName=thing_name)
    if problems:
        raise TeardownIncomplete("; ".join(problems))
    return removed


def _principals(iot: Any, thing_name: str) -> list[str]:
    found: list[str] = []
    for page in iot.get_paginator("list_thing_principals").paginate(thingName=thing_name):
        found.extend(page.get("principals", []))
    return found


def _wait_detached(
    iot: Any, thing_name: str, principals: list[str], *, sleep: Callable[[float], None]
) -> None:
    waited = 0.0
    while principals and set(principals) & set(_principals(iot, thing_name)):
        if waited >= DETACH_WAIT_S:
            raise TeardownIncomplete(f"{thing_name}: certificates still attached after {waited}s")
        sleep(POLL_S)
        waited += POLL_S


def respond(
    event: dict[str, Any],
    context: Any,
    status: str,
    reason: str,
    *,
    send: Callable[[urllib.request.Request], Any] | None = None,
) -> None:
    """PUT the custom resource response to CloudFormation's pre-signed URL."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"see log stream {getattr(context, 'log_stream_name', '?')}",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or event["ResourceProperties"]["ThingName"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (CloudFormation's https URL)
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    response = (send or urllib.request.urlopen)(request)
    getattr(response, "close", lambda: None)()
