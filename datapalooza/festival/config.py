"""The festival's line-up: which stages, which camera source and inference path each.

From the command line (``--stages 3``) or a festival file::

    stages:
      - name: main
        source: synthetic:stage=main,seed=1
        path: cloud            # camera -> endpoint (Challenge 1+2)
      - name: dance
        source: file:/videos/dance.mp4?loop
        path: edge             # detector on the device (Challenge 3)
    setlist: setlist.yaml      # optional, relative to this file
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapalooza.domain.keys import InvalidName, validate_slug
from datapalooza.sources.base import InvalidSourceSpec
from datapalooza.sources.spec import validate_spec
from datapalooza.user_documents import DocumentError, read_document

PATHS = ("cloud", "edge")
MAX_FILE_BYTES = 64 * 1024
"""A festival file lists a few stages: a few hundred bytes."""
DEFAULT_STAGE_NAMES = ("main", "dance", "acoustic", "electro", "folk", "indie", "jazz", "metal")


class FestivalConfigError(ValueError):
    """A festival file or option we cannot use; the message says what to change."""


@dataclass(frozen=True, slots=True)
class StageConfig:
    name: str
    source: str
    path: str = "cloud"
    camera: str = "camera-1"

    def __post_init__(self) -> None:
        try:
            validate_slug(self.name, what="stage")
            validate_slug(self.camera, what="camera")
            validate_spec(self.source)
        except (InvalidName, InvalidSourceSpec) as exc:
            raise FestivalConfigError(f"stage {self.name!r}: {exc}") from exc
        if self.path not in PATHS:
            raise FestivalConfigError(
                f"stage {self.name!r}: path must be cloud or edge, not {self.path!r}"
            )


@dataclass(frozen=True, slots=True)
class FestivalConfig:
    stages: tuple[StageConfig, ...]
    setlist: Path | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            raise FestivalConfigError("the festival needs at least one stage")
        names = [s.name for s in self.stages]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise FestivalConfigError(f"stage names must be unique: {', '.join(duplicated)}")


def stage_names(count: int) -> list[str]:
    if not 1 <= count <= 64:
        raise FestivalConfigError("--stages must be between 1 and 64")
    names = list(DEFAULT_STAGE_NAMES[:count])
    names += [f"stage-{i}" for i in range(len(names) + 1, count + 1)]
    return names


def default_config(
    count: int, *, edge_stages: Sequence[str] = (), width: int = 1280, height: int = 720
) -> FestivalConfig:
    """``count`` stages on the synthetic festival source."""
    names = stage_names(count)
    unknown = sorted(set(edge_stages) - set(names))
    if unknown:
        raise FestivalConfigError(f"--edge names unknown stages: {', '.join(unknown)}")
    return FestivalConfig(
        tuple(
            StageConfig(
                name=name,
                source=f"synthetic:stage={name},seed={index},width={width},height={height}",
                path="edge" if name in edge_stages else "cloud",
            )
            for index, name in enumerate(names)
        )
    )


def load_config(path: Path) -> FestivalConfig:
    try:
        data: Any = read_document(path, max_bytes=MAX_FILE_BYTES, what="festival file")
    except DocumentError as exc:
        raise FestivalConfigError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        raise FestivalConfigError(f"festival file {path} needs a 'stages:' list")
    stages = []
    for index, entry in enumerate(data["stages"]):
        if not isinstance(entry, dict) or "name" not in entry:
            raise FestivalConfigError(f"{path}: stage #{index + 1} needs at least a name")
        name = str(entry["name"])
        stages.append(
            StageConfig(
                name=name,
                source=str(entry.get("source") or f"synthetic:stage={name},seed={index}"),
                path=str(entry.get("path", "cloud")),
                camera=str(entry.get("camera", "camera-1")),
            )
        )
    setlist = data.get("setlist")
    return FestivalConfig(tuple(stages), setlist=(path.parent / str(setlist)) if setlist else None)
