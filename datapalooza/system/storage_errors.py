"""Recognising "the data directory cannot take more writes" among storage errors.

A full data directory is not a crop's fault and no retry fixes it: the local tracker
stops and ``datapalooza up`` says what to do, instead of failing crop after crop until
they are parked as dead. Files report it as ENOSPC (no space), EDQUOT (quota) or EFBIG
(over the process's file size limit, RLIMIT_FSIZE); SQLite as SQLITE_FULL, or, when a
write of its journal fails (EFBIG among others), as SQLITE_IOERR ("disk I/O error"),
which no retry fixes either.
"""

from __future__ import annotations

import errno
import sqlite3

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL, named in the module only from Python 3.11.4
_SQLITE_IOERR = 10  # the primary code of every SQLITE_IOERR_* extended code


def is_storage_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from (or while handling), means the
    local storage is full or cannot be written."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR):
                return True
            if "disk is full" in str(exc) or "disk I/O error" in str(exc):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def storage_full_detail(exc: BaseException) -> str:
    """A short description of a storage-full error, for the message to the user."""
    return f"{type(exc).__name__}: {exc}"
