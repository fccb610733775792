"""Every physical name the CDK app gives AWS, computed once from the settings.

The rule itself (how a team changes a name) is datapalooza.naming.TeamNames, shared with
the runtime and the workshop commands; this module applies it to one deployment's
settings, checks each result against AWS's limit, and is the only reader of the ``team``
setting: constructs receive names from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws

from datapalooza import constants, naming
from datapalooza.naming import TeamNames
from datapalooza.settings import SettingsError
from stacks.settings import CONTEXT_PREFIX, AppSettings

CAMERA_PROGRAM = "Camera"
EDGE_PROGRAM = "EdgeInference"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceNames:
    """One Greengrass core device's names."""

    thing: str
    token_exchange_role: str
    """In the deploying Region (a CDK token in it): naming.token_exchange_role."""
    role_alias: str
    iot_policy: str
    installer_iot_policy: str
    component: str
    topic: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AppNames:
    """The names of one team's deployment (``AppNames.of(settings)``)."""

    team: str
    endpoint_stack: str
    emotion_tracker_stack: str
    edge_stack: str
    endpoint: str
    endpoint_log_group: str
    dashboard: str
    metric_namespace: str
    camera: DeviceNames
    edge: DeviceNames
    edge_queue_dir: str

    @property
    def faces_bucket(self) -> str:
        """The faces bucket's name in the deploying account and Region (CDK tokens)."""
        return TeamNames(self.team).faces_bucket(Aws.ACCOUNT_ID, Aws.REGION)

    @classmethod
    def of(cls, settings: AppSettings) -> AppNames:
        """Apply the naming rule to ``settings``; a name beyond AWS's limit is refused
        with the context keys that make it up."""
        names = TeamNames(settings.team)
        stacks = names.stacks()
        for stack in stacks.values():
            _fits(stack, naming.STACK_NAME_MAX, "CloudFormation stack", ("team",))
        camera = _device(
            names,
            thing=names.camera_thing(settings.camera_stage, settings.camera_name),
            program=CAMERA_PROGRAM,
            stack=stacks[2],
            topic=names.topic(constants.DETECTIONS_TOPIC, settings.camera_stage),
            keys=("team", "camera_stage", "camera_name"),
        )
        edge = _device(
            names,
            thing=names.edge_thing(settings.edge_stage, settings.edge_camera_name),
            program=EDGE_PROGRAM,
            stack=stacks[3],
            topic=names.topic(constants.EDGE_STATS_TOPIC, settings.edge_stage),
            keys=("team", "edge_stage", "edge_camera_name"),
        )
        endpoint = names.endpoint(settings.endpoint_name)
        _fits(endpoint, naming.ENDPOINT_NAME_MAX, "SageMaker endpoint", ("team", "endpoint_name"))
        bucket = names.faces_bucket(
            "0" * naming.ACCOUNT_ID_LENGTH, "r" * naming.REGION_BUDGET
        )  # the longest it can be
        _fits(bucket, naming.BUCKET_NAME_MAX, "S3 faces bucket", ("team",))
        return cls(
            team=names.team,
            endpoint_stack=stacks[1],
            emotion_tracker_stack=stacks[2],
            edge_stack=stacks[3],
            endpoint=endpoint,
            endpoint_log_group=naming.endpoint_log_group(endpoint),
            dashboard=names.dashboard(),
            metric_namespace=names.metric_namespace(),
            camera=camera,
            edge=edge,
            edge_queue_dir=settings.edge_queue_dir
            or f"{naming.component_work_dir(edge.component)}/forward-queue",
        )

    def device_env(self, device: DeviceNames) -> dict[str, str]:
        """The names ``device``'s program would otherwise build itself: its MQTT topic.
        Nothing for the default team, whose names are the runtime's defaults (so its
        templates stay as they were before teams)."""
        if TeamNames(self.team).is_default:
            return {}
        return {constants.ENV_TOPIC: device.topic}


def _device(
    names: TeamNames,
    *,
    thing: str,
    program: str,
    stack: str,
    topic: str,
    keys: tuple[str, ...],
) -> DeviceNames:
    alias = naming.role_alias(thing)
    # The longest the role's name can be, with a Region code of REGION_BUDGET characters.
    longest_role = naming.token_exchange_role(stack, "r" * naming.REGION_BUDGET)
    _fits(longest_role, naming.ROLE_NAME_MAX, "token exchange role", ("team",))
    device = DeviceNames(
        thing=thing,
        token_exchange_role=naming.token_exchange_role(stack, Aws.REGION),
        role_alias=alias,
        iot_policy=naming.iot_policy(thing),
        installer_iot_policy=naming.installer_iot_policy(alias),
        component=names.component(program),
        topic=topic,
    )
    _fits(device.thing, naming.THING_NAME_MAX, "IoT thing", keys)
    _fits(device.role_alias, naming.ROLE_ALIAS_MAX, "IoT role alias", keys)
    _fits(device.iot_policy, naming.IOT_POLICY_NAME_MAX, "IoT policy", keys)
    _fits(
        device.installer_iot_policy,
        naming.IOT_POLICY_NAME_MAX,
        "Greengrass installer's IoT policy",
        keys,
    )
    _fits(device.component, naming.COMPONENT_NAME_MAX, "Greengrass component", ("team",))
    return device


def _fits(name: str, limit: int, what: str, keys: tuple[str, ...]) -> None:
    if len(name) > limit:
        contexts = " and ".join(f"{CONTEXT_PREFIX}{key}" for key in keys)
        raise SettingsError(
            f"context {contexts}: the {what} name {name!r} would have {len(name)} "
            f"characters, more than AWS's {limit}; choose shorter values"
        )
