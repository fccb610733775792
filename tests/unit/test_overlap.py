"""overlapping(at_once): calls side by side, results in order, nothing left running."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from datapalooza.system.overlap import one_by_one, overlapping


def test_the_calls_run_side_by_side_and_answer_in_the_items_order() -> None:
    # Four calls that each wait for the other three: one after another, none returns.
    barrier = threading.Barrier(4, timeout=10)

    def meet(item: int) -> int:
        barrier.wait()
        time.sleep(0.01 * (4 - item))  # finish in the reverse order
        return item * 10

    with overlapping(4) as each:
        assert each(meet, [0, 1, 2, 3]) == [0, 10, 20, 30]


def test_never_more_calls_at_once_than_asked() -> None:
    running, most, lock = 0, 0, threading.Lock()

    def call(_: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.005)
        with lock:
            running -= 1

    with overlapping(3) as each:
        each(call, list(range(20)))
    assert most == 3


def test_one_at_a_time_runs_in_the_callers_thread() -> None:
    with overlapping(1) as each:
        assert each is one_by_one
        assert each(lambda _: threading.get_ident(), [1, 2]) == [threading.get_ident()] * 2


def test_a_single_item_needs_no_thread() -> None:
    with overlapping(8) as each:
        assert each(lambda _: threading.get_ident(), [1]) == [threading.get_ident()]


def test_an_error_is_raised_once_every_call_has_finished() -> None:
    finished: list[int] = []

    def call(item: int) -> int:
        if item == 1:
            raise KeyError("first")
        if item == 2:
            raise ValueError("second")
        time.sleep(0.05)
        finished.append(item)
        return item

    with overlapping(4) as each, pytest.raises(KeyError, match="first"):
        each(call, [0, 1, 2, 3])
    assert sorted(finished) == [0, 3]


def test_the_threads_end_with_the_block() -> None:
    before = threading.active_count()
    with overlapping(4) as each:
        each(lambda item: item, [1, 2, 3, 4])
    assert threading.active_count() == before


@pytest.mark.parametrize("at_once", [0, -1])
def test_at_once_below_one_is_refused(at_once: int) -> None:
    with pytest.raises(ValueError, match="at least 1"), overlapping(at_once):
        pass


@pytest.mark.serial  # timed to a few tenths of a second, too little beside another test's load
def test_ctrl_c_while_waiting_cancels_the_calls_not_yet_started() -> None:
    # Given 2 threads and 8 items, the first call sending Ctrl-C to the main thread
    started: list[int] = []
    lock = threading.Lock()

    def call(item: int) -> int:
        with lock:
            started.append(item)
        if item == 0:
            time.sleep(0.05)  # the caller has queued all 8 and waits
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        time.sleep(0.2)
        return item

    # When the interrupt reaches the waiting caller
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt), overlapping(2) as each:
        each(call, list(range(8)))
    # Then at most the two calls already running ran (all 8 would take 0.85 s)
    assert started[0] == 0 and set(started) <= {0, 1}
    assert time.monotonic() - began < 0.6
