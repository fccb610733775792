"""The uvicorn factory of ``datapalooza serve-endpoint``'s worker processes."""

from __future__ import annotations

from fastapi import FastAPI

from datapalooza.endpoint.server import create_app
from datapalooza.system.lifeline import exit_with_parent


def create_worker_app() -> FastAPI:
    """The endpoint app, in a worker that exits if its supervisor is killed (uvicorn's
    workers would otherwise outlive it, holding the port and the model's memory)."""
    exit_with_parent()
    return create_app()
