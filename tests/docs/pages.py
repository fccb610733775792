"""The guide's pages as data: runnable command blocks, links, images and anchors.

A command block is *runnable* when an HTML comment right before it says so (GitHub
does not render the comment, so readers see a plain block):

    <!-- runnable; expect: "FaceCount" ; expect: faces/main/ ; timeout: 90 -->
    ```sh
    datapalooza detect frame.jpg
    ```

``expect`` (repeatable) is text the block's output must contain: what the page
promises the reader will see. ``status`` is the exit status the page promises
(default 0). ``timeout`` is in seconds (default 120). Blocks of one
page run in order, in one scratch directory, so a later block can use what an earlier
one wrote or started. Mark only local, fast, deterministic commands: no AWS, no
network, no long runs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

REPO = Path(__file__).resolve().parents[2]
RUNNABLE = re.compile(r"^<!--\s*runnable\b(?P<options>.*?)-->\s*$", re.DOTALL)
SHELLS = {"sh", "bash", "shell", "console"}
LANGUAGES = SHELLS | {"python"}
DEFAULT_TIMEOUT_S = 120.0


def pages() -> list[Path]:
    """Every page of the guide: the README and docs/*.md."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@dataclass(frozen=True, slots=True)
class RunnableBlock:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    expect: tuple[str, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    status: int = 0

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


@dataclass(frozen=True, slots=True)
class Link:
    page: Path
    line: int
    target: str
    image: bool


@dataclass(slots=True)
class Page:
    path: Path
    blocks: list[RunnableBlock] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    mermaid: list[str] = field(default_factory=list)


class BadMarker(ValueError):
    """A runnable marker that the test cannot honour (a typo must not skip a block)."""


def _options(text: str, where: str) -> tuple[tuple[str, ...], float, int]:
    expect: list[str] = []
    timeout_s = DEFAULT_TIMEOUT_S
    status = 0
    for part in (p.strip() for p in text.split(" ; ") if p.strip()):
        part = part.removeprefix(";").strip()
        if not part:
            continue
        key, sep, value = part.partition(":")
        if not sep:
            raise BadMarker(
                f"{where}: {part!r} is not 'expect: TEXT', 'status: N' or 'timeout: SECONDS'"
            )
        key, value = key.strip(), value.strip()
        if key == "expect" and value:
            expect.append(value)
        elif key == "timeout":
            timeout_s = float(value)
        elif key == "status":
            status = int(value)
        else:
            raise BadMarker(f"{where}: unknown option {key!r}")
    return tuple(expect), timeout_s, status


def github_slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to
    hyphens (letters, digits, ``_`` and ``-`` stay)."""
    kept = "".join(
        ch
        for ch in text.strip().lower()
        if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N")
    )
    return kept.replace(" ", "-")


def _inline_text(token: Token) -> str:
    return "".join(
        child.content for child in token.children or [] if child.type in ("text", "code_inline")
    )


def _links(inline: Token, page: Path) -> list[Link]:
    found: list[Link] = []
    line = (inline.map or [0])[0] + 1
    for child in inline.children or []:
        if child.type == "link_open":
            found.append(Link(page, line, str(child.attrGet("href") or ""), image=False))
        elif child.type == "image":
            found.append(Link(page, line, str(child.attrGet("src") or ""), image=True))
    return found


@cache
def parse(path: Path) -> Page:
    tokens = MarkdownIt("commonmark").enable("table").parse(path.read_text(encoding="utf-8"))
    page = Page(path)
    seen: dict[str, int] = {}
    marker: tuple[tuple[str, ...], float, int] | None = None
    for index, token in enumerate(tokens):
        line = (token.map or [0])[0] + 1
        where = f"{path.relative_to(REPO)}:{line}"
        if token.type == "html_block":
            match = RUNNABLE.match(token.content.strip())
            marker = _options(match["options"], where) if match else None
            continue
        if token.type == "fence":
            language = token.info.split()[0] if token.info.strip() else ""
            if language == "mermaid":
                page.mermaid.append(token.content)
            if marker is not None:
                if language not in LANGUAGES:
                    raise BadMarker(f"{where}: a runnable block must be one of {LANGUAGES}")
                expect, timeout_s, status = marker
                page.blocks.append(
                    RunnableBlock(path, line, language, token.content, expect, timeout_s, status)
                )
        elif token.type == "heading_open":
            slug = github_slug(_inline_text(tokens[index + 1]))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            page.anchors.add(slug if count == 0 else f"{slug}-{count}")
        elif token.type == "inline":
            page.links.extend(_links(token, path))
        if marker is not None and token.type != "fence":
            raise BadMarker(f"{where}: a runnable marker must come right before a code block")
        marker = None
    return page


_CAMEL = r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+"
_OUTPUT_IN_BLOCK = re.compile(rf"<(?P<placeholder>{_CAMEL})>|OutputKey=='(?P<key>{_CAMEL})'")
_MENTIONS_OUTPUTS = re.compile(r"\boutputs?\b")


def stack_outputs_named(path: Path) -> set[str]:
    """The stack outputs a page tells the reader to use: ``<CameraThingName>``
    placeholders and ``OutputKey=='...'`` queries in shell blocks, and CamelCase inline
    code in a paragraph that speaks of outputs."""
    named: set[str] = set()
    for token in MarkdownIt("commonmark").enable("table").parse(path.read_text("utf-8")):
        if token.type == "fence" and (token.info.split() or [""])[0] in SHELLS:
            for match in _OUTPUT_IN_BLOCK.finditer(token.content):
                named.add(match["placeholder"] or match["key"])
        elif token.type == "inline" and _MENTIONS_OUTPUTS.search(token.content):
            named |= {
                child.content
                for child in token.children or []
                if child.type == "code_inline" and re.fullmatch(_CAMEL, child.content)
            }
    return named
