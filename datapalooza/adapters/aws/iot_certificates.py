"""Retiring the IoT certificates attached to a Greengrass core device's thing: detach
them, wait until IoT shows them detached, then deactivate and delete them.

One implementation for everything that removes a device's identity: the custom-resource
Lambdas (``lambdas/shared/custom_resource.py``; their packages carry the ``datapalooza``
package, stacks/build/custom_resource_function.py) and ``datapalooza workshop teardown``.
Needs only botocore, which Lambda's Python runtime provides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

# DetachThingPrincipal "is asynchronous. It might take several seconds for the detachment
# to propagate", and a principal or thing already gone answers ResourceNotFoundException:
# https://docs.aws.amazon.com/iot/latest/apireference/API_DetachThingPrincipal.html
# (tests/unit/test_core_device_teardown.py waits it out and treats "gone" as done).
DETACH_WAIT_S = 60.0
POLL_S = 3.0
_GONE = {"ResourceNotFoundException"}

Sleep = Callable[[float], None]


class CertificateStillAttached(RuntimeError):
    """DetachThingPrincipal did not take effect within DETACH_WAIT_S."""


def retire_certificates(
    iot: Any,
    thing_name: str,
    principals: Sequence[str],
    *,
    sleep: Sleep = time.sleep,
    keep: Collection[str] = (),
) -> tuple[list[str], list[str]]:
    """Detach ``principals`` from ``thing_name``, wait until IoT shows them detached, then
    set each certificate among them INACTIVE and delete it (``forceDelete`` also drops
    its policy attachments), except those in ``keep`` (detached only). Anything already
    gone is fine, and one certificate that cannot go does not stop the others.

    Returns the ids of the certificates removed and a line for each one that could not
    be. Raises CertificateStillAttached when detaching does not take effect in time.
    """
    for principal in principals:
        _ignore_gone(iot.detach_thing_principal, thingName=thing_name, principal=principal)
    _wait_detached(iot, thing_name, principals, sleep=sleep)
    removed: list[str] = []
    problems: list[str] = []
    for principal in principals:
        if ":cert/" not in principal or principal in keep:
            continue  # detached, and not ours to delete
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
