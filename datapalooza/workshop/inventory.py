"""Which DataPalooza stacks exist, whose they are, and what they name.

A stack is DataPalooza's when it carries the ``datapalooza:team`` tag (every stack the
app builds does), or, for stacks deployed without the tag, when its name is one the
app gives a team's stack (datapalooza.naming: ``DataPalooza-Challenge1-Endpoint`` is
team ``default``'s, ``DataPalooza-alice-Challenge1-Endpoint`` team ``alice``'s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from datapalooza import constants
from datapalooza.naming import team_of_stack

# Stack outputs that name what a stack leaves behind or what status reports.
ENDPOINT_OUTPUT = "EndpointName"
THING_OUTPUTS = ("CameraThingName", "EdgeThingName")
POLICY_OUTPUTS = {"CameraThingName": "CameraIotPolicy", "EdgeThingName": "EdgeIotPolicy"}


@dataclass(frozen=True, slots=True)
class TeamStack:
    """One deployed stack of a team."""

    name: str
    team: str
    challenge: int
    status: str
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def endpoint_name(self) -> str | None:
        return self.outputs.get(ENDPOINT_OUTPUT)

    @property
    def things(self) -> list[tuple[str, str | None]]:
        """(thing name, its IoT policy name) of each Greengrass core the stack defines."""
        return [
            (self.outputs[key], self.outputs.get(POLICY_OUTPUTS[key]))
            for key in THING_OUTPUTS
            if self.outputs.get(key)
        ]


def find_team_stacks(cloudformation: Any) -> dict[str, list[TeamStack]]:
    """Every DataPalooza stack, grouped by team, each team's highest challenge first
    (the order they are deleted in)."""
    teams: dict[str, list[TeamStack]] = defaultdict(list)
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            found = _team_stack(stack)
            if found is not None:
                teams[found.team].append(found)
    return {
        team: sorted(stacks, key=lambda s: (-s.challenge, s.name))
        for team, stacks in sorted(teams.items())
    }


def _team_stack(stack: Mapping[str, Any]) -> TeamStack | None:
    name = stack["StackName"]
    tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}
    named = team_of_stack(name)  # (team, challenge) by the naming rule, or None
    team = tags.get(constants.TEAM_TAG) or (named[0] if named else None)
    if team is None:
        return None
    by_name = named[1] if named else 0
    try:
        challenge = int(tags.get(constants.CHALLENGE_TAG, by_name))
    except ValueError:
        challenge = by_name
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return TeamStack(
        name=name,
        team=team,
        challenge=challenge,
        status=stack["StackStatus"],
        outputs=outputs,
    )
