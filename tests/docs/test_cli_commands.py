"""Every `datapalooza ...` command the guide shows is one the CLI accepts as written.

The runnable blocks run the local commands; the ones that need AWS (``preflight``,
``workshop``) or a device cannot run here, so their form is checked instead: each
command of a shell block, and each inline command that passes an option, goes through
the real argument parser (nothing runs). An inline span without options is a mention
(`datapalooza workshop` finds a team's stacks), not a command.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from datapalooza.cli import build_parser
from tests.docs.pages import REPO, SHELLS, pages

COMMAND = re.compile(r"(?:^|[\s;&|(])(?:\.venv/bin/)?datapalooza\s+(?P<argv>[^#;&|)]*)")
# Placeholders the pages write for a value the reader picks.
PLACEHOLDERS = {"N": "1"}
# Inline spans that quote part of a command in a sentence (an option being described,
# a command shortened in a table), not a command to type.
PARTIAL = {
    "datapalooza edge --queue-max-mb",
    "datapalooza emotions --analyzer rekognition",
    "datapalooza edge --bucket b --duration 10 --interval 1 --drain-timeout 5",
}


def _commands(page: Path) -> list[tuple[int, str]]:
    """(line, argv text) of every datapalooza command on ``page``."""
    found: list[tuple[int, str]] = []
    tokens = MarkdownIt("commonmark").enable("table").parse(page.read_text(encoding="utf-8"))
    for token in tokens:
        line = (token.map or [0])[0] + 1
        if token.type == "fence" and (token.info.split() or [""])[0] in SHELLS:
            text = token.content.replace("\\\n", " ")
            for offset, code in enumerate(text.splitlines()):
                code = code.split(" #", 1)[0]
                found += [(line + 1 + offset, m["argv"]) for m in COMMAND.finditer(code)]
        elif token.type == "inline":
            for child in token.children or []:
                span = child.content.strip()
                if child.type != "code_inline" or span in PARTIAL:
                    continue
                match = COMMAND.match(span)
                if match and re.search(r"(?:^|\s)-", match["argv"]):
                    found.append((line, match["argv"]))
    return found


def _complaint(argv_text: str) -> str | None:
    argv = [PLACEHOLDERS.get(arg, arg) for arg in shlex.split(argv_text)]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            build_parser().parse_args(argv)
    except SystemExit:
        return err.getvalue().strip().splitlines()[-1]
    return None


COMMANDS = [
    (f"{page.relative_to(REPO)}:{line}", argv) for page in pages() for line, argv in _commands(page)
]


def test_the_guide_shows_the_commands_that_need_aws() -> None:
    shown = {argv.split()[0] for _, argv in COMMANDS}
    assert {"preflight", "workshop", "plan", "check"} <= shown


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_every_command_the_guide_shows_parses(where: str, argv: str) -> None:
    assert _complaint(argv) is None, f"{where}: datapalooza {argv}: {_complaint(argv)}"


@pytest.mark.parametrize(
    "argv",
    [
        "preflight -c datapalooza:team=alice",  # --challenge is required
        "workshop teardown --team",
        "plan --cameras many",
    ],
)
def test_a_command_the_cli_refuses_is_caught(argv: str) -> None:
    assert _complaint(argv) is not None
