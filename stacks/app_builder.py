"""Builds the whole CDK app: three challenge stacks and the cdk-nag checks over them.

``app.py`` (what ``cdk synth`` runs) and the infra tests both call ``build_app``, so the
tests check exactly what gets deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from datapalooza import constants
from stacks.build.cdk_handler_logs import own_cdk_handler_logs
from stacks.build.requirements import REPO_ROOT
from stacks.challenges.edge_stack import EdgeStack
from stacks.challenges.emotion_tracker_stack import EmotionTrackerStack
from stacks.challenges.endpoint_stack import EndpointStack
from stacks.nag_acknowledgements import acknowledge_findings
from stacks.names import AppNames
from stacks.settings import AppSettings

CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass(frozen=True, slots=True)
class FestivalStacks:
    endpoint: EndpointStack
    emotion_tracker: EmotionTrackerStack
    edge: EdgeStack


def build_app(
    app: App,
    *,
    settings: AppSettings,
    model_artifact: Path,
    env: Environment | None = None,
) -> FestivalStacks:
    """Add the three challenge stacks to ``app`` and check them with cdk-nag's AWS
    Solutions pack (synthesis fails on any finding not acknowledged, with a reason, in
    stacks/nag_acknowledgements.py).

    Every stack and physical name follows ``settings.team`` (stacks/names.py), so each
    team's three stacks stand beside the other teams' in one account and Region."""
    names = AppNames.of(settings)
    endpoint = EndpointStack(
        app,
        names.endpoint_stack,
        settings=settings,
        names=names,
        model_artifact=model_artifact,
        env=env,
        description="DataPalooza Challenge 1: face-detection endpoint and faces bucket",
    )
    tracker = EmotionTrackerStack(
        app,
        names.emotion_tracker_stack,
        settings=settings,
        names=names,
        endpoint=endpoint.endpoint,
        env=env,
        description="DataPalooza Challenge 2: emotion tracker, crowd dashboard, camera device",
    )
    tracker.add_dependency(endpoint, "the camera invokes Challenge 1's endpoint")
    edge = EdgeStack(
        app,
        names.edge_stack,
        settings=settings,
        names=names,
        env=env,
        description="DataPalooza Challenge 3: edge inference device",
    )
    edge.add_dependency(endpoint, "the edge device writes into Challenge 1's faces bucket")
    stacks = FestivalStacks(endpoint=endpoint, emotion_tracker=tracker, edge=edge)
    for challenge, stack in enumerate((endpoint, tracker, edge), start=1):
        # Stack tags (CloudFormation propagates them to the resources): the workshop
        # commands find a team's stacks and delete them highest challenge first.
        Tags.of(stack).add(constants.TEAM_TAG, names.team)
        Tags.of(stack).add(constants.CHALLENGE_TAG, str(challenge))
        # CDK's own handlers (bucket auto-delete, bucket notifications) log into the
        # stack's log groups, not into ones Lambda makes that cdk destroy leaves behind.
        own_cdk_handler_logs(stack, retention=settings.log_retention)
    acknowledge_findings(stacks, team=names.team)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stacks


def cdk_json_context() -> dict[str, Any]:
    """The context in cdk.json (settings and feature flags), so ``python app.py`` and
    the tests synthesise what ``cdk synth`` does; values from the CLI still win."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context
