"""The synthetic festival: crowd frames composed from real face photographs.

Each frame is a night-time festival scene (sky, moving stage-light beams, a silhouetted
crowd, sensor noise) with real portraits pasted at varied positions and sizes — far rows
of small faces like a real crowd, a few near ones — under varied lighting, tint,
mirroring and a slight tilt. Frame ``n`` of ``(seed, stage)`` is always the same image.

A per-stage *mood script* decides which photos appear when: phases of virtual time
(frame index / fps) with weights over the portraits, so one stage's crowd smiles more
during its headliner while another stays neutral. The expressions are the photos' own
(see datapalooza.sources.portraits for what they honestly carry); the emotion model scores
them for real.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from datapalooza.domain.keys import validate_slug
from datapalooza.ports import RGBImage
from datapalooza.sources.base import Clock, Frame, SourceBase, frame_id_for, utc_now
from datapalooza.sources.portraits import Portrait, available_portraits


@dataclass(frozen=True, slots=True)
class MoodPhase:
    """``seconds`` of virtual time during which portraits appear with these weights."""

    seconds: float
    weights: Mapping[str, float]


# Smiling = astronaut (broad smile); neutral = grace_hopper (closed mouth). The scripts
# loop. A stage not listed gets a script derived from its name (see mood_script()).
MOOD_SCRIPTS: Mapping[str, tuple[MoodPhase, ...]] = {
    "main": (  # the headliner: the crowd warms up, a quieter song, then the hit
        MoodPhase(60, {"astronaut": 0.5, "grace_hopper": 0.5}),
        MoodPhase(45, {"astronaut": 0.15, "grace_hopper": 0.85}),
        MoodPhase(75, {"astronaut": 0.9, "grace_hopper": 0.1}),
    ),
    "dance": (
        MoodPhase(90, {"astronaut": 0.8, "grace_hopper": 0.2}),
        MoodPhase(30, {"astronaut": 0.6, "grace_hopper": 0.4}),
    ),
    "acoustic": (
        MoodPhase(90, {"astronaut": 0.1, "grace_hopper": 0.9}),
        MoodPhase(60, {"astronaut": 0.35, "grace_hopper": 0.65}),
    ),
}


def mood_script(stage: str) -> tuple[MoodPhase, ...]:
    """The stage's script; unknown stages get a stable one derived from the name."""
    if stage in MOOD_SCRIPTS:
        return MOOD_SCRIPTS[stage]
    rng = np.random.default_rng(zlib.crc32(stage.encode()))
    phases = []
    for _ in range(3):
        smile = float(rng.uniform(0.1, 0.9))
        seconds = float(rng.integers(30, 90))
        phases.append(MoodPhase(seconds, {"astronaut": smile, "grace_hopper": 1.0 - smile}))
    return tuple(phases)


def phase_at(script: Sequence[MoodPhase], seconds: float) -> MoodPhase:
    """The phase active at ``seconds`` of virtual time (scripts loop)."""
    total = sum(p.seconds for p in script)
    t = seconds % total
    for phase in script:
        if t < phase.seconds:
            return phase
        t -= phase.seconds
    return script[-1]


@dataclass(frozen=True, slots=True)
class PlacedFace:
    """Ground truth for one pasted face: which photo, and the face's pixel box."""

    portrait: str
    box: tuple[int, int, int, int]  # x, y, w, h of the face in the frame
    mirrored: bool


_STAGE_COLOURS = np.array(
    [(255, 40, 160), (40, 120, 255), (255, 200, 40), (60, 255, 120), (200, 60, 255)],
    dtype=np.float32,
)


