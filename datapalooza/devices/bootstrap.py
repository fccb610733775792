"""Composition roots for the device programs: typed settings in, wired services out.

The Greengrass Lambda entries and the CLI commands call these; tests call them with
fakes or local adapters. Clients are built here, lazily, never at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datapalooza.devices.camera import CameraService, CameraSettings
from datapalooza.ports import DetectionEndpoint, FaceDetector, FaceStore, Publisher
from datapalooza.sources.base import FrameSource
from datapalooza.sources.spec import open_source

if TYPE_CHECKING:
    # The edge's detector needs ONNX Runtime; the camera device has none installed, so
    # these are imported only where the edge service is built.
    from datapalooza.detection import DetectorSettings
    from datapalooza.devices.edge import EdgeService, EdgeSettings

log = logging.getLogger(__name__)

LOCAL_REGION = "us-east-1"

EDGE_S3_CONNECT_TIMEOUT_S = 3.0
"""How long the edge waits for S3 to accept a connection (TCP, then TLS). A working
uplink connects in a round trip or two; 3 s also covers one lost SYN, which Linux sends
again after 1 s. botocore's default is 60 s ("Config Reference", botocore,
https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html)."""

EDGE_S3_READ_TIMEOUT_S = 2.0
"""How long the edge waits on a connection that has gone quiet (for S3's answer, above
all). S3 advises retrying a small request (under 512 KB; a crop sheet is tens of KB)
that has no answer after 2 s ("Timeouts and Retries for Latency-Sensitive Applications",
https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html);
the edge's own backoff then retries it. botocore's default is 60 s."""

BOTOCORE_EXPECT_CONTINUE_WAIT_S = 1.0
"""botocore sends a PutObject with ``Expect: 100-continue`` and waits this long for the
100 before sending the body anyway (botocore/awsrequest.py, AWSConnection): a server
that never answers costs this on top of the timeouts."""

EDGE_S3_SILENT_UPLINK_S = (
    EDGE_S3_CONNECT_TIMEOUT_S
    + BOTOCORE_EXPECT_CONTINUE_WAIT_S
    + max(EDGE_S3_CONNECT_TIMEOUT_S, EDGE_S3_READ_TIMEOUT_S)
)
"""The longest one upload lasts against an uplink that never answers (7 s): how far an
upload in flight may carry the edge past its drain deadline. The connect (when the
uplink does not even accept), the wait for the 100, then either the wait for the answer
(read timeout) or, for a body the socket buffers cannot hold, a blocked send: urllib3
sends under the connect timeout and reads under the read timeout. Measured against a
local server that accepts and stays silent: 3.0 s for a 20 or 500 KB body, 4.1 s for
8 MB (the connect is instant there)."""


def source_opener(spec: str, *, stage: str) -> Callable[[], FrameSource]:
    """Check the spec now (a typo fails at start), open it lazily (a camera that is not
    plugged in yet is retried by the service)."""
    from datapalooza.sources.spec import validate_spec

    validate_spec(spec)
    return lambda: open_source(spec, stage=stage)


def one_try() -> Any:
    """botocore's ``retries`` setting for the device clients, whose programs back off
    themselves: one try, no retry. ``total_max_attempts`` counts the first try, so 1 is
    no retry; ``max_attempts`` counts retries only, so 1 there is one retry ("Config
    Reference", botocore, ``retries``). A new dict each call: botocore may edit it."""
    return {"total_max_attempts": 1, "mode": "standard"}


def sagemaker_runtime_client(settings: CameraSettings) -> Any:
    """A sagemaker-runtime client whose own retries are off (the camera backs off).

    Against another endpoint URL (``endpoint_url``: a local serve-endpoint, say) with
    no AWS credentials configured, requests go unsigned (botocore's ``UNSIGNED``): the
    local server checks no signature, and SigV4 signing cost the camera 0.4 ms of CPU
    a frame, a quarter of botocore's (1.5 against 1.1 ms a call). With credentials,
    requests are signed as SageMaker requires, whatever the URL.
    """
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    from datapalooza.adapters.aws.session import aws_session

    kwargs: dict[str, Any] = {}
    config = Config(
        retries=one_try(),
        connect_timeout=settings.timeout_s,
        read_timeout=settings.timeout_s,
    )
    if settings.endpoint_url:
        session = boto3.session.Session(region_name=settings.region)
        region = session.region_name or LOCAL_REGION
        kwargs["endpoint_url"] = settings.endpoint_url
        if session.get_credentials() is None:
            config = config.merge(Config(signature_version=UNSIGNED))
    else:
        session = aws_session(purpose="the SageMaker endpoint", region=settings.region)
        region = session.region_name
    return session.client("sagemaker-runtime", region_name=region, config=config, **kwargs)


def edge_s3_config() -> Any:
    """The botocore Config of the edge's S3 client: short timeouts (EDGE_S3_*), and
    botocore's own retries off, since the edge backs off itself (EdgeService); with
    botocore's defaults one upload to an uplink that never answered took minutes."""
    from botocore.config import Config

    return Config(
        connect_timeout=EDGE_S3_CONNECT_TIMEOUT_S,
        read_timeout=EDGE_S3_READ_TIMEOUT_S,
        retries=one_try(),
    )


def edge_s3_client(session: Any) -> Any:
    """The one S3 client the edge uploads with (the Greengrass component and
    ``datapalooza edge --bucket`` both build it here), from a boto3 session that holds
    the region and credentials."""
    return session.client("s3", config=edge_s3_config())


def build_camera_service(
    settings: CameraSettings,
    *,
    publisher: Publisher,
    endpoint: DetectionEndpoint | None = None,
) -> CameraService:
    """The camera service with a SageMaker Runtime endpoint unless one is injected."""
    if endpoint is None:
        from datapalooza.adapters.aws.sagemaker_endpoint import SageMakerDetectionEndpoint

        endpoint = SageMakerDetectionEndpoint(
            sagemaker_runtime_client(settings), settings.endpoint_name
        )
    return CameraService(
        settings=settings,
        open_source=source_opener(settings.source, stage=settings.stage),
        endpoint=endpoint,
        publisher=publisher,
    )


def build_edge_service(
    settings: EdgeSettings,
    detector_settings: DetectorSettings,
    *,
    store: FaceStore,
    publisher: Publisher,
    detector: FaceDetector | None = None,
) -> EdgeService:
    """The edge service with the same detector the endpoint runs (loaded once)."""
    from datapalooza.detection import load_detector
    from datapalooza.devices.edge import EdgeService

    return EdgeService(
        settings=settings,
        open_source=source_opener(settings.source, stage=settings.stage),
        detector=detector or load_detector(detector_settings),
        detector_settings=detector_settings,
        store=store,
        publisher=publisher,
    )
