"""A real browser on the real dashboard server while the results table is being written.

Debian's Chromium, driven by Playwright: the page draws a chart per stage and the
best-stage ranking, then follows new faces that change the best stage without a
reload, and takes the artist's setlist. It says when the festival has stopped, shows
track titles as typed, fits a phone's width and refuses a bad stage name itself. Its
screenshots stay under tmp_path: the test writes crowds no local festival can
produce, so the docs' pictures come from a real `datapalooza up` run instead
(scripts/screenshots).
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion, EmotionScores
from datapalooza.domain.keys import CropKey
from datapalooza.festival.layout import DataLayout
from datapalooza.ports import ScoredFace
from tests.conftest import free_port, start_datapalooza, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_LIMIT = 300 * 1024

# No skip when Chromium is missing: `make test` installs it (scripts/install-system-deps),
# and a browser test that quietly does not run would prove nothing.
pytestmark = [pytest.mark.slow]

# What each stage's crowd tends to look like, before the change.
PROFILES = {
    "main": {Emotion.HAPPY: 6.0, Emotion.SURPRISED: 2.0, Emotion.CALM: 2.0},
    "forest": {Emotion.SAD: 3.0, Emotion.CALM: 4.0, Emotion.FEAR: 1.0, Emotion.HAPPY: 1.0},
    "tent": {Emotion.CALM: 5.0, Emotion.HAPPY: 2.0, Emotion.CONFUSED: 1.0, Emotion.ANGRY: 1.0},
}


class CrowdWriter:
    """Writes scored faces the way the tracker does (put_if_new), at real times."""

    def __init__(self, layout: DataLayout) -> None:
        self.table = SqliteResultsTable(layout.results_db)
        self.rng = random.Random(7)
        self.frame = 0
        self.newest: datetime | None = None

    def scores(self, profile: dict[Emotion, float]) -> EmotionScores:
        raw = {e: self.rng.gammavariate(w, 1.0) for e, w in profile.items()}
        total = sum(raw.values())
        return EmotionScores({e: 100.0 * v / total for e, v in raw.items()})

    def crowd(
        self,
        stage: str,
        profile: dict[Emotion, float],
        *,
        minutes: float,
        faces_per_frame: int = 3,
        every_s: float = 5.0,
        ago: timedelta = timedelta(0),
    ) -> None:
        """``minutes`` of faces up to ``ago`` before now."""
        now = datetime.now(UTC)
        for i in range(int(minutes * 60 / every_s)):
            at = now - ago - timedelta(seconds=i * every_s + self.rng.random())
            self.newest = at if self.newest is None else max(self.newest, at)
            self.frame += 1
            for index in range(faces_per_frame):
                key = str(CropKey(stage, at, f"f{self.frame:06d}", index))
                self.table.put_if_new(
                    ScoredFace(stage, at, key, f"{stage}-cam", self.scores(profile)),
                    ttl_epoch_s=int(now.timestamp()) + 86400,
                )


def write_status(layout: DataLayout, *, ago: timedelta = timedelta(0)) -> None:
    """The status file ``up`` writes, as of ``ago`` before now."""
    now = datetime.now(UTC) - ago
    status = {
        "started_at": (now - timedelta(minutes=12)).isoformat(),
        "updated_at": now.isoformat(),
        "stages": {
            stage: {
                "path": "edge" if stage == "tent" else "cloud",
                "source": "synthetic",
                "frames": 720,
                "faces": 2160,
                "crops": 2100,
                "scored": 2090,
                "errors": 0,
                "fps": 1.0,
            }
            for stage in PROFILES
        },
        "tracker": {"pending": 10, "scored": 6270, "no_face": 12, "failed": 0},
    }
    tmp = layout.status.with_suffix(".tmp")
    tmp.write_text(json.dumps(status))
    tmp.replace(layout.status)


@contextmanager
def status_kept_fresh(layout: DataLayout) -> Iterator[None]:
    """Rewrites the status file every second, as a running ``up`` does."""
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.wait(1.0):
            write_status(layout)

    write_status(layout)
    thread = threading.Thread(target=rewrite, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def dashboard(layout: DataLayout) -> Iterator[str]:
    """``datapalooza dashboard`` over ``layout``, polled every second; its URL."""
    port = free_port()
    process = start_datapalooza(
        "dashboard",
        "--data-dir",
        str(layout.root),
        "--port",
        str(port),
        "--poll-seconds",
        "1",
        port=port,
        path="/api/stages",
        timeout=30,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture
def festival(tmp_path: Path) -> Iterator[tuple[str, DataLayout, CrowdWriter]]:
    """A running festival: 10 minutes of faces up to now, a fresh status every second."""
    layout = DataLayout(tmp_path / "festival")
    writer = CrowdWriter(layout)
    for stage, profile in PROFILES.items():
        writer.crowd(stage, profile, minutes=10)
    try:
        with status_kept_fresh(layout), dashboard(layout) as url:
            yield url, layout, writer
    finally:
        writer.table.close()


def test_dashboard_live_in_a_browser(
    festival: tuple[str, DataLayout, CrowdWriter], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, layout, writer = festival
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # The page, plotly.js included, runs under the dashboard's Content-Security-Policy.
            page.on(
                "console",
                lambda message: (
                    errors.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url)

            # A chart per stage, drawn by plotly.js, and the ranking with main on top
            for stage in PROFILES:
                chart = page.locator(f'.stage-card[data-stage="{stage}"] .stage-chart .main-svg')
                expect(chart.first).to_be_visible(timeout=15_000)
            expect(page.locator("#best-name")).to_have_text("main", timeout=10_000)
            expect(page.locator("#ranking li")).to_have_count(3)
            assert page.locator("#ranking li").first.get_attribute("data-stage") == "main"
            expect(page.locator("#caveat")).to_contain_text(EXPRESSION_CAVEAT)
            expect(page.locator("#pipeline")).to_contain_text("Pipeline running")
            # 3 stages x (2,160 faces found - 2,100 cropped): found but too small to score.
            expect(page.locator("#pipeline")).to_contain_text("too small to score 180")
            # Live: a green pulsing dot, the ranking "right now", each number labelled
            expect(page.locator("#live-dot")).to_have_class("dot on")
            expect(page.locator("#best-title")).to_have_text("Best stage right now")
            expect(page.locator("#best-detail")).to_contain_text("over the last 5 minutes")
            expect(page.locator(".ranking-box")).to_contain_text("steady score")
            expect(page.locator(".stage-card .stat.mood .label").first).to_have_text(
                "mood, last minute"
            )
            # Each chart has its summary in words, for screen readers
            for stage in PROFILES:
                chart = page.locator(f'.stage-card[data-stage="{stage}"] .stage-chart')
                assert chart.get_attribute("role") == "img"
                expect(chart).to_have_attribute(
                    "aria-label",
                    re.compile(rf"^{stage}, last 10 minutes: \d+ faces; mostly \w+ \d+%"),
                )
            # Screen readers hear a change of state, not each poll's new time: the
            # live region is left alone while the visible time moves on
            assert page.get_attribute("#live", "aria-live") is None
            expect(page.locator("#live-announce")).to_have_text("Live")
            page.evaluate(
                """() => { window.__announced = 0;
                  new MutationObserver((m) => { window.__announced += m.length; })
                    .observe(document.getElementById("live-announce"),
                             { childList: true, characterData: true, subtree: true }); }"""
            )
            for _ in range(2):
                before = page.inner_text("#live-text")
                expect(page.locator("#live-text")).not_to_have_text(before, timeout=5_000)
            assert page.evaluate("window.__announced") == 0
            page.evaluate("window.__sameDocument = true")

            # When: forest's crowd lights up and main's turns sour, for real, in the table
            writer.crowd(
                "forest",
                {Emotion.HAPPY: 20.0, Emotion.SURPRISED: 3.0},
                minutes=0.5,
                faces_per_frame=12,
                every_s=2,
            )
            writer.crowd(
                "main",
                {Emotion.ANGRY: 8.0, Emotion.DISGUSTED: 3.0, Emotion.SAD: 2.0},
                minutes=0.5,
                faces_per_frame=12,
                every_s=2,
            )

            # Then: the page follows without a reload
            expect(page.locator("#best-name")).to_have_text("forest", timeout=20_000)
            assert page.locator("#ranking li").first.get_attribute("data-stage") == "forest"
            assert page.evaluate("window.__sameDocument") is True
            expect(page.locator('.stage-card[data-stage="forest"] .badge.rank')).to_have_text("#1")

            shot = tmp_path / "dashboard.png"
            save_screenshot(page.screenshot(full_page=False), shot)

            # The artist's view: paste a setlist, see how each track landed
            now = datetime.now().astimezone()
            times = [(now - timedelta(minutes=m)).strftime("%H:%M") for m in (9, 6, 3)]
            page.click('a.tab[data-view="artists"]')
            page.fill("#sl-stage", "forest")
            page.fill("#sl-artist", "The Hypotheticals")
            # The set's date is its first track's: near midnight the set crosses into
            # the next day, which the parser follows (a time earlier than the last).
            page.fill("#sl-date", (now - timedelta(minutes=9)).strftime("%Y-%m-%d"))
            page.fill(
                "#sl-text",
                f"{times[0]} Slow Burner\n{times[1]} Mid Tempo\n"
                f"{times[2]} Big Single\n{now + timedelta(minutes=1):%H:%M} end",
            )
            page.click("#setlist-form button[type=submit]")
            expect(page.locator("#sl-message")).to_contain_text("Saved 3 tracks for forest")
            expect(page.locator("#report-table tbody tr")).to_have_count(3, timeout=10_000)
            expect(page.locator("#report-chart .main-svg").first).to_be_visible()
            rows = page.locator("#report-table tbody tr")
            assert rows.nth(2).get_attribute("data-verdict") == "above"
            assert json.loads(layout.setlists.read_text())["stages"]["forest"]["artist"] == (
                "The Hypotheticals"
            )
            save_screenshot(page.screenshot(full_page=False), tmp_path / "artist.png")

            assert errors == []
            assert all(r.startswith(url) for r in requests), "everything comes from the server"
            assert not any("/bucket/" in r or r.endswith(".jpg") for r in requests)
        finally:
            browser.close()


def save_screenshot(png: bytes, path: Path) -> None:
    """Save a screenshot palette-compressed, small enough to commit with the docs."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, format="PNG", optimize=True)
    assert path.stat().st_size < SCREENSHOT_LIMIT


