"""``datapalooza workshop teardown``: delete the chosen teams' stacks in dependency
order, then what CloudFormation leaves behind.

Per team, in this order:

1. Release each Greengrass core's thing: a device that provisioned itself attached a
   certificate to the thing and the stack's IoT policy to that certificate, and
   CloudFormation cannot delete an attached thing or policy. The certificate (the
   device's identity) is detached, deactivated and deleted unless another thing uses it.
2. Delete the stacks highest challenge first (Challenges 2 and 3 depend on Challenge 1's
   endpoint and bucket; ``tests/infra`` checks the order against the app's stack
   dependencies) and wait for each.
3. Delete what the stacks never owned: the Greengrass core device records (created
   when the device first connected) and the endpoint's log group, which SageMaker
   creates itself.

Teams are removed TEAMS_AT_ONCE at a time: they share nothing, and one after another a
class waited for every team's endpoint and stacks to be deleted in turn. Everything that
is already gone counts as removed ("already gone"), so a second run is harmless;
``dry_run`` only reads.

Ctrl-C (or ``stop``) stops it: teams not started are left alone, a running team stops
before its next stack, and a stack whose deletion was asked for goes on being deleted
by CloudFormation; the same command run again finishes the job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from datapalooza.adapters.aws.iot_certificates import (
    CertificateStillAttached,
    retire_certificates,
)
from datapalooza.naming import endpoint_log_group
from datapalooza.system.overlap import overlapping
from datapalooza.workshop.inventory import TeamStack, find_team_stacks

GONE_CODES = frozenset({"ResourceNotFoundException", "NotFoundException"})
TEAMS_AT_ONCE = 4
"""Teams removed at the same time (each team's stacks still one after another, in
dependency order). Kept small: CloudFormation caps how many resources an account's stack
operations may involve at a time in a Region ("Resources in concurrent stack
operations", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
cloudformation-limits.html; read yours with DescribeAccountLimits), and a team's stacks
hold a few dozen. Greengrass deletes at most 10 deployments' IoT jobs at a time
(https://docs.aws.amazon.com/greengrass/v2/APIReference/API_DeleteDeployment.html), and
each device stack holds one. A team refused for either fails alone, and a second run
finishes it."""
TEAMS_AT_ONCE_MAX = 32
POLL_S = 15.0
DELETE_POLLS = 240
"""A stack's deletion is watched every POLL_S for at most DELETE_POLLS looks (an hour),
the bound the botocore waiter had; a loop, not the waiter, so that Ctrl-C is heard
between looks."""
# What botocore's stack_delete_complete waiter counts as a failed deletion (its waiter
# model for CloudFormation, DescribeStacks acceptors).
DELETE_FAILURES = frozenset(
    {
        "DELETE_FAILED",
        "CREATE_FAILED",
        "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_COMPLETE",
    }
)


class NotRemoved(Exception):
    """AWS took the request but the thing was not removed; says why."""


class StackNotDeleted(NotRemoved):
    """CloudFormation did not delete the stack (its status and reason), or not in time."""


class Stopped(Exception):
    """Teardown was told to stop while waiting for a stack's deletion."""


@dataclass(frozen=True, slots=True)
class Removal:
    """One thing teardown removes (``kind`` e.g. stack, core device, log group)."""

    team: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.team}: {self.kind} {self.name}"


@dataclass(slots=True)
class TeardownReport:
    planned: list[Removal] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    already_gone: list[Removal] = field(default_factory=list)
    failed: list[tuple[Removal, str]] = field(default_factory=list)

    def add(self, other: TeardownReport) -> None:
        self.removed += other.removed
        self.already_gone += other.already_gone
        self.failed += other.failed


@dataclass(frozen=True, slots=True)
class WorkshopClients:
    """The boto3 clients teardown uses (one Region)."""

    cloudformation: Any
    iot: Any
    greengrass: Any
    logs: Any


def choose_teams(found: Iterable[str], *, teams: Iterable[str], all_teams: bool) -> list[str]:
    """The teams to remove: every found team, or the asked ones that have stacks."""
    found = sorted(found)
    if all_teams:
        return found
    chosen = sorted(set(teams))
    return [team for team in chosen if team in found]


