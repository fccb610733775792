"""Setlist and festival files written to hurt: an alias bomb, deep nesting, a huge
file. Each is refused in one line (CLI exit 2, no traceback) within seconds and a
bounded amount of memory."""

from __future__ import annotations

import itertools
import resource
import subprocess
from pathlib import Path

import pytest

from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.festival.config import FestivalConfigError, load_config
from datapalooza.festival.layout import DataLayout
from datapalooza.user_documents import MAX_DEPTH, MAX_NODES, DocumentError, load_document
from tests.helpers.processes import run_datapalooza

MEMORY_CAP = 1536 * 1024 * 1024  # the CLI runs under this address-space limit


def alias_bomb(target: str) -> str:
    """~400 bytes that expand to 9**9 (387 million) strings wherever ``target`` is used."""
    names = "abcdefghi"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in itertools.pairwise(names)]
    return "\n".join(lines) + "\n" + target.replace("BOMB", "*i") + "\n"


BOMB_SETLIST = alias_bomb(
    'stages:\n  main:\n    artist: BOMB\n    tracks: [{title: A, start: "21:00"}]'
)
DEEP = "stages: " + "[" * 5000 + "]" * 5000


def datapalooza(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return run_datapalooza(*args, timeout=timeout, preexec_fn=limit_memory)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    layout = DataLayout(tmp_path / "data")
    layout.root.mkdir()
    SqliteResultsTable(layout.results_db).close()
    return layout.root


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (BOMB_SETLIST, f"expands to more than {MAX_NODES} values"),
        (DEEP, f"nested deeper than {MAX_DEPTH} levels"),
    ],
    ids=["alias-bomb", "5000-deep"],
)
def test_report_refuses_a_hostile_setlist_in_one_line(tmp_path, data_dir, content, said):
    setlist = tmp_path / "setlist.yaml"
    setlist.write_text(content)
    assert len(BOMB_SETLIST) < 450
    result = datapalooza(
        "report", "--stage", "main", "--setlist", str(setlist),
        "--data-dir", str(data_dir), "--out", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-500:]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert said in result.stderr and str(setlist) in result.stderr


def test_up_refuses_a_hostile_festival_file_in_one_line(tmp_path):
    festival = tmp_path / "festival.yaml"
    festival.write_text(DEEP)
    result = datapalooza("up", "--config", str(festival), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"nested deeper than {MAX_DEPTH} levels" in result.stderr


def test_festival_files_are_capped_in_size(tmp_path):
    festival = tmp_path / "festival.yaml"
    festival.write_text("stages:\n  - name: main\n" + "#" * 70_000 + "\n")
    with pytest.raises(FestivalConfigError, match="a festival file is at most 65536"):
        load_config(festival)
    festival.write_text(alias_bomb("stages: BOMB"))
    with pytest.raises(FestivalConfigError, match="expands to more than"):
        load_config(festival)


def test_ordinary_anchors_and_json_still_load():
    shared = (
        "common: &c {camera: cam-1}\nstages:\n  - {name: main, <<: *c}\n  - {name: dance, <<: *c}"
    )
    assert load_document(shared)["stages"][1] == {"name": "dance", "camera": "cam-1"}
    assert load_document('{"stages": [{"name": "main"}]}') == {"stages": [{"name": "main"}]}
    assert load_document("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(DocumentError, match="nested deeper"):
        load_document("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(DocumentError, match="contains it"):
        load_document("a: &a [1, *a]")
