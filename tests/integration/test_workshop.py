"""``datapalooza workshop status`` and ``teardown`` against botocore's Stubber: every
AWS call is the one expected, with the expected parameters, in order; an unexpected
call (say, a delete during --dry-run) fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from datapalooza import constants
from datapalooza.cli import main
from datapalooza.deployment import DeploymentShape
from datapalooza.naming import TeamNames
from datapalooza.planning.challenge_cost import challenge_costs
from datapalooza.planning.prices import load_prices
from datapalooza.workshop.inventory import find_team_stacks
from datapalooza.workshop.status import format_status, workshop_status
from datapalooza.workshop.teardown import WorkshopClients, format_report, teardown

REGION = "us-east-1"
# Team alice's names, by the same rule the CDK app uses.
ALICE = TeamNames("alice")
ALICE_STACK = ALICE.stack(1)
ALICE_ENDPOINT = ALICE.endpoint(constants.DEFAULT_ENDPOINT_NAME)
CERT_ID = "a" * 64  # IoT certificate ids are 64 hex digits
CERT = f"arn:aws:iot:us-east-1:123456789012:cert/{CERT_ID}"
# The default team's camera (its IoT thing and Greengrass core device) and endpoint logs.
CAMERA = "datapalooza-camera-main-cam-1"
ENDPOINT_LOGS = "/aws/sagemaker/Endpoints/datapalooza-face-detection"


def _client(service: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    ).client(service)


@pytest.fixture
def aws() -> Iterator[dict[str, Stubber]]:
    clients = {
        name: _client(name)
        for name in ("cloudformation", "sagemaker", "greengrassv2", "iot", "logs")
    }
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def _clients(aws: dict[str, Stubber]) -> WorkshopClients:
    return WorkshopClients(
        cloudformation=aws["cloudformation"].client,
        iot=aws["iot"].client,
        greengrass=aws["greengrassv2"].client,
        logs=aws["logs"].client,
    )


def _stack(
    name: str, *, team: str | None, challenge: int, outputs: dict[str, str]
) -> dict[str, Any]:
    tags = []
    if team is not None:
        tags = [
            {"Key": constants.TEAM_TAG, "Value": team},
            {"Key": constants.CHALLENGE_TAG, "Value": str(challenge)},
        ]
    return {
        "StackName": name,
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1",
        "CreationTime": datetime(2026, 11, 30, tzinfo=UTC),
        "StackStatus": "CREATE_COMPLETE",
        "Tags": tags,
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }


def _default_team() -> list[dict[str, Any]]:
    # Deployed before the tag existed: recognised by the app's stack names.
    return [
        _stack(
            constants.CLOUD_INFERENCE_STACK,
            team=None,
            challenge=1,
            outputs={"EndpointName": "datapalooza-face-detection"},
        ),
        _stack(
            constants.EMOTION_TRACKER_STACK,
            team=None,
            challenge=2,
            outputs={
                "CameraThingName": CAMERA,
                "CameraIotPolicy": f"{CAMERA}-greengrass",
            },
        ),
    ]


def _alice() -> list[dict[str, Any]]:
    return [
        _stack(
            ALICE_STACK,
            team="alice",
            challenge=1,
            outputs={"EndpointName": ALICE_ENDPOINT},
        )
    ]


def _other() -> dict[str, Any]:
    return _stack("SomebodyElse", team=None, challenge=0, outputs={})


def _describe(aws: dict[str, Stubber], stacks: list[dict[str, Any]]) -> None:
    aws["cloudformation"].add_response("describe_stacks", {"Stacks": stacks}, {})


def _not_found(
    stubber: Stubber, operation: str, params: dict[str, Any], *, http_status_code: int = 404
) -> None:
    """The service answers ResourceNotFoundException: never made, or already gone.
    Greengrass and IoT send it with status 404, CloudWatch Logs with 400
    (https://docs.aws.amazon.com/greengrass/v2/APIReference/API_DeleteCoreDevice.html,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html)."""
    stubber.add_client_error(
        operation,
        "ResourceNotFoundException",
        f"{operation}: not found",
        http_status_code=http_status_code,
        expected_params=params,
    )


# --- status -------------------------------------------------------------------------


def _status(aws: dict[str, Stubber]) -> list[Any]:
    return workshop_status(
        cloudformation=aws["cloudformation"].client,
        sagemaker=aws["sagemaker"].client,
        greengrass=aws["greengrassv2"].client,
        prices=load_prices(REGION),
        shape=DeploymentShape(),
    )


def test_status_with_nothing_deployed(aws: dict[str, Stubber]) -> None:
    _describe(aws, [_other()])
    statuses = _status(aws)
    assert statuses == []
    assert format_status(statuses, region=REGION) == "No DataPalooza stacks in us-east-1."


def _expect_endpoint(
    aws: dict[str, Stubber],
    name: str,
    status: str,
    instances: int,
    instance_type: str = "ml.m5.large",
) -> None:
    """SageMaker describes endpoint ``name``: its status and running instances, and its
    config the instances' type."""
    answer = {
        "EndpointName": name,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
        "EndpointConfigName": f"{name}-config",
        "EndpointStatus": status,
        "CreationTime": datetime(2026, 11, 30, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 11, 30, tzinfo=UTC),
        "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentInstanceCount": instances}],
    }
    aws["sagemaker"].add_response("describe_endpoint", answer, {"EndpointName": name})
    config = {
        "EndpointConfigName": f"{name}-config",
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}",
        "CreationTime": datetime(2026, 11, 30, tzinfo=UTC),
        "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": "model", "InstanceType": instance_type}
        ],
    }
    aws["sagemaker"].add_response(
        "describe_endpoint_config", config, {"EndpointConfigName": f"{name}-config"}
    )


