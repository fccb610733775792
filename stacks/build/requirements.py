"""Exact pins for what Lambda and Greengrass packages install, taken from the project's own
pins (pyproject.toml, model-wheels.txt) so a deployed function runs the versions CI tested."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(?P<version>[^\s;#]+)")


class UnknownRequirement(LookupError):
    """A package a function needs is not pinned in pyproject.toml or model-wheels.txt."""


@cache
def _project_pins() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    wheels = REPO_ROOT / "model-wheels.txt"
    if wheels.exists():
        lines.extend(line for line in wheels.read_text().splitlines() if not line.startswith("#"))
    pins: dict[str, str] = {}
    for line in lines:
        match = _PIN.match(line.strip())
        if match:
            pins[_normalise(match["name"])] = f"{match['name']}=={match['version']}"
    return pins


def pinned(*names: str) -> tuple[str, ...]:
    """``name==version`` for each package, as pinned by the project."""
    pins = _project_pins()
    missing = [name for name in names if _normalise(name) not in pins]
    if missing:
        raise UnknownRequirement(
            f"not pinned in pyproject.toml or model-wheels.txt: {', '.join(missing)}"
        )
    return tuple(pins[_normalise(name)] for name in names)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
