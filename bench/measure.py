"""What every benchmark measures with: CPU time of processes and threads, interleaved
rounds, and the state of the machine.

CPU time is what a busy machine cannot fake: other programs on the same cores stretch
wall time, but the CPU seconds a process spends on one frame barely move. Processes are
read from /proc (Linux), so a child server's CPU is counted from outside it; a process
tree's CPU is the sum of its live members' (a live child's CPU is not in its parent's
``cutime`` until the child is reaped).
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC = Path("/proc")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")

REPO_OUT = Path(__file__).resolve().parent / "out"
"""Where the suite writes its results (bench/out), inside the repository."""


def default_scratch_root() -> Path:
    from datapalooza.festival.layout import default_data_dir

    return default_data_dir().parent / "datapalooza-bench"


SCRATCH_ROOT = Path(os.environ.get("BENCH_SCRATCH") or default_scratch_root())
"""Where benchmarks keep the files they write (BENCH_SCRATCH overrides): beside ``up``'s
data directory (e.g. ~/.local/share/datapalooza-bench), so the crops a benchmark writes
land where ``up``'s do. Creating a file costs kernel CPU that moves with the directory's
place on the disk and with the moment: on this VM, one ext4 file system, a crop-sized
file cost from 0.02 to 0.55 ms, each of the repository, ``up``'s data and the temp
directory being the cheapest at one moment and the dearest minutes later (most after
many files were deleted); that is why the local bucket keeps crops as rows of one
SQLite file. No other place stands in for ``up``'s, and the system temp directory is a
RAM disk on many machines. ``machine_state`` records the cost in each place every run."""


def _stat_fields(path: Path) -> list[str] | None:
    """The fields of a /proc stat file after the command name (which may hold spaces)."""
    try:
        text = path.read_text()
    except OSError:  # the process or thread ended meanwhile
        return None
    return text[text.rindex(")") + 2 :].split()


def _cpu_of(fields: list[str]) -> float:
    # utime and stime are fields 14 and 15 of proc(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads, ended ones too), in
    clock ticks (10 ms): what a long window can use; ``CpuWindow`` is finer."""
    fields = _stat_fields(PROC / str(pid) / "stat")
    return _cpu_of(fields) if fields else 0.0


def thread_runtimes_ns(pid: int) -> dict[int, int] | None:
    """CPU nanoseconds per live thread of one process, from each thread's schedstat
    (the scheduler's own count, to the nanosecond); None where the kernel has none or
    the process has ended. /proc's stat counts in clock ticks of 10 ms: +-10 ms on a
    window of a few frames was +-2% of the endpoint's overhead ratio."""
    task = PROC / str(pid) / "task"
    out: dict[int, int] = {}
    try:
        entries = list(task.iterdir())
    except OSError:
        return None
    for entry in entries:
        try:
            out[int(entry.name)] = int((entry / "schedstat").read_text().split()[0])
        except FileNotFoundError:
            continue  # the thread ended meanwhile; a kernel without schedstat reads None
        except (OSError, ValueError, IndexError):
            return None
    return out or None


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry / "stat")
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants."""
    return sum(process_cpu_s(p) for p in descendants(pid))


def thread_kernel_s() -> float:
    """Kernel (system) CPU seconds of the calling thread so far: the part of its CPU
    that creating files costs, which moves with the machine's state (SCRATCH_ROOT)."""
    return thread_user_kernel_s()[1]