def test_status_of_two_teams(aws: dict[str, Stubber]) -> None:
    _describe(aws, [*_alice(), *_default_team(), _other()])
    # alice first (teams sorted), then default: endpoint, then the camera's core device.
    _expect_endpoint(aws, ALICE_ENDPOINT, "Creating", 0)
    _expect_endpoint(aws, "datapalooza-face-detection", "InService", 3)
    seen = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    aws["greengrassv2"].add_response(
        "get_core_device",
        {
            "coreDeviceThingName": CAMERA,
            "status": "HEALTHY",
            "lastStatusUpdateTimestamp": seen,
        },
        {"coreDeviceThingName": CAMERA},
    )

    alice, default = _status(aws)

    prices = load_prices(REGION)
    costs = challenge_costs(DeploymentShape(), prices)
    assert alice.team == "alice" and [s.name for s in alice.stacks] == [ALICE_STACK]
    assert alice.endpoints[0].status == "Creating"
    # challenge 1 without running instances: 1 assumed instance out, 0 running in
    assert alice.cost_per_hour == pytest.approx(costs[0].known_cost_per_hour - 0.115)
    assert [s.name for s in default.stacks] == [
        constants.EMOTION_TRACKER_STACK,
        constants.CLOUD_INFERENCE_STACK,
    ]
    assert default.devices[0].status == "HEALTHY" and default.devices[0].last_update == seen
    # challenge 2's estimate with 3 running instances instead of 1: + 2 x $0.115
    assert default.cost_per_hour == pytest.approx(costs[1].known_cost_per_hour + 2 * 0.115)
    text = format_status([alice, default], region=REGION)
    assert "InService (3 instance(s))" in text
    assert "last contact 2026-11-30T21:00:00+00:00" in text


