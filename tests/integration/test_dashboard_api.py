"""The dashboard's JSON API over a real SQLite results table filled with put_if_new."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from datapalooza import constants
from datapalooza.adapters.local.json_setlist_store import MAX_STORE_BYTES, JsonSetlistStore
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.dashboard import DashboardSettings, create_app, create_app_from_env
from datapalooza.dashboard.security import CONTENT_SECURITY_POLICY
from datapalooza.dashboard.setlists import MAX_TITLE_CHARS, MAX_TRACKS, TimeContext, build_setlist
from datapalooza.dashboard.settings import DashboardSettingsError
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion, EmotionScores
from datapalooza.domain.keys import MAX_STAGES, CropKey
from datapalooza.domain.setlists import SetlistStoreFull
from datapalooza.festival.layout import DataLayout
from datapalooza.ports import ScoredFace

NOW = datetime(2025, 7, 19, 21, 30, 0, tzinfo=UTC)
HAPPY = EmotionScores({Emotion.HAPPY: 90.0, Emotion.CALM: 10.0})
SAD = EmotionScores({Emotion.SAD: 80.0, Emotion.CALM: 20.0})
CALM = EmotionScores({Emotion.CALM: 95.0, Emotion.SURPRISED: 5.0})


class Festival:
    """A data dir whose results table is written the way the tracker writes it."""

    def __init__(self, root: Path) -> None:
        self.layout = DataLayout(root)
        self.table = SqliteResultsTable(self.layout.results_db)
        self._frame = 0

    def faces(
        self,
        stage: str,
        scores: EmotionScores,
        *,
        count: int,
        at: datetime,
        every: timedelta = timedelta(seconds=5),
    ) -> None:
        """``count`` faces, one frame each, the newest at ``at``."""
        for i in range(count):
            self._frame += 1
            moment = at - i * every
            key = str(CropKey(stage, moment, f"f{self._frame:06d}", 0))
            face = ScoredFace(stage, moment, key, "cam-1", scores)
            assert self.table.put_if_new(face, ttl_epoch_s=int(NOW.timestamp()) + 86400)

    def count(self, stage: str, start: datetime, end: datetime) -> int:
        with sqlite3.connect(self.layout.results_db) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM faces WHERE stage = ? AND captured_at_ms >= ? "
                "AND captured_at_ms < ?",
                [stage, int(start.timestamp() * 1000), int(end.timestamp() * 1000)],
            ).fetchone()
        return int(row[0])


@pytest.fixture
def festival(tmp_path: Path) -> Festival:
    return Festival(tmp_path / "data")


@pytest.fixture
def client(festival: Festival) -> Iterator[TestClient]:
    app = create_app(DashboardSettings(data_dir=festival.layout.root), clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_stages_report_current_mood_and_faces_in_the_last_minute(
    festival: Festival, client: TestClient
) -> None:
    festival.faces("main", HAPPY, count=30, at=NOW - timedelta(seconds=1))  # 2.5 min
    festival.faces("forest", SAD, count=6, at=NOW - timedelta(seconds=1))  # 30 s
    festival.faces("tent", CALM, count=5, at=NOW - timedelta(minutes=10))  # quiet now

    body = client.get("/api/stages").json()

    assert body["caveat"] == EXPRESSION_CAVEAT
    stages = {s["stage"]: s for s in body["stages"]}
    assert list(stages) == ["forest", "main", "tent"]
    main = stages["main"]
    assert main["faces_last_minute"] == festival.count("main", NOW - timedelta(minutes=1), NOW)
    assert main["faces_last_minute"] == 12
    assert main["current"]["dominant"] == "HAPPY"
    assert main["current"]["mood"] == pytest.approx(HAPPY.valence)
    assert main["current"]["mix"] == {"HAPPY": 90.0, "CALM": 10.0}
    assert stages["forest"]["current"]["mood"] < 0
    tent = stages["tent"]
    assert tent["faces_last_minute"] == 0 and tent["current"]["mood"] is None
    assert tent["last_seen"] == "2025-07-19T21:20:00Z"


class CountingFestival(Festival):
    """A festival with ``stages`` busy stages, and a dashboard whose SQL is counted."""

    def __init__(self, root: Path, *, stages: int, window_seconds: int = 60) -> None:
        super().__init__(root)
        for i in range(stages):
            self.faces(
                f"stage-{i}",
                HAPPY,
                count=3,
                at=NOW - timedelta(seconds=1),
                every=timedelta(seconds=40),
            )
        self.app = create_app(
            DashboardSettings(data_dir=self.layout.root, window_seconds=window_seconds),
            clock=lambda: NOW,
        )

    def get(self, url: str) -> tuple[int, Any]:
        """``url``'s JSON answer, and how many SQL statements the dashboard ran for it."""
        statements: list[str] = []
        # The reader's own connection: only it sees the dashboard's statements.
        connection = self.app.state.dashboard.results._conn
        with TestClient(self.app, base_url="http://127.0.0.1") as test_client:
            # A stage known only from its setlist has no faces and still gets a row.
            test_client.put("/api/stages/quiet/setlist", json={"text": "21:00 A\n21:05 end"})
            connection.set_trace_callback(statements.append)
            try:
                body = test_client.get(url).json()
            finally:
                connection.set_trace_callback(None)
        return len(statements), body


