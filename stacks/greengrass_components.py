"""Every AWS-provided Greengrass component the deployments pin, with the nucleus versions
AWS documents each one to work with: one table, so the set can be checked as a whole.

Policy: every deployment names its preferred version of each AWS component it relies
on, the nucleus included, as AWS recommends ("To prevent unintended updates for a
component that is running on your device, we recommend that you directly include your
preferred version of that component when you create a deployment":
https://docs.aws.amazon.com/greengrass/v2/developerguide/greengrass-nucleus-component.html).
Without the nucleus pinned, a device installed from the "latest" installer runs a
nucleus that a pinned component may not accept, and version negotiation fails on the
device while CloudFormation reports success. docs/deploy.md installs exactly
``NUCLEUS.version`` (``installer_url()``); tests/infra check that every pinned
component's documented range contains it.

Dependencies the Lambda import adds itself (Lambda launcher, manager and runtimes, token
exchange service) are not pinned here: the cloud resolves the newest version of each
that is compatible with the pinned nucleus, which is what we want.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_version(text: str) -> tuple[int, int, int]:
    """``"2.15.1"`` -> ``(2, 15, 1)``; anything but three dotted numbers is refused."""
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a MAJOR.MINOR.PATCH version")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedComponent:
    """One AWS-provided component at the version our deployments name.

    ``nucleus_at_least`` (inclusive) and ``nucleus_below`` (exclusive) are the Greengrass
    nucleus versions its component page lists for this version; ``source`` is that page.
    """

    name: str
    version: str
    nucleus_at_least: str
    nucleus_below: str | None
    source: str

    def accepts_nucleus(self, nucleus_version: str) -> bool:
        """Whether this version documents support for ``nucleus_version``."""
        found = parse_version(nucleus_version)
        if found < parse_version(self.nucleus_at_least):
            return False
        return self.nucleus_below is None or found < parse_version(self.nucleus_below)


NUCLEUS = PinnedComponent(
    name="aws.greengrass.Nucleus",
    # The newest 2.15 release ("AWS IoT Greengrass Core v2.15.1 software update",
    # 2025-11-06): the newest nucleus that LegacySubscriptionRouter 2.1.14 accepts.
    # https://docs.aws.amazon.com/greengrass/v2/developerguide/document-history.html
    version="2.15.1",
    # A nucleus is compatible with exactly itself.
    nucleus_at_least="2.15.1",
    nucleus_below="2.15.2",
    source="https://docs.aws.amazon.com/greengrass/v2/developerguide/greengrass-nucleus-component.html",
)
LEGACY_SUBSCRIPTION_ROUTER = PinnedComponent(
    name="aws.greengrass.LegacySubscriptionRouter",
    # Carries the programs' greengrasssdk publish() calls to AWS IoT Core. Its
    # "Dependencies" table lists Greengrass nucleus >=2.0.0 <2.16.0 for 2.1.14.
    version="2.1.14",
    nucleus_at_least="2.0.0",
    nucleus_below="2.16.0",
    source="https://docs.aws.amazon.com/greengrass/v2/developerguide/legacy-subscription-router-component.html",
)

PINNED: tuple[PinnedComponent, ...] = (NUCLEUS, LEGACY_SUBSCRIPTION_ROUTER)
"""Every AWS-provided component a DataPalooza deployment names, at its pinned version."""

INSTALLER_URL = "https://d2s8p88vqu9w66.cloudfront.net/releases/greengrass-{version}.zip"
"""AWS's download of one exact Greengrass Core software release (the installer): "You can
download a specific version of the AWS IoT Greengrass Core software from the following
location" (https://docs.aws.amazon.com/greengrass/v2/developerguide/install-greengrass-v2-cli.html
and its sibling install pages)."""


def installer_url() -> str:
    """The installer that installs exactly the pinned nucleus (docs/deploy.md uses it)."""
    return INSTALLER_URL.format(version=NUCLEUS.version)


def inconsistencies(pinned: tuple[PinnedComponent, ...] = PINNED) -> list[str]:
    """Each pinned component whose documented nucleus range excludes the pinned nucleus."""
    nucleus = next(c for c in pinned if c.name == NUCLEUS.name)
    return [
        f"{c.name} {c.version} needs nucleus >={c.nucleus_at_least}"
        f"{f' <{c.nucleus_below}' if c.nucleus_below else ''}, not {nucleus.version} "
        f"(see {c.source})"
        for c in pinned
        if not c.accepts_nucleus(nucleus.version)
    ]


def deployment_components() -> dict[str, dict[str, str]]:
    """The ``components`` entries a deployment adds for the pinned AWS components."""
    return {c.name: {"componentVersion": c.version} for c in PINNED}
