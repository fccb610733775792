"""Typed settings of the dashboard server (explicit argument > environment > default)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.dashboard.best_stage import RankingPolicy
from datapalooza.settings import EnvReaders, SettingsError, settings_values

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

ENV_DASHBOARD_HOST = constants.ENV_DASHBOARD_HOST
ENV_DASHBOARD_ALLOWED_HOSTS = constants.ENV_DASHBOARD_ALLOWED_HOSTS
MAX_ALLOWED_HOSTS = 32
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
ENV_DASHBOARD_POLL_SECONDS = constants.ENV_DASHBOARD_POLL_SECONDS


class DashboardSettingsError(SettingsError):
    """A dashboard setting is missing or out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """Where the festival's data lives and how the dashboard behaves.

    ``host`` is where the server listens (127.0.0.1 by default: the dashboard is for
    this machine; binding elsewhere is the operator's explicit choice). The app refuses
    requests whose Host header names another host (datapalooza.dashboard.security), so
    a web page elsewhere cannot reach it through DNS rebinding; ``allowed_hosts`` adds
    names it answers to (a name fans use on the LAN). ``poll_seconds``: how often
    the page refreshes its data. ``window_seconds``: the "current mood" window.
    Face crops are never served.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    poll_seconds: float = 3.0
    window_seconds: int = 60
    ranking: RankingPolicy = field(default_factory=RankingPolicy)

    def __post_init__(self) -> None:
        if not 0.5 <= self.poll_seconds <= 60:
            raise DashboardSettingsError(
                f"{ENV_DASHBOARD_POLL_SECONDS} must be 0.5-60 seconds, not {self.poll_seconds}"
            )
        try:
            object.__setattr__(self, "allowed_hosts", host_names(self.allowed_hosts))
        except ValueError as exc:
            raise DashboardSettingsError(f"allowed hosts: {exc}") from None
        if not 10 <= self.window_seconds <= 3600:
            raise DashboardSettingsError(
                f"window_seconds must be 10-3600, not {self.window_seconds}"
            )

    @property
    def loopback_only(self) -> bool:
        return self.host in LOOPBACK_HOSTS

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> DashboardSettings:
        """Settings from ``env`` (DATAPALOOZA_DATA_DIR, ...); non-None overrides win."""
        readers: EnvReaders = {
            "data_dir": (constants.ENV_DATA_DIR, Path),
            "host": (ENV_DASHBOARD_HOST, str),
            "allowed_hosts": (ENV_DASHBOARD_ALLOWED_HOSTS, host_names),
            "poll_seconds": (ENV_DASHBOARD_POLL_SECONDS, float),
        }
        values = settings_values(env, readers, overrides, error=DashboardSettingsError)
        if "data_dir" not in values:
            from datapalooza.festival.layout import default_data_dir

            values["data_dir"] = default_data_dir()
        values["data_dir"] = Path(values["data_dir"])
        return cls(**values)


def host_names(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """Names or addresses the dashboard also answers to (comma-separated, or as given):
    a DNS name or an IP address each, no port or wildcard, at most MAX_ALLOWED_HOSTS."""
    names = text if isinstance(text, tuple) else tuple(text.split(","))
    names = tuple(name.strip() for name in names if name.strip())
    if len(names) > MAX_ALLOWED_HOSTS:
        raise ValueError(f"{len(names)} allowed hosts; at most {MAX_ALLOWED_HOSTS}")
    for name in names:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not _HOST_NAME.match(name) or ".." in name:
                raise ValueError(f"{name!r} is not a host name or an IP address") from None
    return names
