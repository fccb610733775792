"""What docs/ says a stack sets is what the synthesised templates set: environment
variables, resource types, log retention."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from stacks.settings import CONTEXT_PREFIX, AppSettings
from tests.docs.pages import pages
from tests.infra.conftest import Synth, resources

DOCS = Path(__file__).resolve().parents[2] / "docs"
STACK_SETS = re.compile(r"The stack sets these environment variables:(.*?)\.\s+(?=[A-Z])", re.S)


def _stack_set_names(page: str) -> set[str]:
    (listed,) = STACK_SETS.findall((DOCS / page).read_text())
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", listed))


def _component_environment(template: dict[str, Any], component_name: str) -> set[str]:
    (component,) = (
        c
        for c in resources(template, "AWS::GreengrassV2::ComponentVersion").values()
        if c["Properties"]["LambdaFunction"]["ComponentName"] == component_name
    )
    parameters = component["Properties"]["LambdaFunction"]["ComponentLambdaParameters"]
    return set(parameters["EnvironmentVariables"])


@pytest.mark.parametrize(
    ("page", "template_name", "component"),
    [
        ("challenge2-camera.md", "tracker", "datapalooza.Camera"),
        ("challenge3-edge.md", "edge", "datapalooza.EdgeInference"),
    ],
)
def test_device_pages_list_exactly_the_variables_the_stack_sets(
    synth: Synth, page: str, template_name: str, component: str
) -> None:
    template = synth.all_templates()[template_name]
    assert _stack_set_names(page) == _component_environment(template, component)


def test_tracker_page_lists_exactly_the_stacks_settings(synth: Synth) -> None:
    text = (DOCS / "challenge2-emotion-tracker.md").read_text()
    section = text.split("## Settings (environment variables, set by the stack)")[1]
    section = section.split("\n## ")[0]
    documented = set(re.findall(r"^\| `(DATAPALOOZA_[A-Z_]+)`", section, re.M))
    (function,) = (
        f
        for f in resources(synth.tracker.to_json(), "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "handler.handler"
        and "DATAPALOOZA_RESULTS_TABLE" in f["Properties"]["Environment"]["Variables"]
    )
    variables = function["Properties"]["Environment"]["Variables"]
    assert documented == {name for name in variables if name.startswith("DATAPALOOZA_")}


def test_every_resource_type_the_docs_name_is_in_a_template(synth: Synth) -> None:
    present = {r["Type"] for t in synth.all_templates().values() for r in t["Resources"].values()}
    for page in DOCS.glob("*.md"):
        named = set(
            re.findall(r"\b((?:AWS|Custom)::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)?)", page.read_text())
        )
        assert named - present == set(), page.name


def test_every_log_group_keeps_the_documented_retention_and_goes_with_its_stack(
    synth: Synth,
) -> None:
    # deploy.md: log_retention_days is the retention of every log group the stacks create
    assert (
        "| `log_retention_days` | 7 | retention of every log group"
        in (DOCS / "deploy.md").read_text()
    )
    assert synth.settings.log_retention_days == 7
    groups = [
        g
        for t in synth.all_templates().values()
        for g in resources(t, "AWS::Logs::LogGroup").values()
    ]
    assert len(groups) >= 6  # tracker, camera, edge, two teardown functions, endpoint
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == 7
        assert group["DeletionPolicy"] == "Delete"


def test_responsible_use_states_how_long_crop_keys_stay_in_the_dlq_and_the_logs(
    synth: Synth,
) -> None:
    # What is kept and for how long: the dead letters and log lines name crops too.
    table = (DOCS / "responsible-use.md").read_text().split("## What is kept, and for how long")[1]
    rows = {row.split("|")[2].strip(): row for row in table.splitlines() if row.startswith("| ")}
    dlq_row = rows["the tracker's dead-letter queue"]
    (queue,) = (
        q
        for k, q in resources(synth.tracker.to_json(), "AWS::SQS::Queue").items()
        if k.startswith("TrackerDeadLetters")
    )
    days = queue["Properties"]["MessageRetentionPeriod"] // 86_400
    assert f"**{days} days**" in dlq_row
    logs_row = next(row for where, row in rows.items() if "log groups" in where)
    assert f"**{synth.settings.log_retention_days} days**" in logs_row
    assert "`log_retention_days`" in logs_row


SETTINGS = {field.name for field in fields(AppSettings)}
# `-c datapalooza:KEY=VALUE`: an unknown key is ignored by the app, so a misspelt or
# renamed one would deploy the defaults without a word.
CONTEXT_FLAG = re.compile(rf"(?:-c|--context)\s+{CONTEXT_PREFIX}(?P<key>[a-z_]+)=")


def test_every_context_key_the_guide_passes_is_a_setting() -> None:
    passed = {
        (page.name, match["key"])
        for page in pages()
        for match in CONTEXT_FLAG.finditer(page.read_text())
    }
    assert {"team", "virtual_device", "endpoint_stages"} <= {key for _, key in passed}
    assert {(page, key) for page, key in passed if key not in SETTINGS} == set()


def test_deploy_page_lists_exactly_the_settings() -> None:
    section = (DOCS / "deploy.md").read_text().split("## Settings (CDK context)")[1]
    section = section.split("\n## ")[0]
    keys = {
        key
        for row in re.findall(r"^\| (`.*?) \|", section, re.M)
        for key in re.findall(r"`([a-z_]+)`", row)
    }
    assert keys == SETTINGS
