"""cdk-nag (AWS Solutions) and cfn-lint over the synthesised templates."""

from __future__ import annotations

import json

from aws_cdk import Validations
from cfnlint.api import ManualArgs, lint

from tests.infra.conftest import Synth, load_json

# CDK adds DependsOn entries that a GetAtt already implies (its own auto-delete and
# bucket-notification handlers, and role -> function); harmless, and not ours to change.
REDUNDANT_DEPENDS_ON = "W3005"
# Regions where workshops typically run; cfn-lint checks resource types exist there.
WORKSHOP_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    # Given the app synthesised with AwsSolutionsChecks as a validation plugin
    report = load_json(synth.outdir / "validation-report.json")
    # Then no plugin reported any violation
    violations = [
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    ]
    assert violations == []


def test_every_acknowledgement_carries_a_reason(synth: Synth) -> None:
    acknowledged: dict[str, str] = {}
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.update(entry.data)
    assert acknowledged, "expected the acknowledgements of stacks/nag_acknowledgements.py"
    for rule, reason in acknowledged.items():
        assert rule.startswith("AwsSolutions::AwsSolutions-"), rule
        # A sentence a reviewer can check, not a placeholder.
        assert len(reason) >= 60, (rule, reason)
    # IAM wildcards are acknowledged finding by finding, never as a whole rule.
    assert "AwsSolutions::AwsSolutions-IAM5" not in acknowledged


def test_cfn_lint_finds_nothing_but_cdks_redundant_depends_on(synth: Synth) -> None:
    for name, template in synth.all_templates().items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=WORKSHOP_REGIONS))
        # Errors and warnings, as `cfn-lint` reports by default (not informational I-rules).
        problems = [
            m for m in matches if m.rule.id[0] in "EW" and m.rule.id != REDUNDANT_DEPENDS_ON
        ]
        assert problems == [], f"{name}: {[str(m) for m in problems]}"
