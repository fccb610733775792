"""How the ``datapalooza`` command wires its subcommand modules (datapalooza/cli)."""

from __future__ import annotations

import argparse
import importlib

import pytest

from datapalooza import constants
from datapalooza.cli import COMMANDS, build_parser, main
from datapalooza.cli import workshop as workshop_command
from datapalooza.cli.device_options import device_settings


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in build_parser()._actions if a.dest == "command")
    return dict(action.choices)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_is_listed_with_its_help_and_described_by_its_docstring(name: str) -> None:
    module = importlib.import_module(f"datapalooza.cli.{name}")

    parser = _subcommands()[name.replace("_", "-")]

    assert module.__doc__, f"datapalooza/cli/{name}.py needs a docstring: it is the description"
    assert parser.description == module.__doc__
    assert " ".join(module.HELP.split()) in " ".join(build_parser().format_help().split())
    assert parser.get_default("handler") is module.run


@pytest.mark.parametrize(
    ("argv", "chosen"), [(["status"], "run_status"), (["teardown", "--all"], "run_teardown")]
)
def test_workshop_runs_the_chosen_action(
    argv: list[str], chosen: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    for action in ("run_status", "run_teardown"):
        monkeypatch.setattr(workshop_command, action, lambda _args, a=action: ran.append(a) or 7)

    assert main(["workshop", *argv]) == 7
    assert ran == [chosen]


@pytest.mark.parametrize(
    ("name", "required"),
    [("starter", True), ("check", True), ("preflight", True), ("plan", False)],
)
def test_challenge_option_offers_the_workshops_challenges(name: str, required: bool) -> None:
    parser = _subcommands()[name]
    (option,) = (a for a in parser._actions if a.dest == "challenge")

    assert tuple(option.choices or ()) == constants.CHALLENGES
    assert option.required is required
    with pytest.raises(SystemExit):
        parser.parse_args(["--challenge", str(max(constants.CHALLENGES) + 1)])


@pytest.mark.parametrize("command", [["camera"], ["edge", "--store", "faces"]])
def test_device_programs_take_the_device_settings_from_the_same_options(
    command: list[str],
) -> None:
    argv = [*command, "--stage", "dance", "--camera", "cam-2", "--interval", "0.5"]

    args = build_parser().parse_args([*argv, "--source", "dir:frames", "--frames", "3"])

    assert device_settings(args) == {
        "stage": "dance",
        "camera": "cam-2",
        "source": "dir:frames",
        "interval_s": 0.5,
    }


def test_up_refuses_fewer_than_one_endpoint_worker(tmp_path, capsys) -> None:
    code = main(["up", "--data-dir", str(tmp_path), "--endpoint-workers", "0"])
    assert code == 2
    assert "--endpoint-workers must be at least 1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before anything started