def statements_for_one_and_twelve_stages(
    tmp_path: Path, url: str, *, window_seconds: int = 60
) -> tuple[int, int, Any]:
    """How many SQL statements ``url`` costs with one busy stage and with twelve, and
    the answer with twelve."""
    few, _ = CountingFestival(tmp_path / "one", stages=1, window_seconds=window_seconds).get(url)
    many, body = CountingFestival(
        tmp_path / "twelve", stages=12, window_seconds=window_seconds
    ).get(url)
    return few, many, body


@pytest.mark.parametrize("window_seconds", [60, 300])
def test_stages_cost_the_same_few_queries_however_many_stages_there_are(
    tmp_path: Path, window_seconds: int
) -> None:
    """/api/stages reads every stage at once: its SQL statements do not grow with the
    stages (one or two queries per stage made a big festival's page slow)."""
    few, many, body = statements_for_one_and_twelve_stages(
        tmp_path, "/api/stages", window_seconds=window_seconds
    )

    assert many == few <= (4 if window_seconds == 60 else 6)
    summaries = body["stages"]
    assert len(summaries) == 13
    busy = [s for s in summaries if s["stage"] != "quiet"]
    expected_in_window = 3 if window_seconds >= 120 else 2
    assert all(s["current"]["faces"] == expected_in_window for s in busy)
    assert all(s["faces_last_minute"] == 2 for s in busy)
    assert all(s["current"]["dominant"] == "HAPPY" for s in busy)
    quiet = next(s for s in summaries if s["stage"] == "quiet")
    assert quiet["current"] == {"faces": 0, "mood": None, "dominant": None, "mix": {}}
    assert quiet["has_setlist"] is True and quiet["last_seen"] is None


def test_the_best_stage_costs_the_same_few_queries_however_many_stages_there_are(
    tmp_path: Path,
) -> None:
    few, many, body = statements_for_one_and_twelve_stages(tmp_path, "/api/best-stage")

    # The ranking's buckets at once; the first read also asks whether the per-second
    # sums are built, and the part-second at the window's end is read from the faces.
    assert many == few <= 3
    # Three faces each are too few to rank: every stage, the quiet one too, warms up.
    assert body["ranking"] == []
    assert sorted(s["stage"] for s in body["warming_up"]) == sorted(
        [f"stage-{i}" for i in range(12)] + ["quiet"]
    )
    assert {s["faces"] for s in body["warming_up"] if s["stage"] != "quiet"} == {3}


def test_the_timeline_agrees_with_the_database(festival: Festival, client: TestClient) -> None:
    festival.faces(
        "main", HAPPY, count=40, at=NOW - timedelta(seconds=2), every=timedelta(seconds=7)
    )

    body = client.get("/api/stages/main/timeline", params={"minutes": 10}).json()

    assert body["bucket_seconds"] == 10 and body["minutes"] == 10
    points = body["points"]
    assert len(points) == 60  # ten minutes: 59 whole buckets and the one filling up
    first = datetime.fromisoformat(points[0]["start"])
    assert sum(p["faces"] for p in points) == festival.count("main", first, NOW + timedelta(1))
    assert points[-1]["complete"] is False and all(p["complete"] for p in points[:-1])
    busy = [p for p in points if p["faces"]]
    assert all(p["mix"]["HAPPY"] == 90.0 for p in busy)
    assert all(p["mood"] is None and p["mix"] == {} for p in points if not p["faces"])


