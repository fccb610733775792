"""The terminal's view of a running festival: one live line on a TTY, a periodic
log line elsewhere (CI, files)."""

from __future__ import annotations

import time
from typing import Any, TextIO


class StatusLine:
    def __init__(self, stream: TextIO, *, every_s: float = 10.0) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._every_s = every_s
        self._last = 0.0
        self._width = 0

    @staticmethod
    def render(status: dict[str, Any]) -> str:
        stages = " | ".join(
            f"{name}: {s['frames']} frames {s['faces']} faces {s.get('scored', 0)} scored"
            + (f" {s['errors']} errors" if s.get("errors") else "")
            for name, s in status.get("stages", {}).items()
        )
        tracker = status.get("tracker", {})
        return (
            f"[{status.get('elapsed_s', 0):6.0f}s] {stages} || scored {tracker.get('scored', 0)}"
            f" no-face {tracker.get('no_face', 0)} pending {tracker.get('pending', 0)}"
        )

    def update(self, status: dict[str, Any]) -> None:
        text = self.render(status)
        if self._tty:
            pad = max(0, self._width - len(text))
            self._stream.write("\r" + text + " " * pad)
            self._width = len(text)
            self._stream.flush()
        elif time.monotonic() - self._last >= self._every_s:
            self._last = time.monotonic()
            self._stream.write(text + "\n")
            self._stream.flush()

    def finish(self) -> None:
        if self._tty and self._width:
            self._stream.write("\n")
            self._stream.flush()

    def summary(self, status: dict[str, Any]) -> str:
        lines = ["DataPalooza summary (scores describe facial expressions, not feelings):"]
        for name, s in status.get("stages", {}).items():
            lines.append(
                f"  {name:<10} {s['path']:<5} frames {s['frames']:>5}  faces {s['faces']:>6}"
                # Faces under the minimum crop size are found but never cropped or scored.
                + (f"  cropped {s['crops']:>6}" if "crops" in s else "")
                + f"  scored {s.get('scored', 0):>6}  errors {s['errors']}"
            )
        t = status.get("tracker", {})
        lines.append(
            f"  tracker    scored {t.get('scored', 0)}, no face {t.get('no_face', 0)}, "
            f"failed {t.get('failed', 0)}, pending {t.get('pending', 0)}"
        )
        return "\n".join(lines)
