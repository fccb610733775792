"""Cost per challenge-hour: the table in docs/cost.md is the code's output, and the
arithmetic of each challenge adds up."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapalooza.cli import main
from datapalooza.deployment import DeploymentShape
from datapalooza.planning.challenge_cost import challenge_costs, render_cost_doc
from datapalooza.planning.prices import load_prices

COST_DOC = Path(__file__).resolve().parents[2] / "docs" / "cost.md"


def test_docs_cost_md_matches_the_code() -> None:
    # A price or shape change must update the page:
    #   python -m datapalooza.planning.challenge_cost > docs/cost.md
    expected = render_cost_doc(DeploymentShape(), load_prices("us-east-1"))
    assert COST_DOC.read_text() == expected


def test_challenge_1_is_the_endpoint_instances_only() -> None:
    costs = challenge_costs(DeploymentShape(), load_prices("us-east-1"))
    # 1 x ml.m5.large x $0.115 = $0.115 per hour
    assert costs[0].known_cost_per_hour == pytest.approx(0.115)
    # later challenges keep the endpoint and add the camera's traffic
    assert costs[1].known_cost_per_hour > costs[0].known_cost_per_hour
    assert costs[2].items[0] == costs[0].items[0]


def test_plan_challenge_cli_prints_the_same_total(capsys: pytest.CaptureFixture[str]) -> None:
    costs = challenge_costs(DeploymentShape(), load_prices("us-east-1"))
    assert main(["plan", "--challenge", "2"]) == 0
    out = capsys.readouterr().out
    assert f"${costs[1].known_cost_per_hour:,.4f} per hour" in out
    assert "Challenge 3" not in out


def test_plan_cli_refuses_mixed_or_missing_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--challenge", "1", "--cameras", "3"]) == 2
    assert main(["plan", "--cameras", "3"]) == 2
    assert main(["plan", "--cameras", "3", "--fps", "0"]) == 2
    assert main(["plan", "--cameras", "3", "--fps", "1", "--region", "eu-west-1"]) == 2
    err = capsys.readouterr().err
    assert "--fps: expected" in err
    assert "no prices for region eu-west-1" in err