def test_every_stages_timeline_at_once_is_each_stages_timeline(
    festival: Festival, client: TestClient
) -> None:
    festival.faces(
        "main", HAPPY, count=40, at=NOW - timedelta(seconds=2), every=timedelta(seconds=7)
    )
    festival.faces("forest", CALM, count=9, at=NOW - timedelta(seconds=5))

    body = client.get("/api/timelines", params={"minutes": 10}).json()

    assert (body["minutes"], body["bucket_seconds"]) == (10, 10)
    assert "not feelings" in body["caveat"]
    by_stage = {t["stage"]: t for t in body["timelines"]}
    assert sorted(by_stage) == ["forest", "main"]
    for stage, timeline in by_stage.items():
        alone = client.get(f"/api/stages/{stage}/timeline", params={"minutes": 10}).json()
        assert timeline == alone


def test_every_stages_timeline_costs_the_same_few_queries_however_many_stages(
    tmp_path: Path,
) -> None:
    few, many, body = statements_for_one_and_twelve_stages(tmp_path, "/api/timelines")

    # The stage names, then every timeline at once (and whether the per-second sums
    # are built, asked once by each reader).
    assert many == few <= 3
    assert len(body["timelines"]) == 13


def test_best_stage_ranks_the_happiest_crowd_with_enough_faces(
    festival: Festival, client: TestClient
) -> None:
    festival.faces("main", CALM, count=40, at=NOW - timedelta(seconds=1))
    festival.faces("forest", HAPPY, count=40, at=NOW - timedelta(seconds=1))
    festival.faces("tiny", HAPPY, count=3, at=NOW - timedelta(seconds=1))

    body = client.get("/api/best-stage").json()

    assert body["best"] == "forest"
    assert [r["stage"] for r in body["ranking"]] == ["forest", "main"]
    assert [r["rank"] for r in body["ranking"]] == [1, 2]
    assert body["warming_up"] == [{"stage": "tiny", "faces": 3, "needed": 10}]
    assert "half-life" in body["method"] and body["caveat"] == EXPRESSION_CAVEAT


def test_best_stage_with_no_faces_at_all(client: TestClient) -> None:
    body = client.get("/api/best-stage").json()
    assert body["best"] is None and body["ranking"] == [] and body["warming_up"] == []


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/stages/Main/timeline", 400, "invalid_stage"),
        ("/api/stages/-x/setlist-report", 400, "invalid_stage"),
        ("/api/stages/nowhere/timeline", 404, "unknown_stage"),
        ("/api/stages/main/timeline?minutes=0", 422, "invalid_request"),
        ("/api/stages/main/timeline?minutes=1441", 422, "invalid_request"),
        ("/api/stages/main/timeline?minutes=ten", 422, "invalid_request"),
        ("/api/timelines?minutes=0", 422, "invalid_request"),
        ("/api/timelines?minutes=1441", 422, "invalid_request"),
        ("/api/stages/main/setlist-report", 404, "no_setlist"),
        ("/api/stages/main/setlist", 404, "no_setlist"),
        ("/api/nothing-here", 404, "not_found"),
    ],
)
def test_bad_requests_get_a_json_error(
    festival: Festival, client: TestClient, url: str, status: int, code: str
) -> None:
    festival.faces("main", HAPPY, count=1, at=NOW)
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code and body["message"]


def test_a_setlist_is_stored_and_its_report_shows_how_tracks_landed(
    festival: Festival, client: TestClient
) -> None:
    # Given a set 21:00-21:20 UTC: a calm opener, a single the crowd smiled at, a sad ballad
    start = datetime(2025, 7, 19, 21, 0, tzinfo=UTC)
    festival.faces("main", CALM, count=20, at=start + timedelta(minutes=5, seconds=50))
    festival.faces("main", HAPPY, count=20, at=start + timedelta(minutes=11, seconds=50))
    festival.faces("main", SAD, count=20, at=start + timedelta(minutes=17, seconds=50))
    festival.faces("main", HAPPY, count=3, at=start + timedelta(minutes=19, seconds=50))
    setlist = {
        "artist": "The Hypotheticals",
        "date": "2025-07-19",
        "timezone": "UTC",
        "text": "21:00 Opener\n21:06 The Single\n21:12 Ballad\n21:18 Short One\n21:20 end",
    }

    saved = client.put("/api/stages/main/setlist", json=setlist)
    assert saved.status_code == 200, saved.text
    assert [t["title"] for t in saved.json()["tracks"]] == [
        "Opener",
        "The Single",
        "Ballad",
        "Short One",
    ]
    stored = json.loads(festival.layout.setlists.read_text())
    assert stored["stages"]["main"]["artist"] == "The Hypotheticals"

    report = client.get("/api/stages/main/setlist-report").json()

    assert report["faces"] == 63 and report["caveat"] == EXPRESSION_CAVEAT
    tracks = {t["title"]: t for t in report["tracks"]}
    assert {k: v["faces"] for k, v in tracks.items()} == {
        "Opener": 20,
        "The Single": 20,
        "Ballad": 20,
        "Short One": 3,
    }
    assert tracks["The Single"]["verdict"] == "above"
    assert tracks["The Single"]["dominant"] == "HAPPY"
    assert tracks["Ballad"]["verdict"] == "below"
    assert tracks["Ballad"]["dominant"] == "SAD"
    assert tracks["Opener"]["verdict"] in {"average", "below", "above"}
    assert tracks["Short One"]["verdict"] == "too_few_faces"
    set_mood = report["mood"]
    assert tracks["The Single"]["vs_set"] == pytest.approx(HAPPY.valence - set_mood, abs=0.01)
    assert sum(p["faces"] for p in report["timeline"]) == 63
    # the stage now counts as known and says it has a setlist
    main = next(s for s in client.get("/api/stages").json()["stages"] if s["stage"] == "main")
    assert main["has_setlist"] is True


