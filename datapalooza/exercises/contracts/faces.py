"""What ``store_crops`` must do: store every face crop of a frame, or none of them
(Challenge 1, the endpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datapalooza.detection.face_crops import FaceCrop
from datapalooza.domain.detections import BoundingBox, Detection
from datapalooza.exercises.checks import Check, Implementation
from datapalooza.ports import StoreError
from datapalooza.testing.fakes import FakeFaceStore

KEYS = [f"faces/main/2026/07/19/21/1784494800000-f000042-{i}.jpg" for i in range(3)]


def _crops() -> list[FaceCrop]:
    box = BoundingBox(0.1, 0.1, 0.2, 0.3)
    return [
        FaceCrop(
            Detection(box, 99.0, 80, crop_key=key),
            b"jpeg-%d" % index,
            {"stage": "main", "camera": "cam-1", "frame": "f000042"},
            np.zeros((80, 80, 3), dtype=np.uint8),
        )
        for index, key in enumerate(KEYS)
    ]


def stores_every_crop(store_crops: Implementation, workdir: Path) -> None:
    store = FakeFaceStore()
    store_crops(_crops(), store)
    assert sorted(store.objects) == KEYS, f"stored {sorted(store.objects)}; expected {KEYS}"
    body, metadata = store.objects[KEYS[1]]
    assert body == b"jpeg-1", "a crop's bytes were not stored under its own key"
    assert metadata == {"stage": "main", "camera": "cam-1", "frame": "f000042"}, (
        f"metadata {metadata} differs from the crop's"
    )


def all_or_nothing(store_crops: Implementation, workdir: Path) -> None:
    store = FakeFaceStore(fail_after=2)
    try:
        store_crops(_crops(), store)
    except StoreError:
        pass
    else:
        raise AssertionError("the third put failed but store_crops did not raise StoreError")
    assert store.objects == {}, (
        f"{sorted(store.objects)} were left behind: the crops written before the failure "
        "must be deleted"
    )


def rollback_failure_keeps_the_error(store_crops: Implementation, workdir: Path) -> None:
    store = FakeFaceStore(fail_after=1, delete_fails=True)
    try:
        store_crops(_crops(), store)
    except StoreError as exc:
        assert "unreachable" in str(exc), (
            f"raised {exc!r}; the caller must see the put's error, not the rollback's"
        )
    else:
        raise AssertionError("store_crops did not raise when a put failed")


def no_crops_no_calls(store_crops: Implementation, workdir: Path) -> None:
    store = FakeFaceStore()
    store_crops([], store)
    assert store.attempts == [], "a frame without faces must not touch the store"


CHECKS = (
    Check(
        "stores every crop under its key with its bytes and metadata",
        "for crop in crops: store.put(crop.key, crop.jpeg, crop.metadata)",
        stores_every_crop,
    ),
    Check(
        "all or nothing: when a put fails, the crops already written are deleted and "
        "the StoreError is raised",
        "remember the keys written; on StoreError delete each with store.delete(key), "
        "then re-raise",
        all_or_nothing,
    ),
    Check(
        "a delete that fails during the rollback does not hide the original error",
        "wrap each store.delete in its own try/except StoreError (log it) and re-raise "
        "the put's error at the end",
        rollback_failure_keeps_the_error,
    ),
    Check(
        "a frame without faces stores nothing",
        "an empty list needs no special case when you loop over it",
        no_crops_no_calls,
    ),
)