class SyntheticFestivalSource(SourceBase):
    """Deterministic crowd frames of real faces for one stage (``synthetic:stage=main``).

    ``faces`` is how many faces a frame holds, ``min_face_px``/``max_face_px`` the range
    of face widths from the back row to the front, ``fps`` how virtual time advances per
    frame (for the mood script), ``frames`` an optional length (then SourceExhausted).
    """

    def __init__(
        self,
        *,
        stage: str = "main",
        seed: int = 0,
        width: int = 1280,
        height: int = 720,
        faces: int = 14,
        min_face_px: int = 18,
        max_face_px: int = 110,
        fps: float = 1.0,
        frames: int | None = None,
        portraits: Sequence[str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        validate_slug(stage, what="stage")
        if not (64 <= width <= 4096 and 64 <= height <= 4096):
            raise ValueError(f"synthetic frame size {width}x{height} out of range 64-4096")
        if not 0 <= faces <= 200:
            raise ValueError(f"synthetic faces={faces} out of range 0-200")
        if not 8 <= min_face_px <= max_face_px:
            raise ValueError(f"need 8 <= min_face_px ({min_face_px}) <= max_face_px")
        if fps <= 0:
            raise ValueError("synthetic fps must be positive")
        self.name = f"synthetic:stage={stage},seed={seed}"
        self.stage = stage
        self.seed = seed
        self.width = width
        self.height = height
        self.faces = faces
        self.min_face_px = min_face_px
        self.max_face_px = min(max_face_px, height // 3)
        self.fps = fps
        self.frames = frames
        self.script = mood_script(stage)
        installed = {p.name: p for p in available_portraits()}
        wanted = list(portraits) if portraits else list(installed)
        unknown = [n for n in wanted if n not in installed]
        if unknown:
            raise ValueError(
                f"unknown or uninstalled portraits {unknown}; available: {sorted(installed)}"
            )
        self.portraits = [installed[n] for n in wanted]
        self._clock = clock
        self._index = 0
        self._stage_code = zlib.crc32(stage.encode())
        self._background = self._make_background()
        self.last_faces: list[PlacedFace] = []

    # -- the FrameSource port -------------------------------------------------------
    def read(self) -> Frame:
        from datapalooza.sources.base import SourceExhausted

        if self.frames is not None and self._index >= self.frames:
            raise SourceExhausted(f"end of {self.name} after {self.frames} frames")
        image, self.last_faces = self.compose(self._index)
        frame = Frame(image, frame_id_for(self._index), self._clock(), self._index)
        self._index += 1
        return frame

    # -- composition --------------------------------------------------------------
    def compose(self, index: int) -> tuple[RGBImage, list[PlacedFace]]:
        """Frame ``index``: the image and where each face went (deterministic).

        Drawn in 8 bits with OpenCV's saturating operations throughout (an earlier
        float32 canvas cost twice the CPU a frame: bench/festival.py's synthetic source
        line, and every camera of ``datapalooza up`` renders one a second)."""
        rng = np.random.default_rng((self.seed, self._stage_code, index))
        canvas = np.asarray(cv2.add(self._background, self._beams(index, rng)), np.uint8)
        phase = phase_at(self.script, index / self.fps)
        placed: list[PlacedFace] = []
        for x, y, size in self._layout(rng):
            portrait = self._pick(phase, rng)
            placed.append(self._paste(canvas, portrait, x, y, size, rng))
        _add_grain(canvas, rng)
        return canvas, placed

    def _pick(self, phase: MoodPhase, rng: np.random.Generator) -> Portrait:
        weights = np.array([phase.weights.get(p.name, 0.0) for p in self.portraits], float)
        if weights.sum() <= 0:
            weights = np.ones(len(self.portraits))
        return self.portraits[int(rng.choice(len(self.portraits), p=weights / weights.sum()))]

    def _layout(self, rng: np.random.Generator) -> list[tuple[int, int, int]]:
        """Face centres and widths, back rows (small, high) first so front rows cover them."""
        spots: list[tuple[int, int, int]] = []
        taken: list[tuple[float, float, float]] = []
        top, bottom = 0.42 * self.height, 0.86 * self.height
        for _ in range(self.faces * 20):
            if len(spots) >= self.faces:
                break
            depth = float(rng.uniform(0.0, 1.0)) ** 1.6  # more faces far away, like a crowd
            size = int(self.min_face_px + depth * (self.max_face_px - self.min_face_px))
            y = top + depth * (bottom - top)
            x = float(rng.uniform(size, self.width - size))
            if any(math.hypot(x - tx, y - ty) < 0.9 * (size + ts) for tx, ty, ts in taken):
                continue
            taken.append((x, y, size))
            spots.append((int(x), int(y), size))
        return sorted(spots, key=lambda s: s[2])

    def _paste(
        self,
        canvas: RGBImage,
        portrait: Portrait,
        cx: int,
        cy: int,
        face_w: int,
        rng: np.random.Generator,
    ) -> PlacedFace:
        fx, fy, fw, fh = portrait.face
        scale = face_w / fw
        ph, pw = portrait.image.shape[:2]
        out_w, out_h = max(2, round(pw * scale)), max(2, round(ph * scale))
        scaled, mask = _scaled(portrait.name, out_w, out_h)
        patch: npt.NDArray[np.generic] = scaled
        mirrored = bool(rng.random() < 0.5)
        face_x = fx * scale
        if mirrored:
            patch, mask = patch[:, ::-1], mask[:, ::-1]
            face_x = pw * scale - (fx + fw) * scale
        angle = float(rng.uniform(-8.0, 8.0))
        rot = cv2.getRotationMatrix2D((out_w / 2, out_h / 2), angle, 1.0)
        patch = cv2.warpAffine(
            np.ascontiguousarray(patch),
            rot,
            (out_w, out_h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        mask = np.asarray(
            cv2.warpAffine(np.ascontiguousarray(mask), rot, (out_w, out_h)), np.float32
        )
        # Lighting: overall gain (dim back rows, lit front rows) and a stage-light tint,
        # as one affine colour transform (8 bits in, 8 bits out, saturating).
        gain = float(rng.uniform(0.55, 1.25))
        tint = _STAGE_COLOURS[int(rng.integers(len(_STAGE_COLOURS)))]
        tint_amount = float(rng.uniform(0.0, 0.25))
        light = np.zeros((3, 4), np.float32)
        np.fill_diagonal(light[:, :3], gain * (1 - tint_amount))
        light[:, 3] = tint * tint_amount * gain
        lit = np.asarray(cv2.transform(patch, light), np.uint8)
        # A dark body under the head, so a face sits on someone rather than floating.
        body_colour = (float(rng.uniform(10, 60)),) * 3
        cv2.ellipse(
            canvas,
            (cx, cy + int(face_w * 1.3)),
            (int(face_w * 1.0), int(face_w * 0.8)),
            0,
            0,
            360,
            body_colour,
            -1,
        )
        # Top-left of the patch such that the face centre lands on (cx, cy).
        x0 = round(cx - face_x - face_w / 2)
        y0 = round(cy - (fy + fh / 2) * scale)
        _blend(canvas, lit, mask, x0, y0)
        box_h = round(fh * scale)
        return PlacedFace(
            portrait.name, (round(cx - face_w / 2), round(cy - box_h / 2), face_w, box_h), mirrored
        )

    def _make_background(self) -> RGBImage:
        rng = np.random.default_rng((self.seed, self._stage_code, 0xBAC))
        h, w = self.height, self.width
        t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        sky = (1 - t) * np.array([10, 8, 40], np.float32) + t * np.array([45, 20, 60], np.float32)
        canvas = np.broadcast_to(sky, (h, w, 3)).copy()
        # A silhouetted crowd: dark heads and shoulders filling the lower part.
        for _ in range(int(w * h / 4000)):
            depth = float(rng.uniform(0, 1))
            y = int((0.35 + 0.65 * depth) * h)
            x = int(rng.uniform(0, w))
            r = int(6 + depth * 40)
            shade = float(rng.uniform(8, 35))
            cv2.ellipse(canvas, (x, y), (r, int(r * 1.2)), 0, 0, 360, (shade,) * 3, -1)
            cv2.ellipse(
                canvas,
                (x, y + int(r * 2.2)),
                (int(r * 2.2), int(r * 1.4)),
                0,
                0,
                360,
                (shade * 0.8,) * 3,
                -1,
            )
        # The stage: a lit truss along the top.
        cv2.rectangle(canvas, (0, 0), (w, int(0.06 * h)), (30, 30, 36), -1)
        for x in range(0, w, max(1, w // 16)):
            cv2.circle(canvas, (x + w // 32, int(0.04 * h)), max(2, h // 120), (255, 240, 200), -1)
        return np.round(canvas).astype(np.uint8)

    def _beams(self, index: int, rng: np.random.Generator) -> RGBImage:
        """The frame's stage-light beams, at full size, to add to the background."""
        # Drawn at quarter resolution and upscaled: beams are soft, and this keeps a
        # 1280x720 frame cheap.
        h, w = self.height // 4, self.width // 4
        light = np.zeros((h, w, 3), np.float32)
        for k in range(4):
            base_x = (k + 0.5) * w / 4
            swing = math.sin(index / self.fps * 0.4 + k * 1.7 + self.seed)
            end_x = base_x + swing * w * 0.4
            colour = _STAGE_COLOURS[(k + self._stage_code) % len(_STAGE_COLOURS)]
            pts = np.array([[base_x, 0], [end_x - w * 0.08, h], [end_x + w * 0.08, h]], np.int32)
            layer = np.zeros_like(light)
            cv2.fillConvexPoly(layer, pts, colour.tolist())
            light += layer * float(rng.uniform(0.12, 0.25))
        light = np.asarray(cv2.GaussianBlur(light, (0, 0), 3), np.float32)
        small = np.clip(np.round(light), 0, 255).astype(np.uint8)
        return np.asarray(cv2.resize(small, (self.width, self.height)), np.uint8)


@lru_cache(maxsize=64)
def _portrait(name: str) -> tuple[RGBImage, npt.NDArray[np.float32]]:
    (portrait,) = [p for p in available_portraits() if p.name == name]
    return portrait.image, _head_mask(portrait)


@lru_cache(maxsize=1024)
def _scaled(name: str, width: int, height: int) -> tuple[RGBImage, npt.NDArray[np.float32]]:
    """A portrait and its head mask resized to ``width`` x ``height``, shared by every
    source: face widths are whole pixels, so a crowd reuses a few hundred sizes, and the
    resizes were a third of a frame's cost. Read-only: callers take views and copies."""
    image, mask = _portrait(name)
    patch = np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)
    scaled = np.asarray(cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA), np.float32)
    patch.flags.writeable = False
    scaled.flags.writeable = False
    return patch, scaled


def _head_mask(portrait: Portrait) -> npt.NDArray[np.float32]:
    """A soft ellipse over the head (face and hair): the photo's studio backdrop stays
    out, so the pasted face blends into the crowd."""
    height, width = portrait.image.shape[:2]
    fx, fy, fw, fh = portrait.face
    mask = np.zeros((height, width), np.float32)
    centre = (fx + fw // 2, fy + int(fh * 0.42))
    cv2.ellipse(mask, centre, (int(fw * 0.68), int(fh * 0.72)), 0, 0, 360, 1.0, -1)
    blur = max(3, (fw // 8) | 1)
    return np.asarray(cv2.GaussianBlur(mask, (blur, blur), 0), np.float32)


def _blend(
    canvas: RGBImage,
    patch: RGBImage,
    mask: npt.NDArray[np.float32],
    x0: int,
    y0: int,
) -> None:
    """``patch`` over ``canvas`` at (x0, y0), weighted by ``mask`` (1: the patch)."""
    h, w = canvas.shape[:2]
    ph, pw = patch.shape[:2]
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(w, x0 + pw), min(h, y0 + ph)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    p = patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    m = mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1]  # views: OpenCV reads rows with their stride
    region[...] = cv2.blendLinear(region, p, 1 - m, m)


GRAIN_PAD = 32
"""Each frame's sensor grain is a window of a larger noise field, moved by up to this
many pixels, so frames differ without drawing a new field each time."""


def _add_grain(canvas: RGBImage, rng: np.random.Generator) -> None:
    """Sensor noise, the same on the three channels (luma grain), added in place with
    saturation: the field's positive part added, its negative part subtracted."""
    h, w = canvas.shape[:2]
    brighter, darker = _grain_field(w, h)
    dx, dy = (int(v) for v in rng.integers(0, GRAIN_PAD + 1, size=2))
    cv2.add(canvas, brighter[dy : dy + h, dx : dx + w], dst=canvas)
    cv2.subtract(canvas, darker[dy : dy + h, dx : dx + w], dst=canvas)


@lru_cache(maxsize=4)
def _grain_field(width: int, height: int) -> tuple[RGBImage, RGBImage]:
    """Gaussian grain (sigma 6 at half resolution, upscaled: soft, like a sensor's),
    ``GRAIN_PAD`` pixels larger than the frame each way, as its positive and negative
    parts in 8 bits. Shared by every source of that frame size. Read-only."""
    rng = np.random.default_rng(0x6A41)
    h, w = height + GRAIN_PAD, width + GRAIN_PAD
    noise = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32)
    grain = np.round(cv2.resize(noise * np.float32(6.0), (w, h))).astype(np.int16)
    parts = []
    for part in (np.clip(grain, 0, 255), np.clip(-grain, 0, 255)):
        three = np.repeat(part.astype(np.uint8)[:, :, None], 3, axis=2)
        three.flags.writeable = False
        parts.append(three)
    return parts[0], parts[1]
