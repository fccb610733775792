"""Teams: many attendees in one account and Region.

Two teams and the default team are synthesised side by side; no physical name and no
export may be shared between them, every stack name differs, the default team keeps
today's names, a bad team name is refused naming its context key, and the longest team
name AWS's limits allow still fits each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from datapalooza import constants, naming
from datapalooza.naming import TeamNames
from datapalooza.settings import SettingsError
from stacks.app_builder import FestivalStacks, build_app, cdk_json_context
from stacks.names import AppNames
from stacks.settings import CONTEXT_PREFIX, AppSettings
from tests.infra.conftest import Synth, load_json, resources


@dataclass(frozen=True)
class TeamSynth:
    team: str
    stacks: FestivalStacks
    templates: dict[str, dict[str, Any]]  # by stack name


def _synth_team(outdir: Path, model_artifact: Path, team: str) -> TeamSynth:
    context = {
        **cdk_json_context(),
        "aws:cdk:bundling-stacks": [],
        f"{CONTEXT_PREFIX}team": team,
    }
    app = App(outdir=str(outdir), context=context)
    settings = AppSettings.from_context(app.node.try_get_context)
    stacks = build_app(app, settings=settings, model_artifact=model_artifact)
    app.synth()  # cdk-nag runs for this team too: its acknowledgements must follow the names
    templates = {
        stack.stack_name: load_json(outdir / f"{stack.artifact_id}.template.json")
        for stack in (stacks.endpoint, stacks.emotion_tracker, stacks.edge)
    }
    return TeamSynth(team=team, stacks=stacks, templates=templates)


@pytest.fixture(scope="module")
def teams(
    tmp_path_factory: pytest.TempPathFactory, model_artifact: Path, synth: Synth
) -> Iterator[dict[str, TeamSynth]]:
    default = TeamSynth(
        team=constants.DEFAULT_TEAM,
        stacks=synth.stacks,
        templates={
            synth.stacks.endpoint.stack_name: synth.endpoint.to_json(),
            synth.stacks.emotion_tracker.stack_name: synth.tracker.to_json(),
            synth.stacks.edge.stack_name: synth.edge.to_json(),
        },
    )
    found = {constants.DEFAULT_TEAM: default}
    for team in ("alice", "bob-2"):
        found[team] = _synth_team(tmp_path_factory.mktemp(f"cdk.out-{team}"), model_artifact, team)
    yield found


# Properties that name a resource in the account (and Region), so two stacks may not
# both set them: what CloudFormation calls each resource type's physical name.
_NOT_PHYSICAL = {
    # An inline policy's name is scoped to its role; a metric's name to its namespace.
    ("AWS::IAM::Policy", "PolicyName"),
    ("AWS::CloudWatch::Alarm", "MetricName"),
    # The subscription handler's and event mapping's references to their own resources.
    ("AWS::Lambda::EventSourceMapping", "FunctionName"),
    ("AWS::Lambda::Version", "FunctionName"),
    ("AWS::Lambda::Permission", "FunctionName"),
    ("Custom::S3AutoDeleteObjects", "BucketName"),
    ("Custom::GreengrassCoreDeviceTeardown", "ThingName"),
    ("AWS::SNS::Topic", "DisplayName"),
    ("AWS::GreengrassV2::Deployment", "DeploymentName"),
}


def _render(value: Any, template: dict[str, Any]) -> str | None:
    """A name as text, pseudo parameters kept as <AWS::X>; None when CloudFormation makes
    it from one of the template's own resources (unique per stack by construction)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        return None if ref in template["Resources"] else f"<{ref}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        rendered = [_render(part, template) for part in parts]
        return None if None in rendered else separator.join(str(p) for p in rendered)
    return None


