"""``datapalooza workshop status``: every team's stacks, endpoint, devices and an
estimate of what the team's resources cost per hour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from datapalooza.deployment import DeploymentShape
from datapalooza.planning.challenge_cost import challenge_costs
from datapalooza.planning.prices import PricesError, PriceTable
from datapalooza.workshop.inventory import TeamStack, find_team_stacks


@dataclass(frozen=True, slots=True)
class EndpointState:
    name: str
    status: str  # InService, Creating, ... "missing", or "unknown (ErrorCode)"
    instances: int
    # (instance type, running count) per production variant; type None: not read
    running: tuple[tuple[str | None, int], ...] = ()

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
    unpriced: list[str] = field(default_factory=list)  # running instances with no price


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
        cost, unpriced = _cost_per_hour(stacks, endpoints, prices, shape)
        statuses.append(
            TeamStatus(
                team=team,
                stacks=stacks,
                endpoints=endpoints,
                devices=devices,
                cost_per_hour=cost,
                unpriced=unpriced,
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
    counts = {
        str(v.get("VariantName")): int(v.get("CurrentInstanceCount", 0))
        for v in answer.get("ProductionVariants", [])
    }
    types = _instance_types(sagemaker, answer.get("EndpointConfigName"))
    running = tuple((types.get(variant), count) for variant, count in counts.items())
    return EndpointState(name, str(answer["EndpointStatus"]), sum(counts.values()), running)


def _instance_types(sagemaker: Any, config_name: str | None) -> dict[str, str]:
    """Each production variant's instance type, as the team deployed it (none for a
    serverless variant, or when the config cannot be read: then it shows unpriced)."""
    if not config_name:
        return {}
    try:
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    except (ClientError, BotoCoreError):
        return {}
    return {
        str(v.get("VariantName")): str(v["InstanceType"])
        for v in config.get("ProductionVariants", [])
        if v.get("InstanceType")
    }


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
) -> tuple[float, list[str]]:
    """The challenge-hour estimate of the team's highest deployed challenge, with the
    endpoint's instance-hours taken from the instances actually running, each at its
    own type's price; and the running instances no price was found for."""
    highest = max((s.challenge for s in stacks if s.challenge in (1, 2, 3)), default=0)
    if highest == 0:
        return 0.0, []
    cost = challenge_costs(shape, prices)[highest - 1]
    assumed = _instance_hour(prices, shape.endpoint_instance_type)
    total = cost.known_cost_per_hour - (assumed or 0.0) * shape.endpoint_instance_count
    unpriced: list[str] = []
    for endpoint in endpoints:
        for instance_type, count in endpoint.running:
            if count == 0:
                continue
            price = _instance_hour(prices, instance_type) if instance_type else None
            if price is None:
                unpriced.append(f"{count} x {instance_type or 'unknown type'}")
            else:
                total += price * count
    return total, unpriced


def _instance_hour(prices: PriceTable, instance_type: str) -> float | None:
    try:
        return prices.price(f"sagemaker.instance_hour.{instance_type}").cost(1)
    except PricesError:
        return None


def format_status(statuses: list[TeamStatus], *, region: str) -> str:
    if not statuses:
        return f"No DataPalooza stacks in {region}."
    lines = []
    for team in statuses:
        unpriced = f"; price not found: {', '.join(team.unpriced)}" if team.unpriced else ""
        lines.append(f"Team {team.team}: ~${team.cost_per_hour:,.2f}/hour (priced items){unpriced}")
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
    total = sum(team.cost_per_hour for team in statuses)
    without_price = sum(len(team.unpriced) for team in statuses)
    lines.append(
        f"Class: ~${total:,.2f}/hour for {len(statuses)} team(s) (priced items)"
        + (f"; {without_price} endpoint variant(s) without a price" if without_price else "")
    )
    return "\n".join(lines)
