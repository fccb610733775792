"""Uses your AWS credentials (profile or environment) in one Region."""

# An instructor's view of every team's stacks in one account and Region, and their
# removal (`datapalooza workshop status|teardown`). Thin: build clients, call
# datapalooza.workshop, print.

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from datapalooza.cli import CliError

RETRY_ATTEMPTS = 10  # the first call included (botocore total_max_attempts)
HELP = "instructor: every team's stacks, their cost, and their teardown"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="teams, stacks, endpoints, devices, cost/hour")
    teardown = actions.add_parser(
        "teardown", help="delete teams' stacks and what they leave behind"
    )
    chosen = teardown.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--team", action="append", default=[], help="a team (repeatable)")
    chosen.add_argument("--all", action="store_true", help="every team")
    teardown.add_argument("--dry-run", action="store_true", help="print, remove nothing")
    teardown.add_argument(
        "--teams-at-once",
        type=int,
        default=None,
        metavar="N",
        help="teams removed at the same time (default 4, at most 32)",
    )
    for sub in (status, teardown):
        sub.add_argument("--region", help="AWS Region (default: your profile's)")
        sub.add_argument("--profile", help="AWS profile (default: environment / default)")


def run(args: argparse.Namespace) -> int:
    actions = {"status": run_status, "teardown": run_teardown}
    return actions[args.action](args)


def run_status(args: argparse.Namespace) -> int:
    from datapalooza.deployment import DeploymentShape
    from datapalooza.planning.prices import DEFAULT_REGION, PricesError, load_prices
    from datapalooza.workshop.status import format_status, workshop_status

    session = _session(args)
    region = session.region_name
    try:
        prices = load_prices(region)
    except PricesError:
        prices = load_prices(DEFAULT_REGION)
        print(f"(no prices for {region}: cost estimated at {DEFAULT_REGION} prices)")
    with _aws_errors():
        statuses = workshop_status(
            cloudformation=_client(session, "cloudformation"),
            sagemaker=_client(session, "sagemaker"),
            greengrass=_client(session, "greengrassv2"),
            prices=prices,
            shape=DeploymentShape(),
        )
    print(format_status(statuses, region=region))
    return 0


def run_teardown(args: argparse.Namespace) -> int:
    from datapalooza.workshop.teardown import (
        TEAMS_AT_ONCE,
        TEAMS_AT_ONCE_MAX,
        WorkshopClients,
        format_report,
        teardown,
    )

    teams_at_once = TEAMS_AT_ONCE if args.teams_at_once is None else args.teams_at_once
    if not 1 <= teams_at_once <= TEAMS_AT_ONCE_MAX:
        raise CliError(f"--teams-at-once: expected 1-{TEAMS_AT_ONCE_MAX}, not {teams_at_once}")
    session = _session(args)
    clients = WorkshopClients(
        cloudformation=_client(session, "cloudformation"),
        iot=_client(session, "iot"),
        greengrass=_client(session, "greengrassv2"),
        logs=_client(session, "logs"),
    )
    try:
        with _aws_errors():
            report = teardown(
                clients,
                teams=args.team,
                all_teams=args.all,
                dry_run=args.dry_run,
                teams_at_once=teams_at_once,
            )
    except KeyboardInterrupt:
        print(
            "Interrupted: teams not started were left alone; stacks already being deleted "
            "carry on in CloudFormation. Run the same command again to finish.",
            file=sys.stderr,
        )
        return 130
    print(format_report(report, dry_run=args.dry_run))
    return 1 if report.failed else 0


def _client(session: Any, service: str) -> Any:
    """A client that rides out throttling: 30 teams' calls in one account meet
    CloudFormation's and SageMaker's request rates. botocore's default (legacy) mode
    tries 5 times; standard mode (the SDKs' recommended one) retries throttling and
    transient errors with backoff capped at 20 s, here up to 10 attempts
    (https://docs.aws.amazon.com/boto3/latest/guide/retries.html,
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
    The pool holds a connection per team thread."""
    from botocore.config import Config

    from datapalooza.workshop.teardown import TEAMS_AT_ONCE_MAX

    config = Config(
        retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
        max_pool_connections=TEAMS_AT_ONCE_MAX,
    )
    return session.client(service, config=config)


def _session(args: argparse.Namespace) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as exc:
        raise CliError(str(exc)) from None
    if not session.region_name:
        raise CliError("no AWS Region: pass --region or set AWS_REGION / your profile's region")
    return session


@contextmanager
def _aws_errors() -> Iterator[None]:
    """Turn credential, permission and network problems into one clear line (CliError)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    try:
        yield
    except CredentialRetrievalError as exc:
        raise CliError(f"could not get AWS credentials: {exc}") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise CliError(
            "no AWS credentials found: configure a profile (aws configure, --profile) "
            "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CliError(
            f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        # No answer (EndpointConnectionError, ReadTimeoutError, ...) after botocore's
        # retries: usually the network of the moment.
        raise CliError(
            f"no answer from AWS ({type(exc).__name__}: {exc}); run the same command again"
        ) from None