def teardown(
    clients: WorkshopClients,
    *,
    teams: Iterable[str] = (),
    all_teams: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    poll_s: float = POLL_S,
    teams_at_once: int = TEAMS_AT_ONCE,
    stop: threading.Event | None = None,
) -> TeardownReport:
    """Remove the chosen teams' DataPalooza resources, ``teams_at_once`` teams at a time;
    ``echo`` is told each step (every line names its team). The report lists the teams'
    removals in team order, whichever finished first.

    Once ``stop`` is set no team or stack is started; an exception while waiting for
    the teams (KeyboardInterrupt) sets it, so the running teams stop within ``poll_s``."""
    if not 1 <= teams_at_once <= TEAMS_AT_ONCE_MAX:
        raise ValueError(f"teams at once: expected 1-{TEAMS_AT_ONCE_MAX}, not {teams_at_once}")
    report = TeardownReport()
    found = find_team_stacks(clients.cloudformation)
    chosen = choose_teams(found, teams=teams, all_teams=all_teams)
    for team in sorted(set(teams) - set(found)):
        echo(f"{team}: no DataPalooza stacks (nothing to remove)")
    for team in chosen:
        plan = _plan(team, found[team])
        report.planned += plan
        for removal in plan:
            echo(f"{'would remove' if dry_run else 'will remove'} {removal}")
    if dry_run:
        return report
    lock = threading.Lock()
    stop = threading.Event() if stop is None else stop

    def say(line: str) -> None:
        with lock:  # whole lines, whichever team's thread says them
            echo(line)

    def remove(team: str) -> TeardownReport:
        own = TeardownReport()
        if stop.is_set():
            say(f"{team}: not started (stopped)")
        else:
            _remove_team(clients, team, found[team], own, say, poll_s, stop)
        return own

    with overlapping(teams_at_once) as each:
        try:
            reports = each(remove, chosen)
        except BaseException:
            stop.set()  # before the block waits for the running teams
            raise
    for own in reports:
        report.add(own)
    return report


def _plan(team: str, stacks: list[TeamStack]) -> list[Removal]:
    plan: list[Removal] = []
    for stack in stacks:
        plan += [Removal(team, "thing certificates of", thing) for thing, _ in stack.things]
    plan += [Removal(team, "stack", stack.name) for stack in stacks]
    for stack in stacks:
        plan += [Removal(team, "core device", thing) for thing, _ in stack.things]
        if stack.endpoint_name:
            plan.append(Removal(team, "log group", endpoint_log_group(stack.endpoint_name)))
    return plan


def _remove_team(
    clients: WorkshopClients,
    team: str,
    stacks: list[TeamStack],
    report: TeardownReport,
    echo: Callable[[str], None],
    poll_s: float,
    stop: threading.Event,
) -> None:
    for stack in stacks:
        for thing, policy in stack.things:
            removal = Removal(team, "thing certificates of", thing)
            _attempt(
                report,
                removal,
                echo,
                partial(_release_thing, clients.iot, thing, policy, poll_s, stop),
            )
    for stack in stacks:
        if stop.is_set():
            echo(f"{team}: stopped before stack {stack.name}")
            return
        removal = Removal(team, "stack", stack.name)
        ok = _attempt(
            report,
            removal,
            echo,
            partial(_delete_stack, clients.cloudformation, stack.name, poll_s, stop),
        )
        if not ok:
            # The stacks after it are the ones it depends on: they must outlive it.
            echo(
                f"{team}: stopping before its other stacks, which {stack.name} depends on; "
                "run the same command again"
            )
            return
    for stack in stacks:
        for thing, _ in stack.things:
            _attempt(
                report,
                Removal(team, "core device", thing),
                echo,
                partial(clients.greengrass.delete_core_device, coreDeviceThingName=thing),
            )
        if stack.endpoint_name:
            group = endpoint_log_group(stack.endpoint_name)
            _attempt(
                report,
                Removal(team, "log group", group),
                echo,
                partial(clients.logs.delete_log_group, logGroupName=group),
            )