def test_untagged_stacks_are_found_by_the_naming_rule() -> None:
    # A team's stacks that lost their tags are still that team's, by the rule that named
    # them; names outside the rule (or the default team's name with a team) are not.
    bob = TeamNames("bob")
    stacks = [
        _stack(bob.stack(3), team=None, challenge=3, outputs={}),
        _stack(bob.stack(1), team=None, challenge=1, outputs={}),
        _stack("DataPalooza-Bob-Challenge1-Endpoint", team=None, challenge=1, outputs={}),
        _stack("DataPalooza-bob-Challenge9-Endpoint", team=None, challenge=9, outputs={}),
        _other(),
    ]
    client = _client("cloudformation")
    with Stubber(client) as stubber:
        stubber.add_response("describe_stacks", {"Stacks": stacks}, {})
        found = find_team_stacks(client)
    assert list(found) == ["bob"]
    assert [(s.name, s.challenge) for s in found["bob"]] == [
        ("DataPalooza-bob-Challenge3-Edge", 3),
        ("DataPalooza-bob-Challenge1-Endpoint", 1),
    ]


def test_status_reports_a_device_that_never_connected_and_a_missing_endpoint(
    aws: dict[str, Stubber],
) -> None:
    _describe(aws, _default_team())
    aws["sagemaker"].add_client_error(
        "describe_endpoint",
        "ValidationException",
        "Could not find endpoint",
        expected_params={"EndpointName": "datapalooza-face-detection"},
    )
    _not_found(aws["greengrassv2"], "get_core_device", {"coreDeviceThingName": CAMERA})
    (default,) = _status(aws)
    assert default.endpoints[0].status == "missing"
    assert default.devices[0].status == "not registered"
    assert "last contact never" in format_status([default], region=REGION)


# --- teardown -----------------------------------------------------------------------


def _expect_release(aws: dict[str, Stubber], thing: str, policy: str) -> None:
    iot = aws["iot"]
    iot.add_response("list_thing_principals", {"principals": [CERT]}, {"thingName": thing})
    # no other thing uses the certificate
    iot.add_response("list_principal_things", {"things": [thing]}, {"principal": CERT})
    iot.add_response("detach_policy", {}, {"policyName": policy, "target": CERT})
    iot.add_response("detach_thing_principal", {}, {"thingName": thing, "principal": CERT})
    # detached at once (tests/unit/test_workshop_teardown.py: only a few looks later)
    iot.add_response("list_thing_principals", {"principals": []}, {"thingName": thing})
    iot.add_response("update_certificate", {}, {"certificateId": CERT_ID, "newStatus": "INACTIVE"})
    iot.add_response("delete_certificate", {}, {"certificateId": CERT_ID, "forceDelete": True})


def _expect_stack_deleted(aws: dict[str, Stubber], name: str) -> None:
    cfn = aws["cloudformation"]
    cfn.add_response("delete_stack", {}, {"StackName": name})
    gone = _stack(name, team=None, challenge=0, outputs={})
    gone["StackStatus"] = "DELETE_COMPLETE"
    cfn.add_response("describe_stacks", {"Stacks": [gone]}, {"StackName": name})


def _expect_default_team_removed(aws: dict[str, Stubber]) -> None:
    _expect_release(aws, CAMERA, f"{CAMERA}-greengrass")
    # Challenge 2 before Challenge 1: it depends on the endpoint and the faces bucket.
    _expect_stack_deleted(aws, constants.EMOTION_TRACKER_STACK)
    _expect_stack_deleted(aws, constants.CLOUD_INFERENCE_STACK)
    aws["greengrassv2"].add_response("delete_core_device", {}, {"coreDeviceThingName": CAMERA})
    aws["logs"].add_response("delete_log_group", {}, {"logGroupName": ENDPOINT_LOGS})


def _run(aws: dict[str, Stubber], **kwargs: Any) -> tuple[Any, list[str]]:
    """Teardown against the stubs, one team at a time: the Stubber answers calls in the
    order they are queued (tests/unit/test_workshop_teardown.py runs teams side by side)."""
    lines: list[str] = []
    kwargs.setdefault("teams_at_once", 1)
    report = teardown(_clients(aws), echo=lines.append, poll_s=0, **kwargs)
    return report, lines


