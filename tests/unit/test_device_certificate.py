"""The virtual device's certificate custom resource: made, attached and stored on Create,
removed again when a step fails, retired with the core device record on Delete, and safe
to run twice (botocore Stubber: moto has no greengrassv2)."""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.device_certificate import handler as certificate
from lambdas.shared import custom_resource

THING = "datapalooza-camera-main-cam-1"
POLICY = f"{THING}-greengrass"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:VirtualCameraCert-abc"
CERT = "c" * 64
CERT_ARN = f"arn:aws:iot:eu-west-1:111122223333:cert/{CERT}"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
DATA_ENDPOINT = "abc123-ats.iot.eu-west-1.amazonaws.com"
CREDENTIALS_ENDPOINT = "xyz789.credentials.iot.eu-west-1.amazonaws.com"


@pytest.fixture
def clients() -> dict[str, Any]:
    kwargs = {"region_name": "eu-west-1", "aws_access_key_id": "k", "aws_secret_access_key": "s"}
    return {
        name: boto3.client(name, **kwargs) for name in ("iot", "secretsmanager", "greengrassv2")
    }


def _expect_made(iot: Stubber) -> None:
    iot.add_response(
        "create_keys_and_certificate",
        {
            "certificateArn": CERT_ARN,
            "certificateId": CERT,
            "certificatePem": PEM,
            "keyPair": {"PublicKey": "pub", "PrivateKey": KEY},
        },
        {"setAsActive": True},
    )
    iot.add_response("attach_policy", {}, {"policyName": POLICY, "target": CERT_ARN})


def _expect_retired(iot: Stubber) -> None:
    iot.add_response("detach_thing_principal", {}, {"thingName": THING, "principal": CERT_ARN})
    iot.add_response("list_thing_principals", {"principals": []}, {"thingName": THING})
    iot.add_response("update_certificate", {}, {"certificateId": CERT, "newStatus": "INACTIVE"})
    iot.add_response("delete_certificate", {}, {"certificateId": CERT, "forceDelete": True})


def test_create_attaches_the_certificate_and_stores_the_key_in_the_secret(clients) -> None:
    iot, secrets = clients["iot"], clients["secretsmanager"]
    with Stubber(iot) as iot_stub, Stubber(secrets) as secrets_stub:
        _expect_made(iot_stub)
        iot_stub.add_response(
            "attach_thing_principal", {}, {"thingName": THING, "principal": CERT_ARN}
        )
        stored = json.dumps({"certificatePem": PEM, "privateKey": KEY})
        secrets_stub.add_response(
            "put_secret_value", {}, {"SecretId": SECRET, "SecretString": stored}
        )
        iot_stub.add_response(
            "describe_endpoint",
            {"endpointAddress": DATA_ENDPOINT},
            {"endpointType": "iot:Data-ATS"},
        )
        iot_stub.add_response(
            "describe_endpoint",
            {"endpointAddress": CREDENTIALS_ENDPOINT},
            {"endpointType": "iot:CredentialProvider"},
        )
        data = certificate.create_certificate(
            thing_name=THING, policy_names=[POLICY], secret_id=SECRET, iot=iot, secrets=secrets
        )
        iot_stub.assert_no_pending_responses()
        secrets_stub.assert_no_pending_responses()
    # What CloudFormation gets back: ids and endpoints, never the key.
    assert data == {
        "CertificateId": CERT,
        "DataEndpoint": DATA_ENDPOINT,
        "CredentialEndpoint": CREDENTIALS_ENDPOINT,
    }
    assert KEY not in json.dumps(data)


def test_a_failed_create_removes_the_certificate_it_made(clients) -> None:
    iot, secrets = clients["iot"], clients["secretsmanager"]
    with Stubber(iot) as iot_stub, Stubber(secrets):
        _expect_made(iot_stub)
        iot_stub.add_client_error(
            "attach_thing_principal", "ResourceNotFoundException", "no such thing"
        )
        # detached already (it never was attached): still retired
        iot_stub.add_client_error(
            "detach_thing_principal", "ResourceNotFoundException", "not attached"
        )
        iot_stub.add_response("list_thing_principals", {"principals": []}, {"thingName": THING})
        iot_stub.add_response(
            "update_certificate", {}, {"certificateId": CERT, "newStatus": "INACTIVE"}
        )
        iot_stub.add_response(
            "delete_certificate", {}, {"certificateId": CERT, "forceDelete": True}
        )
        with pytest.raises(Exception, match="no such thing"):
            certificate.create_certificate(
                thing_name=THING, policy_names=[POLICY], secret_id=SECRET, iot=iot, secrets=secrets
            )
        iot_stub.assert_no_pending_responses()


def test_delete_retires_the_certificate_then_the_core_device_record(clients) -> None:
    iot, greengrass = clients["iot"], clients["greengrassv2"]
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        iot_stub.add_response(
            "describe_certificate",
            {"certificateDescription": {"certificateArn": CERT_ARN, "certificateId": CERT}},
            {"certificateId": CERT},
        )
        _expect_retired(iot_stub)
        gg_stub.add_response("delete_core_device", {}, {"coreDeviceThingName": THING})
        certificate.remove_certificate(
            CERT, thing_name=THING, iot=iot, greengrass=greengrass, sleep=lambda _s: None
        )
        iot_stub.assert_no_pending_responses()
        gg_stub.assert_no_pending_responses()


