"""Every AWS CLI command the guide shows is known here, and the IAM actions the
attendee's own identity needs for it are on docs/permissions.md.

These commands cannot run without an account, so a new one (or one a page renames)
fails here until it is mapped to its actions below and permissions.md lists them.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from tests.docs.pages import REPO, SHELLS, pages

AWS = re.compile(r"(?:^|[\s;&|(])aws\s+(?P<service>[a-z0-9-]+)(?:\s+(?P<op>[a-z][a-z0-9-]+))?")

# (service, operation) -> the IAM actions the attendee's own identity needs to run it
# (AWS's Service Authorization Reference), or None when it is not the attendee's: set
# up of the CLI, the organisation's management account, the instructor's teardown.
ACTIONS: dict[tuple[str, str | None], tuple[str, ...] | None] = {
    ("sagemaker", "describe-endpoint"): ("sagemaker:DescribeEndpoint",),
    ("sagemaker-runtime", "invoke-endpoint"): ("sagemaker:InvokeEndpoint",),
    ("cloudformation", "describe-stacks"): ("cloudformation:DescribeStacks",),
    ("s3", "ls"): ("s3:ListBucket",),  # ListObjectsV2
    ("s3api", "head-object"): ("s3:GetObject",),  # HeadObject needs read access
    ("s3api", "get-object"): ("s3:GetObject",),
    ("ssm", "start-session"): ("ssm:StartSession", "ssm:TerminateSession"),
    ("configure", None): None,
    ("organizations", "enable-policy-type"): None,
    ("organizations", "create-policy"): None,
    ("organizations", "attach-policy"): None,
    ("cloudformation", "describe-account-limits"): None,
}

PERMISSIONS = REPO / "docs" / "permissions.md"
SECTION = "### Looking at what you deployed (the guide's `aws` commands)"


def aws_commands(page: Path) -> set[tuple[str, str | None]]:
    """(service, operation) of every `aws` command in the page's shell blocks and
    inline code."""
    found: set[tuple[str, str | None]] = set()
    for token in MarkdownIt("commonmark").enable("table").parse(page.read_text("utf-8")):
        if token.type == "fence" and (token.info.split() or [""])[0] in SHELLS:
            texts = [token.content.replace("\\\n", " ")]
        elif token.type == "inline":
            texts = [c.content for c in token.children or [] if c.type == "code_inline"]
        else:
            continue
        for text in texts:
            found |= {(m["service"], m["op"]) for m in AWS.finditer(text)}
    return found


def _shown() -> dict[tuple[str, str | None], list[str]]:
    shown: dict[tuple[str, str | None], list[str]] = {}
    for page in pages():
        for command in aws_commands(page):
            shown.setdefault(command, []).append(page.name)
    return shown


def test_every_aws_command_the_guide_shows_is_mapped_to_its_actions() -> None:
    unknown = {command: where for command, where in _shown().items() if command not in ACTIONS}
    assert unknown == {}, "map these to the IAM actions they need (and list them on permissions.md)"


def test_permissions_page_lists_what_the_attendees_commands_need() -> None:
    page = PERMISSIONS.read_text(encoding="utf-8")
    assert SECTION in page, "docs/permissions.md lost the table of the guide's aws commands"
    section = page.split(SECTION, 1)[1].split("\n## ", 1)[0]
    for (service, op), where in _shown().items():
        for action in ACTIONS.get((service, op)) or ():
            assert f"`{action}`" in section, f"aws {service} {op} ({where}) needs {action}"


def test_commands_are_found_in_blocks_and_inline_code(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `aws sts get-caller-identity`, then:\n\n```sh\n"
        "aws s3 ls s3://$(aws cloudformation describe-stacks \\\n  --stack-name X)\n```\n"
    )
    assert aws_commands(page) == {
        ("sts", "get-caller-identity"),
        ("s3", "ls"),
        ("cloudformation", "describe-stacks"),
    }