def test_a_stored_setlist_loads_and_saves_back_unchanged_in_a_12_hour_locale(
    festival: tuple[str, DataLayout, CrowdWriter],
) -> None:
    """An artist whose browser shows the 12-hour clock loads the stored set, and saves
    it again (to fix a title, say): nothing moves. The page writes the times as the
    parser reads them (24-hour, seconds kept), and a title that starts with AM keeps it
    behind a dash instead of being read as the time's AM."""
    from zoneinfo import ZoneInfo

    import httpx
    from playwright.sync_api import expect, sync_playwright

    url, _, _ = festival
    zone = ZoneInfo("America/New_York")
    now = datetime.now(zone).replace(microsecond=0)
    first = (now - timedelta(minutes=9)).replace(second=30)
    starts = [first, first + timedelta(minutes=3), first + timedelta(minutes=6)]
    end = first + timedelta(minutes=10)
    text = (
        f"{starts[0]:%H:%M:%S} Slow Burner\n{starts[1]:%H:%M:%S} - AM Radio\n"
        f"{starts[2]:%H:%M:%S} Big Single\n{end:%H:%M:%S} end"
    )
    stored = httpx.put(
        f"{url}/api/stages/forest/setlist",
        json={
            "artist": "The Hypotheticals",
            "text": text,
            "timezone": "America/New_York",
            "date": f"{first:%Y-%m-%d}",
        },
    )
    assert stored.status_code == 200, stored.text
    before = stored.json()
    assert [t["title"] for t in before["tracks"]] == ["Slow Burner", "AM Radio", "Big Single"]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-US", timezone_id="America/New_York")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            # The page itself shows this locale's 12-hour clock.
            expect(page.locator("#live")).to_contain_text(
                re.compile(r"\d{1,2}:\d{2}:\d{2}[\s\u202f]?[AP]M"), timeout=15_000
            )
            # So do the charts' time axes: times only, no date running into the legend.
            tick = page.locator('.stage-card[data-stage="forest"] .xtick text').first
            expect(tick).to_have_text(re.compile(r"^\d{1,2}:\d{2} [AP]M$"), timeout=15_000)
            page.click('a.tab[data-view="artists"]')
            page.fill("#sl-stage", "forest")
            page.click("#sl-load")
            expect(page.locator("#sl-message")).to_contain_text("Loaded the stored setlist")
            assert page.input_value("#sl-text") == text
            assert page.input_value("#sl-date") == f"{first:%Y-%m-%d}"
            page.click("#setlist-form button[type=submit]")
            expect(page.locator("#sl-message")).to_contain_text("Saved 3 tracks for forest")
            after = httpx.get(f"{url}/api/stages/forest/setlist").json()
            assert after == before
            assert errors == []
        finally:
            browser.close()


