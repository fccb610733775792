"""How each track of a stage's set landed with the crowd: faces, expression mix, mean
mood and the mood against the set's. Scores describe facial expressions, not
feelings."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from datapalooza import constants
from datapalooza.cli import CliError

HELP = "write an artist's setlist report (HTML with charts, or PNG)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", required=True, help="the stage whose set to report")
    parser.add_argument(
        "--setlist",
        type=Path,
        help="setlist file (YAML or JSON); default: the setlist stored for the stage",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"the festival's data directory (default: ${constants.ENV_DATA_DIR} or the "
        "per-user data directory)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="report.html (self-contained) or report.png (default: report-STAGE.html)",
    )


def run(args: argparse.Namespace) -> int:
    from datapalooza.adapters.local.json_setlist_store import JsonSetlistStore
    from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
    from datapalooza.dashboard.report_files import render_html, render_png
    from datapalooza.dashboard.setlist_report import build_report
    from datapalooza.dashboard.setlists import load_setlist_file, local_context
    from datapalooza.domain.keys import InvalidName, validate_slug
    from datapalooza.domain.setlists import SetlistError
    from datapalooza.festival.layout import DataLayout, chosen_data_dir

    try:
        stage = validate_slug(args.stage)
    except InvalidName as exc:
        raise CliError(str(exc)) from exc
    out: Path = args.out or Path(f"report-{stage}.html")
    if out.suffix.lower() not in {".html", ".htm", ".png"}:
        raise CliError(f"--out {out}: the report is .html or .png")
    data_dir = chosen_data_dir(args.data_dir, os.environ)
    layout = DataLayout(data_dir)
    # Check before opening: opening would create an empty database in a mistyped dir.
    if not layout.results_db.is_file():
        raise CliError(
            f"no festival results in {data_dir} (no {layout.results_db.name}): run "
            "`datapalooza up` first, or pass the right --data-dir"
        )
    try:
        if args.setlist:
            setlists = {
                s.stage: s for s in load_setlist_file(args.setlist, context=local_context())
            }
            where = str(args.setlist)
        else:
            setlists = JsonSetlistStore(layout.setlists).all()
            where = str(layout.setlists)
    except SetlistError as exc:
        raise CliError(str(exc)) from exc
    setlist = setlists.get(stage)
    if setlist is None:
        named = ", ".join(sorted(setlists)) or "none"
        raise CliError(f"{where} has no setlist for stage {stage!r} (stages there: {named})")
    results = SqliteResultsTable(layout.results_db, read_only=True)
    try:
        report = build_report(results, setlist, now=datetime.now(UTC))
    finally:
        results.close()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".png":
            render_png(report, out)
        else:
            out.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from exc
    played = sum(1 for t in report.tracks if t.played)
    print(
        f"wrote {out}: {len(report.tracks)} tracks ({played} played), {report.faces} faces, "
        f"set mood {'-' if report.mood is None else f'{report.mood:+.0f}'}"
    )
    return 0
