"""The dashboard's composition root: builds the FastAPI app from DashboardSettings.

``create_app(settings)`` for callers that have settings; ``create_app_from_env()``
is the uvicorn factory (``uvicorn --factory datapalooza.dashboard.bootstrap:create_app_from_env``)
that ``datapalooza up`` and ``datapalooza dashboard`` start, reading
DATAPALOOZA_DATA_DIR and friends.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datapalooza.adapters.local.json_setlist_store import JsonSetlistStore
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.dashboard.api import ApiError, DashboardState, api_router
from datapalooza.dashboard.best_stage import BestStageRanker
from datapalooza.dashboard.page import render_page
from datapalooza.dashboard.security import SecurityHeaders, trusted_hosts
from datapalooza.dashboard.setlists import local_context
from datapalooza.dashboard.settings import DashboardSettings
from datapalooza.domain.keys import InvalidName, validate_slug
from datapalooza.festival.layout import DataLayout

MAX_BODY_BYTES = 64 * 1024


def plotly_js_path() -> Path:
    """plotly.js as shipped inside the ``plotly`` Python package (no CDN, no copy)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(
            f"plotly.js is missing from the plotly package ({path}); reinstall plotly"
        )
    return path


def static_dir() -> Path:
    return Path(str(resources.files("datapalooza.dashboard") / "static"))


def create_app(
    settings: DashboardSettings, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """The dashboard app over ``settings.data_dir``: page, static files, JSON API."""
    layout = DataLayout(settings.data_dir)
    now = clock or (lambda: datetime.now(UTC))
    state = DashboardState(
        settings=settings,
        results=SqliteResultsTable(layout.results_db, read_only=True),
        setlists=JsonSetlistStore(layout.setlists),
        status_path=layout.status,
        ranker=BestStageRanker(settings.ranking),
        clock=now,
        time_context=lambda: local_context(now()),
    )
    plotly_js = plotly_js_path()
    app = FastAPI(
        title="DataPalooza festival dashboard",
        description=(
            "Live crowd mood per stage, the fans' best-stage ranking and the artists' "
            "setlist reports. Scores describe facial expressions, not feelings. Face "
            "crops are never served."
        ),
        version="1",
        # The interactive docs pages load their JavaScript from a CDN: off. The spec
        # itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings))
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, refusals too

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own errors (unknown route, wrong method, body too large) in the
        # API's error shape.
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        return JSONResponse(
            {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        for error in exc.errors():
            if tuple(error.get("loc", ()))[:2] == ("path", "stage"):
                # The schema's stage pattern refused it: the API's own 400 and message.
                try:
                    validate_slug(str(error.get("input", "")), what="stage")
                except InvalidName as bad:
                    return JSONResponse(
                        {"error": "invalid_stage", "message": str(bad)}, status_code=400
                    )
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
        return JSONResponse(
            {"error": "invalid_request", "message": "; ".join(problems)}, status_code=422
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(render_page(settings))

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return FileResponse(
            plotly_js,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    app.include_router(api_router())
    app.state.dashboard = state
    return app


def create_app_from_env() -> FastAPI:
    """The uvicorn factory: settings from the environment (DATAPALOOZA_DATA_DIR, ...)."""
    return create_app(DashboardSettings.from_env(os.environ))


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with the API's JSON error (413): at
    once when Content-Length declares more, and as soon as a chunked body grows past it.
    Setlists are small, so a body under the limit is read here and handed on whole."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"error": "payload_too_large", "message": f"the body is over {self.limit} bytes"},
            status_code=413,
        )
        await response(scope, receive, send)
