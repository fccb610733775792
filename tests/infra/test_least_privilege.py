"""IAM: every role can do exactly what its part of the pipeline needs, and no more."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from datapalooza import constants
from tests.infra.conftest import Synth, resources

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Actions AWS offers no resource-level permissions for; the only ones allowed on "*".
NO_RESOURCE_LEVEL = {
    "ecr:GetAuthorizationToken",
    "rekognition:DetectFaces",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # CDK's own deploy-time handler that sets the bucket's notification configuration.
    "s3:PutBucketNotification",
}


def statements_of(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    """All Allow statements of the policies attached to roles whose logical id starts
    with ``role_prefix``."""
    found: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
        if any(role.startswith(role_prefix) for role in roles):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    assert found, f"no policy for a role {role_prefix}*"
    return found


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        out.update([action] if isinstance(action, str) else action)
    return out


def resource_text(statement: dict[str, Any]) -> str:
    return json.dumps(statement["Resource"])


def test_no_wildcard_actions_and_star_resources_only_where_aws_has_no_choice(
    synth: Synth,
) -> None:
    for name, template in synth.all_templates().items():
        for policy in resources(template, "AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = actions_of([statement])
                assert not any("*" in action for action in actions), (name, actions)
                if statement["Resource"] == "*":
                    assert actions <= NO_RESOURCE_LEVEL, (name, actions)


def test_endpoint_role_writes_only_face_crops_and_reads_only_its_artifact(synth: Synth) -> None:
    statements = statements_of(synth.endpoint.to_json(), "DetectionExecutionRole")
    s3_statements = [s for s in statements if any(a.startswith("s3:") for a in actions_of([s]))]
    by_actions = {frozenset(actions_of([s])): resource_text(s) for s in s3_statements}
    assert set(by_actions) == {
        frozenset({"s3:PutObject", "s3:DeleteObject"}),
        frozenset({"s3:GetObject"}),
    }
    crops = by_actions[frozenset({"s3:PutObject", "s3:DeleteObject"})]
    assert "datapalooza-faces-" in crops and crops.endswith('"/faces/*"]]}')
    artifact = by_actions[frozenset({"s3:GetObject"})]
    # The one artifact object (its content hash), not the whole assets bucket.
    assert re.search(r"/[0-9a-f]{64}\.gz\"", artifact) and "/*" not in artifact
    assert actions_of(statements) == {
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:GetObject",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetAuthorizationToken",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def tables_by_key(template: dict[str, Any]) -> dict[str, str]:
    """Logical id of each DynamoDB table, by its partition key's name."""
    return {
        table["Properties"]["KeySchema"][0]["AttributeName"]: logical_id
        for logical_id, table in resources(template, "AWS::DynamoDB::GlobalTable").items()
    }


def test_tracker_role_reads_crops_scores_them_and_writes_one_table(synth: Synth) -> None:
    template = synth.tracker.to_json()
    statements = statements_of(template, "TrackerFunctionRole")
    actions = actions_of(statements)
    assert {"rekognition:DetectFaces", "dynamodb:PutItem", "s3:GetObject"} <= actions
    # Consuming its queue is the only other thing it does (besides logs and traces).
    assert (
        actions
        - {
            "rekognition:DetectFaces",
            "dynamodb:PutItem",
            "dynamodb:GetItem",  # the idempotency records only (below)
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "s3:GetObject",
            "s3:ListBucket",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:SendMessage",  # back to its own queue, what it had no time for
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        }
        == set()
    )
    assert "cloudwatch:PutMetricData" not in actions  # metrics leave through EMF logs
    tables = tables_by_key(template)
    dynamodb = {
        frozenset(actions_of([s])): s["Resource"]
        for s in statements
        if any(a.startswith("dynamodb:") for a in actions_of([s]))
    }
    assert dynamodb == {
        # Results: one conditional write per face, never a read.
        frozenset({"dynamodb:PutItem"}): {
            "Fn::GetAtt": [tables[constants.RESULTS_PARTITION_KEY], "Arn"]
        },
        # Idempotency records: claim, read, settle, release; no Scan, Query or Batch*.
        frozenset(
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
        ): {"Fn::GetAtt": [tables[constants.IDEMPOTENCY_KEY_ATTRIBUTE], "Arn"]},
    }
    for statement in statements:
        acts = actions_of([statement])
        if "s3:GetObject" in acts:
            assert resource_text(statement).endswith('"/faces/*"]]}')
        if "s3:ListBucket" in acts:
            # Listing only under faces/, so a deleted crop reads as 404, not 403.
            assert acts == {"s3:ListBucket"}
            assert statement["Condition"]["StringLike"] == {"s3:prefix": ["faces/*"]}