def test_tracks_that_have_not_started_are_upcoming(festival: Festival, client: TestClient) -> None:
    body = {
        "tracks": [{"title": "Now", "start": "21:25"}, {"title": "Later", "start": "21:40"}],
        "date": "2025-07-19",
        "timezone": "UTC",
        "end": "21:50",
    }
    assert client.post("/api/stages/late/setlist", json=body).status_code == 200
    report = client.get("/api/stages/late/setlist-report").json()
    assert [t["verdict"] for t in report["tracks"]] == ["too_few_faces", "upcoming"]
    assert [t["played"] for t in report["tracks"]] == [True, False]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "21:10 A\n21:05 B"}, "not after the track before it"),
        ({"text": "whenever Song"}, "line 1"),
        ({"tracks": []}, "at least one track"),
        ({"text": "21:00 A", "tracks": [{"title": "B", "start": "21:00"}]}, "not both"),
        ({"text": "21:00 A", "end": "21:10"}, "last 'HH:MM end' line"),
        ({"text": "21:00 A", "timezone": "Atlantis/Capital"}, "unknown time zone"),
        ({"text": "21:00 A", "date": "tomorrow"}, "date/timezone"),
    ],
)
def test_bad_setlists_get_400_and_store_nothing(
    festival: Festival, client: TestClient, body: dict[str, object], message: str
) -> None:
    response = client.put("/api/stages/main/setlist", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_setlist"
    assert message in response.json()["message"]
    assert not festival.layout.setlists.exists()


def test_setlist_bodies_must_be_json_objects_of_bounded_size(client: TestClient) -> None:
    # text/plain is what a cross-site form can send without a preflight: refused
    plain = client.put(
        "/api/stages/main/setlist",
        content=b'{"text": "21:00 A"}',
        headers={"content-type": "text/plain"},
    )
    assert plain.status_code == 422
    unknown_field = client.put("/api/stages/main/setlist", json={"text": "21:00 A", "x": 1})
    assert unknown_field.status_code == 422 and "x" in unknown_field.json()["message"]
    huge = client.put(
        "/api/stages/main/setlist",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit is enforced as the body arrives
        yield b"{"
        for _ in range(70):
            yield b" " * 1024
        yield b"}"

    streamed = client.put(
        "/api/stages/main/setlist", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "payload_too_large"


def test_a_setlist_can_be_replaced_and_deleted(client: TestClient) -> None:
    first = {"text": "21:00 A\n21:05 end", "date": "2025-07-19", "timezone": "UTC"}
    second = {"text": "22:00 B\n22:05 C\n22:10 end", "date": "2025-07-19", "timezone": "UTC"}
    assert client.put("/api/stages/main/setlist", json=first).status_code == 200
    assert client.put("/api/stages/main/setlist", json=second).status_code == 200
    assert [t["title"] for t in client.get("/api/stages/main/setlist").json()["tracks"]] == [
        "B",
        "C",
    ]
    assert client.delete("/api/stages/main/setlist").status_code == 204
    assert client.delete("/api/stages/main/setlist").status_code == 404
    assert client.get("/api/stages/main/setlist").status_code == 404


def test_an_unreadable_setlist_file_is_a_500_not_an_empty_festival(
    festival: Festival, client: TestClient
) -> None:
    festival.faces("main", HAPPY, count=3, at=NOW)
    festival.layout.setlists.write_text("{half a file")

    for request in (
        client.get("/api/stages"),
        client.get("/api/best-stage"),
        client.get("/api/stages/main/setlist"),
        client.delete("/api/stages/main/setlist"),
    ):
        assert request.status_code == 500
        assert request.json()["error"] == "setlists_unreadable"
        # The file is named, not where it lives.
        assert str(festival.layout.root) not in request.json()["message"]
    put = client.put(
        "/api/stages/main/setlist", json={"tracks": [{"title": "A", "start": "20:00"}]}
    )
    assert put.status_code == 500 and put.json()["error"] == "setlists_unreadable"
    assert festival.layout.setlists.read_text() == "{half a file"  # nothing overwritten
    assert client.get("/api/status").status_code == 200


def test_setlists_are_stored_for_a_festivals_stages_at_most(
    festival: Festival, client: TestClient
) -> None:
    """Anyone who reaches the page can store setlists: a flood of stages is refused
    before the file grows past what the store reads back, and the others keep working."""
    longest = {"tracks": [{"title": "t" * MAX_TITLE_CHARS, "start": "20:00"}]}
    for index in range(MAX_STAGES):
        assert client.put(f"/api/stages/s{index}/setlist", json=longest).status_code == 200
    refused = client.put("/api/stages/one-too-many/setlist", json=longest)
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "setlists_full",
        "message": f"setlists are kept for at most {MAX_STAGES} stages; remove one first",
    }
    # Replacing a stored stage's setlist, reading and removing still work.
    assert client.put("/api/stages/s0/setlist", json=longest).status_code == 200
    assert client.get("/api/stages").status_code == 200
    assert client.delete("/api/stages/s1/setlist").status_code == 204
    assert client.put("/api/stages/one-too-many/setlist", json=longest).status_code == 200


def test_the_setlist_store_refuses_a_file_it_could_not_read_back(tmp_path) -> None:
    # Titles at their length in characters that JSON writes as 12 bytes each (\\ud83c...):
    # the longest setlists MAX_STAGES stages may hold would not fit in MAX_STORE_BYTES.
    entries = [
        ("\U0001f3b8" * MAX_TITLE_CHARS, f"{12 + i // 60:02d}:{i % 60:02d}")
        for i in range(MAX_TRACKS)
    ]
    store = JsonSetlistStore(tmp_path / "setlists.json")
    context = TimeContext(date(2025, 7, 19), ZoneInfo("UTC"))
    written = 0
    with pytest.raises(SetlistStoreFull, match="would take over"):
        for index in range(MAX_STAGES):
            store.save(build_setlist(f"s{index}", entries, context=context))
            written += 1
    assert 0 < written < MAX_STAGES
    assert len(store.all()) == written  # the file still reads back
    assert (tmp_path / "setlists.json").stat().st_size <= MAX_STORE_BYTES


def test_status_shows_live_counters_when_up_is_running(
    festival: Festival, client: TestClient
) -> None:
    festival.layout.status.write_text(
        json.dumps(
            {
                "started_at": (NOW - timedelta(minutes=3)).isoformat(),
                "updated_at": (NOW - timedelta(seconds=1)).isoformat(),
                "stages": {
                    "main": {
                        "path": "edge",
                        "source": "synthetic",
                        "frames": 180,
                        "faces": 900,
                        "crops": 850,
                        "scored": 800,
                        "errors": 0,
                        "fps": 1.0,
                    }
                },
                "tracker": {"pending": 50, "scored": 800, "no_face": 3, "failed": 0},
            }
        )
    )
    status = client.get("/api/status").json()
    assert status["running"] is True and status["stages"]["main"]["frames"] == 180
    assert status["tracker"]["pending"] == 50
    # a stage the pipeline runs shows up before its first face is scored
    stages = client.get("/api/stages").json()["stages"]
    assert [(s["stage"], s["counters"]["path"]) for s in stages] == [("main", "edge")]


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (None, "not running"),
        ("{not json", "unreadable"),
        ('["a list"]', "not a JSON object"),
        ('{"updated_at": "2025-07-19T21:00:00+00:00", "stages": {}}', "stopped"),
        (
            '{"updated_at": "2025-07-19T21:29:59+00:00", "stages": {"main": {"frames": "many"}}}',
            "bad field stages.main.frames",
        ),
    ],
)
def test_status_without_a_fresh_valid_file_says_why(
    festival: Festival, client: TestClient, content: str | None, note: str
) -> None:
    if content is not None:
        festival.layout.status.parent.mkdir(parents=True, exist_ok=True)
        festival.layout.status.write_text(content)
    status = client.get("/api/status").json()
    assert status["running"] is False and note in status["note"]
    assert client.get("/api/stages").status_code == 200  # the dashboard never needs it


