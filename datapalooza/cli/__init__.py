"""The ``datapalooza`` command. Each subcommand lives in its own module of this package
(``serve_endpoint`` is ``datapalooza serve-endpoint``): the module's docstring is the
command's description, ``HELP`` its line in ``datapalooza --help``,
``add_arguments(parser)`` adds its options and ``run(args)`` returns its exit status.
build_parser() wires them in the order of COMMANDS."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

COMMANDS = [
    "detect",
    "serve_endpoint",
    "camera",
    "edge",
    "bucket",
    "emotions",
    "up",
    "report",
    "dashboard",
    "starter",
    "check",
    "preflight",
    "plan",
    "workshop",
]

EXIT_READER_LEFT = 141
"""Exit status when stdout's reader left: 128 + SIGPIPE (13), what a shell reports for a
writer killed that way."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="datapalooza",
        description="Crowd emotion tracking for a music festival (ML + IoT workshop kit).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        command = importlib.import_module(f"datapalooza.cli.{name}")
        command_parser = subparsers.add_parser(
            name.replace("_", "-"), help=command.HELP, description=command.__doc__
        )
        command.add_arguments(command_parser)
        command_parser.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from datapalooza.system.lifeline import exit_with_parent

    parser = build_parser()
    args = parser.parse_args(argv)
    # A child of `datapalooza up` (endpoint, dashboard) stops when `up` dies, however.
    exit_with_parent()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of stdout left (`datapalooza bucket ls | head`): stop quietly, as a
        # shell tool does. stdout goes to /dev/null so that Python's own flush at exit
        # does not print the same error (Python's signal module docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_READER_LEFT
    except CliError as exc:
        print(f"datapalooza: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # Missing AWS region or credentials: one line with the fix, from any command.
        from datapalooza.adapters.aws.session import AwsAccessMissing, missing_access_message

        message = str(exc) if isinstance(exc, AwsAccessMissing) else missing_access_message(exc)
        if message is None:
            raise
        print(f"datapalooza: error: {message}", file=sys.stderr)
        return 2
    return code


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def add_challenge_option(
    parser: argparse.ArgumentParser, *, required: bool = True, help: str | None = None
) -> None:
    """``--challenge N``, one of the workshop's challenges."""
    from datapalooza import constants

    parser.add_argument(
        "--challenge", type=int, choices=constants.CHALLENGES, required=required, help=help
    )


def require_free_port(host: str, port: int, *, option: str = "--port") -> None:
    """Fail at start, with what to do, when a server could not bind its port."""
    from datapalooza.system.network import port_is_free

    if not port_is_free(host, port):
        raise CliError(f"port {port} on {host} is in use; pick another with {option}")
