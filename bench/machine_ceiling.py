"""How far this machine's cores scale the bare detector: the ceiling of the endpoint's
workers goal.

The endpoint's scaling compares 1 worker with one per core, wall-clock. Cores that share
caches, memory bandwidth or a physical core (hyperthreads, a hypervisor's neighbours)
make two busy processes slower than one, whatever the server does. ``DetectorProcesses``
measures that directly: the same detector on the same frames in 1 process against one
per core, each process a plain loop with no HTTP, no client, no queue. What the
endpoint's workers make per core, over what these processes make, is the server's own
loss (HTTP, the accept race, the clients on the same cores). Run in the same interleaved
rounds as the servers, so both see the same machine.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from bench.measure import CpuWindow


def _detect_on_request(frames: Sequence[bytes], connection: Connection) -> None:
    """A process's loop: load the detector, decode the frames, then for each count sent
    run that many detections and answer; None stops it."""
    from datapalooza.detection import DetectorSettings, load_detector
    from datapalooza.images import decode_image

    detector = load_detector(DetectorSettings())
    images = [decode_image(frame, "image/jpeg") for frame in frames]
    for image in images:
        detector.detect(image)
    connection.send("ready")
    done = 0
    while (count := connection.recv()) is not None:
        for _ in range(count):
            detector.detect(images[done % len(images)])
            done += 1
        connection.send(count)


ANSWER_TIMEOUT_S = 300.0
"""Longest wait for a process to load its model or finish its share of frames: a process
that died or hung stops the benchmark with an error instead of holding it for ever."""


def _answer(connection: Connection, *, what: str) -> Any:
    try:
        if not connection.poll(ANSWER_TIMEOUT_S):
            raise RuntimeError(f"a detector process did not {what} within {ANSWER_TIMEOUT_S:.0f} s")
        return connection.recv()
    except (EOFError, OSError) as exc:  # its end closed, or reset by its death
        raise RuntimeError(f"a detector process ended before it could {what}") from exc


class DetectorProcesses:
    """``count`` processes, each with the default detector and ``frames`` decoded."""

    def __init__(self, frames: Sequence[bytes], count: int) -> None:
        context = mp.get_context("spawn")  # no fork of this process's threads and sessions
        self._connections: list[Connection] = []
        self._processes: list[Any] = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=_detect_on_request, args=(list(frames), child), daemon=True
            )
            process.start()
            child.close()  # the process holds its end: a process that dies reads as EOF
            self._connections.append(parent)
            self._processes.append(process)
        try:
            for connection in self._connections:
                if _answer(connection, what="start") != "ready":
                    raise RuntimeError("a detector process did not start")
        except BaseException:
            self.close()  # the others, which did start
            raise

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes]

    def arm(self, processes: int, frames: int) -> Callable[[], dict[str, float]]:
        """A measuring arm: ``frames`` detections shared by the first ``processes``
        processes, all at once; frames/s (wall) and CPU ms per frame (those processes)."""
        if not 1 <= processes <= len(self._processes):
            raise ValueError(f"processes={processes}; there are {len(self._processes)}")
        shares = [frames // processes + (i < frames % processes) for i in range(processes)]
        connections = self._connections[:processes]

        def arm() -> dict[str, float]:
            window = CpuWindow(self.pids[:processes])
            window.start()
            for connection, share in zip(connections, shares, strict=True):
                try:
                    connection.send(share)
                except OSError as exc:
                    raise RuntimeError("a detector process has ended") from exc
            for connection in connections:
                _answer(connection, what="detect its share of the frames")
            window.stop()
            return {"fps": frames / window.wall_s, "cpu_ms": 1000 * window.cpu_s / frames}

        return arm

    def close(self) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError):  # the process has gone already
                connection.send(None)
        deadline = time.monotonic() + 10
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()

    def __enter__(self) -> DetectorProcesses:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