def physical_names(template: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(resource type, property, name) of every explicit physical name in ``template``."""
    names = set()
    for resource in template["Resources"].values():
        kind = resource["Type"]
        properties = resource.get("Properties") or {}
        candidates = dict(properties)
        lambda_recipe = properties.get("LambdaFunction")
        if isinstance(lambda_recipe, dict):
            candidates["ComponentName"] = lambda_recipe.get("ComponentName")
        for key, value in candidates.items():
            if not (key.endswith("Name") or key in ("RoleAlias", "ResourceId")):
                continue
            if (kind, key) in _NOT_PHYSICAL:
                continue
            rendered = _render(value, template)
            if rendered is not None:
                names.add((kind, key, rendered))
    for output in template.get("Outputs", {}).values():
        if "Export" in output:
            rendered = _render(output["Export"]["Name"], template)
            names.add(("Export", "Name", rendered or repr(output["Export"]["Name"])))
    return names


def _team_names(synth: TeamSynth) -> set[tuple[str, str, str]]:
    return set().union(*(physical_names(t) for t in synth.templates.values()))


def test_no_physical_name_or_export_collides_across_teams(teams: dict[str, TeamSynth]) -> None:
    by_team = {team: _team_names(synth) for team, synth in teams.items()}
    # The check sees the names that matter (so it cannot pass by finding none).
    default_kinds = {kind for kind, _, _ in by_team[constants.DEFAULT_TEAM]}
    assert {
        "AWS::S3::Bucket",
        "AWS::SageMaker::Endpoint",
        "AWS::Logs::LogGroup",
        "AWS::CloudWatch::Dashboard",
        "AWS::IoT::Thing",
        "AWS::IoT::Policy",
        "AWS::IoT::RoleAlias",
        "AWS::GreengrassV2::ComponentVersion",
    } <= default_kinds
    for team, names in by_team.items():
        for other, other_names in by_team.items():
            if team < other:
                shared = {n for _, _, n in names} & {n for _, _, n in other_names}
                assert not shared, f"{team} and {other} both name {sorted(shared)}"


def test_stack_names_differ_and_follow_the_rule(teams: dict[str, TeamSynth]) -> None:
    seen: set[str] = set()
    for team, synth in teams.items():
        assert not seen & set(synth.templates), team
        seen |= set(synth.templates)
        assert sorted(synth.templates) == sorted(TeamNames(team).stacks().values())
        for stack in (synth.stacks.endpoint, synth.stacks.emotion_tracker, synth.stacks.edge):
            assert stack.tags.tag_values()[constants.TEAM_TAG] == team
            found = naming.team_of_stack(stack.stack_name)
            assert found is not None and found[0] == team
    assert sorted(teams["alice"].templates) == [
        "DataPalooza-alice-Challenge1-Endpoint",
        "DataPalooza-alice-Challenge2-EmotionTracker",
        "DataPalooza-alice-Challenge3-Edge",
    ]


def test_the_default_team_keeps_todays_names(teams: dict[str, TeamSynth]) -> None:
    default = teams[constants.DEFAULT_TEAM]
    assert sorted(default.templates) == sorted(
        [constants.CLOUD_INFERENCE_STACK, constants.EMOTION_TRACKER_STACK, constants.EDGE_STACK]
    )
    names = {(kind, key): name for kind, key, name in _team_names(default)}
    assert names[("AWS::S3::Bucket", "BucketName")] == (
        "datapalooza-faces-<AWS::AccountId>-<AWS::Region>"
    )
    assert names[("AWS::SageMaker::Endpoint", "EndpointName")] == constants.DEFAULT_ENDPOINT_NAME
    assert names[("AWS::CloudWatch::Dashboard", "DashboardName")] == "DataPalooza-CrowdMood"
    components = {
        name for kind, _, name in _team_names(default) if kind.endswith("ComponentVersion")
    }
    assert components == {"datapalooza.Camera", "datapalooza.EdgeInference"}
    things = {name for kind, _, name in _team_names(default) if kind == "AWS::IoT::Thing"}
    assert things == {"datapalooza-camera-main-cam-1", "datapalooza-edge-main-edge-1"}
    env = _device_environment(default, "datapalooza.EdgeInference")
    assert env[constants.ENV_QUEUE_DIR] == (
        "/greengrass/v2/work/datapalooza.EdgeInference/forward-queue"
    )
    # The runtime's defaults are the default team's names: nothing extra is set.
    assert constants.ENV_TOPIC not in env
    assert _metric_namespaces(default) == {constants.METRIC_NAMESPACE}


def _device_environment(synth: TeamSynth, component: str) -> dict[str, str]:
    for template in synth.templates.values():
        for c in resources(template, "AWS::GreengrassV2::ComponentVersion").values():
            recipe = c["Properties"]["LambdaFunction"]
            if recipe["ComponentName"] == component:
                env: dict[str, str] = recipe["ComponentLambdaParameters"]["EnvironmentVariables"]
                return env
    raise AssertionError(f"no component {component}")


def _metric_namespaces(synth: TeamSynth) -> set[str]:
    """Every custom-metric namespace the team's templates use: the tracker's (env), its
    alarm's and its dashboard's SEARCH expressions."""
    tracker = synth.templates[synth.stacks.emotion_tracker.stack_name]
    found = set()
    for function in resources(tracker, "AWS::Lambda::Function").values():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        if constants.ENV_METRIC_NAMESPACE in env:
            found.add(env[constants.ENV_METRIC_NAMESPACE])
    for alarm in resources(tracker, "AWS::CloudWatch::Alarm").values():
        namespace = alarm["Properties"].get("Namespace", "AWS/")
        if not namespace.startswith("AWS/"):
            found.add(namespace)
    dashboard = next(iter(resources(tracker, "AWS::CloudWatch::Dashboard").values()))
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = "".join(p for p in parts if isinstance(p, str))
    found |= set(re.findall(r"SEARCH\('\{([^,]+),", body))
    return found


def test_a_team_writes_reads_and_alarms_on_its_own_metrics(teams: dict[str, TeamSynth]) -> None:
    # The tracker writes, the alarm watches and the dashboard reads one namespace per team.
    assert _metric_namespaces(teams["alice"]) == {"DataPalooza/alice"}
    assert _metric_namespaces(teams["bob-2"]) == {"DataPalooza/bob-2"}


def test_a_teams_devices_are_told_their_names(teams: dict[str, TeamSynth]) -> None:
    camera = _device_environment(teams["alice"], "datapalooza.alice.Camera")
    assert camera[constants.ENV_TOPIC] == "datapalooza/alice/main/detections"
    assert camera[constants.ENV_ENDPOINT_NAME] == "datapalooza-alice-face-detection"
    edge = _device_environment(teams["alice"], "datapalooza.alice.EdgeInference")
    assert edge[constants.ENV_TOPIC] == "datapalooza/alice/main/edge-stats"
    assert edge[constants.ENV_QUEUE_DIR] == (
        "/greengrass/v2/work/datapalooza.alice.EdgeInference/forward-queue"
    )
    # Challenges 2 and 3 find their own team's bucket (by name, not by export).
    bucket = "datapalooza-alice-faces-"
    for stack in (teams["alice"].stacks.emotion_tracker, teams["alice"].stacks.edge):
        text = str(teams["alice"].templates[stack.stack_name])
        assert bucket in text and "'datapalooza-faces-'" not in text


# --- the rule, without synthesis ----------------------------------------------------


@pytest.mark.parametrize(
    "team", ["", "Alice", "-alice", "alice-", "al_ice", "al ice", "a" * 17, "alice.b", "é"]
)
def test_an_invalid_team_is_refused_naming_its_key(team: str) -> None:
    with pytest.raises(SettingsError, match="context datapalooza:team: invalid team name"):
        AppSettings.from_mapping({"datapalooza:team": team})


LONGEST = "t" * naming.MAX_TEAM_LENGTH
ACCOUNT = "123456789012"
LONGEST_REGION = "r" * naming.REGION_BUDGET


def test_the_longest_team_name_fits_every_limit() -> None:
    settings = AppSettings(team=LONGEST)
    names = AppNames.of(settings)
    team = TeamNames(LONGEST)
    bucket = team.faces_bucket(ACCOUNT, LONGEST_REGION)
    # (name, AWS's limit, AWS's pattern)
    checks = [
        (bucket, naming.BUCKET_NAME_MAX, r"[a-z0-9][a-z0-9.-]*[a-z0-9]"),
        (names.endpoint, naming.ENDPOINT_NAME_MAX, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"),
        *(
            (stack, naming.STACK_NAME_MAX, r"[A-Za-z][A-Za-z0-9-]{0,127}")
            for stack in team.stacks().values()
        ),
        (names.dashboard, naming.DASHBOARD_NAME_MAX, r"[A-Za-z0-9_-]+"),
        (names.metric_namespace, naming.METRIC_NAMESPACE_MAX, r"[^:].*"),
    ]
    for device, challenge in ((names.camera, 2), (names.edge, 3)):
        role = naming.token_exchange_role(team.stack(challenge), LONGEST_REGION)
        checks += [
            (role, naming.ROLE_NAME_MAX, r"[\w+=,.@-]+"),
            (device.thing, naming.THING_NAME_MAX, r"[a-zA-Z0-9:_-]+"),
            (device.role_alias, naming.ROLE_ALIAS_MAX, r"[\w=,@-]+"),
            (device.iot_policy, naming.IOT_POLICY_NAME_MAX, r"[\w+=,.@-]+"),
            (device.installer_iot_policy, naming.IOT_POLICY_NAME_MAX, r"[\w+=,.@-]+"),
            (device.component, naming.COMPONENT_NAME_MAX, r"[\w.-]+"),
        ]
    for name, limit, pattern in checks:
        assert len(name) <= limit and re.fullmatch(pattern, name), (name, limit)
    # The bucket is the tightest: exactly S3's 63 with a 15-character Region code.
    assert len(bucket) == naming.BUCKET_NAME_MAX
    assert bucket == f"datapalooza-{LONGEST}-faces-{ACCOUNT}-{LONGEST_REGION}"


def test_the_role_name_limit_is_iams_own() -> None:
    # The IAM API's model, as botocore ships it, states the limit the naming rule keeps.
    import botocore.session

    model = botocore.session.get_session().get_service_model("iam")
    assert model.shape_for("roleNameType").metadata["max"] == naming.ROLE_NAME_MAX


def test_the_installers_permissions_name_each_teams_token_exchange_role(
    teams: dict[str, TeamSynth],
) -> None:
    # The deployer's permissions for the Greengrass installer (preflight, permissions.md)
    # must match the role the stack makes and the placeholder policy named after it.
    # Left to CloudFormation, the role's name was shortened past 64 characters in a way
    # no AWS page states; named, it is known before the deploy.
    from fnmatch import fnmatchcase

    from datapalooza.preflight.deployer_permissions import challenges

    for team, synth in teams.items():
        for challenge in challenges(team).values():
            step = next((s for s in challenge.steps if s.name == "Greengrass installer"), None)
            if step is None:
                continue
            template = synth.templates[challenge.stack]
            (role,) = [
                r
                for r in resources(template, "AWS::IAM::Role").values()
                if r["Properties"]
                .get("AssumeRolePolicyDocument", {})
                .get("Statement", [{}])[0]
                .get("Principal", {})
                .get("Service")
                == "credentials.iot.amazonaws.com"
            ]
            name = _render(role["Properties"]["RoleName"], template)
            assert name is not None and "<AWS::Region>" in name
            name = name.replace("<AWS::Region>", "ap-southeast-1")
            (placeholder,) = [
                p
                for p in resources(template, "AWS::IAM::ManagedPolicy").values()
                if "Placeholder" in p["Properties"].get("Description", "")
            ]
            policy = _render(placeholder["Properties"]["ManagedPolicyName"], template)
            assert policy == f"{_render(role['Properties']['RoleName'], template)}Access"
            patterns = [r for p in step.permissions for r in p.resources]
            arn = "arn:{partition}:iam::{account}:"
            assert any(fnmatchcase(f"{arn}role/{name}", p) for p in patterns), (team, name)
            assert any(fnmatchcase(f"{arn}policy/{name}Access", p) for p in patterns), (team, name)


def test_one_more_character_is_refused() -> None:
    with pytest.raises(SettingsError, match="datapalooza:team"):
        AppSettings(team=LONGEST + "t")


def test_a_derived_name_over_its_limit_names_the_keys_that_make_it() -> None:
    # endpoint_name alone may be 63 characters; with a team it would not fit.
    settings = AppSettings(team="alice", endpoint_name="e" * 60)
    with pytest.raises(SettingsError) as raised:
        AppNames.of(settings)
    message = str(raised.value)
    assert "datapalooza:team" in message and "datapalooza:endpoint_name" in message
    assert "63" in message
    # Without a team the same endpoint name is today's, and fine.
    assert AppNames.of(AppSettings(endpoint_name="e" * 60)).endpoint == "e" * 60
