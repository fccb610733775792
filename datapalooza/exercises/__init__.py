"""Workshop exercises: the functions attendees write themselves, and their checks.

Each exercise is one function of the shipped code (the solution). ``starter`` turns it
into a starter file, generated from the real source (signature and docstring kept,
body replaced by hints), so the two cannot drift. ``contracts`` holds the behaviour
checks; the project's tests run them against the shipped code and ``datapalooza
check`` runs the very same checks against an attendee's version.
"""

from datapalooza.exercises.catalog import EXERCISES, Exercise, exercises_for
from datapalooza.exercises.checks import CheckResult, run_checks

__all__ = ["EXERCISES", "CheckResult", "Exercise", "exercises_for", "run_checks"]