def test_the_page_and_plotly_are_served_locally_and_crops_are_not(
    festival: Festival, client: TestClient
) -> None:
    crop = festival.layout.bucket / "faces" / "main" / "x.jpg"
    crop.parent.mkdir(parents=True)
    crop.write_bytes(b"\xff\xd8 not shown")
    page = client.get("/")
    assert page.status_code == 200 and EXPRESSION_CAVEAT in page.text
    script = client.get("/vendor/plotly.min.js")
    assert script.status_code == 200 and b"plotly.js" in script.content[:2000]
    assert client.get("/static/dashboard.js").status_code == 200
    for path in (
        "/bucket/faces/main/x.jpg",
        "/faces/main/x.jpg",
        "/static/../bucket/faces/main/x.jpg",
    ):
        assert client.get(path).status_code == 404


def test_openapi_describes_the_api_with_response_schemas(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/stages",
        "/api/stages/{stage}/timeline",
        "/api/timelines",
        "/api/best-stage",
        "/api/stages/{stage}/setlist-report",
        "/api/status",
    ):
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].startswith("#/components/schemas/")
    minutes = next(
        p
        for p in paths["/api/stages/{stage}/timeline"]["get"]["parameters"]
        if p["name"] == "minutes"
    )
    assert minutes["schema"]["minimum"] == 1 and minutes["schema"]["maximum"] == 1440
    assert "SetlistIn" in spec["components"]["schemas"]
    # the interactive docs pages would load JavaScript from a CDN: they are off
    assert client.get("/docs").status_code == 404


