"""Typed settings of the dashboard server (explicit argument > environment > default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.dashboard.best_stage import RankingPolicy
from datapalooza.settings import EnvReaders, SettingsError, settings_values

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

ENV_DASHBOARD_HOST = constants.ENV_DASHBOARD_HOST
ENV_DASHBOARD_POLL_SECONDS = constants.ENV_DASHBOARD_POLL_SECONDS


class DashboardSettingsError(SettingsError):
    """A dashboard setting is missing or out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """Where the festival's data lives and how the dashboard behaves.

    ``host`` is where the server listens (127.0.0.1 by default: the dashboard is for
    this machine; binding elsewhere is the operator's explicit choice). On a loopback
    host the app also refuses requests whose Host header names another host, so a web
    page elsewhere cannot reach it through DNS rebinding. ``poll_seconds``: how often
    the page refreshes its data. ``window_seconds``: the "current mood" window.
    Face crops are never served.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    poll_seconds: float = 3.0
    window_seconds: int = 60
    ranking: RankingPolicy = field(default_factory=RankingPolicy)

    def __post_init__(self) -> None:
        if not 0.5 <= self.poll_seconds <= 60:
            raise DashboardSettingsError(
                f"{ENV_DASHBOARD_POLL_SECONDS} must be 0.5-60 seconds, not {self.poll_seconds}"
            )
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
            "poll_seconds": (ENV_DASHBOARD_POLL_SECONDS, float),
        }
        values = settings_values(env, readers, overrides, error=DashboardSettingsError)
        if "data_dir" not in values:
            from datapalooza.festival.layout import default_data_dir

            values["data_dir"] = default_data_dir()
        values["data_dir"] = Path(values["data_dir"])
        return cls(**values)
