"""`datapalooza up` on a data directory with a corrupt database: named, with what to
do, in one line, before anything writes to it (it used to end in a traceback)."""

from __future__ import annotations

import pytest

from datapalooza.festival.layout import DataLayout
from tests.helpers.processes import run_datapalooza


@pytest.mark.parametrize("database", ["results_db", "notifications_db"])
def test_a_corrupt_database_is_named_with_what_to_do(tmp_path, database):
    layout = DataLayout(tmp_path / "data")
    layout.root.mkdir()
    path = getattr(layout, database)
    path.write_bytes(b"this is not an SQLite database, just bytes\n" * 200)

    result = run_datapalooza(
        "up", "--no-dashboard", "--stages", "1", "--duration", "1", "--data-dir", str(layout.root)
    )

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"{path} is not a usable SQLite database (file is not a database)" in result.stderr
    assert f"mv {path} {path}.corrupt" in result.stderr
    assert path.read_bytes().startswith(b"this is not")  # left as it was, for a look
