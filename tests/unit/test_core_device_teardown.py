"""The custom resource that lets `cdk destroy` delete a provisioned Greengrass device's
thing and policy: certificates detached and deleted, core device record removed, and a
response to CloudFormation whatever happens (botocore Stubber: moto has no greengrassv2)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.core_device_teardown import handler as teardown
from lambdas.shared import custom_resource

THING = "datapalooza-camera-main-cam-1"
CERT_A = "a" * 64
CERT_B = "b" * 64


def _cert_arn(certificate_id: str) -> str:
    return f"arn:aws:iot:eu-west-1:111122223333:cert/{certificate_id}"


@pytest.fixture
def clients() -> tuple[Any, Any]:
    kwargs = {"region_name": "eu-west-1", "aws_access_key_id": "k", "aws_secret_access_key": "s"}
    return boto3.client("iot", **kwargs), boto3.client("greengrassv2", **kwargs)


def _expect_detach(iot: Stubber, certificates: list[str]) -> None:
    arns = [_cert_arn(c) for c in certificates]
    iot.add_response("list_thing_principals", {"principals": arns}, {"thingName": THING})
    for arn in arns:
        iot.add_response("detach_thing_principal", {}, {"thingName": THING, "principal": arn})
    # IoT shows them detached on the first look
    iot.add_response("list_thing_principals", {"principals": []}, {"thingName": THING})


def test_delete_removes_every_certificate_and_the_core_device_record(clients) -> None:
    iot, greengrass = clients
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        _expect_detach(iot_stub, [CERT_A, CERT_B])
        for certificate in (CERT_A, CERT_B):
            iot_stub.add_response(
                "update_certificate", {}, {"certificateId": certificate, "newStatus": "INACTIVE"}
            )
            iot_stub.add_response(
                "delete_certificate", {}, {"certificateId": certificate, "forceDelete": True}
            )
        gg_stub.add_response("delete_core_device", {}, {"coreDeviceThingName": THING})
        removed = teardown.remove_core_device(THING, iot=iot, greengrass=greengrass)
        iot_stub.assert_no_pending_responses()
        gg_stub.assert_no_pending_responses()
    assert removed == [CERT_A, CERT_B]


def test_a_device_that_never_connected_is_fine(clients) -> None:
    iot, greengrass = clients
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        iot_stub.add_response("list_thing_principals", {"principals": []}, {"thingName": THING})
        gg_stub.add_client_error(
            "delete_core_device", "ResourceNotFoundException", http_status_code=404
        )
        assert teardown.remove_core_device(THING, iot=iot, greengrass=greengrass) == []
        gg_stub.assert_no_pending_responses()


def test_detaching_is_awaited_because_iot_applies_it_asynchronously(clients) -> None:
    iot, greengrass = clients
    slept: list[float] = []
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        arn = _cert_arn(CERT_A)
        iot_stub.add_response("list_thing_principals", {"principals": [arn]}, {"thingName": THING})
        iot_stub.add_response("detach_thing_principal", {}, {"thingName": THING, "principal": arn})
        iot_stub.add_response("list_thing_principals", {"principals": [arn]}, {"thingName": THING})
        iot_stub.add_response("list_thing_principals", {"principals": []}, {"thingName": THING})
        iot_stub.add_response("update_certificate", {}, None)
        iot_stub.add_response("delete_certificate", {}, None)
        gg_stub.add_response("delete_core_device", {}, None)
        teardown.remove_core_device(THING, iot=iot, greengrass=greengrass, sleep=slept.append)
    assert slept == [custom_resource.POLL_S]


def test_one_certificate_that_cannot_go_does_not_stop_the_others(clients) -> None:
    iot, greengrass = clients
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        _expect_detach(iot_stub, [CERT_A, CERT_B])
        iot_stub.add_response("update_certificate", {}, None)
        iot_stub.add_client_error(
            "delete_certificate",
            "DeleteConflictException",
            "attached to another thing",
            http_status_code=409,
        )
        iot_stub.add_response("update_certificate", {}, None)
        iot_stub.add_response(
            "delete_certificate", {}, {"certificateId": CERT_B, "forceDelete": True}
        )
        gg_stub.add_response("delete_core_device", {}, None)
        with pytest.raises(teardown.TeardownIncomplete, match=f"certificate {CERT_A}"):
            teardown.remove_core_device(THING, iot=iot, greengrass=greengrass)
        iot_stub.assert_no_pending_responses()  # CERT_B was still removed


def test_a_certificate_already_deleted_counts_as_removed(clients) -> None:
    # (an earlier, interrupted `cdk destroy` got that far)
    iot, greengrass = clients
    with Stubber(iot) as iot_stub, Stubber(greengrass) as gg_stub:
        _expect_detach(iot_stub, [CERT_A])
        iot_stub.add_client_error("update_certificate", "ResourceNotFoundException", "gone")
        iot_stub.add_client_error("delete_certificate", "ResourceNotFoundException", "gone")
        gg_stub.add_response("delete_core_device", {}, None)
        assert teardown.remove_core_device(THING, iot=iot, greengrass=greengrass) == [CERT_A]
        iot_stub.assert_no_pending_responses()


def _event(request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/presigned",
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/s/1",
        "RequestId": "r-1",
        "LogicalResourceId": "CameraTeardown",
        "ResourceProperties": {"ServiceToken": "arn:fn", "ThingName": THING},
    }


def test_cloudformation_always_hears_back(monkeypatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(urllib.request, "urlopen", sent.append)
    # Create does nothing but answer
    teardown.handler(_event("Create"), None)
    # A Delete whose AWS calls blow up still answers, FAILED with the reason
    monkeypatch.setattr(
        teardown, "remove_core_device", lambda *a, **k: (_ for _ in ()).throw(OSError("boom"))
    )
    monkeypatch.setitem(__import__("sys").modules, "boto3", _FakeBoto3())
    teardown.handler(_event("Delete"), None)
    bodies = [json.loads(request.data) for request in sent]
    assert [b["Status"] for b in bodies] == ["SUCCESS", "FAILED"]
    assert bodies[1]["Reason"] == "OSError: boom"
    assert all(b["PhysicalResourceId"] == THING and b["RequestId"] == "r-1" for b in bodies)
    assert all(request.get_method() == "PUT" for request in sent)


class _FakeBoto3:
    @staticmethod
    def client(name: str) -> object:
        return object()
