"""Starts the face-detection endpoint, one camera per stage, the emotion tracker (local
ONNX model), SQLite results and metrics, and the dashboard."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from datapalooza.cli import CliError

HELP = "run the whole festival pipeline locally with a live dashboard"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="dashboard port (default 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="dashboard address (default 127.0.0.1)")
    parser.add_argument("--stages", type=int, default=3, help="number of stages (default 3)")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="festival file: stages with their sources and paths (overrides --stages)",
    )
    parser.add_argument(
        "--edge",
        action="append",
        default=[],
        metavar="STAGE",
        help="run this stage on the edge path (detector on the device); repeatable",
    )
    parser.add_argument("--setlist", type=Path, help="setlist file for the artist view")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    parser.add_argument("--data-dir", type=Path, help="where crops and results live")
    parser.add_argument("--endpoint-port", type=int, help="endpoint port (default: a free one)")
    parser.add_argument(
        "--endpoint-workers",
        type=int,
        help="endpoint processes (default: as many as the cameras need, at most one per core)",
    )
    parser.add_argument("--no-dashboard", action="store_true", help="run the pipeline only")
    parser.add_argument(
        "--keep-hours",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="delete face crops older than this (default 24, like the bucket's lifecycle)",
    )


def run(args: argparse.Namespace) -> int:
    from datapalooza.festival.config import (
        FestivalConfigError,
        default_config,
        load_config,
    )
    from datapalooza.festival.layout import DataLayout, default_data_dir
    from datapalooza.festival.runtime import Festival, FestivalError, FestivalOptions
    from datapalooza.festival.status_line import StatusLine

    try:
        config = (
            load_config(args.config)
            if args.config
            else default_config(args.stages, edge_stages=args.edge)
        )
    except FestivalConfigError as exc:
        raise CliError(str(exc)) from exc
    data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    setlist = args.setlist or config.setlist
    if args.duration is not None and args.duration <= 0:
        raise CliError("--duration must be positive")
    if args.keep_hours <= 0:
        raise CliError("--keep-hours must be positive")
    if args.endpoint_workers is not None and args.endpoint_workers < 1:
        raise CliError("--endpoint-workers must be at least 1")
    options = FestivalOptions(
        data_dir=data_dir,
        config=config,
        host=args.host,
        port=args.port,
        endpoint_port=args.endpoint_port,
        endpoint_workers=args.endpoint_workers,
        interval_s=args.interval,
        duration_s=args.duration,
        dashboard=not args.no_dashboard,
        keep_crops_hours=args.keep_hours,
    )
    festival = Festival(options)
    if setlist is not None:
        _install_setlist(setlist, DataLayout(data_dir))
    _quiet_device_logs()
    stop = threading.Event()
    interrupted = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        interrupted.set()
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    line = StatusLine(sys.stderr)
    try:
        festival.check()
        print(
            f"DataPalooza is starting {len(config.stages)} stages; data in {data_dir}",
            file=sys.stderr,
        )
        festival.start()
        if festival.dashboard is not None:
            print(f"Dashboard: {festival.dashboard.url}/  (Ctrl-C to stop)", file=sys.stderr)
        festival.run(stop, on_status=line.update)
    except FestivalError as exc:
        festival.shutdown(drain=False)
        raise CliError(str(exc)) from exc
    finally:
        signal.signal(signal.SIGINT, previous)
    line.finish()
    print(
        "Stopping: "
        + (
            "leaving unscored crops for the next run"
            if interrupted.is_set()
            else "scoring the crops still pending"
        ),
        file=sys.stderr,
    )
    status = festival.shutdown(drain=not interrupted.is_set())
    print(line.summary(status))
    return 130 if interrupted.is_set() else 0


def _install_setlist(path: Path, layout: Any) -> None:
    """Store the setlist where the dashboard reads it."""
    from datapalooza.adapters.local.json_setlist_store import JsonSetlistStore
    from datapalooza.dashboard.setlists import load_setlist_file
    from datapalooza.domain.setlists import SetlistError

    try:
        JsonSetlistStore(layout.setlists).save(*load_setlist_file(path))
    except (OSError, SetlistError) as exc:
        raise CliError(f"cannot use setlist {path}: {exc}") from exc


def _quiet_device_logs() -> None:
    # The status line shows progress; per-frame device logs would drown it.
    for name in ("datapalooza.devices", "datapalooza.emotions", "datapalooza.mqtt"):
        logging.getLogger(name).setLevel(logging.WARNING)
