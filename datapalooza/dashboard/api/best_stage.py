"""``/api/best-stage``: the fans' steady ranking."""

from __future__ import annotations

from fastapi import APIRouter

from datapalooza.dashboard import queries
from datapalooza.dashboard.api.dependencies import Now, Ranker, Results, Stages
from datapalooza.dashboard.schemas import BestStageResponse, RankedStage, WarmingStage

router = APIRouter()


@router.get("/best-stage", response_model=BestStageResponse, summary="Fans' ranking")
def best_stage(known: Stages, results: Results, ranker: Ranker, now: Now) -> BestStageResponse:
    """Stages ranked by a steady crowd mood (smoothed, shrunk toward neutral, with
    hysteresis: see ``method``); stages with too few faces are warming up."""
    policy = ranker.policy
    timelines = queries.mood_buckets(
        results,
        known.names(),
        horizon=policy.horizon,
        bucket=policy.bucket,
        now=now,
    )
    ranking = ranker.rank(timelines, now=now)
    return BestStageResponse(
        generated_at=now,
        best=ranking.best.stage if ranking.best else None,
        ranking=[
            RankedStage(
                rank=i,
                stage=s.stage,
                score=round(s.score, 2),
                mood=None if s.mood is None else round(s.mood, 2),
                faces=s.faces,
            )
            for i, s in enumerate(ranking.ranked, start=1)
        ],
        warming_up=[
            WarmingStage(stage=s.stage, faces=s.faces, needed=policy.min_faces)
            for s in ranking.warming_up
        ],
        method=policy.describe(),
    )
