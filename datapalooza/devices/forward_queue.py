"""Store and forward: an on-disk queue of objects (key, body, metadata) waiting for upload.

The edge service writes every crop sheet here first and uploads from here, so a face that
was captured survives a lost network, a full outage of the store, and a SIGKILL of the
process. One file per object, written to a temp file, fsynced and renamed into place: a
reader never sees half an object. Names sort in arrival order, so the oldest goes first.

The queue is bounded by bytes and by age: when full, the oldest objects are dropped first
(an old face is worth less than a new one to a live mood dashboard) and ``dropped``
counts them, persisted across restarts.

An entry that can never be uploaded (a damaged file, a header ``push`` did not write, a
key no store accepts) is set aside so it does not block the ones behind it. Setting
aside deletes its bytes at once: a crop sheet shows faces, and no face may stay on the
device longer than the queue's own limits, nor outside them. What stays is a note in
``corrupt/`` (entry name, key, size, reason, time) for whoever looks into it. Notes
expire after the queue's ``max_age_s`` and take at most CORRUPT_MAX_BYTES, the oldest
deleted first; anything else found there (crops an older version moved there whole, a
note half written) is deleted with them, at start and on every ``expire``.

One thread may push while another peeks, removes and expires (the edge's frame loop and
its uploader): the slots are kept under a lock, and an entry a push drops over budget
while it is being read is gone, not damaged.

Uploading an entry and then removing it is at-least-once; because an object's key is
fixed when it is captured, a re-upload after a crash overwrites the same object with the
same bytes, so the store ends up with each object exactly once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from datapalooza.crop_sheets import MAX_METADATA_BYTES
from datapalooza.system.atomic_write import write_atomically

log = logging.getLogger(__name__)

MAGIC = b"DPQ1"
SUFFIX = ".crop"  # from when entries were single crops: a queue left on disk stays readable
STATE_FILE = "state.json"
CORRUPT_DIR = "corrupt"
CORRUPT_MAX_BYTES = 64 * 1024
"""What the notes of set-aside entries may take, the oldest deleted first: a note is about
300 bytes, so the last two hundred or so stay, enough to see what went wrong, and nothing
a device's disk notices next to its queue (256 MB by default)."""
NOTE_TEXT_CHARS = 300
"""A note's entry name, key and reason are each cut to this many characters, so one note
stays under 11 KB even with every character escaped, a sixth of CORRUPT_MAX_BYTES."""
_NOTE_NAME = re.compile(r"^(\d{13})-[0-9a-f]{8}\.json$")  # milliseconds set aside, then random
_HEADER = struct.Struct(">4sI")
MAX_KEY_BYTES = 1024
"""S3's longest object key, in UTF-8 bytes ("Naming Amazon S3 objects", Amazon S3 User
Guide, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html): a longer
key could never be uploaded."""
MAX_HEADER_BYTES = 8 * 1024
"""An entry's header is its key (at most MAX_KEY_BYTES) and metadata (at most
MAX_METADATA_BYTES, S3's limit) as JSON: about 1 KB for a sheet of 100 faces with the
longest names; 8 KiB leaves room for JSON's quotes and escapes. ``push`` refuses a larger
header, so a file that declares one is damaged."""


class QueueFull(RuntimeError):
    """A single object larger than the whole queue's byte budget."""


class BadEntry(ValueError):
    """An object ``push`` refuses (a key or metadata S3 would refuse, so it could never
    be uploaded), or a queue file that is not an entry as ``push`` writes one."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One queued object."""

    name: str
    key: str
    body: bytes
    metadata: dict[str, str]
    enqueued_at: float


@dataclass(slots=True)
class _Slot:
    name: str
    size: int
    enqueued_at: float


