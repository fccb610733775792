"""Links between the guide's pages, their #anchors and images all resolve, and the
architecture pictures name files that exist."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest

from tests.docs.pages import REPO, Link, github_slug, pages, parse

LINKS = [link for page in pages() for link in parse(page).links]


def _local(link: Link) -> bool:
    parts = urlsplit(link.target)
    return not parts.scheme and not parts.netloc


def _problem(link: Link) -> str | None:
    parts = urlsplit(link.target)
    path, anchor = unquote(parts.path), unquote(parts.fragment)
    target = (link.page.parent / path).resolve() if path else link.page
    if REPO not in target.parents and target != REPO:
        return f"{link.target} points outside the repository"
    if not target.exists():
        return f"{link.target}: {target.relative_to(REPO)} does not exist"
    if link.image and not target.is_file():
        return f"{link.target}: an image must be a file"
    if anchor:
        if target.suffix != ".md":
            return f"{link.target}: an anchor into a file that is not a page"
        if anchor not in parse(target).anchors:
            return f"{link.target}: no heading of {target.name} has the anchor #{anchor}"
    return None


@pytest.mark.parametrize(
    "link",
    [link for link in LINKS if _local(link)],
    ids=lambda link: f"{link.page.name}:{link.line}:{link.target}",
)
def test_local_link_resolves(link: Link) -> None:
    assert _problem(link) is None, f"{link.page.relative_to(REPO)}:{link.line}: {_problem(link)}"


def test_every_page_is_reachable_from_the_readme() -> None:
    linked = {
        (link.page.parent / unquote(urlsplit(link.target).path)).resolve()
        for link in LINKS
        if _local(link) and urlsplit(link.target).path
    }
    orphans = [p.name for p in pages() if p.name != "README.md" and p.resolve() not in linked]
    assert orphans == [], f"pages no other page links to: {orphans}"


def test_the_link_check_catches_drift() -> None:
    page = REPO / "docs" / "deploy.md"
    assert _problem(Link(page, 1, "teardown.md#no-such-heading", image=False))
    assert _problem(Link(page, 1, "no-such-page.md", image=False))
    assert _problem(Link(page, 1, "images/no-such.png", image=True))
    good = "challenge1-endpoint.md#2-look-at-what-will-be-deployed"
    assert _problem(Link(page, 1, good, image=False)) is None


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("1. Try it locally (no AWS account)", "1-try-it-locally-no-aws-account"),
        ("Running datapalooza up", "running-datapalooza-up"),
        ("Cost: batching and the mosaic", "cost-batching-and-the-mosaic"),
        ("IAM: exactly what the tracker role needs", "iam-exactly-what-the-tracker-role-needs"),
    ],
)
def test_github_slug(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


# A path with a slash and a file name, as the pictures' boxes name their code.
CODE_PATH = re.compile(r"(?<![\w/.{-])((?:[\w.-]+/)+[\w.-]+\.py)\b")


# A picture of how the code used to be starts with this comment: its "before" boxes name
# files that are gone on purpose, so only its "after" subgraph is checked.
HISTORY = "%% history"


def test_architecture_pictures_name_real_code() -> None:
    page = parse(REPO / "docs" / "architecture.md")
    current = [block for block in page.mermaid if HISTORY not in block]
    assert len(current) >= 2, "the AWS path and the local path"
    history = [block.split("subgraph after", 1)[1] for block in page.mermaid if HISTORY in block]
    named = {m for block in [*current, *history] for m in CODE_PATH.findall(block)}
    assert len(named) >= 5
    missing = sorted(
        path
        for path in named
        if not (REPO / path).is_file() and not (REPO / "datapalooza" / path).is_file()
    )
    assert missing == [], f"the architecture pictures name files that do not exist: {missing}"
