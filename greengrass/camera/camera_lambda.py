"""The Greengrass camera Lambda (Challenge 2, device side): inference in the cloud.

A long-lived ("pinned") Lambda function that AWS IoT Greengrass v2 runs as a component on
any Linux core device with a camera (Greengrass V1 reached end of support on 2026-10-07).
Settings come from the component's environment variables (names in
datapalooza.constants); the loop itself is datapalooza.devices.camera.CameraService.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from datapalooza.adapters.aws.greengrass_publisher import publisher_on_core
from datapalooza.devices.background import BackgroundLoop
from datapalooza.devices.bootstrap import build_camera_service
from datapalooza.devices.camera import CameraService, CameraSettings
from datapalooza.ports import DetectionEndpoint, Publisher

_loop: BackgroundLoop[CameraService] = BackgroundLoop("camera-loop")


def start(
    env: Mapping[str, str] | None = None,
    *,
    publisher: Publisher | None = None,
    endpoint: DetectionEndpoint | None = None,
) -> CameraService:
    """Compose the camera service from the environment and run it in a background
    thread; idempotent (one loop per process)."""

    def build() -> CameraService:
        settings = CameraSettings.from_env(os.environ if env is None else env)
        return build_camera_service(
            settings, publisher=publisher or publisher_on_core(), endpoint=endpoint
        )

    return _loop.start(build)


def stop(timeout_s: float = 10.0) -> None:
    """Stop the loop (Greengrass stops the whole process; tests and local runs call this)."""
    _loop.stop(timeout_s)


def function_handler(event: Any, context: Any) -> dict[str, Any]:
    """Greengrass calls this for messages routed to the function; the loop runs on its
    own. Answers with the loop's counters (handy for a health check topic)."""
    service = start()
    return {"status": "running", "counters": service.counters.to_json()}


# A pinned Lambda function on Greengrass is started by importing this module once in its
# long-lived process: that import is the program's start. Greengrass sets
# AWS_IOT_THING_NAME for its components; elsewhere (tests, tools) importing does nothing.
if os.environ.get("AWS_IOT_THING_NAME"):
    start()
