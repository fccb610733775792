"""Runs the same behaviour checks the project's tests run on the shipped code. PATH is a
starter file you edited, or the folder `datapalooza starter` wrote; without PATH the
shipped solution is checked."""

from __future__ import annotations

import argparse
from pathlib import Path

from datapalooza.cli import CliError, add_challenge_option

HELP = "check your version of a challenge's exercise functions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_challenge_option(parser)
    parser.add_argument("path", type=Path, nargs="?", metavar="PATH")


def run(args: argparse.Namespace) -> int:
    import logging

    from datapalooza.exercises import exercises_for, run_checks
    from datapalooza.exercises.loader import AttemptNotFound, attempt_file, load_attempt

    exercises = list(exercises_for(args.challenge))
    if args.path is not None and args.path.is_file():
        # one edited file: check the exercises whose function it defines
        exercises = [e for e in exercises if _defines(args.path, e.function_name)]
        if not exercises:
            raise CliError(f"{args.path} defines none of challenge {args.challenge}'s functions")
    passed = total = 0
    for exercise in exercises:
        if args.path is None:
            impl, origin = exercise.shipped(), "the shipped solution"
        else:
            try:
                impl = load_attempt(exercise, args.path)
                origin = str(attempt_file(exercise, args.path))
            except AttemptNotFound as exc:
                raise CliError(f"{exc}; write it with `datapalooza starter`") from exc
            except SyntaxError as exc:
                raise CliError(f"{exc.filename}:{exc.lineno}: {exc.msg}") from exc
        print(f"Challenge {exercise.challenge}: {exercise.qualname}, from {origin}")
        # The checks provoke outages on purpose; the service's warnings about them are
        # expected and would bury the verdicts.
        logging.disable(logging.CRITICAL)
        try:
            results = run_checks(exercise.checks, impl)
        finally:
            logging.disable(logging.NOTSET)
        for result in results:
            total += 1
            if result.passed:
                passed += 1
                print(f"  PASS  {result.behaviour}")
            else:
                print(f"  FAIL  {result.behaviour}")
                print(f"        what happened: {result.detail}")
                print(f"        hint: {result.hint}")
    print(f"{passed} of {total} behaviours pass")
    return 0 if passed == total else 1


def _defines(path: Path, name: str) -> bool:
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        raise CliError(f"{path}:{exc.lineno}: {exc.msg}") from exc
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)
