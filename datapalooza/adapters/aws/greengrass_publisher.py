"""Publishers for a Greengrass core device: MQTT messages to AWS IoT Core.

Neither SDK imports off a core device, so the composition root builds the client and
injects it:

- ``GreengrassIpcPublisher``: Greengrass v2 IPC, ``awsiot.greengrasscoreipc.clientv2.
  GreengrassCoreIPCClientV2().publish_to_iot_core_async(topic_name=, qos=, payload=)``
  (the ``awsiotsdk`` package; the component needs the ``aws.greengrass#PublishToIoTCore``
  authorization policy for its topics). Not the synchronous ``publish_to_iot_core``: it
  waits on the answer's future without a timeout, so a nucleus that never answers would
  stop the camera's or the edge's loop for good.
- ``GreengrassSdkPublisher``: the v1 ``greengrasssdk.client("iot-data").publish(topic=,
  queueFullPolicy=, payload=)`` that Lambda functions imported as v2 components use
  through the ``aws.greengrass.LegacySubscriptionRouter``.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Mapping
from typing import Any

PUBLISH_TIMEOUT_S = 5.0
"""How long a publish waits for the nucleus's answer. The nucleus runs on the same device
and answers over a local socket, in milliseconds when it is well; 5 s lets a loaded
device's nucleus (a JVM: a garbage collection pauses it) answer late, and keeps a hung
one to a few missed frames of the camera's 2 s interval per message, each counted by the
caller (the camera's ``publish_errors``, the edge's stats warning)."""


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


class GreengrassIpcPublisher:
    """Publisher over Greengrass v2 IPC (``publish_to_iot_core_async``), QoS 1 by default
    so the nucleus spools messages while the device is offline. A publish the nucleus
    does not answer within ``timeout_s`` raises TimeoutError."""

    def __init__(
        self, ipc_client: Any, *, qos: str = "1", timeout_s: float = PUBLISH_TIMEOUT_S
    ) -> None:
        self._client = ipc_client
        self._qos = qos
        self._timeout_s = timeout_s

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        answer = self._client.publish_to_iot_core_async(
            topic_name=topic, qos=self._qos, payload=_encode(payload)
        )
        try:
            answer.result(timeout=self._timeout_s)
        except concurrent.futures.TimeoutError:
            answer.cancel()
            raise TimeoutError(
                f"the Greengrass nucleus did not answer a publish on {topic} within "
                f"{self._timeout_s:g}s"
            ) from None


class GreengrassSdkPublisher:
    """Publisher over the v1 Greengrass Core SDK's iot-data client (Lambda components).

    ``AllOrException``: a full Greengrass queue raises, so the caller counts the failure
    instead of losing the message silently."""

    def __init__(self, iot_data_client: Any) -> None:
        self._client = iot_data_client

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        self._client.publish(
            topic=topic, queueFullPolicy="AllOrException", payload=_encode(payload)
        )


def publisher_on_core() -> GreengrassIpcPublisher | GreengrassSdkPublisher:
    """The best publisher this core offers: v2 IPC if awsiotsdk is installed, else the
    v1 SDK. Raises RuntimeError off a core device."""
    try:
        from awsiot.greengrasscoreipc.clientv2 import (
            GreengrassCoreIPCClientV2,
        )

        return GreengrassIpcPublisher(GreengrassCoreIPCClientV2())
    except ImportError:
        pass
    try:
        import greengrasssdk

        return GreengrassSdkPublisher(greengrasssdk.client("iot-data"))
    except ImportError as exc:
        raise RuntimeError(
            "neither awsiotsdk (Greengrass v2 IPC) nor greengrasssdk is importable: this "
            "is not a Greengrass core device; run locally with a LogPublisher instead"
        ) from exc
