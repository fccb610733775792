"""The endpoint's composition root: the detector and the crop store its environment
names, built once per worker process by ``model_fn``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from datapalooza import constants
from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.domain.frame_attributes import parse_stages
from datapalooza.ports import FaceStore

if TYPE_CHECKING:
    from datapalooza.endpoint.handlers import EndpointModel

logger = logging.getLogger(__name__)


def build_endpoint_model(model_dir: str | None, env: Mapping[str, str]) -> EndpointModel:
    """The detector from DetectorSettings, and the store from ``build_store``."""
    from datapalooza.endpoint.handlers import EndpointModel

    settings = DetectorSettings.from_env(env)
    stages = parse_stages(env.get(constants.ENV_STAGES, ""))
    detector = load_detector(settings)
    store = build_store(env)
    logger.info("loaded %s (store: %s) from %s", detector.model_id, type(store).__name__, model_dir)
    # A bucket across the network takes several puts at once; a directory, one by one.
    puts_at_once = int(getattr(store, "puts_at_once", 1))
    return EndpointModel(
        detector=detector,
        settings=settings,
        store=store,
        puts_at_once=puts_at_once,
        stages=stages,
    )


def build_store(env: Mapping[str, str]) -> FaceStore | None:
    """The crop store named by the environment: a bucket, a directory, or none."""
    bucket = env.get(constants.ENV_FACES_BUCKET)
    if bucket:
        import boto3

        from datapalooza.adapters.aws.s3_face_store import S3FaceStore

        return S3FaceStore(boto3.client("s3"), bucket)
    directory = env.get(constants.ENV_DATA_DIR)
    if not directory:
        return None
    from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore

    store: FaceStore = SqliteFaceStore(Path(directory))
    notifications = env.get(constants.ENV_NOTIFICATIONS_DB)
    if notifications:
        # The local festival: announce each crop, as the bucket's event notification would.
        from datapalooza.adapters.local.crop_notifications import (
            NotifyingFaceStore,
            SqliteCropNotifications,
        )

        store = NotifyingFaceStore(store, SqliteCropNotifications(Path(notifications)))
    return store
