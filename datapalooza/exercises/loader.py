"""Load an attendee's version of an exercise's function from a file or folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from datapalooza.exercises.catalog import Exercise


class AttemptNotFound(LookupError):
    """The file or folder holds no version of the exercise's function."""


def attempt_file(exercise: Exercise, path: Path) -> Path:
    """The file to load: ``path`` itself, or the exercise's starter file inside it."""
    if path.is_dir():
        candidate = path / exercise.starter_file
        if not candidate.is_file():
            raise AttemptNotFound(f"{path} has no {exercise.starter_file}")
        return candidate
    if not path.is_file():
        raise AttemptNotFound(f"{path} does not exist")
    return path


def load_attempt(exercise: Exercise, path: Path) -> Any:
    """Import the file as its own module and return its function named like the
    exercise's (``step``, ``_record``, ...)."""
    file = attempt_file(exercise, path)
    name = f"datapalooza_attempt_{exercise.slug.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise AttemptNotFound(f"{file} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    function = getattr(module, exercise.function_name, None)
    if not callable(function):
        raise AttemptNotFound(f"{file} defines no function {exercise.function_name}")
    return function
