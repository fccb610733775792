"""The endpoint as a real HTTP server on localhost (SageMaker's hosting contract).

Routes: GET /ping, POST /invocations, and boto3's SageMaker Runtime route
POST /endpoints/{name}/invocations, so ``boto3.client("sagemaker-runtime",
endpoint_url=...)`` works unchanged against it. JSON only, never pickle.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from datapalooza import constants
from datapalooza.domain.frame_attributes import BadAttributes
from datapalooza.endpoint.handlers import (
    EndpointModel,
    UnsupportedAccept,
    input_fn,
    model_fn,
    output_fn,
    predict_fn,
)
from datapalooza.images import BadImage
from datapalooza.ports import StoreError
from datapalooza.system.memory import keep_request_buffers

logger = logging.getLogger(__name__)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def create_app(env: Mapping[str, str] | None = None) -> FastAPI:
    """Build the app; the model loads once, here, per worker process."""
    keep_request_buffers()
    model: EndpointModel = model_fn(None, os.environ if env is None else env)
    app = FastAPI(title="DataPalooza face-detection endpoint", docs_url=None, redoc_url=None)
    # One request at a time per worker process, as in SageMaker's model server: decode,
    # detection, cropping and storing get the worker's core to themselves (off the event
    # loop, which keeps answering /ping), and throughput scales with --workers.
    request_lock = threading.Lock()

    def handle(
        body: bytes, content_type: str | None, attributes: str | None, accept: str | None
    ) -> tuple[bytes, str]:
        with request_lock:
            frame = input_fn(body, content_type, attributes, accept)
            return output_fn(predict_fn(frame, model), accept)

    @app.get("/ping")
    def ping() -> Response:
        return Response(status_code=200)

    async def invoke(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > constants.MAX_PAYLOAD_BYTES:
            return error(
                413,
                "payload_too_large",
                f"payload is {declared} bytes; the limit is {constants.MAX_PAYLOAD_BYTES} bytes",
            )
        body = await _read_limited(request, constants.MAX_PAYLOAD_BYTES)
        if body is None:
            return error(
                413,
                "payload_too_large",
                f"payload exceeds {constants.MAX_PAYLOAD_BYTES} bytes",
            )
        try:
            payload, content_type = await run_in_threadpool(
                handle,
                body,
                request.headers.get("content-type"),
                request.headers.get(constants.CUSTOM_ATTRIBUTES_HEADER),
                request.headers.get("accept"),
            )
        except BadImage as exc:
            return error(exc.status, exc.code, str(exc))
        except BadAttributes as exc:
            return error(400, "bad_custom_attributes", str(exc))
        except UnsupportedAccept as exc:
            return error(406, "not_acceptable", str(exc))
        except StoreError as exc:
            logger.error("crop store failed: %s", exc)
            status = 503 if exc.transient else 500
            return error(status, "store_failed", f"could not store face crops: {exc}")
        return Response(payload, media_type=content_type)

    app.add_api_route("/invocations", invoke, methods=["POST"])
    app.add_api_route("/endpoints/{name}/invocations", invoke, methods=["POST"])
    return app


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` (chunked uploads too)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
