"""Faults of ``datapalooza up``: SIGKILL of each of its processes mid-run, then a
restart. Nothing is left running, nothing is scored twice, nothing is lost."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.festival.layout import DataLayout
from datapalooza.system.lifeline import GRACE_S, POLL_S
from tests.conftest import free_port
from tests.e2e.test_festival_up import read_status, up, wait_for
from tests.helpers.processes import run_datapalooza

# Serial: each runs the whole festival and times how soon its processes stop
# (CHILDREN_EXIT_S, up's own stop before its --duration) against an idle machine.
pytestmark = [pytest.mark.slow, pytest.mark.serial]
CHILDREN_EXIT_S = 3.0
"""A child notices its parent's death within POLL_S and stops cleanly well within this."""


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their workers...), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its new parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def gone_within(pids: set[int], seconds: float) -> float:
    start = time.monotonic()
    wait_for(lambda: not any(running(p) for p in pids), seconds, f"still running: {pids}")
    return time.monotonic() - start


def up_args(layout: DataLayout, port: int, *extra: str) -> list[str]:
    return [
        "--stages", "1", "--interval", "0.3", "--endpoint-workers", "2",
        "--port", str(port), "--data-dir", str(layout.root), *extra,
    ]  # fmt: skip


def children_of(layout: DataLayout) -> dict[str, int]:
    try:
        return json.loads(layout.pid_file.read_text()).get("children", {})
    except (OSError, ValueError):
        return {}


def scored(layout: DataLayout) -> int:
    return int(read_status(layout).get("tracker", {}).get("scored", 0))


def start_and_wait_for_scores(layout: DataLayout, port: int, at_least: int):
    process = up(*up_args(layout, port))
    wait_for(lambda: len(children_of(layout)) == 2, 120, "up did not start its servers")
    wait_for(lambda: scored(layout) > at_least, 120, "nothing scored")
    # The endpoint's two workers, the dashboard and the endpoint itself (at least).
    wait_for(lambda: len(descendants(process.pid)) >= 4, 30, "the endpoint's workers")
    return process


def test_kill_9_of_up_stops_its_servers_and_the_next_up_says_what_it_found(tmp_path):
    layout, port = DataLayout(tmp_path / "data"), free_port()
    first = start_and_wait_for_scores(layout, port, 0)
    family = descendants(first.pid)
    try:
        # Meanwhile a second `up` on the same data directory names the first.
        refused = run_datapalooza("up", *up_args(layout, free_port()), timeout=60)
        assert refused.returncode == 2
        assert f"a previous `datapalooza up` (pid {first.pid}) is still running" in (refused.stderr)
        assert "Traceback" not in refused.stderr

        first.kill()
        first.wait(timeout=10)
        took = gone_within(family, CHILDREN_EXIT_S)
        print(f"children of a SIGKILLed up stopped {took:.1f}s after it")

        again = run_datapalooza("up", *up_args(layout, port, "--duration", "2"), timeout=180)
        assert again.returncode == 0, again.stderr
        assert f"a previous `datapalooza up` (pid {first.pid}) did not stop cleanly" in (
            again.stderr
        )
        assert not layout.pid_file.read_text()  # a clean stop leaves no pid behind
    finally:
        for pid in descendants(first.pid) | family:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_of_each_process_in_turn_loses_nothing_and_counts_nothing_twice(tmp_path):
    layout, port = DataLayout(tmp_path / "data"), free_port()
    leftovers: set[int] = set()
    try:
        for victim in ("endpoint", "dashboard", "up"):
            process = start_and_wait_for_scores(layout, port, scored(layout))
            family = descendants(process.pid)
            leftovers |= family
            target = process.pid if victim == "up" else children_of(layout)[victim]
            os.kill(target, signal.SIGKILL)
            process.wait(timeout=60)  # `up` notices a dead server and stops (status 2)
            assert process.returncode == (-signal.SIGKILL if victim == "up" else 2), victim
            if victim != "up":
                assert "stopped unexpectedly" in process.stderr.read()
            gone_within(family, CHILDREN_EXIT_S + GRACE_S + POLL_S)

        final = up(*up_args(layout, port, "--duration", "2"))
        _, err = final.communicate(timeout=180)
        assert final.returncode == 0, err
        leftovers |= descendants(final.pid)
    finally:
        for pid in leftovers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)

    keys = set(SqliteFaceStore(layout.bucket).keys())
    assert keys
    with sqlite3.connect(layout.notifications_db) as conn:
        states = dict(conn.execute("SELECT key, state FROM notifications").fetchall())
    with sqlite3.connect(layout.results_db) as conn:
        rows = [r[0] for r in conn.execute("SELECT face_key FROM faces").fetchall()]
        analysed = conn.execute(
            "SELECT COALESCE(SUM(value), 0) FROM metric_points WHERE metric = 'FacesAnalyzed'"
        ).fetchone()[0]
        ledger = dict(
            conn.execute("SELECT status, COUNT(*) FROM idempotency GROUP BY status").fetchall()
        )
    # Nothing lost: every stored crop was delivered and finished with an outcome.
    assert {k: states.get(k) for k in keys} == dict.fromkeys(keys, "done")
    assert ledger == {"COMPLETED": len(keys)}
    # Nothing twice: one row per face, and the metric counts each face once.
    assert len(rows) == len(set(rows)) and set(rows) <= keys
    assert analysed == len(rows)
    # Nothing left running.
    assert not [pid for pid in leftovers if running(pid)]


def test_a_full_data_directory_stops_up_with_what_to_do_and_loses_nothing(tmp_path):
    """Simulated with a file size limit (RLIMIT_FSIZE) on `up` and its children: the
    databases stop growing as on a full disk. Before, `up` retried forever, ran past
    its --duration and ignored the problem."""
    layout = DataLayout(tmp_path / "data")
    limit = 300 * 1024

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    args = ["--no-dashboard", "--stages", "1", "--interval", "0.2", "--data-dir", str(layout.root)]
    started = time.monotonic()
    full = run_datapalooza("up", *args, "--duration", "60", preexec_fn=small_files)
    took = time.monotonic() - started
    last = full.stderr.strip().splitlines()[-1]
    assert full.returncode == 2, full.stderr[-2000:]
    assert last.startswith(f"datapalooza: error: the data directory {layout.root} is full")
    assert "free some space or choose another --data-dir" in last
    assert took < 60, took  # it stopped on its own, before its --duration
    print(f"a full data directory stopped up after {took:.0f}s")

    again = run_datapalooza("up", *args, "--duration", "2", timeout=180)
    assert again.returncode == 0, again.stderr[-2000:]
    keys = set(SqliteFaceStore(layout.bucket).keys())
    with sqlite3.connect(layout.notifications_db) as conn:
        states = dict(conn.execute("SELECT key, state FROM notifications").fetchall())
    assert keys and {k: states.get(k) for k in keys} == dict.fromkeys(keys, "done")
