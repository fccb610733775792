"""score_crops on crops and crop sheets bigger than any the endpoint or an edge device
makes. One that declares more than a crop's limits, or a sheet whose image is not the
size its layout says, is REJECTED from its header, before a pixel is decoded; a big crop
within the limits is reduced to a crop's working size and scored. Its neighbours are
scored either way, and crops read side by side are decoded one at a time."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image

import datapalooza.emotions.scoring as tracker_module
from datapalooza.domain.emotions import Emotion
from datapalooza.domain.keys import SheetKey
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops
from datapalooza.images import CROP_WORKING_PIXELS, MAX_CROP_SIDE, BadImage, decode_crop
from datapalooza.ports import AnalyzedFace, RGBImage
from datapalooza.testing.fakes import FakeFaceStore, FakeMetricsSink, FakeResultsTable
from tests.helpers.emotions import T0, crop_key, scores, solid_jpeg
from tests.helpers.images import declared_png

HAPPY = scores(happy=90.0, calm=10.0)


class Recording:
    """A DecodedCropAnalyzer that finds a happy face in every crop and keeps the pixels
    it was given."""

    name = "recording"
    unsupported: frozenset[Emotion] = frozenset()
    max_batch = 8

    def __init__(self) -> None:
        self.images: list[RGBImage] = []

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        raise AssertionError("the tracker hands over the crops it decoded")

    def analyze_decoded(self, images: Sequence[RGBImage]) -> list[AnalyzedFace]:
        self.images.extend(images)
        return [AnalyzedFace(HAPPY) for _ in images]


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def run(store: FakeFaceStore, refs: list[CropRef], analyzer: Recording, *, at_once: int = 1):
    return score_crops(
        refs,
        store=store,
        analyzer=analyzer,
        results=FakeResultsTable(),
        metrics=FakeMetricsSink(),
        settings=TrackerSettings(),
        at_once=at_once,
    )


def put_crops(store: FakeFaceStore, bodies: Sequence[bytes]) -> list[CropRef]:
    for index, body in enumerate(bodies):
        store.put(crop_key(index=index), body, {"stage": "main", "camera": "cam-1"})
    return [CropRef(crop_key(index=index), f"m{index}") for index in range(len(bodies))]


def test_the_declared_png_would_not_decode() -> None:
    with pytest.raises(BadImage) as caught:
        decode_crop(declared_png(64, 64))
    assert caught.value.code == "corrupt_image"


def test_a_crop_declaring_more_than_a_crops_limits_is_rejected_and_its_neighbours_scored():
    store = FakeFaceStore()
    refs = put_crops(
        store,
        [
            solid_jpeg(200),
            declared_png(6000, 6000),  # 36 real ones took the tracker to 2.5 GB
            declared_png(MAX_CROP_SIDE + 1, 64),
            declared_png(64, 64),  # within the limits: decoded, and corrupt
            solid_jpeg(120),
        ],
    )
    report = run(store, refs, Recording(), at_once=4)

    assert [o.status for o in report.outcomes] == [
        CropStatus.SCORED,
        CropStatus.REJECTED,
        CropStatus.REJECTED,
        CropStatus.REJECTED,
        CropStatus.SCORED,
    ]
    details = [o.detail for o in report.outcomes]
    assert details[1].startswith("image_too_large: image declares 6000x6000 pixels")
    assert f"{MAX_CROP_SIDE} px a side" in details[1]
    assert details[2].startswith(f"image_too_large: image declares {MAX_CROP_SIDE + 1}x64")
    assert details[3].startswith("corrupt_image")
    assert report.failed_items == set()  # a retry would refuse them again


def test_a_big_crop_within_the_limits_is_scored_at_a_crops_working_size():
    gradient = np.linspace(0, 255, 3840, dtype=np.uint8)[None, :, None].repeat(3, axis=2)
    big_jpeg = Image.fromarray(np.repeat(gradient, 2160, axis=0))
    store = FakeFaceStore()
    refs = put_crops(
        store,
        [
            encoded(big_jpeg, "JPEG"),  # a face filling a 4K frame
            encoded(Image.new("RGB", (2000, 3000), (30, 60, 90)), "PNG"),
            solid_jpeg(200, size=(90, 72)),  # as the endpoint cuts them
        ],
    )
    analyzer = Recording()
    report = run(store, refs, analyzer)

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * 3
    wide, tall, small = (image.shape[:2] for image in analyzer.images)
    for height, width in (wide, tall):
        assert height * width <= CROP_WORKING_PIXELS and max(height, width) >= 512
    assert abs(wide[1] / wide[0] - 16 / 9) < 0.01 and abs(tall[0] / tall[1] - 1.5) < 0.01
    assert small == (90, 72)  # a crop within the working size is kept as it is


SHEET = str(SheetKey("main", T0, "f1", 0))
ONE_TILE = {"stage": "main", "camera": "edge-1", "cell": "80", "columns": "1", "tiles": "80x80"}


@pytest.mark.parametrize(
    ("declared", "detail"),
    [
        ((800, 800), "unexpected_size: image declares 800x800 pixels, not the 80x80 expected"),
        ((40, 80), "unexpected_size: image declares 40x80 pixels, not the 80x80 expected"),
        ((8000, 8000), "image_too_large: image declares 8000x8000 pixels"),
    ],
    ids=["bigger", "smaller", "over-the-limits"],
)
def test_a_sheet_whose_image_is_not_its_layouts_size_is_rejected_from_its_header(
    declared: tuple[int, int], detail: str
) -> None:
    store = FakeFaceStore()
    store.put(SHEET, declared_png(*declared), ONE_TILE)
    store.put(crop_key(index=7), solid_jpeg(200), {"stage": "main", "camera": "cam-1"})
    report = run(store, [CropRef(SHEET, "sheet"), CropRef(crop_key(index=7), "crop")], Recording())

    sheet, crop = report.outcomes
    assert sheet.status is CropStatus.REJECTED
    assert sheet.detail.startswith(f"not a usable crop sheet: {detail}")
    assert crop.status is CropStatus.SCORED


def test_crops_read_side_by_side_are_decoded_one_by_one_in_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each decode may hold a crop at full size for a moment: 8 at once in 8 threads
    took the 1,024 MB tracker Lambda to 1.4 GB."""
    reads: set[threading.Thread] = set()
    decodes: set[threading.Thread] = set()

    class ThreadNoting(FakeFaceStore):
        def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
            reads.add(threading.current_thread())
            return super().get(key, max_bytes=max_bytes)

    def noting(body: bytes, **kwargs: int) -> RGBImage:
        decodes.add(threading.current_thread())
        return decode_crop(body, **kwargs)

    monkeypatch.setattr(tracker_module, "decode_crop", noting)
    store = ThreadNoting()
    refs = put_crops(store, [solid_jpeg(40 + 10 * i) for i in range(8)])
    report = run(store, refs, Recording(), at_once=4)

    assert [o.status for o in report.outcomes] == [CropStatus.SCORED] * 8
    assert threading.current_thread() not in reads  # read side by side
    assert decodes == {threading.current_thread()}
