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


def source_opener(spec: str, *, stage: str) -> Callable[[], FrameSource]:
    """Check the spec now (a typo fails at start), open it lazily (a camera that is not
    plugged in yet is retried by the service)."""
    from datapalooza.sources.spec import validate_spec

    validate_spec(spec)
    return lambda: open_source(spec, stage=stage)


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
        retries={"max_attempts": 1, "mode": "standard"},
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
