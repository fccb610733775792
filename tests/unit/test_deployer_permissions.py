"""The deployer's permission tables: one source in code, shown as-is in the docs."""

from __future__ import annotations

import re

from datapalooza.preflight.deployer_permissions import CHALLENGES, markdown_tables
from tests.conftest import REPO

START = "<!-- deployer-tables: generated from datapalooza/preflight/deployer_permissions.py -->\n"
END = "<!-- /deployer-tables -->"


def test_docs_show_exactly_the_tables_preflight_checks() -> None:
    page = (REPO / "docs" / "permissions.md").read_text()
    assert START in page and END in page, "docs/permissions.md lost its deployer tables"
    shown = page.split(START, 1)[1].split(END, 1)[0]
    assert shown == markdown_tables(), (
        "docs/permissions.md differs from datapalooza/preflight/deployer_permissions.py: "
        "paste markdown_tables() between the markers"
    )


def test_every_action_is_a_single_iam_action_and_every_resource_an_arn() -> None:
    for challenge in CHALLENGES.values():
        for step in challenge.steps:
            for permission in step.permissions:
                for action in permission.actions:
                    assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action
                for arn in permission.resource_arns(partition="aws", account="1", region="r"):
                    assert arn == "*" or arn.startswith("arn:aws:"), arn


def test_each_challenge_covers_bootstrap_deploy_and_destroy_and_devices_the_installer() -> None:
    for number, challenge in CHALLENGES.items():
        names = [step.name for step in challenge.steps]
        assert names[:3] == ["cdk bootstrap", "cdk deploy", "cdk destroy"]
        assert ("Greengrass installer" in names) is (number in (2, 3))


def test_a_teams_tables_name_its_own_stacks_and_roles() -> None:
    from datapalooza.naming import TeamNames
    from datapalooza.preflight.deployer_permissions import challenges

    alice = challenges("alice")
    assert {n: c.stack for n, c in alice.items()} == TeamNames("alice").stacks()
    installer = next(s for s in alice[2].steps if s.name == "Greengrass installer")
    roles = [r for p in installer.permissions for r in p.resources if ":role/" in r]
    assert roles == ["arn:{partition}:iam::{account}:role/DataPalooza-alice-Challenge2-TES-*"]
