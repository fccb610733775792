"""Network round trips side by side: ``overlapping(at_once)`` gives an ``each(fn, items)``
that calls ``fn`` on every item, up to ``at_once`` at the same time, and returns the
results in the items' order.

For calls that mostly wait (a DynamoDB write, an S3 read): ``at_once`` of them cost about
one round trip instead of ``at_once``. With ``at_once`` 1, or a single item, ``fn`` runs in
the calling thread, as a loop would: local adapters (SQLite, files) do CPU work, which
threads would only interleave, and share connections that are not meant for it.

``fn`` should handle its own item's failures; an exception it raises anyway is raised
from ``each`` once every call has finished, the first item's first.

An exception in the calling thread while it waits (Ctrl-C's KeyboardInterrupt) cancels
the calls not yet started; the block still waits for the ones running, so ``fn`` that
may run long should watch a stop event its caller sets on the way out (as
``datapalooza.workshop.teardown`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

_I = TypeVar("_I")
_R = TypeVar("_R")


class Each(Protocol):
    def __call__(self, fn: Callable[[_I], _R], items: Sequence[_I], /) -> list[_R]: ...


def one_by_one(fn: Callable[[_I], _R], items: Sequence[_I], /) -> list[_R]:
    """``each`` for ``at_once`` 1: a plain loop in the calling thread."""
    return [fn(item) for item in items]


@contextmanager
def overlapping(at_once: int) -> Iterator[Each]:
    """An ``each`` whose threads (started on first use, at most ``at_once``) end with
    the block."""
    if at_once < 1:
        raise ValueError(f"at_once must be at least 1, not {at_once}")
    if at_once == 1:
        yield one_by_one
        return
    pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="overlap")

    def each(fn: Callable[[_I], _R], items: Sequence[_I], /) -> list[_R]:
        if len(items) < 2:
            return one_by_one(fn, items)
        futures = [pool.submit(fn, item) for item in items]
        try:
            # Wait for all before raising: no call is still running when the caller
            # moves on (say, to release what the calls claimed).
            errors = [f.exception() for f in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # queued calls never start; running ones finish
            raise
        for error in errors:
            if error is not None:
                raise error
        return [f.result() for f in futures]

    try:
        yield each
    except BaseException:
        # ThreadPoolExecutor's own exit would run every queued call first: after Ctrl-C
        # at 1.5 s, a teardown of 8 teams went on deleting all 16 stacks.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
