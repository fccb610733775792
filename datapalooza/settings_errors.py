"""The error every typed settings object raises, and its range check.

A module of its own, with no imports, so that a Lambda can validate its settings
without loading the detector's dependencies (ONNX Runtime, OpenCV).
"""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting is missing or out of range; the message names it."""


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
