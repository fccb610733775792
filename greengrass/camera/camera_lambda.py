"""The Greengrass camera Lambda (Challenge 2, device side): inference in the cloud.

A long-lived ("pinned") Lambda function that AWS IoT Greengrass v2 runs as a component on
any Linux core device with a camera (Greengrass V1 reached end of support on 2026-10-07).
Settings come from the component's environment variables (names in
datapalooza.constants); the loop itself is datapalooza.devices.camera.CameraService.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from datapalooza.devices.camera import CameraService, CameraSettings
from datapalooza.devices.compose import build_camera_service
from datapalooza.ports import DetectionEndpoint, Publisher

log = logging.getLogger(__name__)

_lock = threading.Lock()
_service: CameraService | None = None
_thread: threading.Thread | None = None
_stop = threading.Event()


def start(
    env: Mapping[str, str] | None = None,
    *,
    publisher: Publisher | None = None,
    endpoint: DetectionEndpoint | None = None,
) -> CameraService:
    """Compose the camera service from the environment and run it in a background
    thread; idempotent (one loop per process)."""
    global _service, _thread
    with _lock:
        if _service is not None and _thread is not None and _thread.is_alive():
            return _service
        settings = CameraSettings.from_env(os.environ if env is None else env)
        if publisher is None:
            from datapalooza.adapters.aws.greengrass_publisher import publisher_on_core

            publisher = publisher_on_core()
        _stop.clear()
        service = build_camera_service(settings, publisher=publisher, endpoint=endpoint)
        _thread = threading.Thread(
            target=service.run, kwargs={"stop": _stop}, name="camera-loop", daemon=True
        )
        _service = service
        _thread.start()
        log.info(
            "camera loop started: stage=%s camera=%s source=%s endpoint=%s",
            settings.stage,
            settings.camera,
            settings.source,
            settings.endpoint_name,
        )
        return service


def stop(timeout_s: float = 10.0) -> None:
    """Stop the loop (Greengrass stops the whole process; tests and local runs call this)."""
    global _service, _thread
    _stop.set()
    with _lock:
        if _thread is not None:
            _thread.join(timeout_s)
        _service, _thread = None, None


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
