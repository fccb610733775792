"""The fans' best-stage ranking: steady under one odd frame, responsive to real change."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from datapalooza.dashboard.best_stage import (
    BestStageRanker,
    MoodBucket,
    RankingPolicy,
    order_with_hysteresis,
    score_stage,
)

NOW = datetime(2025, 7, 19, 21, 0, tzinfo=UTC)
BUCKET = timedelta(seconds=10)

Frame = tuple[datetime, int, float]  # captured at, faces, mean mood of those faces


def frames(
    mood: float, *, faces: int = 6, every_s: int = 5, minutes: float = 5, end: datetime = NOW
) -> list[Frame]:
    """A camera's steady frames: ``faces`` faces of mood ``mood`` every ``every_s``."""
    count = int(minutes * 60 / every_s)
    return [(end - timedelta(seconds=every_s * i + 1), faces, mood) for i in range(count)]


def buckets(stage_frames: list[Frame]) -> list[MoodBucket]:
    """What the results table's timeline gives: faces and mean mood per 10 s bucket."""
    grouped: dict[datetime, list[tuple[int, float]]] = defaultdict(list)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for at, faces, mood in stage_frames:
        start = epoch + ((at - epoch) // BUCKET) * BUCKET
        grouped[start].append((faces, mood))
    out = []
    for start, items in sorted(grouped.items()):
        n = sum(f for f, _ in items)
        out.append(MoodBucket(start, n, sum(f * m for f, m in items) / n))
    return out


def ranking_order(ranker: BestStageRanker, data: dict[str, list[Frame]], now: datetime = NOW):
    ranking = ranker.rank({s: buckets(f) for s, f in data.items()}, now=now)
    return [s.stage for s in ranking.ranked]


def test_one_odd_frame_does_not_flip_the_leader() -> None:
    # Given: main looks a little happier than forest over the last five minutes
    ranker = BestStageRanker()
    data = {"main": frames(40.0), "forest": frames(36.0)}
    assert ranking_order(ranker, data) == ["main", "forest"]

    # When: one frame of the usual size arrives at main with every face looking angry
    odd = {"main": [*data["main"], (NOW, 6, -90.0)], "forest": data["forest"]}

    # Then: main is still first, though the frame did pull its score below forest's
    assert ranking_order(ranker, odd) == ["main", "forest"]
    raw = {
        s: score_stage(s, buckets(f), now=NOW, policy=ranker.policy).score for s, f in odd.items()
    }
    assert raw["forest"] > raw["main"], "the test needs a frame that moves the raw scores"


def test_without_hysteresis_the_same_frame_would_flip_it() -> None:
    # The margin is what holds the order above: with none, the odd frame flips it.
    ranker = BestStageRanker(RankingPolicy(margin=0.0))
    data = {"main": frames(40.0), "forest": frames(36.0)}
    assert ranking_order(ranker, data) == ["main", "forest"]
    odd = {"main": [*data["main"], (NOW, 6, -90.0)], "forest": data["forest"]}
    assert ranking_order(ranker, odd) == ["forest", "main"]


def test_smoothing_bounds_what_one_frame_can_do() -> None:
    # A frame is one of ~60 in the horizon: its pull on the score is a few points,
    # not the 130-point swing its faces would give a newest-frame ranking.
    policy = RankingPolicy()
    steady = frames(40.0)
    before = score_stage("main", buckets(steady), now=NOW, policy=policy).score
    after = score_stage("main", buckets([*steady, (NOW, 6, -90.0)]), now=NOW, policy=policy).score
    assert 0 < before - after < 10


def test_a_sustained_change_does_take_the_lead() -> None:
    ranker = BestStageRanker()
    assert ranking_order(ranker, {"main": frames(40.0), "forest": frames(36.0)}) == [
        "main",
        "forest",
    ]
    # forest's crowd lights up for two minutes while main's cools down
    later = NOW + timedelta(minutes=2)
    forest = frames(36.0, end=NOW) + frames(80.0, minutes=2, end=later)
    main = frames(40.0, end=NOW) + frames(10.0, minutes=2, end=later)
    assert ranking_order(ranker, {"main": main, "forest": forest}, later) == ["forest", "main"]


def test_a_handful_of_beaming_faces_does_not_beat_a_big_happy_crowd() -> None:
    ranker = BestStageRanker()
    data = {
        "main": frames(60.0, faces=10),
        "tent": [(NOW - timedelta(seconds=3), 12, 100.0)],  # 12 faces, all beaming
    }
    ranking = ranker.rank({s: buckets(f) for s, f in data.items()}, now=NOW)
    assert [s.stage for s in ranking.ranked] == ["main", "tent"]
    assert ranking.best is not None and ranking.best.stage == "main"


def test_stages_with_too_few_faces_are_warming_up_not_ranked() -> None:
    ranker = BestStageRanker(RankingPolicy(min_faces=10))
    data = {"main": frames(20.0), "acoustic": [(NOW - timedelta(seconds=2), 3, 100.0)]}
    ranking = ranker.rank({s: buckets(f) for s, f in data.items()}, now=NOW)
    assert [s.stage for s in ranking.ranked] == ["main"]
    assert [(s.stage, s.faces) for s in ranking.warming_up] == [("acoustic", 3)]
    assert ranking.warming_up[0].mood is None


def test_faces_older_than_the_horizon_do_not_count() -> None:
    policy = RankingPolicy(horizon=timedelta(minutes=5))
    old = frames(90.0, end=NOW - timedelta(minutes=6), minutes=3)
    score = score_stage("main", buckets(old), now=NOW, policy=policy)
    assert score.faces == 0 and not score.ranked


def test_no_stages_means_no_best_stage() -> None:
    ranking = BestStageRanker().rank({}, now=NOW)
    assert ranking.best is None and ranking.ranked == () and ranking.warming_up == ()


def test_asking_twice_gives_the_same_ranking() -> None:
    ranker = BestStageRanker()
    data = {"a": frames(10.0), "b": frames(12.0), "c": frames(11.0)}
    first = ranking_order(ranker, data)
    assert ranking_order(ranker, data) == first


def test_hysteresis_keeps_near_ties_in_their_previous_order() -> None:
    scores = {"a": 30.0, "b": 33.0, "c": 10.0}
    assert order_with_hysteresis(scores, ["a", "b", "c"], margin=5.0) == ["a", "b", "c"]
    assert order_with_hysteresis(scores, ["a", "b", "c"], margin=2.0) == ["b", "a", "c"]


def test_hysteresis_lets_a_clear_leader_climb_several_places() -> None:
    scores = {"a": 10.0, "b": 12.0, "c": 40.0}
    assert order_with_hysteresis(scores, ["a", "b", "c"], margin=5.0) == ["c", "a", "b"]


def test_newcomers_enter_in_score_order_below_known_stages() -> None:
    scores = {"known": 20.0, "new-high": 22.0, "new-low": -5.0}
    # new-high is within the margin of known: it does not jump ahead on arrival
    assert order_with_hysteresis(scores, ["known"], margin=5.0) == ["known", "new-high", "new-low"]
    # with no history at all, plain score order
    assert order_with_hysteresis(scores, [], margin=5.0) == ["new-high", "known", "new-low"]


def test_a_stage_back_from_a_quiet_spell_does_not_grab_the_lead_on_a_near_tie() -> None:
    ranker = BestStageRanker()
    both = {"a": frames(30.0), "b": frames(32.0)}
    assert ranking_order(ranker, both) == ["b", "a"]
    # b goes quiet (no faces): a is the best stage while b is away
    assert ranking_order(ranker, {"a": frames(30.0), "b": []}) == ["a"]
    # b comes back a little happier than a: within the margin, a keeps the lead
    assert ranking_order(ranker, {"a": frames(30.0), "b": frames(33.0)}) == ["a", "b"]
    # clearly happier: b takes it back
    assert ranking_order(ranker, {"a": frames(30.0), "b": frames(60.0)}) == ["b", "a"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"horizon": timedelta(0)},
        {"half_life": timedelta(seconds=-1)},
        {"bucket": timedelta(minutes=10)},
        {"min_faces": 0},
        {"prior_faces": -1.0},
        {"margin": -0.5},
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RankingPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_explains_itself_for_the_page() -> None:
    text = RankingPolicy().describe()
    assert "5 minutes" in text and "60 s" in text and "10 faces" in text
