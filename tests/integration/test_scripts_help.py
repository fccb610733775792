"""Every Python program under scripts/ starts: it answers --help. A module it imports
that moved (scripts/screenshots still imported ``datapalooza.ports_in_use`` after the
house-style redesign moved free_port to ``datapalooza.system.network``) fails here,
not on the instructor who regenerates the guide's pictures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

PYTHON_SCRIPTS = sorted(
    path
    for path in (REPO / "scripts").iterdir()
    if path.is_file() and b"python" in path.read_bytes().split(b"\n", 1)[0]
)


def test_scripts_has_python_programs():
    assert REPO / "scripts" / "screenshots" in PYTHON_SCRIPTS


@pytest.mark.parametrize("script", PYTHON_SCRIPTS, ids=lambda p: p.name)
def test_python_script_answers_help(script):
    result = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
