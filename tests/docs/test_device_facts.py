"""What deploy.md tells instructors about the core device agrees with what the stacks
build for it: a device with an older glibc or another Python could not load the
packages, and the page would have sent them down the wrong path."""

from __future__ import annotations

import re

from stacks.build.bundling import PythonBundle
from stacks.settings import _DEVICE_ARCHITECTURES, AppSettings
from tests.docs.pages import REPO

DEPLOY = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_the_glibc_the_page_asks_for_is_what_the_device_wheels_need() -> None:
    bundle = PythonBundle(handler_dir=REPO / "greengrass" / "camera", requirements=())
    newest = max(
        tuple(int(part) for part in match.groups())
        for tag in bundle.pip_platforms
        if (match := re.match(r"manylinux_(\d+)_(\d+)_", tag))
    )
    assert f"**{newest[0]}.{newest[1]} or newer** for our programs" in DEPLOY


def test_the_python_and_architectures_the_page_names_are_the_settings_defaults() -> None:
    defaults = AppSettings()
    assert f"`device_python` (default {defaults.device_python})" in DEPLOY
    assert f"python{defaults.device_python} --version" in DEPLOY
    named = " or ".join(f"`{arch}`" for arch in dict.fromkeys(_DEVICE_ARCHITECTURES.values()))
    assert f"`device_architecture` ({named})" in DEPLOY
