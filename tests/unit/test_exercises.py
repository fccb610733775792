"""The workshop exercises: the shipped code passes every behaviour check (these are the
project's own contract tests), a generated starter passes none, and the starter is the
shipped function with its body removed."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from datapalooza.cli import main
from datapalooza.exercises import EXERCISES, Exercise, exercises_for, run_checks
from datapalooza.exercises.checks import Check
from datapalooza.exercises.loader import load_attempt
from datapalooza.exercises.starter import shipped_function, starter_source, write_starters

CASES = [(exercise, check) for exercise in EXERCISES for check in exercise.checks]


@pytest.mark.parametrize(
    ("exercise", "check"), CASES, ids=[f"{e.slug}: {c.behaviour[:50]}" for e, c in CASES]
)
def test_the_shipped_code_has_the_behaviour(
    exercise: Exercise, check: Check, tmp_path: Path
) -> None:
    check.run(exercise.shipped(), tmp_path)


def test_every_challenge_has_one_or_two_exercises() -> None:
    for challenge in (1, 2, 3):
        assert 1 <= len(exercises_for(challenge)) <= 2
    with pytest.raises(ValueError, match="no exercises for challenge 4"):
        exercises_for(4)


def _starter(exercise: Exercise, tmp_path: Path) -> Path:
    ((path, written),) = write_starters([exercise], tmp_path)
    assert written
    return path


def _starter_completed_with(exercise: Exercise, tmp_path: Path, function: str) -> Path:
    """The starter file with ``function`` (source) written in place of its stub, as
    an attendee completes it: the starter's imports and nothing else."""
    path = _starter(exercise, tmp_path)
    head = path.read_text().split(f"\ndef {exercise.function_name}(")[0]
    path.write_text(f"{head}\n{function}\n")
    return path


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.slug for e in EXERCISES])
def test_a_starter_fails_every_check(exercise: Exercise, tmp_path: Path) -> None:
    results = run_checks(exercise.checks, load_attempt(exercise, _starter(exercise, tmp_path)))
    assert [r.passed for r in results] == [False] * len(exercise.checks)
    assert {r.detail for r in results} == {"not written yet"}
    assert all(r.hint for r in results)


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.slug for e in EXERCISES])
def test_the_starter_is_the_shipped_function_without_its_body(
    exercise: Exercise, tmp_path: Path
) -> None:
    _, shipped = shipped_function(exercise)
    tree = ast.parse(starter_source(exercise))
    (starter,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert starter.name == shipped.name
    if exercise.is_method:  # the starter annotates self with its class, for editors
        self_annotation = starter.args.args[0].annotation
        assert self_annotation is not None
        assert ast.unparse(self_annotation) == exercise.qualname.split(".")[0]
        starter.args.args[0].annotation = None
    assert ast.unparse(starter.args) == ast.unparse(shipped.args)
    assert ast.unparse(starter.returns) == ast.unparse(shipped.returns)  # type: ignore[arg-type]
    assert ast.get_docstring(starter) == ast.get_docstring(shipped)
    assert ast.get_docstring(shipped), "the function attendees write needs a docstring"
    text = starter_source(exercise)
    assert all(f"# {hint}" in text for hint in exercise.hints)
    assert isinstance(starter.body[-1], ast.Raise)


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.slug for e in EXERCISES])
def test_a_starter_completed_with_the_shipped_body_passes(
    exercise: Exercise, tmp_path: Path
) -> None:
    """What an attendee who writes the solution gets: every check passes, with the
    starter's imports and nothing else."""
    solution = textwrap.dedent(inspect.getsource(exercise.shipped()))
    path = _starter_completed_with(exercise, tmp_path, solution)
    results = run_checks(exercise.checks, load_attempt(exercise, path))
    assert [(r.behaviour, r.detail) for r in results if not r.passed] == []


class _WithoutFailureHandling(ast.NodeTransformer):
    """Each ``try`` statement replaced by its body: the code as an attendee who
    forgets that anything can fail writes it."""

    def visit_Try(self, node: ast.Try) -> list[ast.stmt]:
        self.generic_visit(node)
        return node.body


def _camera_step_without_failure_handling(tmp_path: Path) -> Path:
    (exercise,) = [e for e in EXERCISES if e.slug == "camera-step"]
    _, shipped = shipped_function(exercise)
    attempt = ast.unparse(_WithoutFailureHandling().visit(shipped))
    assert "try:" not in attempt and "except" not in attempt
    return _starter_completed_with(exercise, tmp_path, attempt)


def test_check_reports_each_behaviour_with_a_hint_for_what_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attempt = _camera_step_without_failure_handling(tmp_path)
    assert main(["check", "--challenge", "2", str(attempt)]) == 1
    out = capsys.readouterr().out
    assert "PASS  sends the frame as JPEG" in out
    assert "PASS  frames fit the camera's JPEG byte budget" in out
    assert "FAIL  an endpoint outage is counted, not raised" in out
    assert "raised EndpointError: endpoint down" in out
    # Where the attendee's code let it through, not where the test fake raised it.
    assert f"of {attempt})" in out and "fakes.py" not in out
    assert "hint: catch EndpointError around detect()" in out
    assert "FAIL  a failed MQTT publish is counted, not raised" in out
    assert "_record" not in out, "a file is checked only for the functions it defines"
    assert "PASS  an unplugged camera is counted" in out
    assert "3 of 6 behaviours pass" in out


def test_check_without_path_checks_the_shipped_solution(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--challenge", "3"]) == 0
    out = capsys.readouterr().out
    assert "EdgeService.drain, from the shipped solution" in out
    assert "FAIL" not in out


def test_starter_and_check_on_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "exercises"
    assert main(["starter", "--challenge", "2", "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "challenge2_camera_step.py",
        "challenge2_tracker_record.py",
    ]
    # Work under way is kept; a starter deleted (or never written) is written again.
    camera = folder / "challenge2_camera_step.py"
    camera.write_text(camera.read_text() + "# my work\n")
    (folder / "challenge2_tracker_record.py").unlink()
    capsys.readouterr()
    assert main(["starter", "--challenge", "2", "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{camera}: kept, it exists and may hold your work" in out
    assert camera.read_text().endswith("# my work\n")
    assert (folder / "challenge2_tracker_record.py").exists()
    assert main(["check", "--challenge", "2", str(folder)]) == 1
    assert "0 of 11 behaviours pass" in capsys.readouterr().out
    assert main(["check", "--challenge", "3", str(folder)]) == 2
    assert "has no challenge3_edge_drain.py" in capsys.readouterr().err
