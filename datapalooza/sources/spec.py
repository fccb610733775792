"""Parse a source spec into a FrameSource.

Specs:
  ``synthetic:stage=main,seed=1[,faces=14,width=1280,height=720,fps=1,frames=N]``
  ``file:/path/video.mp4[?loop]``   ``dir:/path/to/images[?loop]``
  ``webcam:0``   ``rtsp://host/stream``   ``http://host/stream.mjpg`` (also https, rtmp)
"""

from __future__ import annotations

from pathlib import Path

from datapalooza.sources.base import Clock, FrameSource, InvalidSourceSpec, utc_now
from datapalooza.sources.folder import FolderSource
from datapalooza.sources.opencv import LiveCaptureSource, VideoFileSource
from datapalooza.sources.synthetic import SyntheticFestivalSource

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://")
_SYNTHETIC_INT = {"seed", "faces", "width", "height", "frames", "min_face_px", "max_face_px"}


def _split_loop(rest: str) -> tuple[str, bool]:
    if rest.endswith("?loop"):
        return rest[: -len("?loop")], True
    return rest, False


def _parse_synthetic(options: str, stage: str | None, clock: Clock) -> SyntheticFestivalSource:
    kwargs: dict[str, object] = {}
    for part in filter(None, options.split(",")):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise InvalidSourceSpec(f"synthetic option {part!r} is not key=value")
        try:
            if key in _SYNTHETIC_INT:
                kwargs[key] = int(value)
            elif key == "fps":
                kwargs[key] = float(value)
            elif key == "stage":
                kwargs[key] = value.strip()
            elif key == "portraits":
                kwargs[key] = [p for p in value.split("+") if p]
            else:
                raise InvalidSourceSpec(
                    f"unknown synthetic option {key!r} (stage, seed, faces, width, height, "
                    "fps, frames, min_face_px, max_face_px, portraits)"
                )
        except ValueError as exc:
            if isinstance(exc, InvalidSourceSpec):
                raise
            raise InvalidSourceSpec(f"synthetic option {key}={value!r}: {exc}") from exc
    kwargs.setdefault("stage", stage or "main")
    try:
        return SyntheticFestivalSource(clock=clock, **kwargs)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidSourceSpec(f"synthetic source: {exc}") from exc


def redacted(spec: str) -> str:
    """``spec`` as it may be shown: a stream URL's user and password (an IP camera's
    ``rtsp://admin:secret@10.0.0.5/stream``) become ``***``. A source's name, the
    festival's status file and the dashboard's JSON carry this, never the credentials."""
    spec = spec.strip()
    if not spec.startswith(STREAM_SCHEMES):
        return spec
    scheme, _, rest = spec.partition("://")
    authority, slash, path = rest.partition("/")
    _, at, host = authority.rpartition("@")
    return f"{scheme}://{'***@' if at else ''}{host}{slash}{path}"


def validate_spec(spec: str) -> None:
    """Raise InvalidSourceSpec if ``spec`` is malformed, without opening anything (a
    webcam or stream that is not there yet is not a spec error)."""
    spec = spec.strip()
    scheme, sep, rest = spec.partition(":")
    if spec.startswith(STREAM_SCHEMES):
        return
    if sep and scheme == "webcam":
        if not rest.isdigit():
            raise InvalidSourceSpec(f"webcam source: {rest!r} is not a device index (webcam:0)")
        return
    if sep and scheme in ("synthetic", "file", "dir"):
        open_source(spec).close()
        return
    raise InvalidSourceSpec(_unknown(spec))


def _unknown(spec: str) -> str:
    return (
        f"unknown source {spec!r}: use synthetic:stage=S,seed=N | file:PATH | dir:PATH | "
        "webcam:INDEX | rtsp://... | http(s)://..."
    )


def open_source(
    spec: str,
    *,
    stage: str | None = None,
    clock: Clock = utc_now,
    read_timeout_s: float = 5.0,
) -> FrameSource:
    """Open the source ``spec`` names; raise InvalidSourceSpec with the accepted forms."""
    spec = spec.strip()
    scheme, sep, rest = spec.partition(":")
    if spec.startswith(STREAM_SCHEMES):
        return LiveCaptureSource(
            spec, name=redacted(spec), clock=clock, read_timeout_s=read_timeout_s
        )
    if sep and scheme == "synthetic":
        return _parse_synthetic(rest, stage, clock)
    if sep and scheme == "file":
        path, loop = _split_loop(rest)
        if not Path(path).is_file():
            raise InvalidSourceSpec(f"file source: {path!r} does not exist")
        return VideoFileSource(path, loop=loop, clock=clock)
    if sep and scheme == "dir":
        path, loop = _split_loop(rest)
        return FolderSource(Path(path), loop=loop, clock=clock)
    if sep and scheme == "webcam":
        if not rest.isdigit():
            raise InvalidSourceSpec(f"webcam source: {rest!r} is not a device index (webcam:0)")
        return LiveCaptureSource(
            int(rest), name=f"webcam:{rest}", clock=clock, read_timeout_s=read_timeout_s
        )
    raise InvalidSourceSpec(_unknown(spec))
