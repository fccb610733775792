"""SageMaker serving entry for the face-detection model.

Runs inside a SageMaker prebuilt inference container (the PyTorch one: its toolkit
calls model_fn / input_fn / predict_fn / output_fn and passes the request context
to functions that take one). Each function delegates to datapalooza.endpoint.handlers,
the same code ``datapalooza serve-endpoint`` runs locally.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# model.tar.gz unpacks to /opt/ml/model; its code/ directory carries the datapalooza
# package and the model wheel's code next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from datapalooza.constants import CUSTOM_ATTRIBUTES_HEADER
from datapalooza.domain.frame_attributes import BadAttributes
from datapalooza.endpoint import handlers
from datapalooza.images import BadImage


def _client_error(status: int, message: str) -> Exception:
    """The toolkit turns its own error type into an HTTP status; plain exceptions
    become 500. Outside the container (tests), a ValueError says the same thing."""
    try:
        from sagemaker_inference.errors import GenericInferenceToolkitError
    except ImportError:
        return ValueError(f"{status}: {message}")
    error: Exception = GenericInferenceToolkitError(status, message)
    return error


def model_fn(model_dir: str, context: Any = None) -> handlers.EndpointModel:
    return handlers.model_fn(model_dir, os.environ)


def input_fn(request_body: bytes, request_content_type: str, context: Any = None) -> Any:
    try:
        return handlers.input_fn(
            request_body,
            request_content_type,
            _header(context, CUSTOM_ATTRIBUTES_HEADER),
            _header(context, "Accept"),
        )
    except handlers.UnsupportedAccept as exc:
        raise _client_error(406, str(exc)) from exc
    except BadImage as exc:
        raise _client_error(exc.status, str(exc)) from exc
    except BadAttributes as exc:
        raise _client_error(400, str(exc)) from exc


def predict_fn(data: handlers.FrameRequest, model: handlers.EndpointModel) -> dict[str, Any]:
    try:
        return handlers.predict_fn(data, model)
    except BadAttributes as exc:  # a stage this endpoint does not serve
        raise _client_error(400, str(exc)) from exc


def output_fn(prediction: dict[str, Any], accept: str) -> tuple[bytes, str]:
    try:
        return handlers.output_fn(prediction, accept)
    except handlers.UnsupportedAccept as exc:
        raise _client_error(406, str(exc)) from exc


def _header(context: Any, header: str) -> str | None:
    """One request header from the model server's request context (None outside it)."""
    if context is None:
        return None
    try:
        properties = context.request_processor[0].get_request_properties()
    except (AttributeError, IndexError, TypeError):
        return None
    for name, value in properties.items():
        if str(name).lower() == header.lower():
            return value.decode() if isinstance(value, bytes) else str(value)
    return None