def test_requests_naming_another_host_are_refused_on_loopback(client: TestClient) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example
    assert client.get("/api/stages", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/stages", headers={"host": "localhost:8000"}).status_code == 200


def test_a_dashboard_bound_beyond_loopback_still_answers_only_to_its_own_names(
    festival: Festival,
) -> None:
    import socket

    import psutil

    settings = DashboardSettings(
        data_dir=festival.layout.root, host="0.0.0.0", allowed_hosts=("stage-screens.lan",)
    )
    with TestClient(create_app(settings, clock=lambda: NOW)) as lan:

        def status(host: str) -> int:
            return lan.get("/api/stages", headers={"host": host}).status_code

        assert status("rebind.evil.example") == 400
        assert status("stage-screens.lan:8000") == 200  # --allowed-host
        assert status(f"{socket.gethostname()}:8000") == 200
        for addresses in psutil.net_if_addrs().values():
            for address in addresses:
                if address.family == socket.AF_INET:
                    assert status(f"{address.address}:8000") == 200
        assert status("[::1]:8000") == 200


@pytest.mark.parametrize("host", ["*.example", "evil.example:80", "a..b", "x" * 254])
def test_an_allowed_host_must_be_a_name_or_an_address(festival: Festival, host: str) -> None:
    with pytest.raises(DashboardSettingsError, match="allowed hosts"):
        DashboardSettings(data_dir=festival.layout.root, host="0.0.0.0", allowed_hosts=(host,))


@pytest.mark.parametrize("path", ["/", "/api/stages", "/static/dashboard.css", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    refused = client.get(path, headers={"host": "evil.example"})
    assert refused.status_code == 400 and refused.headers["x-frame-options"] == "DENY"


def test_the_env_factory_reads_the_data_dir(
    festival: Festival, monkeypatch: pytest.MonkeyPatch
) -> None:
    festival.faces("main", HAPPY, count=2, at=datetime.now(UTC))
    monkeypatch.setenv(constants.ENV_DATA_DIR, str(festival.layout.root))
    with TestClient(create_app_from_env(), base_url="http://127.0.0.1") as env_client:
        assert [s["stage"] for s in env_client.get("/api/stages").json()["stages"]] == ["main"]


def test_the_dashboard_never_writes_faces(festival: Festival, client: TestClient) -> None:
    festival.faces("main", HAPPY, count=5, at=NOW)
    before = festival.count("main", NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    for url in ("/api/stages", "/api/best-stage", "/api/stages/main/timeline"):
        client.get(url)
    reader = client.app.state.dashboard.results  # type: ignore[attr-defined]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._conn.execute("DELETE FROM faces")
    assert festival.count("main", NOW - timedelta(hours=1), NOW + timedelta(hours=1)) == before
