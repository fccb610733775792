"""What one attendee's challenge costs per hour, from the resources each stack defines
and the same prices and arithmetic as the festival planner.

While doing challenge N an attendee has the stacks of challenges 1..N deployed:

1. ``DataPalooza-Challenge1-Endpoint``: the endpoint's instances bill every hour.
2. + ``DataPalooza-Challenge2-EmotionTracker``: one camera sends a frame every
   ``camera_interval_s`` through the endpoint, which stores each crop as one S3
   object; each object goes through the tracker.
3. + ``DataPalooza-Challenge3-Edge``: the same camera rate on the edge path (the
   Challenge 2 camera stopped): the device stores one crop sheet per frame, one S3
   object for all of the frame's crops; the endpoint stays deployed.

``docs/cost.md`` is ``render_cost_doc()``'s output (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from datapalooza import constants
from datapalooza.deployment import DeploymentShape
from datapalooza.planning.planner import (
    FestivalLoad,
    LineItem,
    Path,
    PricedItems,
    format_quantity,
    plan_festival,
)
from datapalooza.planning.prices import PriceTable

STACKS = {
    1: (constants.CLOUD_INFERENCE_STACK,),
    2: (constants.CLOUD_INFERENCE_STACK, constants.EMOTION_TRACKER_STACK),
    3: (constants.CLOUD_INFERENCE_STACK, constants.EMOTION_TRACKER_STACK, constants.EDGE_STACK),
}


@dataclass(frozen=True, slots=True)
class ChallengeCost(PricedItems):
    challenge: int
    stacks: tuple[str, ...]
    items: tuple[LineItem, ...]


def challenge_costs(shape: DeploymentShape, prices: PriceTable) -> list[ChallengeCost]:
    """Cost per hour of challenges 1-3 on ``shape`` (one camera at its configured rate)."""
    endpoint = LineItem(
        "SageMaker",
        f"{shape.endpoint_instance_count} x {shape.endpoint_instance_type} instance-hours",
        shape.endpoint_instance_count,
        prices.price(f"sagemaker.instance_hour.{shape.endpoint_instance_type}"),
    )
    costs = [ChallengeCost(1, STACKS[1], (endpoint,))]
    paths: dict[int, Path] = {2: "cloud", 3: "edge"}
    for challenge, path in paths.items():
        plan = plan_festival(
            FestivalLoad(cameras=1, fps=1 / shape.camera_interval_s, path=path), shape, prices
        )
        # The endpoint is billed by its deployed instances, not by this camera's load.
        activity = tuple(item for item in plan.items if item.service != "SageMaker")
        costs.append(ChallengeCost(challenge, STACKS[challenge], (endpoint, *activity)))
    return costs


def format_challenges(costs: list[ChallengeCost], *, only: int | None = None) -> str:
    lines = []
    for cost in costs:
        if only is not None and cost.challenge != only:
            continue
        lines.append(
            f"Challenge {cost.challenge} ({', '.join(cost.stacks)}): "
            f"${cost.known_cost_per_hour:,.4f} per hour"
        )
        for item in cost.items:
            shown = (
                "price not found" if item.cost_per_hour is None else f"${item.cost_per_hour:,.4f}"
            )
            lines.append(f"  {item.service:<12}{item.what:<50}{shown:>16}")
    return "\n".join(lines)


def render_cost_doc(shape: DeploymentShape, prices: PriceTable) -> str:
    """docs/cost.md: one table per challenge, generated (never edited by hand)."""
    costs = challenge_costs(shape, prices)
    out = [
        "# What a challenge costs per hour",
        "",
        "<!-- Generated: python -m datapalooza.planning.challenge_cost > docs/cost.md "
        "(tests/unit/test_challenge_cost.py fails when this page and the code disagree) -->",
        "",
        f"Prices: {prices.region}, read {prices.retrieved.isoformat()} "
        "(`datapalooza/planning/prices.json`, each with its source page). One camera "
        f"sends a frame every {shape.camera_interval_s:g} s; the endpoint runs "
        f"{shape.endpoint_instance_count} x {shape.endpoint_instance_type}. "
        "`datapalooza plan --challenge N` prints the same figures.",
        "",
        "Items whose price was not found in the stored AWS pages show no cost and are "
        "not in the total: look them up before budgeting.",
        "",
    ]
    for cost in costs:
        out += [
            f"## Challenge {cost.challenge}: ${cost.known_cost_per_hour:,.4f} per hour",
            "",
            "Stacks deployed: " + ", ".join(f"`{s}`" for s in cost.stacks),
            "",
            "| Service | What | Quantity per hour | Cost per hour |",
            "| --- | --- | ---: | ---: |",
        ]
        for item in cost.items:
            shown = (
                "price not found" if item.cost_per_hour is None else f"${item.cost_per_hour:,.4f}"
            )
            out.append(
                f"| {item.service} | {item.what} | "
                f"{format_quantity(item.quantity_per_hour)} | {shown} |"
            )
        out.append("")
    out += [_closing_note(costs), ""]
    return "\n".join(out)


def _closing_note(costs: list[ChallengeCost]) -> str:
    """What to take from the tables: the largest cost while the camera runs, and the one
    that runs without it (read from the items, so the prose follows the prices)."""
    endpoint = costs[0].items[0]
    last = costs[-1]
    largest = max(
        (item for item in last.items if item.cost_per_hour is not None),
        key=lambda item: item.cost_per_hour or 0.0,
    )
    return (
        "For a thirty-attendee workshop multiply by the teams. While a camera runs, "
        f"{largest.service} ({largest.what}) is the largest cost of Challenge "
        f"{last.challenge}; the {endpoint.service} endpoint's instance-hours are billed even "
        "when no camera runs, so delete stacks between sessions "
        "(`datapalooza workshop teardown`)."
    )


if __name__ == "__main__":
    from datapalooza.planning.prices import load_prices

    print(render_cost_doc(DeploymentShape(), load_prices()), end="")