def _attempt(
    report: TeardownReport,
    removal: Removal,
    echo: Callable[[str], None],
    action: Callable[[], object],
) -> bool:
    try:
        action()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in GONE_CODES or _stack_gone(exc):
            report.already_gone.append(removal)
            echo(f"already gone: {removal}")
            return True
        report.failed.append((removal, f"{code}: {exc}"))
        echo(f"FAILED: {removal}: {code}")
        return False
    except (NotRemoved, CertificateStillAttached, Stopped) as exc:
        report.failed.append((removal, str(exc)))
        echo(f"FAILED: {removal}: {exc}")
        return False
    except BotoCoreError as exc:
        # No answer at all (EndpointConnectionError, ReadTimeoutError, ...): this team's
        # item fails, the other teams go on, and the report still comes.
        report.failed.append((removal, f"{type(exc).__name__}: {exc}"))
        echo(f"FAILED: {removal}: {type(exc).__name__}")
        return False
    report.removed.append(removal)
    echo(f"removed {removal}")
    return True


def _stack_gone(exc: ClientError) -> bool:
    # CloudFormation answers ValidationError "Stack with id X does not exist".
    error = exc.response.get("Error", {})
    return error.get("Code") in {
        "ValidationError",
        "ValidationException",
    } and "does not exist" in str(error.get("Message", ""))


def _release_thing(
    iot: Any, thing: str, policy: str | None, poll_s: float, stop: threading.Event
) -> None:
    """Detach the thing's certificates and the stack's policy from them, then retire
    (deactivate, delete) each one no other thing uses. Which others use it is asked
    before detaching: DetachThingPrincipal is asynchronous, so right after it IoT may
    still list this thing (and teardown once kept every certificate ACTIVE for that)."""
    # A thing already gone answers ResourceNotFoundException here: "already gone".
    pages = iot.get_paginator("list_thing_principals").paginate(thingName=thing)
    principals = [p for page in pages for p in page.get("principals", [])]
    shared = {
        principal
        for principal in principals
        if set(iot.list_principal_things(principal=principal).get("things", [])) - {thing}
    }
    if policy:
        for principal in principals:
            try:
                iot.detach_policy(policyName=policy, target=principal)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in GONE_CODES:
                    raise

    def pause(seconds: float) -> None:
        if stop.wait(min(seconds, poll_s)):  # never longer than between stack looks
            raise Stopped(f"stopped while waiting for {thing}'s certificates to detach")

    _, problems = retire_certificates(iot, thing, principals, sleep=pause, keep=shared)
    if problems:
        raise NotRemoved("; ".join(problems))


def _delete_stack(cloudformation: Any, name: str, poll_s: float, stop: threading.Event) -> None:
    """Ask CloudFormation to delete the stack and watch until it is gone."""
    cloudformation.delete_stack(StackName=name)
    status = "?"
    for _ in range(DELETE_POLLS):
        try:
            stacks = cloudformation.describe_stacks(StackName=name).get("Stacks", [])
        except ClientError as exc:
            if _stack_gone(exc):
                return
            raise
        if not stacks:
            return
        status = str(stacks[0].get("StackStatus", "?"))
        if status == "DELETE_COMPLETE":
            return
        if status in DELETE_FAILURES:
            reason = stacks[0].get("StackStatusReason") or "no reason given"
            raise StackNotDeleted(f"{status}: {reason}")
        if stop.wait(poll_s):
            raise Stopped(f"stopped while {status}; CloudFormation carries on deleting it")
    raise StackNotDeleted(f"still {status} after {DELETE_POLLS} looks {poll_s:g} s apart")


def format_report(report: TeardownReport, *, dry_run: bool) -> str:
    if not report.planned:
        return "Nothing to remove."
    if dry_run:
        return f"Dry run: {len(report.planned)} item(s) would be removed; nothing was."
    line = (
        f"Removed {len(report.removed)}, already gone {len(report.already_gone)}, "
        f"failed {len(report.failed)}."
    )
    if report.failed:
        line += " Failed: " + "; ".join(f"{r} ({why})" for r, why in report.failed)
        line += "\nRun the same command again to retry what failed (what is gone is skipped)."
    return line
