"""Serve the dashboard page, /api/... and /openapi.json."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from datapalooza.cli import CliError, require_free_port

HELP = "serve the live dashboard and its JSON API over a festival data dir"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="the festival's data directory, which must exist (default: the per-user one, "
        "created if missing)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="with --host beyond loopback: another name or address the page is opened "
        "by (this machine's name and addresses are allowed already); repeatable",
    )
    parser.add_argument(
        "--poll-seconds", type=float, help="how often the page refreshes (default 3)"
    )


def run(args: argparse.Namespace) -> int:
    from datapalooza.dashboard.bootstrap import create_app
    from datapalooza.dashboard.settings import DashboardSettings
    from datapalooza.settings import SettingsError
    from datapalooza.system.http_limits import ServerLimits
    from datapalooza.system.http_server import serve

    try:
        settings = DashboardSettings.from_env(
            os.environ,
            data_dir=args.data_dir,
            host=args.host,
            poll_seconds=args.poll_seconds,
            allowed_hosts=tuple(args.allowed_host) if args.allowed_host else None,
        )
        limits = ServerLimits.from_env(os.environ)
    except SettingsError as exc:  # DashboardSettingsError is one
        raise CliError(str(exc)) from exc
    if not 0 < args.port < 65536:
        raise CliError(f"--port {args.port} is not a TCP port")
    require_free_port(args.host, args.port)
    if args.data_dir is not None and not args.data_dir.is_dir():
        # A mistyped directory would otherwise be created and served empty.
        raise CliError(
            f"no data directory {args.data_dir}: give the one `datapalooza up` wrote "
            "(its --data-dir), or leave --data-dir out for the default"
        )
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app = create_app(settings)
    except OSError as exc:
        raise CliError(f"cannot use data dir {settings.data_dir}: {exc}") from exc
    print(f"Dashboard on http://{args.host}:{args.port}/ (data: {settings.data_dir})", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("warning: reachable from other machines; the dashboard has no login", flush=True)
    serve(app, host=args.host, port=args.port, limits=limits)
    return 0
