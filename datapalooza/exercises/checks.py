"""A behaviour check and the runner that reports which behaviours an implementation has."""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Implementation = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Check:
    """One behaviour a user would notice. ``run(impl, workdir)`` calls the function
    under test (a method takes its instance first) and raises AssertionError, with what
    went wrong, when the behaviour is missing. ``hint`` says how to get it right."""

    behaviour: str
    hint: str
    run: Callable[[Implementation, Path], None]


@dataclass(frozen=True, slots=True)
class CheckResult:
    behaviour: str
    passed: bool
    hint: str = ""
    detail: str = ""


def run_checks(checks: Sequence[Check], impl: Implementation) -> list[CheckResult]:
    """Run every check on ``impl`` (each in its own scratch directory); one failing
    or crashing check never stops the others."""
    results: list[CheckResult] = []
    for check in checks:
        with tempfile.TemporaryDirectory(prefix="datapalooza-check-") as workdir:
            try:
                check.run(impl, Path(workdir))
            except NotImplementedError:
                results.append(CheckResult(check.behaviour, False, check.hint, "not written yet"))
            except AssertionError as exc:
                results.append(CheckResult(check.behaviour, False, check.hint, str(exc)))
            except Exception as exc:
                detail = f"raised {type(exc).__name__}: {exc} ({_where(exc, impl)})"
                results.append(CheckResult(check.behaviour, False, check.hint, detail))
            else:
                results.append(CheckResult(check.behaviour, True))
    return results


def _where(exc: BaseException, impl: Implementation) -> str:
    """Where ``exc`` left the attendee's code: the deepest line in the implementation's
    own file, not in the test fake it called (the error itself names the fake's fault);
    the deepest line of all when the implementation's file is not in the traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    code = getattr(impl, "__code__", None)
    own = [f for f in frames if code is not None and f.filename == code.co_filename]
    where = (own or frames)[-1]
    return f"line {where.lineno} of {where.filename}"
