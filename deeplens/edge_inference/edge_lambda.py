"""The edge inference Lambda (Challenge 3): inference on the device.

A long-lived ("pinned") Lambda function that AWS IoT Greengrass v2 runs as a component
on any Linux core device with a camera (it once targeted AWS DeepLens, which reached end
of life on 2024-01-31). It detects faces locally with the same detector as the endpoint
(weights ship in the component's artifact), stores only the face crops in the faces
bucket through an on-disk store-and-forward queue, and publishes stats over MQTT.
The loop itself is datapalooza.devices.edge.EdgeService.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from datapalooza import constants
from datapalooza.adapters.aws.greengrass_publisher import publisher_on_core
from datapalooza.detection import DetectorSettings
from datapalooza.devices.background import BackgroundLoop
from datapalooza.devices.bootstrap import build_edge_service
from datapalooza.devices.edge import EdgeService, EdgeSettings
from datapalooza.ports import FaceStore, Publisher

_loop: BackgroundLoop[EdgeService] = BackgroundLoop("edge-loop")


def _s3_store(env: Mapping[str, str]) -> FaceStore:
    import boto3

    from datapalooza.adapters.aws.s3_face_store import S3FaceStore
    from datapalooza.devices.bootstrap import edge_s3_client

    bucket = env.get(constants.ENV_FACES_BUCKET)
    if not bucket:
        raise ValueError(f"{constants.ENV_FACES_BUCKET} is not set")
    return S3FaceStore(edge_s3_client(boto3.session.Session()), bucket)


def start(
    env: Mapping[str, str] | None = None,
    *,
    publisher: Publisher | None = None,
    store: FaceStore | None = None,
) -> EdgeService:
    """Compose the edge service from the environment and run it in a background thread;
    idempotent (one loop per process)."""
    env = os.environ if env is None else env

    def build() -> EdgeService:
        return build_edge_service(
            EdgeSettings.from_env(env),
            DetectorSettings.from_env(env),
            store=store or _s3_store(env),
            publisher=publisher or publisher_on_core(),
        )

    return _loop.start(build, drain_timeout_s=10.0)


def stop(timeout_s: float = 30.0) -> None:
    """Stop the loop; crops not yet uploaded stay in the on-disk queue for next time."""
    _loop.stop(timeout_s)


def function_handler(event: Any, context: Any) -> dict[str, Any]:
    """Greengrass calls this for messages routed to the function; the loop runs on its
    own. Answers with the current stats."""
    service = start()
    return {"status": "running", "stats": service.snapshot().to_json()}


# A pinned Lambda function on Greengrass is started by importing this module once in its
# long-lived process: that import is the program's start. Greengrass sets
# AWS_IOT_THING_NAME for its components; elsewhere (tests, tools) importing does nothing.
if os.environ.get("AWS_IOT_THING_NAME"):
    start()
