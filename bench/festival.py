"""How many cameras `datapalooza up` sustains on this machine, and how fresh the scores are.

For each camera count N (1 frame/s each, 1280x720 synthetic crowd frames, cloud path),
runs `datapalooza up --stages N` for a fixed time and measures side by side:

- achieved frames/s per camera (sustained: >= 0.95 of the 1 fps asked for),
- the tracker's backlog at the end of capture (sustained: under 2 s of crops),
- latency from frame capture to the face's score being in the results database the
  API reads (median and p90), seen by polling the database every 0.2 s.

Target: >= 10 cameras at 1 fps with 1280x720 frames on 2 cores, median latency < 2 s.

Usage: python bench/festival.py [--cameras 4,8,10,12] [--seconds 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable  # noqa: E402
from datapalooza.festival.layout import DataLayout  # noqa: E402

WARMUP_S = 8.0


def run(cameras: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        layout = DataLayout(Path(tmp))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "datapalooza",
                "up",
                "--no-dashboard",
                "--stages",
                str(cameras),
                "--duration",
                str(seconds),
                "--data-dir",
                tmp,
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        seen: dict[str, float] = {}
        latencies: list[float] = []
        backlog = 0
        status: dict = {}
        results = None
        started = time.monotonic()
        while process.poll() is None:
            time.sleep(0.2)
            if results is None and layout.results_db.exists():
                results = SqliteResultsTable(layout.results_db, read_only=True)
            if results is None:
                continue
            now = datetime.now(UTC)
            for face in results.recent_faces(now=now, minutes=1, limit=5000):
                if face.face_key not in seen:
                    seen[face.face_key] = now.timestamp()
                    if time.monotonic() - started > WARMUP_S:
                        latencies.append(now.timestamp() - face.captured_at.timestamp())
            try:
                status = json.loads(layout.status.read_text())
            except (OSError, ValueError):
                continue
            stages = status.get("stages", {})
            if stages and max(s["frames"] for s in stages.values()) < seconds - 1:
                backlog = status.get("tracker", {}).get("pending", 0)
        if results is not None:
            results.close()
        stages = status.get("stages", {})
        fps = [s["frames"] / seconds for s in stages.values()] or [0.0]
        crops_per_s = (
            status.get("tracker", {}).get("scored", 0) + status.get("tracker", {}).get("no_face", 0)
        ) / seconds
        return {
            "min_fps": min(fps),
            "mean_fps": statistics.mean(fps),
            "backlog_s": backlog / crops_per_s if crops_per_s else float("inf"),
            "median_latency_s": statistics.median(latencies) if latencies else float("inf"),
            "p90_latency_s": statistics.quantiles(latencies, n=10)[-1]
            if len(latencies) > 10
            else float("inf"),
            "faces_scored": status.get("tracker", {}).get("scored", 0),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description="festival capacity benchmark")
    parser.add_argument("--cameras", default="4,8,10,12")
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    counts = [int(c) for c in args.cameras.split(",")]
    print(
        f"{'cameras':>7} {'min fps':>8} {'mean fps':>9} {'backlog':>8} "
        f"{'median lat':>11} {'p90 lat':>8} {'scored':>7}  sustained"
    )
    best = 0
    for count in counts:
        r = run(count, args.seconds)
        ok = r["min_fps"] >= 0.95 and r["backlog_s"] < 2.0 and r["median_latency_s"] < 2.0
        best = max(best, count) if ok else best
        print(
            f"{count:7d} {r['min_fps']:8.2f} {r['mean_fps']:9.2f} {r['backlog_s']:7.1f}s "
            f"{r['median_latency_s']:10.2f}s {r['p90_latency_s']:7.2f}s "
            f"{r['faces_scored']:7d}  {'yes' if ok else 'NO'}",
            flush=True,
        )
    print(
        f"\nLargest camera count sustained at 1 fps (1280x720): {best} "
        f"(target >= 10: {'PASS' if best >= 10 else 'MISS'})"
    )


if __name__ == "__main__":
    main()
