"""What the CDK app deploys unless context says otherwise: one place for the figures
that both ``stacks/settings.py`` (the defaults of its settings) and the planner
(``datapalooza plan``) need, so a plan describes what ``cdk deploy`` builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

LambdaArchitecture = Literal["arm64", "x86_64"]

ENDPOINT_INSTANCE_TYPE: Final = "ml.m5.large"
ENDPOINT_INSTANCE_COUNT: Final = 1
TRACKER_MOSAIC_SIZE: Final = 36
# SQS messages per tracker invocation: two full mosaics of crops. A batch that is not a
# multiple of the mosaic size ends on a part-empty DetectFaces call, priced as a full one
# (at 50, two calls carried 50 crops where 1.39 would do: 52 calls/s instead of 36 for
# 200 cameras, docs/running-a-festival.md). The window keeps small stages' batches small.
TRACKER_BATCH_SIZE: Final = 2 * TRACKER_MOSAIC_SIZE
TRACKER_MAX_BATCHING_WINDOW_S: Final = 5
TRACKER_MEMORY_MB: Final = 1024
TRACKER_TIMEOUT_S: Final = 60
TRACKER_ARCHITECTURE: Final[LambdaArchitecture] = "arm64"
CAMERA_INTERVAL_S: Final = 2.0
FACES_EXPIRE_DAYS: Final = 1
# Scores per face are kept a week, in the stack's results table (its TTL) and in the
# local festival's database alike: long enough to compare a festival's days, short
# enough that expression scores do not pile up (docs/responsible-use.md).
RESULTS_TTL_DAYS: Final = 7
# Greengrass v1 Lambda components publish with the v1 SDK; the edge publishes its stats
# every stats_interval_s (devices/edge.py EdgeSettings).
EDGE_STATS_INTERVAL_S: Final = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentShape:
    """The deployed figures the planner's arithmetic depends on (defaults: the app's)."""

    endpoint_instance_type: str = ENDPOINT_INSTANCE_TYPE
    endpoint_instance_count: int = ENDPOINT_INSTANCE_COUNT
    tracker_batch_size: int = TRACKER_BATCH_SIZE
    tracker_max_batching_window_s: int = TRACKER_MAX_BATCHING_WINDOW_S
    tracker_analyzer_mode: str = "mosaic"
    tracker_mosaic_size: int = TRACKER_MOSAIC_SIZE
    tracker_memory_mb: int = TRACKER_MEMORY_MB
    tracker_architecture: LambdaArchitecture = TRACKER_ARCHITECTURE
    camera_interval_s: float = CAMERA_INTERVAL_S
    faces_expire_days: int = FACES_EXPIRE_DAYS
