"""How much work an SQLite query does, deterministically: the virtual-machine steps its
connection runs (a progress handler called on every step), not time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


def with_steps(connection: sqlite3.Connection, call: Callable[[], _T]) -> tuple[_T, int]:
    """``call()``'s result and the steps ``connection`` ran for it."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    connection.set_progress_handler(step, 1)
    try:
        result = call()
    finally:
        connection.set_progress_handler(None, 1)
    return result, steps
