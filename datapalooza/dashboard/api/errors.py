"""The API's error answers: one exception, turned into JSON by the app's handler."""

from __future__ import annotations

from typing import Any

from datapalooza.dashboard.schemas import ErrorBody


class ApiError(Exception):
    """An error answer: HTTP status, stable code, message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad stage name or setlist"},
    404: {"model": ErrorBody, "description": "unknown stage, or no setlist"},
    422: {"model": ErrorBody, "description": "a parameter out of range"},
}
