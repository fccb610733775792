"""Every command block the guide marks runnable runs, and prints what the page promises.

Each page's runnable blocks run in order, like a reader would: in one scratch
directory holding a link to the project's ``.venv``, with ``.venv/bin`` on the PATH
and this checkout on PYTHONPATH. Ports the pages use (8080, 8000) are swapped for free
ones so the test can run next to a festival; anything a block leaves running is
stopped when its page is done. A page that drifts from the code fails here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from datapalooza.system.network import free_port
from tests.docs.pages import REPO, RunnableBlock, pages, parse

PAGE_PORTS = (8080, 8000)
PAGES_WITH_BLOCKS = [page for page in pages() if parse(page).blocks]

# The guide's hands-on pages must keep at least one block under test: losing every
# marker of a page would otherwise pass silently.
MUST_RUN = {
    "docs/challenge1-endpoint.md",
    "docs/challenge2-camera.md",
    "docs/challenge2-emotion-tracker.md",
    "docs/challenge3-edge.md",
    "docs/local-festival.md",
}


def test_hands_on_pages_keep_runnable_blocks() -> None:
    marked = {str(page.relative_to(REPO)) for page in PAGES_WITH_BLOCKS}
    assert marked >= MUST_RUN, f"pages without runnable blocks: {sorted(MUST_RUN - marked)}"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(REPO)
    env["VIRTUAL_ENV"] = str(REPO / ".venv")
    env.pop("DATAPALOOZA_STAGE", None)
    return env


def _with_ports(code: str, ports: dict[int, int]) -> str:
    for page_port, port in ports.items():
        code = re.sub(rf"(?<![\d.]){page_port}(?!\d)", str(port), code)
    return code


def _command(block: RunnableBlock, code: str, scratch: Path, index: int) -> list[str]:
    if block.language == "python":
        script = scratch / f".block{index}.py"
        script.write_text(code)
        return [str(REPO / ".venv" / "bin" / "python"), str(script)]
    return ["bash", "-e", "-o", "pipefail", "-c", code]


def _stop(groups: list[int]) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        alive = []
        for group in groups:
            try:
                os.killpg(group, sig)
                alive.append(group)
            except ProcessLookupError:
                pass
        if not alive:
            return
        time.sleep(0.3)


def run_blocks(blocks: list[RunnableBlock], tmp_path: Path) -> None:
    """Run one page's blocks in order in a scratch directory; assert each keeps its
    promises. Whatever the blocks started is stopped at the end."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / ".venv").symlink_to(REPO / ".venv")
    ports = {page_port: free_port() for page_port in PAGE_PORTS}
    env = _environment()
    groups: list[int] = []
    try:
        for index, block in enumerate(blocks):
            log = tmp_path / f"block{index}.log"
            code = _with_ports(block.code, ports)
            # Output goes to a file, not a pipe: a server a block starts with `&` keeps
            # its stdout open, and a pipe would never reach end of file.
            with log.open("wb") as out:
                process = subprocess.Popen(
                    _command(block, code, scratch, index),
                    cwd=scratch,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                groups.append(process.pid)
                try:
                    status = process.wait(timeout=block.timeout_s)
                except subprocess.TimeoutExpired:
                    status = None
            output = log.read_text(errors="replace")
            shown = f"{block} ({block.language})\n{block.code}\n--- output ---\n{output[-4000:]}"
            assert status is not None, f"timed out after {block.timeout_s}s: {shown}"
            assert status == block.status, f"exit status {status}, not {block.status}: {shown}"
            for promise in block.expect:
                assert promise in output, f"the page promises {promise!r}: {shown}"
    finally:
        _stop(groups)


def _page_param(page: Path) -> object:
    # Serial: a page that runs `datapalooza up` starts the whole festival, and promises
    # its summary (nothing pending at the end) as an otherwise idle machine prints it.
    festival = any("datapalooza up" in block.code for block in parse(page).blocks)
    marks = [pytest.mark.serial] if festival else []
    return pytest.param(page, marks=marks, id=str(page.relative_to(REPO)))


@pytest.mark.parametrize("page", [_page_param(page) for page in PAGES_WITH_BLOCKS])
def test_runnable_blocks(page: Path, tmp_path: Path) -> None:
    run_blocks(parse(page).blocks, tmp_path)


@pytest.mark.parametrize(
    ("code", "expect", "complaint"),
    [
        ("echo 41", ("42",), "the page promises '42'"),
        ("false", (), "exit status 1, not 0"),
        ("sleep 30", (), "timed out"),
    ],
)
def test_a_drifting_block_fails(
    code: str, expect: tuple[str, ...], complaint: str, tmp_path: Path
) -> None:
    block = RunnableBlock(REPO / "README.md", 1, "sh", code, expect, timeout_s=2)
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        run_blocks([block], tmp_path)


def test_a_background_server_is_stopped_with_its_page(tmp_path: Path) -> None:
    pid_file = tmp_path / "scratch" / "server.pid"
    block = RunnableBlock(REPO / "README.md", 1, "sh", "sleep 300 &\necho $! > server.pid\n")
    run_blocks([block], tmp_path)
    status = Path(f"/proc/{int(pid_file.read_text())}/status")
    # Gone, or a zombie waiting for init to reap it: either way no longer running.
    assert not status.exists() or "State:\tZ" in status.read_text()
