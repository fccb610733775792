"""The naming rule (datapalooza/naming.py): one team's names, and back from a stack name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datapalooza import constants, naming
from datapalooza.naming import InvalidTeam, TeamNames, team_of_stack

DEFAULT = TeamNames()
ALICE = TeamNames("alice")


def test_the_default_team_names_everything_as_before_teams() -> None:
    assert DEFAULT.stacks() == {
        1: constants.CLOUD_INFERENCE_STACK,
        2: constants.EMOTION_TRACKER_STACK,
        3: constants.EDGE_STACK,
    }
    assert DEFAULT.faces_bucket("111122223333", "eu-west-1") == (
        "datapalooza-faces-111122223333-eu-west-1"
    )
    assert DEFAULT.endpoint(constants.DEFAULT_ENDPOINT_NAME) == constants.DEFAULT_ENDPOINT_NAME
    assert DEFAULT.metric_namespace() == constants.METRIC_NAMESPACE
    assert DEFAULT.component("Camera") == "datapalooza.Camera"
    assert DEFAULT.topic(constants.DETECTIONS_TOPIC, "main") == "datapalooza/main/detections"
    assert DEFAULT.camera_thing("main", "cam-1") == "datapalooza-camera-main-cam-1"


def test_a_team_goes_after_the_first_word_of_every_name() -> None:
    assert ALICE.stack(2) == "DataPalooza-alice-Challenge2-EmotionTracker"
    assert ALICE.faces_bucket("111122223333", "eu-west-1") == (
        "datapalooza-alice-faces-111122223333-eu-west-1"
    )
    assert ALICE.endpoint("datapalooza-face-detection") == "datapalooza-alice-face-detection"
    assert ALICE.endpoint("detector") == "detector-alice"  # a one-word name gets it last
    assert ALICE.dashboard() == "DataPalooza-alice-CrowdMood"
    assert ALICE.metric_namespace() == "DataPalooza/alice"
    assert ALICE.component("EdgeInference") == "datapalooza.alice.EdgeInference"
    assert ALICE.topic(constants.EDGE_STATS_TOPIC, "main") == "datapalooza/alice/main/edge-stats"
    assert ALICE.edge_thing("main", "edge-1") == "datapalooza-alice-edge-main-edge-1"
    assert naming.component_work_dir(ALICE.component("EdgeInference")) == (
        "/greengrass/v2/work/datapalooza.alice.EdgeInference"
    )


@pytest.mark.parametrize("team", ["", "A", "a_b", "-a", "a-", "a" * 17, "a b", None])
def test_invalid_teams_are_refused(team: object) -> None:
    with pytest.raises(InvalidTeam, match="1-16 lowercase letters"):
        TeamNames(team)  # type: ignore[arg-type]


teams = st.from_regex(naming.TEAM_PATTERN, fullmatch=True)


@given(team=teams, challenge=st.sampled_from([1, 2, 3]))
def test_a_stack_name_gives_back_its_team_and_challenge(team: str, challenge: int) -> None:
    assert team_of_stack(TeamNames(team).stack(challenge)) == (team, challenge)


@given(first=teams, second=teams)
def test_two_teams_never_share_a_name(first: str, second: str) -> None:
    a, b = TeamNames(first), TeamNames(second)
    if first == second:
        return
    pairs = [
        (a.faces_bucket("111122223333", "eu-west-1"), b.faces_bucket("111122223333", "eu-west-1")),
        (a.endpoint("datapalooza-face-detection"), b.endpoint("datapalooza-face-detection")),
        (a.camera_thing("main", "cam-1"), b.camera_thing("main", "cam-1")),
        (a.component("Camera"), b.component("Camera")),
        (a.metric_namespace(), b.metric_namespace()),
        (a.dashboard(), b.dashboard()),
        *zip(a.stacks().values(), b.stacks().values(), strict=True),
    ]
    for mine, theirs in pairs:
        assert mine != theirs


@pytest.mark.parametrize(
    "name",
    [
        "DataPalooza-Challenge4-Endpoint",
        "DataPalooza-Alice-Challenge1-Endpoint",
        "DataPalooza-default-Challenge1-Endpoint",  # the default team's name has no team
        "DataPalooza-alice-Challenge1-Edge",  # challenge 1 is not the edge stack
        "alice-Endpoint",
        "CDKToolkit",
    ],
)
def test_other_stack_names_belong_to_no_team(name: str) -> None:
    assert team_of_stack(name) is None
