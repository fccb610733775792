"""CloudFormation custom resource: the virtual core device's X.509 certificate.

The stack provisions the virtual device itself, so the instance never needs the
installer's broad provisioning rights (``--provision true``: create things, policies,
roles, certificates). On ``Create`` this handler:

1. creates a key pair and an active certificate (``iot:CreateKeysAndCertificate``; AWS IoT
   returns the private key this once and keeps no copy);
2. attaches the device's IoT policies to it and attaches it to the device's thing;
3. puts the certificate and key into the stack's Secrets Manager secret, which only the
   instance role may read;
4. returns the certificate id and the account's IoT data and credentials endpoints,
   which the instance's Greengrass configuration needs.

On ``Delete`` (after CloudFormation has terminated the instance) it detaches, deactivates
and deletes that certificate and deletes the thing's Greengrass core device record, so
``cdk destroy`` leaves nothing. Each step tolerates "already gone": a second run
succeeds. ``Update`` makes a new certificate; CloudFormation then deletes the old one.

Lambda-backed custom resource: CloudFormation waits for the response this handler PUTs
to the pre-signed ``ResponseURL``, so a response is sent whatever happens.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

DETACH_WAIT_S = 60.0  # DetachThingPrincipal is asynchronous: seconds to propagate
POLL_S = 3.0
REASON_LIMIT = 1000  # keep the response small; the log has the details
NOT_CREATED = "no-certificate"
"""Physical id reported when Create failed: Delete then has no certificate to remove."""
_CERTIFICATE_ID = re.compile(r"^[0-9a-f]{64}$")
_GONE = {"ResourceNotFoundException"}


class CertificateStillAttached(RuntimeError):
    """DetachThingPrincipal did not take effect within DETACH_WAIT_S."""


def handler(event: dict[str, Any], context: Any) -> None:
    respond(event, context, *_run(event))


def _run(event: dict[str, Any]) -> tuple[str, str, str, dict[str, str]]:
    """(status, reason, physical id, data) for CloudFormation."""
    physical_id = event.get("PhysicalResourceId", NOT_CREATED)
    try:
        import boto3

        props = event["ResourceProperties"]
        iot = boto3.client("iot")
        if event["RequestType"] in ("Create", "Update"):
            data = create_certificate(
                thing_name=props["ThingName"],
                policy_names=props["PolicyNames"],
                secret_id=props["SecretArn"],
                iot=iot,
                secrets=boto3.client("secretsmanager"),
            )
            return "SUCCESS", "", data["CertificateId"], data
        remove_certificate(
            physical_id,
            thing_name=props["ThingName"],
            iot=iot,
            greengrass=boto3.client("greengrassv2"),
        )
        return "SUCCESS", "", physical_id, {}
    except Exception as exc:  # the stack must hear back, whatever failed
        log.exception("device certificate %s failed", event.get("RequestType"))
        failed_id = physical_id if event.get("RequestType") == "Delete" else NOT_CREATED
        return "FAILED", f"{type(exc).__name__}: {exc}"[:REASON_LIMIT], failed_id, {}


def create_certificate(
    *,
    thing_name: str,
    policy_names: Sequence[str],
    secret_id: str,
    iot: Any,
    secrets: Any,
) -> dict[str, str]:
    """Make, attach and store one certificate for ``thing_name``; on any failure the
    certificate is removed again before the error propagates."""
    created = iot.create_keys_and_certificate(setAsActive=True)
    certificate_id: str = created["certificateId"]
    certificate_arn: str = created["certificateArn"]
    try:
        for policy_name in policy_names:
            iot.attach_policy(policyName=policy_name, target=certificate_arn)
        iot.attach_thing_principal(thingName=thing_name, principal=certificate_arn)
        secrets.put_secret_value(
            SecretId=secret_id,
            SecretString=json.dumps(
                {
                    "certificatePem": created["certificatePem"],
                    "privateKey": created["keyPair"]["PrivateKey"],
                }
            ),
        )
        data_endpoint = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        credentials_endpoint = iot.describe_endpoint(endpointType="iot:CredentialProvider")[
            "endpointAddress"
        ]
    except Exception:
        log.exception("provisioning %s failed: removing its certificate", thing_name)
        _retire(iot, certificate_id, certificate_arn, thing_name, sleep=time.sleep)
        raise
    log.info("certificate %s made for %s", certificate_id, thing_name)
    return {
        "CertificateId": certificate_id,
        "DataEndpoint": data_endpoint,
        "CredentialEndpoint": credentials_endpoint,
    }


def remove_certificate(
    certificate_id: str,
    *,
    thing_name: str,
    iot: Any,
    greengrass: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Retire ``certificate_id`` (if it is one) and delete ``thing_name``'s core device
    record; anything already gone is fine."""
    if _CERTIFICATE_ID.match(certificate_id):
        try:
            arn = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"][
                "certificateArn"
            ]
        except ClientError as exc:
            if _code(exc) not in _GONE:
                raise
        else:
            _retire(iot, certificate_id, arn, thing_name, sleep=sleep)
    try:
        greengrass.delete_core_device(coreDeviceThingName=thing_name)
    except ClientError as exc:
        if _code(exc) not in _GONE:
            raise


def _retire(
    iot: Any,
    certificate_id: str,
    certificate_arn: str,
    thing_name: str,
    *,
    sleep: Callable[[float], None],
) -> None:
    _ignore_gone(iot.detach_thing_principal, thingName=thing_name, principal=certificate_arn)
    deadline = time.monotonic() + DETACH_WAIT_S
    while certificate_arn in _principals(iot, thing_name):
        if time.monotonic() >= deadline:
            raise CertificateStillAttached(
                f"{certificate_id} still attached to {thing_name} after {DETACH_WAIT_S:g} s"
            )
        sleep(POLL_S)
    _ignore_gone(iot.update_certificate, certificateId=certificate_id, newStatus="INACTIVE")
    # forceDelete also drops the certificate's policy attachments.
    _ignore_gone(iot.delete_certificate, certificateId=certificate_id, forceDelete=True)
    log.info("certificate %s of %s removed", certificate_id, thing_name)


def _principals(iot: Any, thing_name: str) -> list[str]:
    try:
        pages = iot.get_paginator("list_thing_principals").paginate(thingName=thing_name)
        return [p for page in pages for p in page.get("principals", [])]
    except ClientError as exc:
        if _code(exc) in _GONE:
            return []
        raise


def _ignore_gone(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as exc:
        if _code(exc) not in _GONE:
            raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def respond(
    event: dict[str, Any],
    context: Any,
    status: str,
    reason: str,
    physical_id: str,
    data: dict[str, str],
    *,
    send: Callable[[urllib.request.Request], Any] | None = None,
) -> None:
    """PUT the custom resource response to CloudFormation's pre-signed URL. The data
    holds no secret: the key stays in Secrets Manager."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"see log stream {getattr(context, 'log_stream_name', '?')}",
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
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