def thread_user_kernel_s() -> tuple[float, float]:
    """(user, kernel) CPU seconds of the calling thread so far. Linux splits a thread's
    exact CPU time between the two by where its clock ticks fell, so over a stretch of a
    few ticks the split is coarse (all kernel, say): use it as a share of an exact
    figure (``kernel_share``), never against one."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime, usage.ru_stime


def kernel_share(before: tuple[float, float], after: tuple[float, float]) -> float:
    """The kernel's share, 0 to 1, of a thread's CPU between two ``thread_user_kernel_s``."""
    user, kernel = after[0] - before[0], after[1] - before[1]
    return kernel / (user + kernel) if user + kernel > 0 else 0.0


def thread_cpu_s(pid: int | None = None) -> dict[int, float]:
    """CPU seconds per thread id of one process (default: this one): to the nanosecond
    from schedstat where the kernel has it, else from stat in clock ticks."""
    pid = pid or os.getpid()
    runtimes = thread_runtimes_ns(pid)
    if runtimes is not None:
        return {tid: ns / 1e9 for tid, ns in runtimes.items()}
    out = {}
    for entry in (PROC / str(pid) / "task").iterdir():
        fields = _stat_fields(entry / "stat")
        if fields:
            out[int(entry.name)] = _cpu_of(fields)
    return out


def python_thread_names() -> dict[int, str]:
    """Native thread id -> Python thread name, for the threads of this process."""
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


@dataclass
class CpuWindow:
    """CPU and wall seconds spent between start() and stop() by some processes (with
    their descendants) and, with ``include_self``, this one.

    Each process is read to the nanosecond, thread by thread (``thread_runtimes_ns``),
    when every thread it had at start() is still there at stop(); a process that lost a
    thread meanwhile is read from stat in clock ticks, which keeps ended threads' CPU.
    A process that started in the window counts all its CPU; one that ended, none."""

    pids: Sequence[int]
    include_self: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    self_s: float = 0.0
    """With ``include_self``: the part of ``cpu_s`` this process spent (its reading of
    the others is not in it)."""
    _start: dict[int, tuple[float, dict[int, int] | None]] = field(default_factory=dict, repr=False)
    _self0: float = field(default=0.0, repr=False)
    _wall0: float = field(default=0.0, repr=False)

    def _readings(self) -> dict[int, tuple[float, dict[int, int] | None]]:
        tree = {p for pid in self.pids for p in descendants(pid)}
        return {p: (process_cpu_s(p), thread_runtimes_ns(p)) for p in tree}

    def start(self) -> None:
        self._start = self._readings()
        self._self0, self._wall0 = time.process_time(), time.perf_counter()

    def stop(self) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        spent = self.self_s = time.process_time() - self._self0 if self.include_self else 0.0
        for pid, (ticks, threads) in self._readings().items():
            ticks0, threads0 = self._start.get(pid, (0.0, {}))
            if threads is not None and threads0 is not None and threads0.keys() <= threads.keys():
                spent += sum(ns - threads0.get(tid, 0) for tid, ns in threads.items()) / 1e9
            else:
                spent += ticks - ticks0
        self.cpu_s = spent


@contextmanager
def cpu_window(pids: Sequence[int] = (), *, include_self: bool = True) -> Iterator[CpuWindow]:
    window = CpuWindow(pids, include_self=include_self)
    window.start()
    try:
        yield window
    finally:
        window.stop()


def interleaved(
    arms: dict[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, list[dict[str, float]]]:
    """Run every arm once per round, alternating their order (ABAB, then BABA), so a
    change in the machine's load falls on all arms alike. Returns each arm's rounds."""
    names = list(arms)
    out: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            out[name].append(arms[name]())
    return out


def summary(values: Iterable[float]) -> dict[str, float]:
    """Median, min and max of a measurement repeated over rounds."""
    values = list(values)
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "rounds": len(values),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A fresh directory under SCRATCH_ROOT, removed when its ``with`` block ends."""
    SCRATCH_ROOT.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=SCRATCH_ROOT, prefix="run-")


CREATE_PROBE_FILES = 300
CREATE_PROBE_BYTES = 3000  # about one face crop's JPEG


def file_create_ms(parent: Path) -> float | None:
    """CPU ms (user + kernel, this thread) to create, write and close one crop-sized file
    in a new directory under ``parent``; None where ``parent`` cannot be written."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(dir=parent, prefix="create-probe-"))
    except OSError:
        return None
    data = b"\0" * CREATE_PROBE_BYTES
    try:
        started = time.thread_time()
        for i in range(CREATE_PROBE_FILES):
            fd = os.open(probe / f"{i}.jpg", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        return 1000 * (time.thread_time() - started) / CREATE_PROBE_FILES
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def file_create_costs() -> dict[str, float | None]:
    """``file_create_ms`` where the benchmarks write, where ``up`` keeps its data (the
    parent of the user's data directory), in the system temp directory and under the
    repository (bench/out): what a file costs differs between them (SCRATCH_ROOT)."""
    from datapalooza.festival.layout import default_data_dir

    return {
        "scratch": file_create_ms(SCRATCH_ROOT),
        "up_data": file_create_ms(default_data_dir().parent),
        "system_temp": file_create_ms(Path(tempfile.gettempdir())),
        "repository": file_create_ms(REPO_OUT),
    }


def machine_state() -> dict[str, Any]:
    """What the figures were taken on: cores, CPU model, load average at that moment,
    and what creating a file costs where the benchmarks and ``up`` write."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "load_average": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "file_create_ms": file_create_costs(),
        "scratch_mount": mount_of(SCRATCH_ROOT),
    }


def mount_of(path: Path, mounts: Path = Path("/proc/self/mounts")) -> dict[str, Any] | None:
    """The file system ``path`` is on (the longest mount point above it): its type and
    mount options, e.g. ext4 with ``discard``, under which freeing blocks is dear and
    creating a file after many were deleted costs many times more. None off Linux."""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return None
    target = path.resolve()
    best: dict[str, Any] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if (target == point or point in target.parents) and (
            best is None or len(point.parts) > len(Path(best["mount_point"]).parts)
        ):
            best = {"mount_point": str(point), "type": fields[2], "options": fields[3].split(",")}
    return best
