"""Where the endpoint's CPU goes: py-spy samples of a real server over round trips.

    python -m bench.profile [--requests 40] [--out bench/out/profile.json]

Starts ``datapalooza serve-endpoint`` (1 worker, crops into a scratch directory),
records it with py-spy while it answers ``--requests`` 1280x720 synthetic crowd frames,
and writes to JSON each server thread's CPU per request (from /proc, over the same
requests) and, for the thread that handles requests, the share of py-spy's samples per
function (self and inclusive; only stacks inside the request handler, since py-spy
counts an event loop waiting in C as active). ``python -m bench.report`` puts them into
docs/benchmarks.md. py-spy needs ptrace rights over the server (same user is enough on
most Linux machines; some containers forbid it).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.endpoint import crowd_frames, round_trip, stop  # noqa: E402
from bench.measure import scratch_dir, thread_cpu_s  # noqa: E402
from tests.conftest import start_endpoint  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "out" / "profile.json"
HANDLER = "server.py:create_app.<locals>.handle"


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        sys.exit("py-spy is not installed: pip install the dev extra (pyproject.toml)")
    return found


def frame_name(frame: str) -> str:
    """'function (path/to/module.py:123)' -> 'module.py:function'."""
    name, _, where = frame.partition(" (")
    module = where.split(":")[0].rsplit("/", 1)[-1]
    return f"{module}:{name}" if module else name


def parse_collapsed(
    text: str, *, within: str | None = None
) -> tuple[Counter[str], Counter[str], int]:
    """(self samples, inclusive samples, total) from py-spy's raw (collapsed) output;
    with ``within``, only the stacks passing through that function."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [frame_name(f) for f in stack.split(";")[1:]]  # first: process/thread
        if not frames or (within is not None and within not in frames):
            continue
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    return own, inclusive, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    frames = crowd_frames(1280, 720, 6)
    with scratch_dir() as tmp:
        process, port = start_endpoint(Path(tmp) / "bucket", workers=1)
        raw = Path(tmp) / "profile.txt"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with contextlib.closing(connection):
                send = round_trip(connection)
                send(frames[0])  # warm up
                recorder = subprocess.Popen(
                    [
                        py_spy(),
                        "record",
                        "--pid",
                        str(process.pid),
                        "--subprocesses",
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "--output",
                        str(raw),
                    ],
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(1.0)  # py-spy attaches
                before = thread_cpu_s(process.pid)
                for i in range(args.requests):
                    send(frames[i % len(frames)])
                after = thread_cpu_s(process.pid)
                recorder.send_signal(signal.SIGINT)
                recorder.wait(timeout=60)
        finally:
            stop(process)
        own, inclusive, total = parse_collapsed(raw.read_text(), within=HANDLER)
    threads = sorted(
        (1000 * (cpu - before.get(tid, 0.0)) / args.requests for tid, cpu in after.items()),
        reverse=True,
    )
    result = {
        "requests": args.requests,
        "samples": total,
        "thread_cpu_ms_per_request": [round(ms, 1) for ms in threads if ms > 0],
        "self": [(name, n / total) for name, n in own.most_common(args.top)],
        "inclusive": [(name, n / total) for name, n in inclusive.most_common(args.top * 2)],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"server threads, CPU ms per request: {result['thread_cpu_ms_per_request']}")
    print(f"{total} samples in the request handler over {args.requests} requests; self share:")
    for name, share in result["self"]:
        print(f"  {share:6.1%}  {name}")
    print("inclusive share:")
    for name, share in result["inclusive"]:
        print(f"  {share:6.1%}  {name}")


if __name__ == "__main__":
    main()
