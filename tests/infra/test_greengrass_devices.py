"""The Greengrass side of Challenges 2 and 3 as a real account would see it: component
versions that agree with the nucleus the docs install, deployments created after what
they deploy, Greengrass's own platform names, and IoT policies that name exactly this
app's devices and components."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from stacks.challenges.edge_stack import EdgeStack
from stacks.greengrass_components import (
    LEGACY_SUBSCRIPTION_ROUTER,
    NUCLEUS,
    PINNED,
    PinnedComponent,
    inconsistencies,
    installer_url,
)
from stacks.names import AppNames
from stacks.settings import GREENGRASS_ARCHITECTURES, AppSettings, SettingsError
from tests.infra.conftest import Synth, resources, template_string

REPO = Path(__file__).resolve().parents[2]
DEVICE_TEMPLATES = ("tracker", "edge")  # the camera lives in Challenge 2's stack
GREENGRASS_ARCHITECTURE_NAMES = {"amd64", "aarch64", "armv7l"}


def _device_templates(synth: Synth) -> dict[str, dict[str, Any]]:
    return {name: synth.all_templates()[name] for name in DEVICE_TEMPLATES}


def _render(value: Any) -> str:
    """A template value as the string it becomes in account 111122223333 / eu-west-1."""
    return template_string(value, token=_pseudo_parameter)


def _pseudo_parameter(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::Region": "eu-west-1"}.get(
            value["Ref"], "111122223333"
        )
    raise AssertionError(f"unexpected template value {value!r}")


def _policy_allows(statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    """IoT policy matching: ``*`` and ``?`` are the only wildcards in a resource."""
    for statement in statements:
        actions = statement["Action"]
        if action not in ([actions] if isinstance(actions, str) else actions):
            continue
        found = statement["Resource"]
        patterns = found if isinstance(found, list) else [found]
        if any(fnmatch.fnmatchcase(arn, _render(p).replace("[", "[[]")) for p in patterns):
            return True
    return False


# --- 1. one table of pinned AWS components, consistent with the installed nucleus -------


def test_every_pinned_component_accepts_the_pinned_nucleus() -> None:
    assert inconsistencies() == []
    assert {c.name for c in PINNED} >= {NUCLEUS.name, LEGACY_SUBSCRIPTION_ROUTER.name}
    for component in PINNED:
        assert component.source.startswith("https://docs.aws.amazon.com/greengrass/v2/")


def test_the_consistency_check_catches_a_nucleus_outside_a_documented_range() -> None:
    # Given the installer's latest nucleus (2.16+) with subscription router 2.1.14 (<2.16.0)
    newer = PinnedComponent(
        name=NUCLEUS.name,
        version="2.16.0",
        nucleus_at_least="2.16.0",
        nucleus_below="2.16.1",
        source=NUCLEUS.source,
    )
    (problem,) = inconsistencies((newer, LEGACY_SUBSCRIPTION_ROUTER))
    assert "LegacySubscriptionRouter 2.1.14" in problem and "<2.16.0" in problem


def test_deployments_pin_the_table_versions_nucleus_included(synth: Synth) -> None:
    for name, template in _device_templates(synth).items():
        (deployment,) = resources(template, "AWS::GreengrassV2::Deployment").values()
        components = deployment["Properties"]["Components"]
        for pinned in PINNED:
            assert components[pinned.name]["ComponentVersion"] == pinned.version, (name, pinned)


def test_the_deploy_guide_installs_exactly_the_pinned_nucleus() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    installed = re.findall(r"releases/greengrass-(\d+\.\d+\.\d+)\.zip", guide)
    assert installed, "docs/deploy.md must download a versioned installer (greengrass-X.Y.Z.zip)"
    assert set(installed) == {NUCLEUS.version}
    assert installer_url() in guide
    assert "nucleus-latest" not in guide  # the latest installer outruns the pinned set
    assert f"Install exactly nucleus **{NUCLEUS.version}**" in guide
    router = LEGACY_SUBSCRIPTION_ROUTER
    assert (
        f"`{router.name}` {router.version} supports nucleus versions below {router.nucleus_below}"
        in " ".join(guide.split())
    )
    for component in PINNED:
        assert component.accepts_nucleus(installed[0]), component


# --- 2. ordering -----------------------------------------------------------------------------


def test_each_deployment_waits_for_the_component_version_it_deploys(synth: Synth) -> None:
    for name, template in _device_templates(synth).items():
        components = resources(template, "AWS::GreengrassV2::ComponentVersion")
        (deployment,) = resources(template, "AWS::GreengrassV2::Deployment").values()
        deployed = set(deployment["Properties"]["Components"])
        ours = {
            logical_id
            for logical_id, c in components.items()
            if c["Properties"]["LambdaFunction"]["ComponentName"] in deployed
        }
        assert ours, name
        assert ours <= set(deployment.get("DependsOn", [])), name


# --- 3. Greengrass's platform names ------------------------------------------------------


def test_component_platforms_use_greengrass_architecture_names(synth: Synth) -> None:
    for template in _device_templates(synth).values():
        for component in resources(template, "AWS::GreengrassV2::ComponentVersion").values():
            for platform in component["Properties"]["LambdaFunction"]["ComponentPlatforms"]:
                assert platform["Attributes"]["architecture"] in GREENGRASS_ARCHITECTURE_NAMES


@pytest.mark.parametrize(("given", "wheels"), [("x86_64", "x86_64"), ("amd64", "x86_64")])
def test_an_x86_64_device_gets_an_amd64_component(given: str, wheels: str) -> None:
    settings = AppSettings(device_architecture=given)
    assert settings.device_architecture == wheels  # what pip builds the package for
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = EdgeStack(app, "Edge", settings=settings, names=AppNames.of(settings))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    (component,) = resources(template, "AWS::GreengrassV2::ComponentVersion").values()
    (platform,) = component["Properties"]["LambdaFunction"]["ComponentPlatforms"]
    assert platform["Attributes"] == {"os": "linux", "architecture": "amd64"}
    (function,) = (
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "edge_lambda.function_handler"
    )
    assert function["Properties"]["Architectures"] == ["x86_64"]


@pytest.mark.parametrize("given", ["armv7l", "i686", "x86-64", "ARM64"])
def test_an_architecture_we_cannot_build_for_is_refused_naming_the_key(given: str) -> None:
    with pytest.raises(SettingsError, match="datapalooza:device_architecture"):
        AppSettings.from_mapping({"datapalooza:device_architecture": given})


def test_arm64_is_aarch64_for_wheels_and_for_greengrass() -> None:
    architecture = AppSettings(device_architecture="arm64").device_architecture
    assert architecture == "aarch64"
    assert GREENGRASS_ARCHITECTURES[architecture] == "aarch64"


# --- 7. narrower permissions ----------------------------------------------------------------


def _core_policy(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The device certificate's own IoT policy (``<thing>-greengrass``)."""
    (found,) = (
        (logical_id, p)
        for logical_id, p in resources(template, "AWS::IoT::Policy").items()
        if p["Properties"]["PolicyName"].endswith("-greengrass")
    )
    return found