class ForwardQueue:
    """A FIFO of objects in ``directory``, at most ``max_bytes`` and ``max_age_s`` old."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 256 * 1024 * 1024,
        max_age_s: float = 24 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes <= 0 or max_age_s <= 0:
            raise ValueError("queue max_bytes and max_age_s must be positive")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._notes_lock = threading.Lock()  # corrupt/, written and pruned from any caller
        self.directory.mkdir(parents=True, exist_ok=True)
        self._slots: deque[_Slot] = deque()
        self._bytes = 0
        self._seq = 0
        self.dropped = 0
        self.corrupt = 0
        self._recover()

    # -- startup ----------------------------------------------------------------------
    def _recover(self) -> None:
        for tmp in self.directory.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)  # a write the crash interrupted: never renamed
        state = self.directory / STATE_FILE
        if state.exists():
            try:
                self.dropped = _read_dropped(state)
            except (ValueError, OSError, RecursionError) as exc:
                log.warning(
                    "queue state %s unreadable (%s); dropped counter restarts at 0", state, exc
                )
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                enqueued_at = float(path.stem.split("-", 1)[0]) / 1000.0
                self._seq = max(self._seq, int(path.stem.split("-", 1)[1]) + 1)
                size = path.stat().st_size
            except (ValueError, IndexError, OSError):
                self._quarantine(path, "unexpected name")
                continue
            self._slots.append(_Slot(path.name, size, enqueued_at))
            self._bytes += size
        self._prune_notes()
        if self._slots:
            log.info(
                "queue %s: %d objects (%d bytes) waiting from before",
                self.directory,
                len(self._slots),
                self._bytes,
            )

    # -- size ---------------------------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    # -- writing ------------------------------------------------------------------------
    def push(self, key: str, body: bytes, metadata: Mapping[str, str]) -> str:
        """Persist one object (durable once this returns); drop the oldest if over budget.
        BadEntry for a key or metadata no store would take: queued, it would only be set
        aside at upload."""
        header = _encoded_header(key, metadata)
        data = _HEADER.pack(MAGIC, len(header)) + header + body
        if len(data) > self.max_bytes:
            raise QueueFull(f"{key} ({len(data)} bytes) exceeds the queue's {self.max_bytes}")
        with self._lock:
            now = self._clock()
            name = f"{int(now * 1000):013d}-{self._seq:09d}{SUFFIX}"
            self._seq += 1
            write_atomically(self.directory / name, data, durable=True)
            self._slots.append(_Slot(name, len(data), now))
            self._bytes += len(data)
            dropped = 0
            while self._bytes > self.max_bytes and len(self._slots) > 1:
                self._drop_oldest_locked()
                dropped += 1
        if dropped:
            self._save_state()
            log.error(
                "queue over %d bytes: dropped the %d oldest objects (%d dropped in all)",
                self.max_bytes,
                dropped,
                self.dropped,
            )
        return name

    def expire(self) -> int:
        """Drop objects older than ``max_age_s``, and notes of set-aside ones; return how
        many objects."""
        self._prune_notes()
        cutoff = self._clock() - self.max_age_s
        dropped = 0
        with self._lock:
            while self._slots and self._slots[0].enqueued_at < cutoff:
                self._drop_oldest_locked()
                dropped += 1
        if dropped:
            self._save_state()
            log.error(
                "queue: dropped %d objects older than %.0fs (%d dropped in all)",
                dropped,
                self.max_age_s,
                self.dropped,
            )
        return dropped

    def _drop_oldest_locked(self) -> None:
        slot = self._slots.popleft()
        (self.directory / slot.name).unlink(missing_ok=True)
        self._bytes -= slot.size
        self.dropped += 1

    def _save_state(self) -> None:
        write_atomically(
            self.directory / STATE_FILE,
            json.dumps({"dropped": self.dropped}).encode(),
            durable=True,
        )

    # -- reading ------------------------------------------------------------------------
    def peek(self) -> QueueEntry | None:
        """The oldest entry, or None when empty. Unreadable entries are set aside."""
        while True:
            with self._lock:
                if not self._slots:
                    return None
                slot = self._slots[0]
            path = self.directory / slot.name
            try:
                key, metadata, body = _parse_entry(path.read_bytes())
                return QueueEntry(slot.name, key, body, metadata, slot.enqueued_at)
            except (OSError, ValueError) as exc:  # BadEntry is a ValueError
                with self._lock:
                    still_queued = bool(self._slots) and self._slots[0] is slot
                    if still_queued:
                        self._slots.popleft()
                        self._bytes -= slot.size
                if still_queued:
                    self._quarantine(path, str(exc))
                # else a push over budget dropped it meanwhile (the edge's frame loop
                # pushes while its uploader peeks): gone, with nothing to set aside.

    def remove(self, entry: QueueEntry) -> None:
        """Forget an uploaded entry."""
        with self._lock:
            self._forget(entry)
            (self.directory / entry.name).unlink(missing_ok=True)

    def set_aside(self, entry: QueueEntry, why: str) -> None:
        """Set aside an entry that can never be uploaded (a key outside the crop key
        scheme) like the unreadable ones, so it does not block the entries behind it."""
        with self._lock:
            self._forget(entry)
        self._quarantine(self.directory / entry.name, why, key=entry.key)

    def _forget(self, entry: QueueEntry) -> None:
        """Drop ``entry``'s slot and its bytes from the count (the caller holds the lock)."""
        for i, slot in enumerate(self._slots):
            if slot.name == entry.name:
                del self._slots[i]
                self._bytes -= slot.size
                break

    # -- set aside ----------------------------------------------------------------------
    def _quarantine(self, path: Path, why: str, *, key: str | None = None) -> None:
        """Delete an entry that can never be uploaded, face pixels and all, and leave a
        note of why in ``corrupt/`` (the module's docstring says why nothing more)."""
        self.corrupt += 1
        size = _size(path)
        _delete(path)
        log.error("queue entry %s (key %s) set aside and deleted: %s", path.name, key, why)
        try:
            self._write_note(entry=path.name, key=key, size=size, why=why)
        except OSError as exc:  # the bytes are gone, which matters; the log says why
            log.warning("no note written for set-aside entry %s: %s", path.name, exc)

    def _write_note(self, *, entry: str, key: str | None, size: int, why: str) -> None:
        now = self._clock()
        note = {
            "entry": _cut(entry),
            "key": None if key is None else _cut(key),
            "bytes": size,
            "why": _cut(why),
            "set_aside_at": now,
        }
        folder = self.directory / CORRUPT_DIR
        with self._notes_lock:
            folder.mkdir(exist_ok=True)
            name = f"{int(now * 1000):013d}-{secrets.token_hex(4)}.json"
            write_atomically(folder / name, json.dumps(note).encode())
        self._prune_notes()

    def _prune_notes(self) -> None:
        """Hold ``corrupt/`` to its limits: notes younger than ``max_age_s``, at most
        CORRUPT_MAX_BYTES in all, the newest kept; anything that is not a note deleted."""
        folder = self.directory / CORRUPT_DIR
        cutoff_ms = (self._clock() - self.max_age_s) * 1000
        with self._notes_lock:
            if not folder.is_dir():
                return
            notes = []
            for path in folder.iterdir():
                match = _NOTE_NAME.match(path.name)
                if match is None or int(match[1]) < cutoff_ms:
                    _delete(path)
                else:
                    notes.append(path)
            notes.sort(key=lambda path: path.name, reverse=True)  # newest first
            kept = 0
            for path in notes:
                kept += _size(path)
                if kept > CORRUPT_MAX_BYTES:
                    _delete(path)


