"""SetlistStore on a JSON file: ``setlists.json`` in the festival's data directory,
which the dashboard and ``datapalooza up --setlist`` share."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from datapalooza.domain.keys import MAX_STAGES
from datapalooza.domain.setlists import Setlist, SetlistError, SetlistStoreFull
from datapalooza.system.atomic_write import write_atomically

MAX_STORE_BYTES = 4 * 1024 * 1024
"""The largest setlists.json read or written: MAX_STAGES setlists at their limits (200
tracks of 200-character titles) fit with room to spare; a file past it was not written
by us, and a write past it is refused, so the store can always be read back."""


class JsonSetlistStore:
    """SetlistStore: ``setlists.json`` holds the current setlist of each stage and is
    replaced atomically.

    Writers (the dashboard's POST, ``up --setlist``) write a temporary file and rename
    it over the old one, so a reader never sees half a file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def all(self) -> dict[str, Setlist]:
        """Every stored setlist by stage; a missing file means none. A file edited by hand
        is still outside input: one over MAX_STORE_BYTES, or nested so deep that parsing
        it would exhaust the stack, is refused like a corrupt one."""
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(MAX_STORE_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SetlistError(f"cannot read {self._name}: {exc.strerror or exc}") from exc
        if len(raw) > MAX_STORE_BYTES:
            raise SetlistError(f"cannot read {self._name}: larger than {MAX_STORE_BYTES} bytes")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise SetlistError(f"cannot read {self._name}: {exc!r}") from exc
        stages = data.get("stages", {}) if isinstance(data, dict) else {}
        if not isinstance(stages, dict):
            raise SetlistError(f"{self._name}: 'stages' is not a mapping")
        return {stage: Setlist.from_json(body) for stage, body in stages.items()}

    @property
    def _name(self) -> str:
        # Errors name the file, not its directory: the dashboard's JSON answers carry them.
        return self.path.name

    def save(self, *setlists: Setlist) -> None:
        """Store (replace) the given stages' setlists, keeping the others; SetlistStoreFull
        when that would pass MAX_STAGES stages or MAX_STORE_BYTES (nothing is written)."""
        with self._lock:
            current = self.all()
            for setlist in setlists:
                current[setlist.stage] = setlist
            if len(current) > MAX_STAGES:
                raise SetlistStoreFull(
                    f"setlists are kept for at most {MAX_STAGES} stages; remove one first"
                )
            self._write(current)

    def delete(self, stage: str) -> bool:
        """Remove a stage's setlist; False if it had none."""
        with self._lock:
            current = self.all()
            if current.pop(stage, None) is None:
                return False
            self._write(current)
            return True

    def _write(self, setlists: Mapping[str, Setlist]) -> None:
        payload = {
            "version": 1,
            "stages": {stage: s.to_json() for stage, s in sorted(setlists.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(payload, indent=2).encode("utf-8")
        if len(body) > MAX_STORE_BYTES:
            raise SetlistStoreFull(f"the setlists would take over {MAX_STORE_BYTES} bytes")
        write_atomically(self.path, body, prefix=".setlists-", suffix=".json")
