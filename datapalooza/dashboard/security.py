"""What every dashboard answer carries, and whom it answers: security headers, and the
Host names it accepts (a web page elsewhere cannot read it through DNS rebinding).

The page loads its own script, stylesheet and plotly.js only, and nothing may frame it;
plotly.js sets inline styles on the charts it draws, hence ``style-src 'unsafe-inline'``
(no script runs inline). A dashboard on 127.0.0.1 answers to loopback names only; one
bound beyond loopback (``--host``, the operator's choice) answers to this machine's
name and the addresses of its interfaces, and to each ``--allowed-host``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datapalooza.dashboard.settings import LOOPBACK_HOSTS, DashboardSettings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),  # frame-ancestors, for browsers that predate it
    ("referrer-policy", "no-referrer"),
)
_WILDCARD_BINDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognising them, not binding


class SecurityHeaders:
    """Adds HEADERS to every HTTP answer (page, static files, API, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def trusted_hosts(settings: DashboardSettings) -> list[str]:
    """The Host names the dashboard answers to (as a Host header writes them: IPv6
    addresses in brackets)."""
    hosts = {*LOOPBACK_HOSTS, *settings.allowed_hosts}
    if not settings.loopback_only:
        if settings.host not in _WILDCARD_BINDS:
            hosts.add(settings.host)
        hosts.update({socket.gethostname(), socket.getfqdn()})
        hosts.update(_interface_addresses())
    return sorted(_as_host_header(host) for host in hosts if host)


def _interface_addresses() -> Iterable[str]:
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                yield address.address.split("%", 1)[0]  # an IPv6 address's zone goes


def _as_host_header(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host.lower()  # a name
