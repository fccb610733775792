"""Each starter is a function of the shipped code with its body removed: the signature,
the docstring and hints stay. Write the body, then run `datapalooza check --challenge
N DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from datapalooza.cli import CliError, add_challenge_option

HELP = "write the starter files of a challenge's exercises"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_challenge_option(parser)
    parser.add_argument("--out", type=Path, default=Path("exercises"), help="default: exercises/")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def run(args: argparse.Namespace) -> int:
    from datapalooza.exercises import exercises_for
    from datapalooza.exercises.starter import write_starters

    exercises = list(exercises_for(args.challenge))
    try:
        files = write_starters(exercises, args.out, overwrite=args.force)
    except OSError as exc:
        raise CliError(f"cannot write the starters to {args.out}: {exc}") from exc
    for exercise, (path, written) in zip(exercises, files, strict=True):
        if written:
            behaviours = len(exercise.checks)
            print(f"{path}: write {exercise.qualname} ({behaviours} behaviours to get right)")
        else:
            print(f"{path}: kept, it exists and may hold your work (--force writes it again)")
    print(f"then: datapalooza check --challenge {args.challenge} {args.out}")
    return 0