@contextmanager
def chromium_page(**context: Any) -> Iterator[tuple[Page, list[str]]]:
    """A page in Chromium, and the errors it reports: uncaught exceptions and console
    errors (an invalid ``pattern`` attribute, a missing file)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**context).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            yield page, errors
        finally:
            browser.close()


def store_setlist(url: str, stage: str, titles: list[str]) -> None:
    """``titles`` as a set of 3-minute tracks that ended a minute ago."""
    import httpx

    now = datetime.now(UTC)
    first = now - timedelta(minutes=1 + 3 * len(titles))
    lines = [f"{first + timedelta(minutes=3 * i):%H:%M} {t}" for i, t in enumerate(titles)]
    lines.append(f"{now - timedelta(minutes=1):%H:%M} end")
    stored = httpx.put(
        f"{url}/api/stages/{stage}/setlist",
        json={"text": "\n".join(lines), "timezone": "UTC", "date": f"{first:%Y-%m-%d}"},
    )
    assert stored.status_code == 200, stored.text


def show_report(page: Page, stage: str) -> None:
    from playwright.sync_api import expect

    page.click('a.tab[data-view="artists"]')
    page.fill("#sl-stage", stage)
    page.dispatch_event("#sl-stage", "change")
    expect(page.locator("#report-table")).to_be_visible(timeout=10_000)
    expect(page.locator("#report-chart .xtick text").first).to_be_visible()


LINK = '<a href="https://evil.example/phish">x</a>'
STYLED = '<span style="font-size:60px;fill:red">BIG</span>'


def test_track_titles_with_markup_show_as_typed_on_the_artists_chart(
    festival: tuple[str, DataLayout, CrowdWriter],
) -> None:
    """plotly.js draws <a href> and <span style> in its labels: a title that holds
    them must not become a link or a huge red label."""
    from playwright.sync_api import expect

    url, _, _ = festival
    store_setlist(url, "forest", [LINK, STYLED, "Fish & Chips"])
    with chromium_page(viewport={"width": 1360, "height": 1000}) as (page, errors):
        page.goto(url)
        show_report(page, "forest")

        chart = page.locator("#report-chart")
        ticks = chart.locator(".xtick text").all_text_contents()
        assert ticks[0].startswith('1. <a href="https'), ticks
        assert ticks[1].startswith('2. <span style="f'), ticks
        assert ticks[2] == "3. Fish & Chips"
        assert chart.locator("svg a").count() == 0
        assert chart.locator('[style*="60px"]').count() == 0

        # The hover label of the first track's mood has the whole title, as text.
        box = chart.locator(".scatterlayer .point").first.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        hover = chart.locator(".hoverlayer")
        expect(hover).to_contain_text(f"1. {LINK}")
        assert hover.locator("a").count() == 0
        assert errors == []


def test_the_pages_fit_a_phone_with_long_track_titles(
    festival: tuple[str, DataLayout, CrowdWriter],
) -> None:
    """At 375 px nothing scrolls sideways: the artists' chart and table used to make
    the page 529 px wide (792 px with long titles)."""
    from playwright.sync_api import expect

    url, _, _ = festival
    store_setlist(
        url,
        "forest",
        [
            "A Very Long Track Title That Goes On And On, Far Past What A Phone Shows",
            "Supercalifragilisticexpialidocious-and-more-without-a-single-space-anywhere",
            "Big Single",
        ],
    )
    with chromium_page(viewport={"width": 375, "height": 800}) as (page, errors):
        page.goto(url)
        for stage in PROFILES:
            chart = page.locator(f'.stage-card[data-stage="{stage}"] .stage-chart .main-svg')
            expect(chart.first).to_be_visible(timeout=15_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        show_report(page, "forest")
        expect(page.locator("#report-table tbody tr")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # The chart fits its card; the table scrolls inside its own box.
        chart_box = page.locator("#report-chart .main-svg").first.bounding_box()
        report_box = page.locator("#report").bounding_box()
        assert chart_box is not None and report_box is not None
        assert chart_box["x"] + chart_box["width"] <= report_box["x"] + report_box["width"]
        assert errors == []


def contrast(foreground: tuple[int, ...], background: tuple[int, ...]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, ...]) -> float:
        def channel(c: int) -> float:
            s = c / 255
            return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_setlist_form_refuses_a_stage_name_with_a_space_itself(
    festival: tuple[str, DataLayout, CrowdWriter],
) -> None:
    """The stage input's pattern is valid under Chrome's v flag: "Main Stage" never
    reaches the server, and the console stays clean. Its button is readable."""
    from playwright.sync_api import expect

    url, _, _ = festival
    # Stored first: a report that is not there yet answers 404, which Chrome logs.
    store_setlist(url, "forest", ["Slow Burner"])
    with chromium_page() as (page, errors):
        puts: list[str] = []
        page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
        page.goto(url)
        page.click('a.tab[data-view="artists"]')
        page.fill("#sl-text", "21:00 Opening Jam\n21:03 Second Song\n21:06 end")

        page.fill("#sl-stage", "Main Stage")
        page.click("#setlist-form button[type=submit]")
        assert page.eval_on_selector("#sl-stage", "i => i.validity.patternMismatch") is True

        page.fill("#sl-stage", "forest")
        page.click("#setlist-form button[type=submit]")
        expect(page.locator("#sl-message")).to_contain_text("Saved 2 tracks for forest")
        assert puts == [f"{url}/api/stages/forest/setlist"]  # the first never left
        assert page.eval_on_selector("#sl-stage", "i => i.checkValidity()") is True

        # The primary button's text on every colour of its gradient: WCAG AA, 4.5:1.
        button = page.locator("#setlist-form button.primary")
        text = button.evaluate("b => getComputedStyle(b).color")
        gradient = button.evaluate("b => getComputedStyle(b).backgroundImage")
        rgb = re.compile(r"rgb\((\d+), (\d+), (\d+)\)")
        color = rgb.fullmatch(text)
        assert color is not None, text
        foreground = tuple(int(c) for c in color.groups())
        stops = [tuple(int(c) for c in m) for m in rgb.findall(gradient)]
        assert len(stops) == 2
        assert min(contrast(foreground, stop) for stop in stops) >= 4.5
        assert errors == []


@pytest.fixture
def stopped_festival(tmp_path: Path) -> Iterator[tuple[str, CrowdWriter]]:
    """A festival that stopped 3 minutes ago: its last faces still inside the ranking's
    5 minutes, its status file 3 minutes old."""
    layout = DataLayout(tmp_path / "festival")
    writer = CrowdWriter(layout)
    for stage, profile in PROFILES.items():
        writer.crowd(stage, profile, minutes=5, ago=timedelta(minutes=3))
    write_status(layout, ago=timedelta(minutes=3))
    try:
        with dashboard(layout) as url:
            yield url, writer
    finally:
        writer.table.close()


def test_a_stopped_festival_is_not_shown_as_live(
    stopped_festival: tuple[str, CrowdWriter],
) -> None:
    """Minutes after `up` stopped, the ranking still holds the last faces: the page
    says it is history, with the time of the last face, and why."""
    import httpx
    from playwright.sync_api import expect

    url, _ = stopped_festival
    seen = httpx.get(f"{url}/api/stages").json()["stages"]
    newest = max(datetime.fromisoformat(s["last_seen"]) for s in seen).astimezone(UTC)
    with chromium_page(locale="en-GB", timezone_id="UTC") as (page, errors):
        page.goto(url)
        expect(page.locator("#ranking li")).to_have_count(3, timeout=15_000)
        expect(page.locator("#best-title")).to_have_text(
            f"Best stage as of {newest:%H:%M} (stopped)"
        )
        expect(page.locator("#live-text")).to_have_text(f"Stopped · last face {newest:%H:%M:%S}")
        expect(page.locator("#pipeline")).to_contain_text(
            "Pipeline not running: the pipeline stopped (status not updated)"
        )
        dot = page.locator("#live-dot")
        expect(dot).to_have_class("dot idle")
        assert dot.evaluate("d => getComputedStyle(d).animationName") == "none"
        assert dot.evaluate("d => getComputedStyle(d).backgroundColor") == "rgb(143, 163, 200)"
        expect(page.locator("#live-announce")).to_have_text("Not live: the pipeline is not running")
        # The cards' last minute is empty, and says that it is the last minute.
        mood = page.locator('.stage-card[data-stage="main"] .stat.mood')
        expect(mood.locator(".value")).to_have_text("\N{EN DASH}")
        expect(mood).to_contain_text("mood, last minute")
        assert errors == []
