"""Which DataPalooza stacks exist, whose they are, and what they name.

A stack is DataPalooza's when it carries the ``datapalooza:team`` tag (every stack the
app builds does), or, for stacks deployed before the tag, when its name is one of the
app's stack names (team ``default``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from datapalooza import constants

KNOWN_STACKS = {
    constants.CLOUD_INFERENCE_STACK: 1,
    constants.EMOTION_TRACKER_STACK: 2,
    constants.EDGE_STACK: 3,
}
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
    team = tags.get(constants.TEAM_TAG)
    if team is None and name not in KNOWN_STACKS:
        return None
    try:
        challenge = int(tags.get(constants.CHALLENGE_TAG, KNOWN_STACKS.get(name, 0)))
    except ValueError:
        challenge = KNOWN_STACKS.get(name, 0)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return TeamStack(
        name=name,
        team=team or constants.DEFAULT_TEAM,
        challenge=challenge,
        status=stack["StackStatus"],
        outputs=outputs,
    )
