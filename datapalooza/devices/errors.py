"""Errors the device programs understand, raised by their adapters."""

from __future__ import annotations

from typing import Literal

EndpointErrorKind = Literal["throttled", "timeout", "unavailable", "rejected"]


class EndpointError(RuntimeError):
    """The detection endpoint did not answer a frame.

    ``kind``: ``throttled`` (slow down), ``timeout`` (no answer in time),
    ``unavailable`` (cannot connect, 5xx, endpoint missing or not InService) or
    ``rejected`` (the endpoint refused this frame: 4xx; the next frame may pass).
    The camera backs off on all of them; only the counters differ.
    """

    def __init__(self, message: str, *, kind: EndpointErrorKind) -> None:
        super().__init__(message)
        self.kind: EndpointErrorKind = kind
