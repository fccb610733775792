"""The wheels model.tar.gz carries, so the inference container installs with no network.

The SageMaker PyTorch inference toolkit runs ``python -m pip install -r
/opt/ml/model/code/requirements.txt`` when the container starts
(aws/sagemaker-pytorch-inference-toolkit, ``torchserve.py``: ``_install_requirements``;
a failed install stops the endpoint). Our requirements.txt starts with
``--no-index --find-links wheels``: pip resolves a relative ``--find-links`` in a
requirements file against the file's own folder, so that install reads only
``code/wheels/`` and never a package index.

The wheels are downloaded here, at build time, for the container's platform and
Python (``pip download --platform ... --python-version ... --only-binary=:all:``), into
a cache under ``build/`` keyed by the pins and the platform: a warm cache builds the
artifact offline, and the same pins always give the same wheels.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

REPO_ROOT = Path(__file__).resolve().parent.parent
WHEEL_CACHE = REPO_ROOT / "build" / "model-wheels"
WHEELS_DIR = "wheels"  # under code/, next to requirements.txt
_COMPLETE = ".complete"


class WheelsUnavailable(RuntimeError):
    """The container's wheels are neither cached nor downloadable, or not all pinned."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelPlatform:
    """The interpreter and C library of the container that installs the wheels."""

    python_version: str  # "3.12"
    glibc: tuple[int, int]  # (2, 35): a manylinux_2_Y wheel runs when Y <= the container's
    architecture: str = "x86_64"

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """Every manylinux tag that glibc accepts, newest first (pip does not expand
        ``manylinux_2_Y`` tags by itself when given ``--platform``)."""
        major, minor = self.glibc
        arch = self.architecture
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
        return (*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}")

    def pip_target_args(self) -> list[str]:
        """pip options that pick wheels for this platform, never an sdist to compile."""
        return [
            *(arg for tag in self.pip_platforms for arg in ("--platform", tag)),
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--only-binary=:all:",
        ]


def requirement_pins(requirements_file: Path) -> tuple[str, ...]:
    """The ``name==version`` lines of a requirements file (comments and options dropped)."""
    pins = []
    for raw in requirements_file.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            if "==" not in line:
                raise WheelsUnavailable(f"{requirements_file}: {line!r} is not an exact pin")
            pins.append(line)
    return tuple(pins)


def fetch_wheels(
    pins: tuple[str, ...], platform: WheelPlatform, *, cache_root: Path = WHEEL_CACHE
) -> Path:
    """The folder of wheels for ``pins`` on ``platform``: from the cache, or downloaded.

    Every wheel pip brings (dependencies included) must be pinned, so the artifact
    never changes because the index gained a release.
    """
    folder = cache_root / _cache_key(pins, platform)
    if (folder / _COMPLETE).is_file():
        return folder
    cache_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root) as tmp:
        staging = Path(tmp) / "wheels"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--dest",
            str(staging),
            *platform.pip_target_args(),
            *pins,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise WheelsUnavailable(
                f"could not download the endpoint's wheels for Python {platform.python_version} "
                f"on {platform.architecture} (needs the package index once; later builds use "
                f"{cache_root}):\n{result.stderr.strip()}"
            )
        _check_all_pinned(staging, pins)
        (staging / _COMPLETE).write_text("\n".join(pins) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    return folder


def wheel_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.whl"))


def _check_all_pinned(folder: Path, pins: tuple[str, ...]) -> None:
    pinned = {canonicalize_name(pin.split("==", 1)[0]): pin.split("==", 1)[1] for pin in pins}
    loose = []
    for wheel in wheel_files(folder):
        name, version, *_ = parse_wheel_filename(wheel.name)
        if pinned.get(name) != str(version):
            loose.append(f"{name}=={version}")
    if loose:
        raise WheelsUnavailable(
            "the endpoint's requirements pull in unpinned wheels; pin them in "
            f"model/code/requirements.txt: {', '.join(loose)}"
        )


def _cache_key(pins: tuple[str, ...], platform: WheelPlatform) -> str:
    digest = hashlib.sha256()
    for part in (*pins, *platform.pip_target_args()):
        digest.update(part.encode() + b"\0")
    return f"py{platform.python_version}-{platform.architecture}-{digest.hexdigest()[:16]}"
