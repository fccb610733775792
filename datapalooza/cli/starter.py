"""``datapalooza starter --challenge N``: write the exercise starter files of a challenge."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from datapalooza.cli import CliError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "starter",
        help="write the starter files of a challenge's exercises",
        description="Each starter is a function of the shipped code with its body removed: "
        "the signature, the docstring and hints stay. Write the body, then run "
        "`datapalooza check --challenge N DIR`.",
    )
    parser.add_argument("--challenge", type=int, required=True, choices=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=Path("exercises"), help="default: exercises/")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datapalooza.exercises import exercises_for
    from datapalooza.exercises.starter import write_starters

    exercises = list(exercises_for(args.challenge))
    try:
        written = write_starters(exercises, args.out, overwrite=args.force)
    except FileExistsError as exc:
        raise CliError(str(exc)) from exc
    for exercise, path in zip(exercises, written, strict=True):
        print(f"{path}: write {exercise.qualname} ({len(exercise.checks)} behaviours to get right)")
    print(f"then: datapalooza check --challenge {args.challenge} {args.out}")
    return 0