CROP_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}


def test_every_grant_on_face_crops_holds_only_in_this_accounts_bucket(synth: Synth) -> None:
    # An S3 ARN names no account and the faces bucket's name is predictable: without the
    # condition, a bucket of that name in another account (made after ours was deleted)
    # would receive the edge's crop sheets and the endpoint's crops.
    grants = [
        (name, statement)
        for name, template in synth.all_templates().items()
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if actions_of([statement]) & CROP_ACTIONS
        and "datapalooza-faces-" in resource_text(statement)
    ]
    # The endpoint writes, the tracker lists and reads, the edge device writes.
    assert {name for name, _ in grants} == {"endpoint", "tracker", "edge"}
    assert len(grants) == 4
    for name, statement in grants:
        condition = statement.get("Condition", {}).get("StringEquals", {})
        assert condition.get("aws:ResourceAccount") == {"Ref": "AWS::AccountId"}, (name, statement)


def _table_actions(page: str, heading: str) -> set[str]:
    """The ``service:Action`` names in the first column of the first table under
    ``heading`` on ``page`` (the other columns may name what the role is not given)."""
    text = (DOCS / page).read_text().split(heading, 1)[1]
    rows = re.search(r"((?:^\|.*\n)+)", text, re.M)
    assert rows is not None, f"no table under {heading!r} in {page}"
    first_cells = [row.split("|")[1] for row in rows.group(1).splitlines()]
    return {a for cell in first_cells for a in re.findall(r"`([a-z0-9]+:[A-Z]\w+)`", cell)}


def test_the_guides_list_exactly_the_tracker_roles_actions(synth: Synth) -> None:
    actions = actions_of(statements_of(synth.tracker.to_json(), "TrackerFunctionRole"))
    for page, heading in (
        ("challenge2-emotion-tracker.md", "## IAM: exactly what the tracker role needs"),
        ("permissions.md", "### Emotion tracker function role"),
    ):
        assert _table_actions(page, heading) == actions, page


def test_devices_may_do_only_their_one_job(synth: Synth) -> None:
    camera = statements_of(synth.tracker.to_json(), "CameraCoreTokenExchangeRole")
    assert actions_of(camera) == {"sagemaker:InvokeEndpoint"}
    assert f"endpoint/{synth.settings.endpoint_name}" in resource_text(camera[0])

    edge = statements_of(synth.edge.to_json(), "EdgeCoreTokenExchangeRole")
    assert actions_of(edge) == {"s3:PutObject"}  # uploads from its queue, never deletes
    # Its own stage's crops only (tests/infra/test_greengrass_devices.py matches keys).
    assert resource_text(edge[0]).endswith(f'"/faces/{synth.settings.edge_stage}/*"]]}}')


def test_device_roles_are_assumable_only_by_iot_credentials_provider(synth: Synth) -> None:
    for template, prefix in ((synth.tracker, "CameraCore"), (synth.edge, "EdgeCore")):
        roles = {
            k: v
            for k, v in resources(template.to_json(), "AWS::IAM::Role").items()
            if k.startswith(prefix)
        }
        (role,) = roles.values()
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "credentials.iot.amazonaws.com"}
        assert "ManagedPolicyArns" not in role["Properties"]