def _iot_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return _core_policy(template)[1]["Properties"]["PolicyDocument"]["Statement"]


def _thing_and_component(template: dict[str, Any]) -> tuple[str, str]:
    (thing,) = resources(template, "AWS::IoT::Thing").values()
    (component,) = resources(template, "AWS::GreengrassV2::ComponentVersion").values()
    return thing["Properties"]["ThingName"], component["Properties"]["LambdaFunction"][
        "ComponentName"
    ]


def test_core_devices_connect_only_with_their_own_client_ids(synth: Synth) -> None:
    client = "arn:aws:iot:eu-west-1:111122223333:client/"
    for name, template in _device_templates(synth).items():
        statements = _iot_statements(template)
        thing, _ = _thing_and_component(template)
        # The nucleus's own connections: "<thing>" and "<thing>#<n>"
        assert _policy_allows(statements, "iot:Connect", client + thing), name
        assert _policy_allows(statements, "iot:Connect", client + thing + "#2"), name
        # cam-1's certificate must not connect as cam-10 (or anything longer)
        assert not _policy_allows(statements, "iot:Connect", client + thing + "0"), name
        assert not _policy_allows(statements, "iot:Connect", client + thing + "-x"), name
        for statement in statements:
            if statement["Action"] == "iot:Connect":
                for resource in statement["Resource"]:
                    assert not _render(resource).endswith(thing + "*"), name


def test_core_devices_fetch_artifacts_of_this_apps_and_aws_public_components_only(
    synth: Synth,
) -> None:
    components = "arn:aws:greengrass:eu-west-1:111122223333:components:"
    # A public component's version ARN names the account "aws" (the API's own pattern:
    # arn:[^:]*:greengrass:[^:]*:(aws|[0-9]+):components:..., API_GetComponentVersionArtifact)
    public = "arn:aws:greengrass:eu-west-1:aws:components:"
    for name, template in _device_templates(synth).items():
        statements = _iot_statements(template)
        _, component = _thing_and_component(template)
        action = "greengrass:GetComponentVersionArtifact"
        assert _policy_allows(statements, action, f"{components}{component}:versions:1.0.3")
        for dependency in PINNED:  # and the Lambda launcher, manager and runtimes
            assert _policy_allows(statements, action, f"{public}{dependency.name}:versions:2.0.0")
        assert _policy_allows(
            statements, action, f"{public}aws.greengrass.LambdaLauncher:versions:2.0.12"
        )
        assert not _policy_allows(statements, action, f"{components}someone.Else:versions:1.0.0")
        assert not _policy_allows(
            statements, action, f"{components}{component}Evil:versions:1.0.0"
        ), name
        assert not _policy_allows(statements, action, f"{public}someone.Else:versions:1.0.0")


