"""Dashboard pieces without I/O: buckets, chart points, settings, the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datapalooza import constants
from datapalooza.dashboard.page import render_page
from datapalooza.dashboard.queries import mix_percent, nice_bucket, timeline_points
from datapalooza.dashboard.settings import (
    ENV_DASHBOARD_POLL_SECONDS,
    DashboardSettings,
    DashboardSettingsError,
)
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion
from datapalooza.domain.moods import TimelineBucket

NOW = datetime(2025, 7, 19, 21, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [(5, 10), (10, 10), (20, 10), (30, 15), (60, 30), (120, 60), (24 * 60, 900)],
)
def test_timelines_get_round_buckets_and_at_most_120_points(minutes: int, seconds: int) -> None:
    bucket = nice_bucket(timedelta(minutes=minutes))
    assert bucket == timedelta(seconds=seconds)
    assert minutes * 60 / bucket.total_seconds() <= 120


def test_the_mix_is_a_percentage_of_mean_confidences() -> None:
    mix = mix_percent({Emotion.HAPPY: 60.0, Emotion.CALM: 20.0})
    assert mix == {Emotion.HAPPY: 75.0, Emotion.CALM: 25.0}
    assert mix_percent({}) == {}


def test_the_filling_bucket_rates_faces_over_the_seconds_elapsed() -> None:
    bucket = timedelta(seconds=10)
    buckets = [
        TimelineBucket(NOW - timedelta(seconds=15), 5, 50.0, {Emotion.HAPPY: 90.0}),
        # 5 s into the current bucket, 2 faces: 2 per 10 s (the floor), not 2 per 5 s
        TimelineBucket(NOW - timedelta(seconds=5), 2, None, {}),
    ]
    done, filling = timeline_points(buckets, bucket=bucket, now=NOW)
    assert done.complete and done.faces_per_minute == 30.0
    assert not filling.complete and filling.faces_per_minute == 12.0


def test_settings_from_the_environment_with_explicit_overrides(tmp_path: Path) -> None:
    env = {constants.ENV_DATA_DIR: str(tmp_path), ENV_DASHBOARD_POLL_SECONDS: "2"}
    settings = DashboardSettings.from_env(env)
    assert settings.data_dir == tmp_path and settings.poll_seconds == 2.0
    assert settings.host == "127.0.0.1" and settings.loopback_only
    assert DashboardSettings.from_env(env, poll_seconds=5.0).poll_seconds == 5.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({ENV_DASHBOARD_POLL_SECONDS: "soon"}, "is not a valid poll_seconds"),
        ({ENV_DASHBOARD_POLL_SECONDS: "0.1"}, "must be 0.5-60 seconds"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(DashboardSettingsError, match=message):
        DashboardSettings.from_env({constants.ENV_DATA_DIR: str(tmp_path), **env})


def test_the_page_carries_the_caveat_and_loads_plotly_locally(tmp_path: Path) -> None:
    page = render_page(DashboardSettings(data_dir=tmp_path, poll_seconds=1.5))
    assert EXPRESSION_CAVEAT.replace("'", "&#x27;") in page
    assert 'src="/vendor/plotly.min.js"' in page
    assert "http://" not in page and "https://" not in page  # nothing from a CDN
    assert 'data-poll-ms="1500"' in page


@pytest.mark.parametrize(
    ("window_seconds", "label"),
    [(60, "mood, last minute"), (300, "mood, last 5 min"), (45, "mood, last 45 s")],
)
def test_each_mood_on_the_page_says_over_which_time(
    window_seconds: int, label: str, tmp_path: Path
) -> None:
    """A stage card's mood covers the current window, the ranking the last 5 minutes:
    the page names both, so a fan does not take three numbers for one."""
    page = render_page(DashboardSettings(data_dir=tmp_path, window_seconds=window_seconds))
    assert f'<span class="label">{label}</span>' in page
    assert 'data-horizon-minutes="5"' in page
    assert "steady score" in page
