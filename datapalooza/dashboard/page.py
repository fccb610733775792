"""The dashboard's one HTML page, filled from templates/index.html.

The page is static apart from a few settings and the caveat; everything it shows
comes from the JSON API, fetched by static/dashboard.js.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

from datapalooza.dashboard.settings import DashboardSettings
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, VALENCE


@cache
def _template() -> Template:
    text = (resources.files("datapalooza.dashboard") / "templates" / "index.html").read_text(
        encoding="utf-8"
    )
    return Template(text)


def window_label(seconds: int) -> str:
    """The "current mood" window as a stage card labels it: "last minute", "last 5 min"."""
    if seconds == 60:
        return "last minute"
    if seconds % 60 == 0:
        return f"last {seconds // 60} min"
    return f"last {seconds} s"


def render_page(settings: DashboardSettings) -> str:
    """The page, with the poll interval, windows, ranking method and caveat filled in."""
    valence = ", ".join(f"{e.value.title()} {v:+g}" for e, v in VALENCE.items())
    return _template().substitute(
        caveat=html.escape(EXPRESSION_CAVEAT),
        poll_ms=int(settings.poll_seconds * 1000),
        window_seconds=settings.window_seconds,
        window_label=window_label(settings.window_seconds),
        horizon_minutes=f"{settings.ranking.horizon.total_seconds() / 60:g}",
        ranking_method=html.escape(settings.ranking.describe()),
        valence=html.escape(valence),
    )
