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

CloudFormation hears back whatever happens; the response and the certificate removal are
``lambdas/shared/custom_resource.py``, which the core device teardown function shares.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from lambdas.shared import custom_resource
from lambdas.shared.custom_resource import Outcome, Sleep

log = logging.getLogger()
log.setLevel(logging.INFO)

NOT_CREATED = "no-certificate"
"""Physical id reported when Create failed: Delete then has no certificate to remove."""
_CERTIFICATE_ID = re.compile(r"^[0-9a-f]{64}$")


class CertificateNotRetired(RuntimeError):
    """IoT refused to deactivate or delete the certificate."""


def handler(event: dict[str, Any], context: Any) -> None:
    physical_id = event.get("PhysicalResourceId", NOT_CREATED)
    # A failed Create or Update made no certificate; a failed Delete keeps the old one.
    failed_id = physical_id if event.get("RequestType") == "Delete" else NOT_CREATED
    custom_resource.answer(event, context, _run, failed_physical_id=failed_id)


def _run(event: dict[str, Any]) -> Outcome:
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
        return Outcome(data["CertificateId"], data)
    physical_id = event.get("PhysicalResourceId", NOT_CREATED)
    remove_certificate(
        physical_id,
        thing_name=props["ThingName"],
        iot=iot,
        greengrass=boto3.client("greengrassv2"),
    )
    return Outcome(physical_id)


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
        _retire(iot, certificate_arn, thing_name, sleep=time.sleep)
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
    sleep: Sleep = time.sleep,
) -> None:
    """Retire ``certificate_id`` (if it is one) and delete ``thing_name``'s core device
    record; anything already gone is fine."""
    if _CERTIFICATE_ID.match(certificate_id):
        try:
            arn = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"][
                "certificateArn"
            ]
        except ClientError as exc:
            if not custom_resource.is_gone(exc):
                raise
        else:
            _retire(iot, arn, thing_name, sleep=sleep)
    try:
        greengrass.delete_core_device(coreDeviceThingName=thing_name)
    except ClientError as exc:
        if not custom_resource.is_gone(exc):
            raise


def _retire(iot: Any, certificate_arn: str, thing_name: str, *, sleep: Sleep) -> None:
    _, problems = custom_resource.retire_certificates(
        iot, thing_name, [certificate_arn], sleep=sleep
    )
    if problems:
        raise CertificateNotRetired("; ".join(problems))
