"""Checks that your AWS identity may run the challenge's deploy steps (IAM policy
simulation of the tables in docs/permissions.md), that the CDK bootstrap stack
exists, that the region offers every service the challenge uses and, for the
endpoint, that the account's instance quota is enough. Prints one line per check;
exits 1 if any fails."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from datapalooza.cli import CliError, add_challenge_option

HELP = "check an AWS account and region before deploying a challenge"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_challenge_option(parser)
    parser.add_argument("--region", help="AWS region (default from AWS_REGION / your profile)")
    parser.add_argument(
        "--teams",
        type=_teams,
        default=1,
        help="teams that will deploy into this account (a workshop's instructor: the "
        "endpoint instance quota is the account's); default 1",
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context you will pass to cdk deploy -c "
        "(e.g. datapalooza:endpoint_instance_type=ml.c5.large, datapalooza:team=alice)",
    )


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from datapalooza.adapters.aws.session import aws_session
    from datapalooza.preflight.checks import Target, run_checks
    from datapalooza.preflight.deployer_permissions import challenges

    session = aws_session(purpose="preflight", region=args.region)
    try:
        identity = session.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise CliError(
            f"AWS did not accept your credentials ({exc}); refresh them "
            "(`aws sso login`, or new access keys) and retry"
        ) from exc
    settings = _deploy_settings(args.context)
    challenge = challenges(settings.team)[args.challenge]
    partition = identity["Arn"].split(":")[1]
    target = Target(
        challenge=challenge,
        account=identity["Account"],
        region=session.region_name,
        partition=partition,
        caller_arn=identity["Arn"],
        endpoint_instance_type=settings.endpoint_instance_type,
        endpoint_instances=settings.endpoint_instances_at_most,
        teams=args.teams,
    )
    results = run_checks(
        target=target,
        iam=session.client("iam"),
        cloudformation=session.client("cloudformation"),
        service_quotas=session.client("service-quotas"),
        available_regions=lambda service, part: session.get_available_regions(
            service, partition_name=part
        ),
    )
    print(
        f"Preflight for challenge {challenge.number} ({challenge.stack}) in "
        f"{target.region}, account {target.account}, as {target.caller_arn}"
    )
    for result in results:
        print(result.line())
    return 0 if all(result.passed for result in results) else 1


def _deploy_settings(context: list[str]) -> Any:
    """The CDK app's settings (stacks/settings.py, the one source of the instance type
    and count) from cdk.json's context and ``-c`` values, as ``cdk deploy`` reads them."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "stacks" / "settings.py").is_file():
        raise CliError("preflight reads the CDK app's settings: run it from the repository")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    settings_module = importlib.import_module("stacks.settings")
    app_builder = importlib.import_module("stacks.app_builder")
    values = dict(app_builder.cdk_json_context())
    for item in context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"-c {item!r}: expected KEY=VALUE")
        values[key] = value
    try:
        return settings_module.AppSettings.from_mapping(values)
    except settings_module.SettingsError as exc:
        raise CliError(str(exc)) from exc


MAX_TEAMS = 100


def _teams(text: str) -> int:
    try:
        teams = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of teams") from None
    if not 1 <= teams <= MAX_TEAMS:
        raise argparse.ArgumentTypeError(f"--teams must be 1-{MAX_TEAMS}, not {teams}")
    return teams