def test_the_edge_device_writes_only_its_own_stages_crops(synth: Synth) -> None:
    template = synth.edge.to_json()
    statements = [
        s
        for policy in resources(template, "AWS::IAM::Policy").values()
        if any(
            r["Ref"].startswith("EdgeCoreTokenExchangeRole") for r in policy["Properties"]["Roles"]
        )
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    bucket = "arn:aws:s3:::datapalooza-faces-111122223333-eu-west-1/"
    stage = synth.settings.edge_stage
    assert _policy_allows(statements, "s3:PutObject", f"{bucket}faces/{stage}/2026/01/01/x.jpg")
    sheet = f"faces/{stage}/2026/07/18/21/1784410200000-f000001-0.sheet.jpg"
    assert _policy_allows(statements, "s3:PutObject", f"{bucket}{sheet}")  # what it uploads
    assert not _policy_allows(statements, "s3:PutObject", f"{bucket}faces/other/2026/x.jpg")
    assert not _policy_allows(statements, "s3:PutObject", f"{bucket}faces/{stage}x/2026/x.jpg")
    assert [s["Action"] for s in statements] == ["s3:PutObject"]  # nothing else


# --- 6. teardown: what the installer made outside CloudFormation goes with the stack ---------


def test_each_device_stack_removes_its_certificates_and_core_device_on_delete(
    synth: Synth,
) -> None:
    for name, template in _device_templates(synth).items():
        thing_name, _ = _thing_and_component(template)
        (thing_id,) = resources(template, "AWS::IoT::Thing")
        policy_id, _ = _core_policy(template)
        (installer_policy_id,) = (
            k
            for k, p in resources(template, "AWS::IoT::Policy").items()
            if p["Properties"]["PolicyName"].startswith("GreengrassTESCertificatePolicy")
        )
        (teardown,) = resources(template, "Custom::GreengrassCoreDeviceTeardown").values()
        assert teardown["Properties"]["ThingName"] == thing_name, name
        # Deleted before the thing and policy it frees (CloudFormation deletes dependents first)
        assert {thing_id, policy_id, installer_policy_id} <= set(teardown["DependsOn"]), name
        (function_ref,) = teardown["Properties"]["ServiceToken"]["Fn::GetAtt"][:1]
        function = template["Resources"][function_ref]
        assert function["Properties"]["Handler"] == "handler.handler"
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for policy in resources(template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        by_action = {
            action: [
                _render(r)
                for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            ]
            for s in statements
            for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if not action.startswith("logs:")
        }
        prefix = "arn:aws:iot:eu-west-1:111122223333:"
        assert by_action == {
            "iot:ListThingPrincipals": [f"{prefix}thing/{thing_name}"],
            "iot:DetachThingPrincipal": [f"{prefix}thing/{thing_name}"],
            "iot:UpdateCertificate": [f"{prefix}cert/*"],
            "iot:DeleteCertificate": [f"{prefix}cert/*"],
            "greengrass:DeleteCoreDevice": [
                f"arn:aws:greengrass:eu-west-1:111122223333:coreDevices:{thing_name}"
            ],
        }, name


def test_the_stack_owns_the_policies_the_installer_would_create(synth: Synth) -> None:
    """The installer (--provision true) creates "<role>Access" (logs and
    s3:GetBucketLocation on *) and attaches it to the token exchange role unless a
    policy of that name exists, and "GreengrassTESCertificatePolicy<alias>" for the
    certificate: made by the stack, the role stays narrow and cdk destroy removes both."""
    for name, template in _device_templates(synth).items():
        (alias,) = resources(template, "AWS::IoT::RoleAlias").values()
        alias_name = alias["Properties"]["RoleAlias"]
        policies = {
            p["Properties"]["PolicyName"]: p
            for p in resources(template, "AWS::IoT::Policy").values()
        }
        installer = policies[f"GreengrassTESCertificatePolicy{alias_name}"]
        (statement,) = installer["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "iot:AssumeRoleWithCertificate"
        assert _render(statement["Resource"]).endswith(f":rolealias/{alias_name}")
        (managed,) = resources(template, "AWS::IAM::ManagedPolicy").values()
        role_ref = alias["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        role_name = _render(template["Resources"][role_ref]["Properties"]["RoleName"])
        assert role_name.endswith("-TES-eu-west-1"), name
        assert _render(managed["Properties"]["ManagedPolicyName"]) == f"{role_name}Access", name
        # Attached to nothing, and it allows nothing
        assert not any(k in managed["Properties"] for k in ("Roles", "Users", "Groups"))
        assert {s["Effect"] for s in managed["Properties"]["PolicyDocument"]["Statement"]} == {
            "Deny"
        }
        role = template["Resources"][role_ref]
        assert "ManagedPolicyArns" not in role["Properties"], name
