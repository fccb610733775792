"""``datapalooza workshop status``: every team's stacks, endpoint, devices and an
estimate of what the team's resources cost per hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from datapalooza.deployment import DeploymentShape
from datapalooza.planning.challenge_cost import challenge_costs
from datapalooza.planning.prices import PriceTable
from datapalooza.workshop.inventory import TeamStack, find_team_stacks


@dataclass(frozen=True, slots=True)
class EndpointState:
    name: str
    status: str  # InService, Creating, ... "missing", or "unknown (ErrorCode)"
    instances: int

    @property
    def known(self) -> bool:
        return not self.status.startswith("unknown")


@dataclass(frozen=True, slots=True)
class DeviceState:
    thing_name: str
    status: str  # HEALTHY / UNHEALTHY, "not registered" (never connected), "unknown (...)"
    last_update: datetime | None


@dataclass(frozen=True, slots=True)
class TeamStatus:
    team: str
    stacks: list[TeamStack]
    endpoints: list[EndpointState]
    devices: list[DeviceState]
    cost_per_hour: float


def workshop_status(
    *,
    cloudformation: Any,
    sagemaker: Any,
    greengrass: Any,
    prices: PriceTable,
    shape: DeploymentShape,
) -> list[TeamStatus]:
    """Read-only: describe every team's stacks, endpoints and core devices."""
    statuses = []
    for team, stacks in find_team_stacks(cloudformation).items():
        endpoints = [
            _endpoint(sagemaker, name) for s in stacks if (name := s.endpoint_name) is not None
        ]
        devices = [_device(greengrass, thing) for s in stacks for thing, _ in s.things]
        statuses.append(
            TeamStatus(
                team=team,
                stacks=stacks,
                endpoints=endpoints,
                devices=devices,
                cost_per_hour=_cost_per_hour(stacks, endpoints, prices, shape),
            )
        )
    return statuses


def _unknown(exc: ClientError | BotoCoreError) -> str:
    """One team's answer that did not come (throttled past botocore's retries, refused,
    unreachable): that team's line says so and the others are still shown."""
    if isinstance(exc, ClientError):
        return f"unknown ({exc.response.get('Error', {}).get('Code', '?')})"
    return f"unknown ({type(exc).__name__})"


def _endpoint(sagemaker: Any, name: str) -> EndpointState:
    try:
        answer = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationException":
            return EndpointState(name, "missing", 0)
        return EndpointState(name, _unknown(exc), 0)
    except BotoCoreError as exc:
        return EndpointState(name, _unknown(exc), 0)
    instances = sum(
        int(v.get("CurrentInstanceCount", 0)) for v in answer.get("ProductionVariants", [])
    )
    return EndpointState(name, str(answer["EndpointStatus"]), instances)


def _device(greengrass: Any, thing: str) -> DeviceState:
    try:
        answer = greengrass.get_core_device(coreDeviceThingName=thing)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return DeviceState(thing, "not registered", None)
        return DeviceState(thing, _unknown(exc), None)
    except BotoCoreError as exc:
        return DeviceState(thing, _unknown(exc), None)
    return DeviceState(
        thing, str(answer.get("status", "?")), answer.get("lastStatusUpdateTimestamp")
    )


def _cost_per_hour(
    stacks: list[TeamStack],
    endpoints: list[EndpointState],
    prices: PriceTable,
    shape: DeploymentShape,
) -> float:
    """The challenge-hour estimate of the team's highest deployed challenge, with the
    endpoint's instance-hours taken from the instances actually running."""
    highest = max((s.challenge for s in stacks if s.challenge in (1, 2, 3)), default=0)
    if highest == 0:
        return 0.0
    cost = challenge_costs(shape, prices)[highest - 1]
    instance_price = prices.price(f"sagemaker.instance_hour.{shape.endpoint_instance_type}")
    assumed = instance_price.cost(shape.endpoint_instance_count) or 0.0
    running = instance_price.cost(sum(e.instances for e in endpoints)) or 0.0
    return cost.known_cost_per_hour - assumed + running


def format_status(statuses: list[TeamStatus], *, region: str) -> str:
    if not statuses:
        return f"No DataPalooza stacks in {region}."
    lines = []
    for team in statuses:
        lines.append(f"Team {team.team}: ~${team.cost_per_hour:,.2f}/hour (priced items)")
        for stack in team.stacks:
            lines.append(f"  stack     {stack.name:<42} {stack.status}")
        for endpoint in team.endpoints:
            running = f" ({endpoint.instances} instance(s))" if endpoint.known else ""
            lines.append(f"  endpoint  {endpoint.name:<42} {endpoint.status}{running}")
        for device in team.devices:
            seen = device.last_update.isoformat() if device.last_update else "never"
            lines.append(
                f"  device    {device.thing_name:<42} {device.status}, last contact {seen}"
            )
    return "\n".join(lines)
