"""Every name a DataPalooza deployment gives AWS, for one team: the one naming rule.

Many attendees may deploy into one account and Region, each as a *team*
(``cdk deploy -c datapalooza:team=alice``). Every physical name then carries the team,
inserted right after the name's first word::

    DataPalooza-Challenge1-Endpoint         -> DataPalooza-alice-Challenge1-Endpoint
    datapalooza-faces-ACCOUNT-REGION        -> datapalooza-alice-faces-ACCOUNT-REGION
    datapalooza-face-detection (endpoint)   -> datapalooza-alice-face-detection
    datapalooza-camera-main-cam-1 (thing)   -> datapalooza-alice-camera-main-cam-1
    datapalooza.Camera (component)          -> datapalooza.alice.Camera
    DataPalooza (metric namespace)          -> DataPalooza/alice
    datapalooza/main/detections (topic)     -> datapalooza/alice/main/detections

The ``default`` team keeps every name exactly as it was before teams existed. The CDK
app (stacks/names.py), the runtime (through the environment variables the stacks set)
and the instructor's ``datapalooza workshop`` commands all name things through
``TeamNames``; nothing else formats a team into a name.

Team names are 1-16 lowercase letters, digits and inner hyphens. Lowercase because S3
bucket names allow nothing else; 16 because the faces bucket's name, which must hold the
account id and Region to be unique in the partition, is the tightest fit:
``datapalooza-`` + team + ``-faces-`` + 12-digit account + ``-`` + Region is
32 + 16 + 15 = 63 characters, S3's maximum, for a Region code of up to 15 characters
(the longest today, such as ap-southeast-1, have 14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from datapalooza import constants

MAX_TEAM_LENGTH: Final = 16
TEAM_PATTERN: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")
TEAM_RULE: Final = (
    f"1-{MAX_TEAM_LENGTH} lowercase letters, digits and hyphens, starting and ending "
    "with a letter or digit"
)

# AWS's limits on the names a team changes (each checked against the longest team name
# by tests/infra/test_teams.py):
# S3 bucket names "must be between 3 (min) and 63 (max) characters long" and "can consist
# only of lowercase letters, numbers, dots (.), and hyphens (-)":
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME_MAX: Final = 63
# SageMaker endpoint names: "Maximum length of 63", pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}:
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_EndpointInfo.html
ENDPOINT_NAME_MAX: Final = 63
# CloudFormation stack names: "can contain only alphanumeric characters (case sensitive) and
# hyphens. It must start with an alphabetical character and can't be longer than 128
# characters": https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
STACK_NAME_MAX: Final = 128
# IoT thing names: "Maximum length of 128", pattern [a-zA-Z0-9:_-]+:
# https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html
THING_NAME_MAX: Final = 128
# IoT role aliases: "Maximum length of 128", pattern [\w=,@-]+:
# https://docs.aws.amazon.com/iot/latest/apireference/API_CreateRoleAlias.html
ROLE_ALIAS_MAX: Final = 128
# IoT policy names are at most 128 characters:
# https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html
IOT_POLICY_NAME_MAX: Final = 128
# IAM role names: at most 64 characters (roleNameType, "max": 64, in the IAM API's own
# model as botocore ships it; tests/infra/test_teams.py reads it there).
ROLE_NAME_MAX: Final = 64
# Greengrass component names: "Maximum length of 128":
# https://docs.aws.amazon.com/greengrass/v2/APIReference/API_ComponentCandidate.html
COMPONENT_NAME_MAX: Final = 128
# Dashboard names: "between 1 and 255 characters and can only contain alphanumeric
# characters, dashes (-), and underscores (_)":
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html
DASHBOARD_NAME_MAX: Final = 255
# Metric namespaces: "Maximum length of 255":
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html
METRIC_NAMESPACE_MAX: Final = 255
# What the faces bucket's name budgets for the account id (always 12 digits) and the
# Region code (the longest today have 14 characters, e.g. ap-southeast-1:
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
ACCOUNT_ID_LENGTH: Final = 12
REGION_BUDGET: Final = 15

# The greengrass installer's IoT policy for a role alias (stacks/constructs/greengrass_core.py).
INSTALLER_IOT_POLICY_PREFIX: Final = "GreengrassTESCertificatePolicy"
# Where Greengrass keeps a component's own work directory on the core device.
GREENGRASS_WORK_DIR: Final = "/greengrass/v2/work"

# Each challenge's stack name for the default team, by challenge number.
_STACK_BASES: Final = {
    1: constants.CLOUD_INFERENCE_STACK,
    2: constants.EMOTION_TRACKER_STACK,
    3: constants.EDGE_STACK,
}
_STACK_NAME = re.compile(
    r"^DataPalooza-(?:(?P<team>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-)?(?P<rest>Challenge\d-[A-Za-z]+)$"
)


class InvalidTeam(ValueError):
    """A team name outside TEAM_RULE."""


def validate_team(team: str) -> str:
    """Return ``team`` if it follows TEAM_RULE; raise InvalidTeam otherwise."""
    if not isinstance(team, str) or TEAM_PATTERN.match(team) is None:
        raise InvalidTeam(f"invalid team name {team!r}: use {TEAM_RULE}")
    return team


@dataclass(frozen=True, slots=True)
class TeamNames:
    """The naming rule for one team (``constants.DEFAULT_TEAM``: today's names)."""

    team: str = constants.DEFAULT_TEAM

    def __post_init__(self) -> None:
        validate_team(self.team)

    @property
    def is_default(self) -> bool:
        return self.team == constants.DEFAULT_TEAM

    def namespaced(self, name: str, separator: str = "-") -> str:
        """``name`` with the team after its first ``separator``-delimited word (or after
        the whole name when it has one word); unchanged for the default team."""
        if self.is_default:
            return name
        head, found, tail = name.partition(separator)
        if not found:
            return f"{name}{separator}{self.team}"
        return f"{head}{separator}{self.team}{separator}{tail}"

    # CloudFormation
    def stack(self, challenge: int) -> str:
        """The stack name of ``challenge`` (1, 2 or 3)."""
        return self.namespaced(_STACK_BASES[challenge])

    def stacks(self) -> dict[int, str]:
        """Every stack name of this team, by challenge number."""
        return {challenge: self.stack(challenge) for challenge in _STACK_BASES}

    # Challenge 1
    def faces_bucket(self, account: str, region: str) -> str:
        """The faces bucket: deterministic, so Challenges 2 and 3 find their own team's
        bucket by name (no CloudFormation export pins Challenge 1)."""
        return self.namespaced(f"datapalooza-faces-{account}-{region}")

    def endpoint(self, endpoint_name: str) -> str:
        return self.namespaced(endpoint_name)

    # Challenge 2
    def dashboard(self) -> str:
        return self.namespaced("DataPalooza-CrowdMood")

    def metric_namespace(self) -> str:
        """A namespace per team: its tracker's metrics, its alarms and its dashboard's
        SEARCH all read the same one, and no team's SEARCH finds another's stages."""
        return self.namespaced(constants.METRIC_NAMESPACE, "/")

    # Devices (Challenges 2 and 3)
    def camera_thing(self, stage: str, camera: str) -> str:
        return self.namespaced(f"datapalooza-camera-{stage}-{camera}")

    def edge_thing(self, stage: str, camera: str) -> str:
        return self.namespaced(f"datapalooza-edge-{stage}-{camera}")

    def component(self, program: str) -> str:
        """A Greengrass component name: ``datapalooza.<program>`` (``Camera``,
        ``EdgeInference``), per team ``datapalooza.<team>.<program>``."""
        return self.namespaced(f"datapalooza.{program}", ".")

    def topic(self, template: str, stage: str) -> str:
        """An MQTT topic (``constants.DETECTIONS_TOPIC`` / ``EDGE_STATS_TOPIC``)."""
        return self.namespaced(template.format(stage=stage), "/")


# Names derived from other names by AWS's or Greengrass's own conventions: the same for
# every team because their input already carries it.
def role_alias(thing_name: str) -> str:
    return f"{thing_name}-token-exchange"


def token_exchange_role(stack_name: str, region: str) -> str:
    """A Greengrass core device's token exchange role, named by its stack (each device
    stack has one device): the stack's name less its last word, ``TES`` and the Region.

    Left to CloudFormation, the name would be the stack's, the role's logical id and a
    random suffix (87 characters for the default team's camera), shortened to IAM's 64
    in a way no AWS page states, and the deployer's permissions could only guess its
    prefix (datapalooza/preflight/deployer_permissions.py). IAM names are global to the
    account while a team may deploy in several Regions, hence the Region: at most
    ``DataPalooza-`` + 16 + ``-Challenge2-TES-`` + 15 = 59 characters."""
    return f"{stack_name.rsplit('-', 1)[0]}-TES-{region}"


def iot_policy(thing_name: str) -> str:
    return f"{thing_name}-greengrass"


def installer_iot_policy(role_alias_name: str) -> str:
    """The IoT policy the Greengrass installer names after the role alias."""
    return f"{INSTALLER_IOT_POLICY_PREFIX}{role_alias_name}"


def endpoint_log_group(endpoint_name: str) -> str:
    """The log group SageMaker writes an endpoint's container logs to."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


def component_work_dir(component_name: str) -> str:
    """A component's persistent work directory on the core device."""
    return f"{GREENGRASS_WORK_DIR}/{component_name}"


def team_of_stack(stack_name: str) -> tuple[str, int] | None:
    """(team, challenge) of a stack named by TeamNames.stack, or None for any other name.

    Unambiguous: team names are lowercase and the challenge part starts with a capital.
    """
    match = _STACK_NAME.match(stack_name)
    if match is None:
        return None
    team = match["team"] or constants.DEFAULT_TEAM
    try:
        names = TeamNames(team)
    except InvalidTeam:
        return None
    for challenge in _STACK_BASES:
        if names.stack(challenge) == stack_name:
            return team, challenge
    return None
