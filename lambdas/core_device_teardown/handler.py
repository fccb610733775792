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

CloudFormation hears back whatever happens; the response and the certificate removal are
``lambdas/shared/custom_resource.py``, which the device certificate function shares.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from lambdas.shared import custom_resource
from lambdas.shared.custom_resource import Outcome, Sleep

log = logging.getLogger()
log.setLevel(logging.INFO)


class TeardownIncomplete(RuntimeError):
    """Some certificates could not be removed; names each one and why."""


def handler(event: dict[str, Any], context: Any) -> None:
    custom_resource.answer(event, context, _run, failed_physical_id=_physical_id(event))


def _physical_id(event: dict[str, Any]) -> str:
    return str(event.get("PhysicalResourceId") or event["ResourceProperties"]["ThingName"])


def _run(event: dict[str, Any]) -> Outcome:
    if event["RequestType"] == "Delete":
        import boto3

        props = event["ResourceProperties"]
        removed = remove_core_device(
            props["ThingName"], iot=boto3.client("iot"), greengrass=boto3.client("greengrassv2")
        )
        log.info("removed certificates %s of %s", removed, props["ThingName"])
    return Outcome(_physical_id(event))


def remove_core_device(
    thing_name: str, *, iot: Any, greengrass: Any, sleep: Sleep = time.sleep
) -> list[str]:
    """Remove ``thing_name``'s certificates and core device record; return the ids of the
    certificates removed. Raises TeardownIncomplete after trying every certificate."""
    principals = custom_resource.thing_principals(iot, thing_name)
    removed, problems = custom_resource.retire_certificates(
        iot, thing_name, principals, sleep=sleep
    )
    # A device that never connected has no record: nothing to delete.
    with contextlib.suppress(greengrass.exceptions.ResourceNotFoundException):
        greengrass.delete_core_device(coreDeviceThingName=thing_name)
    if problems:
        raise TeardownIncomplete("; ".join(problems))
    return removed