def test_delete_waits_until_iot_shows_the_certificate_detached(clients) -> None:
    iot, greengrass = clients["iot"], clients["greengrassv2"]
    slept: list[float] = []
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        iot_stub.add_response(
            "describe_certificate",
            {"certificateDescription": {"certificateArn": CERT_ARN}},
            {"certificateId": CERT},
        )
        iot_stub.add_response(
            "detach_thing_principal", {}, {"thingName": THING, "principal": CERT_ARN}
        )
        iot_stub.add_response("list_thing_principals", {"principals": [CERT_ARN]})
        iot_stub.add_response("list_thing_principals", {"principals": []})
        iot_stub.add_response(
            "update_certificate", {}, {"certificateId": CERT, "newStatus": "INACTIVE"}
        )
        iot_stub.add_response(
            "delete_certificate", {}, {"certificateId": CERT, "forceDelete": True}
        )
        gg_stub.add_response("delete_core_device", {})
        certificate.remove_certificate(
            CERT, thing_name=THING, iot=iot, greengrass=greengrass, sleep=slept.append
        )
        iot_stub.assert_no_pending_responses()
    assert slept == [custom_resource.POLL_S]


def test_delete_twice_is_fine_when_everything_is_already_gone(clients) -> None:
    iot, greengrass = clients["iot"], clients["greengrassv2"]
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        iot_stub.add_client_error("describe_certificate", "ResourceNotFoundException", "gone")
        gg_stub.add_client_error("delete_core_device", "ResourceNotFoundException", "gone")
        certificate.remove_certificate(CERT, thing_name=THING, iot=iot, greengrass=greengrass)
        iot_stub.assert_no_pending_responses()
        gg_stub.assert_no_pending_responses()


def test_delete_after_a_failed_create_only_removes_the_core_device_record(clients) -> None:
    iot, greengrass = clients["iot"], clients["greengrassv2"]
    with Stubber(iot), Stubber(greengrass) as gg_stub:
        gg_stub.add_response("delete_core_device", {}, {"coreDeviceThingName": THING})
        certificate.remove_certificate(
            certificate.NOT_CREATED, thing_name=THING, iot=iot, greengrass=greengrass
        )
        gg_stub.assert_no_pending_responses()


def test_other_errors_are_not_swallowed(clients) -> None:
    iot, greengrass = clients["iot"], clients["greengrassv2"]
    with Stubber(iot) as iot_stub, Stubber(greengrass):
        iot_stub.add_client_error("describe_certificate", "AccessDeniedException", "denied")
        with pytest.raises(Exception, match="denied"):
            certificate.remove_certificate(CERT, thing_name=THING, iot=iot, greengrass=greengrass)


def _event(request_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": "stack",
        "RequestId": "req",
        "LogicalResourceId": "Cert",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/put",
        "ResourceProperties": properties,
    }


def _answers(monkeypatch, event: dict[str, Any]) -> list[urllib.request.Request]:
    """What ``handler(event)`` PUTs to CloudFormation."""
    sent: list[urllib.request.Request] = []
    monkeypatch.setattr(urllib.request, "urlopen", sent.append)
    certificate.handler(event, None)
    return sent


def test_the_response_carries_the_physical_id_and_data(monkeypatch) -> None:
    made = {"CertificateId": CERT, "DataEndpoint": DATA_ENDPOINT}
    monkeypatch.setitem(sys.modules, "boto3", _FakeBoto3())
    monkeypatch.setattr(certificate, "create_certificate", lambda **_kwargs: made)
    properties = {"ThingName": THING, "PolicyNames": [POLICY], "SecretArn": SECRET}
    sent = _answers(monkeypatch, _event("Create", properties))
    body = json.loads(sent[0].data)
    assert sent[0].method == "PUT"
    assert body["PhysicalResourceId"] == CERT
    assert body["Data"] == made
    assert body["Status"] == "SUCCESS"


def test_a_failure_is_reported_not_raised(monkeypatch) -> None:
    # No credentials and no network: boto3 fails, and CloudFormation still hears back.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    sent = _answers(monkeypatch, _event("Create", {"ThingName": THING}))
    body = json.loads(sent[0].data)
    assert (body["Status"], body["PhysicalResourceId"], body["Data"]) == (
        "FAILED",
        certificate.NOT_CREATED,
        {},
    )
    assert "KeyError" in body["Reason"]  # PolicyNames missing: named in the reason


def test_a_failed_delete_keeps_the_certificate_as_its_physical_id(monkeypatch) -> None:
    # CloudFormation must not think the certificate gone: the stack stops, and names why.
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise certificate.CertificateNotRetired("denied")

    monkeypatch.setitem(sys.modules, "boto3", _FakeBoto3())
    monkeypatch.setattr(certificate, "remove_certificate", refuse)
    event = {**_event("Delete", {"ThingName": THING}), "PhysicalResourceId": CERT}
    body = json.loads(_answers(monkeypatch, event)[0].data)
    assert (body["Status"], body["PhysicalResourceId"]) == ("FAILED", CERT)
    assert body["Reason"] == "CertificateNotRetired: denied"


class _FakeBoto3:
    @staticmethod
    def client(name: str) -> object:
        return object()
