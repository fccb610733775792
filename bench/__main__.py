"""The benchmark suite: every benchmark, its tables, one JSON file.

    python -m bench [--quick] [--only endpoint,emotions,devices,festival] [--out PATH]

``make bench`` runs it (``BENCH_QUICK=1`` for the quick mode the CI smoke test uses) and
then ``python -m bench.report`` regenerates docs/benchmarks.md from the JSON. Goals are
reported in the output, met or not; nothing here fails on a missed goal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import devices, emotions, endpoint, festival  # noqa: E402
from bench.goals import spread_text  # noqa: E402
from bench.measure import machine_state  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "out" / "results.json"

BENCHMARKS: dict[str, tuple[Callable[..., dict[str, Any]], Callable[[dict[str, Any]], None]]] = {
    "endpoint": (endpoint.run, endpoint.print_tables),
    "emotions": (emotions.run, emotions.print_tables),
    "devices": (devices.run, devices.print_tables),
    "festival": (festival.run_suite, festival.print_tables),
}


def run_suite(*, quick: bool, only: list[str], festival_capacity: tuple[int, ...]) -> dict:
    results: dict[str, Any] = {
        "quick": quick,
        "machine_before": machine_state(),
        "benchmarks": {},
    }
    for name in only:
        run, show = BENCHMARKS[name]
        kwargs: dict[str, Any] = {"quick": quick}
        if name == "festival" and not quick:
            kwargs["capacity"] = festival_capacity
        started = time.perf_counter()
        result = run(**kwargs)
        result["wall_s"] = round(time.perf_counter() - started, 1)
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        show(result)
        results["benchmarks"][name] = result
    results["machine_after"] = machine_state()
    results["goals"] = {
        f"{name}.{goal}": value
        for name, result in results["benchmarks"].items()
        for goal, value in result.get("goals", {}).items()
    }
    return results


def print_goals(goals: dict[str, dict[str, Any]]) -> None:
    print("\nGoals")
    for name, goal in goals.items():
        mark = "met" if goal["met"] else "NOT met"
        spread = spread_text(goal.get("spread"))
        print(
            f"  {name:<45} {goal['value']:8.3f} (goal {goal['goal']}): {mark}"
            + (f" [{spread}]" if spread else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="run every benchmark, write one JSON file")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="few frames and rounds: checks the suite runs (default from BENCH_QUICK)",
    )
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument(
        "--capacity", default="10,20", help="camera counts the festival tries (full mode)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {sorted(BENCHMARKS)}")
    capacity = tuple(int(c) for c in args.capacity.split(",") if c)
    results = run_suite(quick=args.quick, only=only, festival_capacity=capacity)
    print_goals(results["goals"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
