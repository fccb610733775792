"""cdk-nag (AWS Solutions) and cfn-lint over the synthesised templates."""

from __future__ import annotations

from aws_cdk import Validations

from tests.infra.conftest import Synth, lint_problems, nag_violations


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    # Given the app synthesised with AwsSolutionsChecks as a validation plugin
    # Then no plugin reported any violation
    assert nag_violations(synth.outdir) == []


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
        assert lint_problems(template) == [], name
