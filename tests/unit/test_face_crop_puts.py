"""``store_crops`` putting a frame's crops several at a time (the endpoint's S3 bucket):
all or none still, and never more puts at once than asked."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import botocore.endpoint
import numpy as np
import pytest

from datapalooza.adapters.aws.calls_at_once import CALLS_AT_ONCE
from datapalooza.adapters.aws.s3_face_store import S3FaceStore
from datapalooza.detection.face_crops import FaceCrop, store_crops
from datapalooza.domain.detections import BoundingBox, Detection
from datapalooza.ports import StoreError
from datapalooza.testing.fakes import FakeFaceStore

BARRIER_TIMEOUT_S = 10.0  # only reached when the puts do not overlap as they must


def crops(count: int) -> list[FaceCrop]:
    box = BoundingBox(0.1, 0.1, 0.2, 0.3)
    return [
        FaceCrop(
            Detection(box, 99.0, 80, crop_key=f"faces/main/2026/07/19/21/1784494800000-f1-{i}.jpg"),
            b"jpeg-%d" % i,
            {"stage": "main"},
            np.zeros((8, 8, 3), dtype=np.uint8),
        )
        for i in range(count)
    ]


class MeetingStore(FakeFaceStore):
    """Each put waits until ``parties`` puts are under way together, and the store
    records the most that ever were: puts one after another never meet, and the test
    fails on the barrier's timeout instead of passing."""

    def __init__(self, parties: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._barrier = threading.Barrier(parties, timeout=BARRIER_TIMEOUT_S)
        self._lock = threading.Lock()
        self._inside = 0
        self.most_at_once = 0

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        with self._lock:
            self._inside += 1
            self.most_at_once = max(self.most_at_once, self._inside)
        try:
            self._barrier.wait()
            with self._lock:
                super().put(key, body, metadata)
        finally:
            with self._lock:
                self._inside -= 1


class LockedStore(FakeFaceStore):
    """FakeFaceStore, one put at a time, so ``fail_on`` counts attempts exactly."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lock = threading.Lock()

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        with self._lock:
            super().put(key, body, metadata)


def test_the_puts_of_one_frame_overlap() -> None:
    store = MeetingStore(parties=4)
    store_crops(crops(4), store, at_once=4)
    assert sorted(store.objects) == sorted(c.key for c in crops(4))
    assert store.most_at_once == 4


def test_never_more_puts_at_once_than_asked() -> None:
    store = MeetingStore(parties=2)
    store_crops(crops(6), store, at_once=2)
    assert len(store.objects) == 6
    assert store.most_at_once == 2


def test_one_at_a_time_by_default() -> None:
    store = MeetingStore(parties=1)
    store_crops(crops(5), store)
    assert len(store.objects) == 5
    assert store.most_at_once == 1


def test_a_failed_put_among_concurrent_ones_leaves_nothing_and_raises_its_error() -> None:
    store = LockedStore(fail_on=range(3, 4))  # the third put attempt fails
    with pytest.raises(StoreError, match="SlowDown"):
        store_crops(crops(8), store, at_once=3)
    assert store.objects == {}
    assert 3 <= len(store.attempts) <= 8


def test_a_rollback_that_fails_keeps_the_puts_error() -> None:
    store = LockedStore(fail_on=range(2, 3), delete_fails=True)
    with pytest.raises(StoreError, match="SlowDown"):
        store_crops(crops(4), store, at_once=4)


def test_an_error_that_is_not_the_stores_is_raised_as_it_is() -> None:
    store = LockedStore(failures=[KeyError("a bug")])
    with pytest.raises(KeyError, match="a bug"):
        store_crops(crops(3), store, at_once=3)


def test_no_crops_no_puts_and_no_threads() -> None:
    store = FakeFaceStore()
    before = threading.active_count()
    store_crops([], store, at_once=8)
    assert store.attempts == []
    assert threading.active_count() == before


def test_calls_at_once_fit_in_botocores_default_connection_pool() -> None:
    # More requests than pooled connections would make the extra ones open and drop a
    # connection each time (urllib3 "Connection pool is full, discarding connection").
    assert 1 < CALLS_AT_ONCE <= botocore.endpoint.MAX_POOL_CONNECTIONS
    assert S3FaceStore.puts_at_once == CALLS_AT_ONCE
