"""SetlistStore on a JSON file: ``setlists.json`` in the festival's data directory,
which the dashboard and ``datapalooza up --setlist`` share."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path

from datapalooza.domain.setlists import Setlist, SetlistError
from datapalooza.system.atomic_write import write_atomically


class JsonSetlistStore:
    """SetlistStore: ``setlists.json`` holds the current setlist of each stage and is
    replaced atomically.

    Writers (the dashboard's POST, ``up --setlist``) write a temporary file and rename
    it over the old one, so a reader never sees half a file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def all(self) -> dict[str, Setlist]:
        """Every stored setlist by stage; a missing file means none."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SetlistError(f"cannot read {self.path}: {exc}") from exc
        stages = data.get("stages", {}) if isinstance(data, dict) else {}
        if not isinstance(stages, dict):
            raise SetlistError(f"{self.path}: 'stages' is not a mapping")
        return {stage: Setlist.from_json(body) for stage, body in stages.items()}

    def save(self, *setlists: Setlist) -> None:
        """Store (replace) the given stages' setlists, keeping the others."""
        with self._lock:
            current = self.all()
            for setlist in setlists:
                current[setlist.stage] = setlist
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
        write_atomically(self.path, body, prefix=".setlists-", suffix=".json")