def _read_dropped(state: Path) -> int:
    """The ``dropped`` counter a state file holds; ValueError for any other content."""
    state_data = json.loads(state.read_text())
    dropped = state_data.get("dropped", 0) if isinstance(state_data, dict) else None
    if isinstance(dropped, bool) or not isinstance(dropped, int) or dropped < 0:
        raise ValueError(f"dropped is {dropped!r}, not a count")
    return dropped


def _encoded_header(key: str, metadata: Mapping[str, str]) -> bytes:
    """The header ``push`` writes for an object; BadEntry if no store would take it."""
    checked_key, checked_metadata = _checked_fields(key, metadata)
    header = json.dumps({"key": checked_key, "metadata": checked_metadata}).encode()
    if len(header) > MAX_HEADER_BYTES:
        raise BadEntry(f"the header of {key!r} is {len(header)} bytes, over {MAX_HEADER_BYTES}")
    return header


def _parse_entry(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """The key, metadata and body of an entry file. Everything in it is checked, types
    and sizes, before use: BadEntry (never a TypeError or a RecursionError) for a file
    that ``push`` did not write, so ``peek`` sets it aside and the queue moves on."""
    if len(data) < _HEADER.size:
        raise BadEntry(f"{len(data)} bytes: shorter than an entry's {_HEADER.size}-byte start")
    magic, header_len = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise BadEntry("bad magic")
    end = _HEADER.size + header_len
    if header_len > MAX_HEADER_BYTES or end > len(data):
        raise BadEntry(
            f"declares a {header_len}-byte header; the limit is {MAX_HEADER_BYTES} and the"
            f" file holds {len(data) - _HEADER.size} bytes after its start"
        )
    try:
        header = json.loads(data[_HEADER.size : end])
    except (ValueError, RecursionError) as exc:
        raise BadEntry(f"the header is not JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise BadEntry(f"the header is a {type(header).__name__}, not an object")
    key, metadata = _checked_fields(header.get("key"), header.get("metadata"))
    return key, metadata, data[end:]


def _checked_fields(key: object, metadata: object) -> tuple[str, dict[str, str]]:
    """``key`` and ``metadata`` if a store can take them: a key of 1 to MAX_KEY_BYTES, and
    string metadata of at most MAX_METADATA_BYTES counted as S3 counts it (the UTF-8
    bytes of every name and value); BadEntry otherwise."""
    if not isinstance(key, str) or not 0 < _utf8_bytes(key) <= MAX_KEY_BYTES:
        raise BadEntry(f"the key is not a string of 1 to {MAX_KEY_BYTES} bytes: {key!r:.80}")
    if not isinstance(metadata, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in metadata.items()
    ):
        raise BadEntry(f"the metadata of {key!r} is not an object of strings")
    size = sum(_utf8_bytes(name) + _utf8_bytes(value) for name, value in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise BadEntry(f"the metadata of {key!r} is {size} bytes, over {MAX_METADATA_BYTES}")
    return key, dict(metadata)


def _utf8_bytes(text: str) -> int:
    """The length S3 counts; BadEntry for text no store can take (a lone surrogate)."""
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise BadEntry(f"{text!r:.80} is not valid Unicode: {exc.reason}") from None


def _cut(text: str) -> str:
    """``text`` cut to NOTE_TEXT_CHARS, marked as cut."""
    return text if len(text) <= NOTE_TEXT_CHARS else text[: NOTE_TEXT_CHARS - 3] + "..."


def _size(path: Path) -> int:
    """A file's size, 0 if it is gone already."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _delete(path: Path) -> None:
    """Delete a file set aside or past its limits; a failure is logged, not raised: the
    next prune or start tries again, and the queue goes on meanwhile."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.error("could not delete %s: %s", path, exc)