def test_teardown_with_nothing_deployed(aws: dict[str, Stubber]) -> None:
    _describe(aws, [_other()])
    report, _ = _run(aws, all_teams=True)
    assert report.planned == [] and report.removed == []


def test_teardown_one_team_in_dependency_order(aws: dict[str, Stubber]) -> None:
    _describe(aws, [*_alice(), *_default_team()])
    _expect_default_team_removed(aws)
    report, lines = _run(aws, teams=["default"])
    assert [str(r) for r in report.removed] == [
        "default: thing certificates of datapalooza-camera-main-cam-1",
        f"default: stack {constants.EMOTION_TRACKER_STACK}",
        f"default: stack {constants.CLOUD_INFERENCE_STACK}",
        "default: core device datapalooza-camera-main-cam-1",
        "default: log group /aws/sagemaker/Endpoints/datapalooza-face-detection",
    ]
    assert report.removed == report.planned
    # what it will remove is printed before anything is removed
    assert lines.index(
        f"will remove default: stack {constants.CLOUD_INFERENCE_STACK}"
    ) < lines.index("removed default: thing certificates of datapalooza-camera-main-cam-1")
    assert not [line for line in lines if "alice" in line]


def test_teardown_all_teams(aws: dict[str, Stubber]) -> None:
    _describe(aws, [*_alice(), *_default_team()])
    _expect_stack_deleted(aws, ALICE_STACK)
    aws["logs"].add_response(
        "delete_log_group", {}, {"logGroupName": f"/aws/sagemaker/Endpoints/{ALICE_ENDPOINT}"}
    )
    _expect_default_team_removed(aws)
    report, _ = _run(aws, all_teams=True)
    assert len(report.removed) == 7 and not report.failed


def test_dry_run_removes_nothing(aws: dict[str, Stubber]) -> None:
    # Only describe_stacks is stubbed: any delete or detach would fail the test.
    _describe(aws, [*_alice(), *_default_team()])
    report, lines = _run(aws, all_teams=True, dry_run=True)
    assert report.removed == [] and len(report.planned) == 7
    assert all(line.startswith("would remove ") for line in lines)


def test_second_run_finds_nothing_and_leftovers_already_gone_are_fine(
    aws: dict[str, Stubber],
) -> None:
    # First run was interrupted after the stacks: only leftovers remain to be found gone.
    _describe(aws, _default_team())
    _not_found(aws["iot"], "list_thing_principals", {"thingName": CAMERA})
    for name in (constants.EMOTION_TRACKER_STACK, constants.CLOUD_INFERENCE_STACK):
        aws["cloudformation"].add_client_error(
            "delete_stack",
            "ValidationException",
            f"Stack with id {name} does not exist",
            expected_params={"StackName": name},
        )
    _not_found(aws["greengrassv2"], "delete_core_device", {"coreDeviceThingName": CAMERA})
    _not_found(
        aws["logs"], "delete_log_group", {"logGroupName": ENDPOINT_LOGS}, http_status_code=400
    )
    report, _ = _run(aws, teams=["default"])
    assert len(report.already_gone) == 5 and not report.failed
    # and a run after that: nothing deployed, nothing to do
    _describe(aws, [])
    again, lines = _run(aws, teams=["default"])
    assert again.planned == [] and lines == ["default: no DataPalooza stacks (nothing to remove)"]


def test_a_stack_that_fails_to_delete_stops_its_team(aws: dict[str, Stubber]) -> None:
    _describe(aws, _default_team())
    _expect_release(aws, CAMERA, f"{CAMERA}-greengrass")
    aws["cloudformation"].add_client_error(
        "delete_stack",
        "AccessDenied",
        "not allowed",
        expected_params={"StackName": constants.EMOTION_TRACKER_STACK},
    )
    report, lines = _run(aws, teams=["default"])
    assert [str(r) for r, _ in report.failed] == [
        f"default: stack {constants.EMOTION_TRACKER_STACK}"
    ]
    # Challenge 1 is left in place: nothing after the failed stack was attempted.
    assert f"removed default: stack {constants.CLOUD_INFERENCE_STACK}" not in lines


