"""The virtual core device (``-c datapalooza:virtual_device=true``): off by default; when
on, a hardened instance per device stack (IMDSv2, no key, no ingress, encrypted volume,
Graviton for aarch64), a role with exactly what the device needs, user data that
installs the pinned nucleus as the stack's thing, footage that decodes, the programs'
source pointed at it, delete order, cdk-nag and cfn-lint clean."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import pytest
from aws_cdk import App

from datapalooza import constants
from datapalooza.settings import SettingsError
from stacks.app_builder import FestivalStacks, build_app, cdk_json_context
from stacks.build.bundling import PythonBundle
from stacks.build.virtual_footage import (
    FOOTAGE_FPS,
    FOOTAGE_SECONDS,
    FOOTAGE_SIZE,
    festival_footage,
)
from stacks.constructs.virtual_device import (
    AL2023_GLIBC,
    FOOTAGE_PATH,
    FOOTAGE_SOURCE,
    INSTANCE_TYPES,
    SESSION_MANAGER_ACTIONS,
    VirtualCoreDevice,
    instance_type_for,
)
from stacks.greengrass_components import NUCLEUS, installer_url
from stacks.settings import AppSettings
from tests.docs.pages import pages, stack_outputs_named
from tests.infra.conftest import (
    Synth,
    lint_problems,
    load_json,
    nag_violations,
    resources,
    template_string,
)

INSTANCE = "AWS::EC2::Instance"
CERTIFICATE = "Custom::GreengrassDeviceCertificate"


@dataclass(frozen=True)
class VirtualSynth:
    stacks: FestivalStacks
    outdir: Path
    templates: dict[str, dict[str, Any]]  # the two device stacks, by challenge


@pytest.fixture(scope="module")
def virtual(
    tmp_path_factory: pytest.TempPathFactory, model_artifact: Path
) -> Iterator[VirtualSynth]:
    outdir = tmp_path_factory.mktemp("cdk.out.virtual")
    context = {
        **cdk_json_context(),
        "aws:cdk:bundling-stacks": [],
        "datapalooza:virtual_device": "true",  # as `-c` gives it
    }
    app = App(outdir=str(outdir), context=context)
    settings = AppSettings.from_context(app.node.try_get_context)
    stacks = build_app(app, settings=settings, model_artifact=model_artifact)
    app.synth()  # cdk-nag runs here
    templates = {
        name: load_json(outdir / f"{stack.artifact_id}.template.json")
        for name, stack in (("camera", stacks.emotion_tracker), ("edge", stacks.edge))
    }
    yield VirtualSynth(stacks=stacks, outdir=outdir, templates=templates)


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, (kind, list(found))
    return next(iter(found.items()))


def _devices(virtual: VirtualSynth) -> list[tuple[str, VirtualCoreDevice]]:
    devices = [
        ("camera", virtual.stacks.emotion_tracker.virtual_device),
        ("edge", virtual.stacks.edge.virtual_device),
    ]
    return [(name, device) for name, device in devices if device is not None]


def _join(value: Any) -> str:
    """A template string with its tokens shown as {Ref}/{GetAtt} placeholders."""
    return template_string(value, token=lambda token: "{" + json.dumps(token, sort_keys=True) + "}")


def _user_data(template: dict[str, Any]) -> str:
    _, instance = _one(template, INSTANCE)
    return _join(instance["Properties"]["UserData"]["Fn::Base64"])


def _statements(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_off_by_default_no_instance_or_certificate_is_synthesised(synth: Synth) -> None:
    assert synth.settings.virtual_device is False
    for name, template in synth.all_templates().items():
        assert resources(template, INSTANCE) == {}, name
        assert resources(template, CERTIFICATE) == {}, name
        assert resources(template, "AWS::SecretsManager::Secret") == {}, name
    assert synth.stacks.emotion_tracker.virtual_device is None
    assert synth.stacks.edge.virtual_device is None


def test_each_device_stack_gets_one_hardened_graviton_instance(virtual: VirtualSynth) -> None:
    for name, template in virtual.templates.items():
        _, instance = _one(template, INSTANCE)
        props = instance["Properties"]
        # Graviton: the default device bundle is aarch64
        assert props["InstanceType"] == INSTANCE_TYPES["aarch64"] == "t4g.small", name
        # no SSH key pair, no detailed monitoring
        assert "KeyName" not in props, name
        assert props["Monitoring"] is False, name
        # encrypted root volume, deleted with the instance
        (volume,) = props["BlockDeviceMappings"]
        assert volume["Ebs"]["Encrypted"] is True
        assert volume["Ebs"]["DeleteOnTermination"] is True
        # Amazon Linux 2023 for arm64 from AWS's public SSM parameter
        image_parameter = template["Parameters"][props["ImageId"]["Ref"]]
        assert image_parameter["Default"] == (
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64"
        )
        # IMDSv2 required, one hop, through the launch template the instance uses
        template_id, launch_template = _one(template, "AWS::EC2::LaunchTemplate")
        assert props["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": template_id}
        metadata = launch_template["Properties"]["LaunchTemplateData"]["MetadataOptions"]
        assert metadata["HttpTokens"] == "required"
        assert metadata["HttpPutResponseHopLimit"] == 1


def test_nothing_can_reach_the_instance_from_outside(virtual: VirtualSynth) -> None:
    for name, template in virtual.templates.items():
        group_id, group = _one(template, "AWS::EC2::SecurityGroup")
        assert "SecurityGroupIngress" not in group["Properties"], name
        assert resources(template, "AWS::EC2::SecurityGroupIngress") == {}, name
        _, instance = _one(template, INSTANCE)
        assert instance["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [group_id, "GroupId"]}]


def test_the_instance_role_may_do_exactly_what_the_device_needs(virtual: VirtualSynth) -> None:
    for name, device in _devices(virtual):
        template = virtual.templates[name]
        role_id = _logical_id(template, "InstanceRole")
        role = template["Resources"][role_id]
        assert "ManagedPolicyArns" not in role["Properties"], "no AmazonSSMManagedInstanceCore"
        granted = {
            (action, json.dumps(resource, sort_keys=True))
            for statement in _statements(template, role_id)
            for action in _as_list(statement["Action"])
            for resource in _as_list(statement["Resource"])
        }
        secret_id = _one(template, "AWS::SecretsManager::Secret")[0]
        footage_key = f"/{device.footage.asset_hash}.mp4"
        expected = {(action, '"*"') for action in SESSION_MANAGER_ACTIONS}
        expected.add(("secretsmanager:GetSecretValue", json.dumps({"Ref": secret_id})))
        footage = [r for (a, r) in granted if a == "s3:GetObject"]
        assert len(footage) == 1 and footage_key in footage[0], footage
        expected.add(("s3:GetObject", footage[0]))
        assert granted == expected, name


def test_the_certificate_function_touches_only_its_thing_and_secret(virtual: VirtualSynth) -> None:
    template = virtual.templates["edge"]
    role_id = _logical_id(template, "CertificateFunctionRole")
    by_sid = {s["Sid"]: s for s in _statements(template, role_id) if "Sid" in s}
    assert set(_as_list(by_sid["MakeCertificate"]["Action"])) == {
        "iot:CreateKeysAndCertificate",
        "iot:DescribeEndpoint",
    }
    thing = by_sid["AttachToTheThing"]["Resource"]
    assert "thing/datapalooza-edge-main-edge-1" in _join(thing)
    assert by_sid["StoreIt"]["Action"] == "secretsmanager:PutSecretValue"
    secret_id = _one(template, "AWS::SecretsManager::Secret")[0]
    assert by_sid["StoreIt"]["Resource"] == {"Ref": secret_id}
    assert "coreDevices:datapalooza-edge-main-edge-1" in _join(
        by_sid["DeleteTheCoreDeviceRecord"]["Resource"]
    )


def test_user_data_installs_the_pinned_nucleus_as_the_stacks_thing(virtual: VirtualSynth) -> None:
    for name, template in virtual.templates.items():
        script = _user_data(template)
        thing = (
            "datapalooza-camera-main-cam-1" if name == "camera" else "datapalooza-edge-main-edge-1"
        )
        assert installer_url() in script
        assert f"greengrass-{NUCLEUS.version}.zip" in script
        assert f'version: "{NUCLEUS.version}"' in script
        assert f'thingName: "{thing}"' in script
        assert f'iotRoleAlias: "{thing}-token-exchange"' in script
        # manual provisioning: the installer never gets AWS credentials to provision
        assert "--init-config" in script
        assert "--provision true" not in script
        # root writes nothing under the world-writable /tmp (a planted link would redirect it)
        assert "/tmp/" not in script
        assert "amazon-corretto" in script
        assert "python3.12" in script  # device_python from cdk.json
        assert f"{FOOTAGE_PATH}" in script
        # the endpoints come from the certificate resource, not from the instance
        certificate_id = _one(template, CERTIFICATE)[0]
        assert json.dumps({"Fn::GetAtt": [certificate_id, "DataEndpoint"]}) in script


def test_the_device_programs_play_the_footage(virtual: VirtualSynth, synth: Synth) -> None:
    for templates, expected in (
        (virtual.templates.values(), FOOTAGE_SOURCE),
        ([synth.tracker.to_json(), synth.edge.to_json()], "webcam:0"),
    ):
        for template in templates:
            _, component = _one(template, "AWS::GreengrassV2::ComponentVersion")
            parameters = component["Properties"]["LambdaFunction"]["ComponentLambdaParameters"]
            assert parameters["EnvironmentVariables"][constants.ENV_SOURCE] == expected


def test_the_footage_asset_is_a_readable_video(virtual: VirtualSynth) -> None:
    for _, device in _devices(virtual):
        staged = virtual.outdir / f"asset.{device.footage.asset_hash}.mp4"
        capture = cv2.VideoCapture(str(staged))
        try:
            assert capture.isOpened(), staged
            frames = []
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                frames.append(frame)
        finally:
            capture.release()
        assert len(frames) == FOOTAGE_SECONDS * FOOTAGE_FPS
        assert frames[0].shape == (FOOTAGE_SIZE[1], FOOTAGE_SIZE[0], 3)
        assert staged.stat().st_size < 5_000_000  # small enough to upload on every deploy


def test_footage_is_deterministic(tmp_path: Path) -> None:
    # Same bytes every synth: the asset hash (and so the instance) does not churn.
    first = festival_footage(tmp_path / "a").read_bytes()
    second = festival_footage(tmp_path / "b").read_bytes()
    assert first == second


def test_destroy_removes_the_instance_before_its_certificate_and_thing(
    virtual: VirtualSynth,
) -> None:
    for name, template in virtual.templates.items():
        certificate_id, certificate = _one(template, CERTIFICATE)
        _, instance = _one(template, INSTANCE)
        # CloudFormation deletes in reverse dependency order
        assert certificate_id in instance["DependsOn"], name
        thing_id = _one(template, "AWS::IoT::Thing")[0]
        deployment_id = _one(template, "AWS::GreengrassV2::Deployment")[0]
        # ... and after the core device teardown, which would otherwise race it for the
        # same certificate: the certificate resource goes first, the teardown finds none
        teardown_id = _one(template, "Custom::GreengrassCoreDeviceTeardown")[0]
        assert {thing_id, deployment_id, teardown_id} <= set(certificate["DependsOn"]), name
        assert certificate["DeletionPolicy"] == "Delete"


def test_a_changed_first_boot_script_replaces_the_instance(virtual: VirtualSynth) -> None:
    # The instance's logical id ends with the hash of its user data, so CloudFormation
    # replaces it (and the new script runs) instead of restarting it with a script that
    # never runs again.
    for name, template in virtual.templates.items():
        logical_id, instance = _one(template, INSTANCE)
        script = json.dumps(instance["Properties"]["UserData"], sort_keys=True)
        assert logical_id.endswith(hashlib.sha256(script.encode()).hexdigest()[:8]), name


def test_the_switch_takes_true_or_false_only() -> None:
    assert AppSettings.from_mapping({"datapalooza:virtual_device": "false"}).virtual_device is False
    assert AppSettings.from_mapping({"datapalooza:virtual_device": True}).virtual_device is True
    with pytest.raises(SettingsError, match="datapalooza:virtual_device"):
        AppSettings.from_mapping({"datapalooza:virtual_device": "yes please"})


@pytest.mark.parametrize("architecture", sorted(INSTANCE_TYPES))
def test_amazon_linux_2023_runs_the_device_wheels(architecture: str) -> None:
    # Every manylinux tag the device bundles accept needs a glibc AL2023 has.
    bundle = PythonBundle(handler_dir=Path("."), requirements=(), architecture=architecture)
    needed = []
    for tag in bundle.pip_platforms:
        found = re.match(r"manylinux_(\d+)_(\d+)_", tag)
        needed.append((int(found[1]), int(found[2])) if found else (2, 17))  # manylinux2014
    assert max(needed) <= AL2023_GLIBC


def test_instance_type_follows_the_device_architecture() -> None:
    assert instance_type_for("aarch64") == "t4g.small"  # Graviton for the default bundle
    assert instance_type_for("x86_64") == "t3.small"
    with pytest.raises(ValueError, match="armv7"):
        instance_type_for("armv7")


def test_cdk_nag_and_cfn_lint_are_clean_with_the_virtual_device(virtual: VirtualSynth) -> None:
    assert nag_violations(virtual.outdir) == []
    for name, template in virtual.templates.items():
        assert lint_problems(template) == [], name


def _logical_id(template: dict[str, Any], construct_id: str) -> str:
    """The one IAM role whose logical id starts with Virtual*<construct_id>."""
    found = [
        logical_id
        for logical_id in resources(template, "AWS::IAM::Role")
        if logical_id.startswith("Virtual") and construct_id in logical_id
    ]
    assert len(found) == 1, found
    return found[0]


def test_every_stack_output_the_guide_names_is_one_a_stack_prints(
    synth: Synth, virtual: VirtualSynth
) -> None:
    templates = [*synth.all_templates().values(), *virtual.templates.values()]
    outputs = {key for template in templates for key in template.get("Outputs", {})}
    named = {page.name: stack_outputs_named(page) for page in pages()}
    assert {"FacesBucketName", "CameraThingName", "VirtualCameraInstanceId"} <= set().union(
        *named.values()
    )
    assert {page: sorted(n - outputs) for page, n in named.items() if n - outputs} == {}
