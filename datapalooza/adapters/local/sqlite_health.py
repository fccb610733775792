"""Is an SQLite file of the data directory usable? Asked before anything opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sqlite_problem(path: Path) -> str | None:
    """None when ``path`` is missing (it will be created) or passes SQLite's
    ``quick_check``; otherwise what is wrong, in SQLite's words."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as exc:
        return str(exc)  # e.g. "file is not a database"
    finally:
        conn.close()
    findings = [str(row[0]) for row in rows]
    return None if findings == ["ok"] else "; ".join(findings[:3])
