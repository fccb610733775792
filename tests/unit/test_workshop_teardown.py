"""Teardown removes teams side by side: each team's stacks in dependency order, the
teams at the same time (up to teams_at_once), the report in team order."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from datapalooza import constants
from datapalooza.naming import TeamNames
from datapalooza.workshop.teardown import TEAMS_AT_ONCE, WorkshopClients, teardown

TEAMS = ("ana", "ben", "cho", "dev")


def team_stacks(team: str) -> list[dict[str, Any]]:
    """Challenge 1 and 2 stacks of ``team``, tagged as the CDK app tags them."""
    names = TeamNames(team)
    return [
        {
            "StackName": names.stack(challenge),
            "StackStatus": "CREATE_COMPLETE",
            "CreationTime": "2026-12-01T08:00:00Z",
            "Tags": [
                {"Key": constants.TEAM_TAG, "Value": team},
                {"Key": constants.CHALLENGE_TAG, "Value": str(challenge)},
            ],
            "Outputs": [],
        }
        for challenge in (1, 2)
    ]


class CloudFormation:
    """Lists the teams' stacks; deleting one waits until ``meet`` deletions are under
    way at the same time (a barrier: one team after another, the first never returns)."""

    def __init__(self, meet: int) -> None:
        self.barrier = threading.Barrier(meet, timeout=5)
        self.deleted: list[str] = []
        self._lock = threading.Lock()

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_stacks"
        stacks = [stack for team in TEAMS for stack in team_stacks(team)]

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                return [{"Stacks": stacks}]

        return Pages()

    def delete_stack(self, StackName: str) -> None:
        self.barrier.wait()
        with self._lock:
            self.deleted.append(StackName)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackName": StackName, "StackStatus": "DELETE_COMPLETE"}]}


class Logs:
    def delete_log_group(self, **_: Any) -> None:
        return None


def clients(cloudformation: Any) -> WorkshopClients:
    return WorkshopClients(cloudformation=cloudformation, iot=None, greengrass=None, logs=Logs())


def test_teams_are_removed_side_by_side_each_in_dependency_order() -> None:
    cloudformation = CloudFormation(meet=len(TEAMS))
    lines: list[str] = []
    report = teardown(
        clients(cloudformation),
        all_teams=True,
        echo=lines.append,
        poll_s=0,
        teams_at_once=len(TEAMS),
    )
    assert not report.failed
    assert [str(r) for r in report.removed] == [
        f"{team}: stack {TeamNames(team).stack(challenge)}"
        for team in TEAMS
        for challenge in (2, 1)  # Challenge 2 first: it depends on Challenge 1
    ]
    for team in TEAMS:
        order = [TeamNames(team).stack(2), TeamNames(team).stack(1)]
        assert [name for name in cloudformation.deleted if name in order] == order
    # every line is whole and names its team
    removed = [line for line in lines if line.startswith("removed ")]
    assert len(removed) == 2 * len(TEAMS)
    assert all(line.split(" ")[1].rstrip(":") in TEAMS for line in removed)


def test_teams_at_once_is_bounded() -> None:
    assert 1 < TEAMS_AT_ONCE <= 32
    for wrong in (0, 33):
        with pytest.raises(ValueError, match="teams at once"):
            teardown(clients(CloudFormation(meet=1)), all_teams=True, teams_at_once=wrong)


class SlowCloudFormation:
    """Eight teams' stacks, each deletion still in progress whenever asked; the first
    team's first deletion sends Ctrl-C to the main thread, as an instructor would."""

    teams = tuple(f"team{n}" for n in range(1, 9))

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self._lock = threading.Lock()

    def get_paginator(self, name: str) -> Any:
        stacks = [stack for team in self.teams for stack in team_stacks(team)]

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                return [{"Stacks": stacks}]

        return Pages()

    def delete_stack(self, StackName: str) -> None:
        with self._lock:
            self.deleted.append(StackName)
        if StackName == TeamNames("team1").stack(2):
            time.sleep(0.1)  # the main thread has queued every team and waits
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackName": StackName, "StackStatus": "DELETE_IN_PROGRESS"}]}


def test_ctrl_c_leaves_the_teams_not_started_untouched() -> None:
    # Given 8 teams, 4 at a time, whose deletions take long
    cloudformation = SlowCloudFormation()
    began = time.monotonic()
    # When Ctrl-C comes once the first team has started
    with pytest.raises(KeyboardInterrupt):
        teardown(clients(cloudformation), all_teams=True, poll_s=0.05, teams_at_once=4)
    # Then teams 5-8 were never touched, the running ones asked for no second stack,
    # and it stopped at once rather than after every team
    assert time.monotonic() - began < 2
    assert sorted(cloudformation.deleted) == sorted(
        TeamNames(team).stack(2) for team in cloudformation.teams[:4]
    )


CERT = "arn:aws:iot:eu-west-1:123456789012:cert/" + "c" * 64


class SlowDetachIot:
    """One thing with one certificate; DetachThingPrincipal takes effect only after
    the thing has been listed ``lag`` more times, as IoT documents it may."""

    def __init__(self, thing: str, lag: int) -> None:
        self.thing, self.lag = thing, lag
        self.attached, self.detach_asked = True, False
        self.status = "ACTIVE"
        self.deleted = False

    def list_thing_principals(self, thingName: str) -> dict[str, Any]:
        if self.detach_asked and self.lag > 0:
            self.lag -= 1
        elif self.detach_asked:
            self.attached = False
        return {"principals": [CERT] if self.attached else []}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_thing_principals"
        iot = self

        class Pages:
            def paginate(self, thingName: str) -> list[dict[str, Any]]:
                return [iot.list_thing_principals(thingName)]

        return Pages()

    def list_principal_things(self, principal: str) -> dict[str, Any]:
        return {"things": [self.thing] if self.attached else []}

    def detach_thing_principal(self, thingName: str, principal: str) -> None:
        self.detach_asked = True

    def detach_policy(self, policyName: str, target: str) -> None:
        return None

    def update_certificate(self, certificateId: str, newStatus: str) -> None:
        self.status = newStatus

    def delete_certificate(self, certificateId: str, forceDelete: bool) -> None:
        assert not self.attached, "IoT refuses to delete an attached certificate"
        self.deleted = True


class CameraCloudFormation(CloudFormation):
    """Team ana's Challenge 2 stack, with its camera's thing and policy."""

    def get_paginator(self, name: str) -> Any:
        stack = team_stacks("ana")[1]
        stack["Outputs"] = [
            {"OutputKey": "CameraThingName", "OutputValue": "ana-cam"},
            {"OutputKey": "CameraIotPolicy", "OutputValue": "ana-cam-greengrass"},
        ]

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                return [{"Stacks": [stack]}]

        return Pages()


class Greengrass:
    def delete_core_device(self, **_: Any) -> None:
        return None


def test_a_certificate_is_retired_once_its_detach_has_taken_effect() -> None:
    # Given a camera whose certificate shows detached only 3 looks after the detach
    iot = SlowDetachIot("ana-cam", lag=3)
    workshop = WorkshopClients(
        cloudformation=CameraCloudFormation(meet=1), iot=iot, greengrass=Greengrass(), logs=Logs()
    )
    # When the team is torn down
    report = teardown(workshop, teams=["ana"], echo=lambda _: None, poll_s=0, teams_at_once=1)
    # Then the certificate was deactivated and deleted, not left ACTIVE behind
    assert not report.failed
    assert iot.status == "INACTIVE" and iot.deleted