# --- CLI ----------------------------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["workshop", "status", "--region", REGION],
        ["workshop", "teardown", "--all", "--dry-run", "--region", REGION],
    ],
)
def test_missing_credentials_is_one_clear_line(
    no_credentials: None, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "datapalooza: error: no AWS credentials found: configure a profile (aws configure, "
        "--profile) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    ]


def test_teardown_needs_a_team_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["workshop", "teardown", "--region", REGION])
    assert "one of the arguments --team --all is required" in capsys.readouterr().err


@pytest.mark.parametrize("teams_at_once", ["0", "33"])
def test_teams_at_once_is_checked_before_aws_is_asked(
    teams_at_once: str, no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["workshop", "teardown", "--all", "--teams-at-once", teams_at_once]
    assert main([*argv, "--region", REGION]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"datapalooza: error: --teams-at-once: expected 1-32, not {teams_at_once}"


class _StubbedSession:
    """What the CLI's session hands out: the test's stubbed clients."""

    region_name = REGION

    def __init__(self, aws: dict[str, Stubber]) -> None:
        self._aws = aws

    def client(self, name: str, **_: Any) -> Any:
        return self._aws[name].client


@pytest.fixture
def cli_aws(aws: dict[str, Stubber], monkeypatch: pytest.MonkeyPatch) -> dict[str, Stubber]:
    """The stubbed clients, handed to the ``workshop`` commands in place of AWS."""
    from datapalooza.cli import workshop as workshop_cli

    monkeypatch.setattr(workshop_cli, "_session", lambda args: _StubbedSession(aws))
    return aws


def test_cli_dry_run_prints_the_plan_and_removes_nothing(
    cli_aws: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    _describe(cli_aws, [*_alice(), *_default_team()])
    assert main(["workshop", "teardown", "--all", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"would remove alice: stack {ALICE_STACK}" in out
    assert out[-1] == "Dry run: 7 item(s) would be removed; nothing was."


def test_cli_status_prints_each_team(
    cli_aws: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    _describe(cli_aws, _alice())
    _expect_endpoint(cli_aws, ALICE_ENDPOINT, "InService", 1)
    assert main(["workshop", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Team alice: ~$0.12/hour")
    assert f"endpoint  {ALICE_ENDPOINT}" in out and "InService (1 instance(s))" in out


# --- no answer from AWS -------------------------------------------------------------


def _no_answer(client: Any, operation: str, only: dict[str, str] | None = None) -> None:
    """``operation`` gets no answer (EndpointConnectionError), for the calls whose
    parameters include ``only``; the Stubber never sees those calls."""

    def fail(params: dict[str, Any], **_: Any) -> None:
        if only is None or only.items() <= params.items():
            raise EndpointConnectionError(endpoint_url=f"https://{operation}.example")

    event = f"provide-client-params.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register_first(event, fail)


def test_a_team_aws_cannot_reach_fails_alone_and_the_report_comes(
    aws: dict[str, Stubber],
) -> None:
    # Given alice's stack deletion gets no answer
    _describe(aws, [*_alice(), *_default_team()])
    _no_answer(aws["cloudformation"].client, "DeleteStack", {"StackName": ALICE_STACK})
    _expect_default_team_removed(aws)
    # When every team is torn down
    report, _ = _run(aws, all_teams=True)
    # Then alice fails alone, the default team is removed, and the report says what next
    assert [str(r) for r, _ in report.failed] == [f"alice: stack {ALICE_STACK}"]
    assert "EndpointConnectionError" in report.failed[0][1]
    assert len(report.removed) == 5
    assert format_report(report, dry_run=False).endswith(
        "Run the same command again to retry what failed (what is gone is skipped)."
    )


def test_cli_status_without_an_answer_is_one_line(
    cli_aws: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    _no_answer(cli_aws["cloudformation"].client, "DescribeStacks")
    assert main(["workshop", "status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("datapalooza: error: no answer from AWS (EndpointConnectionError")
    assert err[0].endswith("run the same command again")


# --- throttled or refused -----------------------------------------------------------


def test_status_of_one_team_aws_throttles_is_unknown_and_the_others_shown(
    aws: dict[str, Stubber],
) -> None:
    # Given alice's DescribeEndpoint is still throttled after botocore's retries
    _describe(aws, [*_alice(), *_default_team()])
    aws["sagemaker"].add_client_error(
        "describe_endpoint",
        "ThrottlingException",
        "Rate exceeded",
        http_status_code=400,
        expected_params={"EndpointName": ALICE_ENDPOINT},
    )
    _expect_endpoint(aws, "datapalooza-face-detection", "InService", 1)
    _not_found(aws["greengrassv2"], "get_core_device", {"coreDeviceThingName": CAMERA})
    # When the status is read
    alice, default = _status(aws)
    # Then alice's endpoint is unknown and the default team's still shown
    text = format_status([alice, default], region=REGION)
    assert f"{ALICE_ENDPOINT:<42} unknown (ThrottlingException)\n" in text
    assert "InService (1 instance(s))" in text


def test_a_stack_cloudformation_fails_to_delete_says_why_and_what_next(
    aws: dict[str, Stubber],
) -> None:
    _describe(aws, _alice())
    cfn = aws["cloudformation"]
    cfn.add_response("delete_stack", {}, {"StackName": ALICE_STACK})
    failed = _stack(ALICE_STACK, team="alice", challenge=1, outputs={})
    failed["StackStatus"] = "DELETE_FAILED"
    failed["StackStatusReason"] = "The following resource(s) failed to delete: [Endpoint]."
    cfn.add_response("describe_stacks", {"Stacks": [failed]}, {"StackName": ALICE_STACK})
    report, lines = _run(aws, teams=["alice"])
    assert report.failed == [
        (
            report.planned[0],
            "DELETE_FAILED: The following resource(s) failed to delete: [Endpoint].",
        )
    ]
    assert lines[-1].endswith("run the same command again")


def test_the_cli_clients_retry_throttling_in_standard_mode() -> None:
    from datapalooza.cli.workshop import RETRY_ATTEMPTS, _client

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    retries = _client(session, "cloudformation").meta.config.retries
    assert retries["mode"] == "standard"
    assert retries["total_max_attempts"] == RETRY_ATTEMPTS >= 10


# --- prices -------------------------------------------------------------------------


def test_status_prices_each_endpoint_at_its_own_instance_type(
    aws: dict[str, Stubber],
) -> None:
    # Given alice runs 2 x ml.m5.large, the default team 1 x ml.c5.xlarge (no price in
    # prices.json, which has ml.m5.large only)
    _describe(aws, [*_alice(), *_default_team()])
    _expect_endpoint(aws, ALICE_ENDPOINT, "InService", 2)
    _expect_endpoint(aws, "datapalooza-face-detection", "InService", 1, "ml.c5.xlarge")
    _not_found(aws["greengrassv2"], "get_core_device", {"coreDeviceThingName": CAMERA})
    # When the status is read
    alice, default = _status(aws)
    # Then alice's instances are priced; the default team's are named, not priced as
    # ml.m5.large
    costs = challenge_costs(DeploymentShape(), load_prices(REGION))
    assert alice.cost_per_hour == pytest.approx(costs[0].known_cost_per_hour + 0.115)
    assert default.cost_per_hour == pytest.approx(costs[1].known_cost_per_hour - 0.115)
    assert default.unpriced == ["1 x ml.c5.xlarge"]
    text = format_status([alice, default], region=REGION)
    assert "(priced items); price not found: 1 x ml.c5.xlarge" in text
    total = alice.cost_per_hour + default.cost_per_hour
    assert text.splitlines()[-1] == (
        f"Class: ~${total:,.2f}/hour for 2 team(s) (priced items); "
        "1 endpoint variant(s) without a price"
    )
