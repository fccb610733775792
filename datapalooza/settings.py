"""What every typed settings object shares: its error, its range check, and the rule
"explicit argument > environment variable > default".

A module of its own, with no heavy imports, so that a Lambda can validate its settings
without loading the detector's dependencies (ONNX Runtime, OpenCV).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

EnvReaders = Mapping[str, tuple[str, Callable[[str], Any]]]
"""field name -> (environment variable, parser)."""


class SettingsError(ValueError):
    """A setting is missing or out of range; the message names it."""


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")


def settings_values(
    env: Mapping[str, str],
    readers: EnvReaders,
    overrides: Mapping[str, Any],
    *,
    error: type[SettingsError] = SettingsError,
) -> dict[str, Any]:
    """Field values from the environment, then the explicit (non-None) overrides on top.
    Fields in neither keep their defaults. A value that does not parse names its variable."""
    values: dict[str, Any] = {}
    for name, (env_name, parse) in readers.items():
        raw = env.get(env_name, "").strip()
        if not raw:
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            raise error(f"{env_name}={raw!r} is not a valid {name}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values
