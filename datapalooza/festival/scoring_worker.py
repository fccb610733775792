"""The local emotion tracker: consumes crop notifications, as the Lambda consumes SQS."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from datapalooza.adapters.local.crop_notifications import (
    MAX_ATTEMPTS,
    Notification,
    SqliteCropNotifications,
)
from datapalooza.emotions.bootstrap import CropScorer
from datapalooza.emotions.scoring import CropOutcome, CropRef, CropStatus
from datapalooza.system.storage_errors import is_storage_full, storage_full_detail

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ScoringCounters:
    scored: int = 0
    no_face: int = 0
    duplicate: int = 0
    missing: int = 0
    rejected: int = 0
    failed: int = 0
    dead: int = 0
    pending: int = 0
    scored_by_stage: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, int]:
        totals = asdict(self)
        del totals["scored_by_stage"]
        return totals


BATCHING_WINDOW_S = 0.5
"""How long the first pending crop may wait for others to fill its batch. The Lambda's
SQS event source does the same (``datapalooza.deployment``, 5 s there): one analyzer run
and one set of database writes for many crops instead of one per crop. Crops arrive one
at a time as the endpoint stores them; one at a time the local tracker spent 1.84 ms per
face, in batches of 16 1.36 ms (docs/benchmarks.md, 2026-12-01: about 0.7 of the cost,
as in earlier runs). Half a second is invisible on a dashboard that polls every 3 s."""


class ScoringWorker:
    """Scores pending crops in batches until stopped; on stop, drains what is pending.
    A batch closes when it is full or when its oldest crop has waited ``window_s``."""

    def __init__(
        self,
        tracker: CropScorer,
        notifications: SqliteCropNotifications,
        *,
        batch: int = 64,
        poll_s: float = 0.25,
        window_s: float = BATCHING_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tracker = tracker
        self._notifications = notifications
        self._window_s = window_s
        self._clock = clock
        self._batch = batch
        self._poll_s = poll_s
        """How often an idle worker looks for new crops. A batch's window runs from its
        oldest crop's arrival, so looking less often than the window delays nothing."""
        self._next_look_s = poll_s
        self.counters = ScoringCounters()
        self.halted: str | None = None
        """Why the worker stopped on its own (the data directory is full), or None."""

    def run_once(self, *, wait_for_batch: bool = False) -> int:
        """Score one batch; returns how many notifications it handled. With
        ``wait_for_batch``, a batch that is neither full nor past its window is left
        pending (0 handled) to gather more crops."""
        pending = self._notifications.receive(self._batch)
        if not pending:
            self.counters.pending = 0
            self._next_look_s = self._poll_s
            return 0
        left_s = self._window_left_s(pending)
        if wait_for_batch and left_s > 0:
            self.counters.pending = len(pending)
            self._next_look_s = min(left_s, self._poll_s)
            return 0
        refs = [CropRef(key=n.key, item_id=n.key, size=n.size) for n in pending]
        outcomes = self._track(refs)
        # A notification names one object: a crop, or a crop sheet whose tiles each have
        # an outcome. It is done when none of its crops failed.
        failed: dict[str, str] = {}
        for outcome in outcomes:
            if outcome.status is CropStatus.FAILED:
                failed.setdefault(outcome.ref.item_id, outcome.detail)
        finished = [n.key for n in pending if n.key not in failed]
        self._notifications.done(finished)
        dead = self._notifications.failed(failed) if failed else []
        for outcome in outcomes:
            name = outcome.status.value
            setattr(self.counters, name, getattr(self.counters, name) + 1)
            if outcome.face is not None and outcome.status is CropStatus.SCORED:
                self.counters.scored_by_stage[outcome.face.stage] += 1
        self.counters.dead += len(dead)
        for key in dead:
            log.error(
                "crop %s failed %d times (%s); parked as dead (see the notifications db)",
                key,
                MAX_ATTEMPTS,
                failed[key],
            )
        self.counters.pending = self._notifications.pending_count()
        return len(pending)

    def _window_left_s(self, pending: list[Notification]) -> float:
        """Seconds until this batch closes: 0 when it is full or its oldest crop has
        waited the whole window."""
        if len(pending) >= self._batch:
            return 0.0
        oldest_s = min(n.created_ms for n in pending) / 1000
        return max(0.0, oldest_s + self._window_s - self._clock())

    def _track(self, refs: list[CropRef]) -> list[CropOutcome]:
        """The batch's outcomes. The tracker isolates a crop that fails; should the batch
        still raise, each crop is tried alone so only the one that raises fails (with
        its reason) instead of the same batch failing forever."""
        try:
            return self._tracker.score(refs).outcomes
        except Exception as exc:
            if is_storage_full(exc):
                raise
            log.exception("tracker batch of %d crops failed; trying each crop alone", len(refs))
        outcomes: list[CropOutcome] = []
        for ref in refs:
            try:
                outcomes.extend(self._tracker.score([ref]).outcomes)
            except Exception as exc:
                if is_storage_full(exc):
                    raise
                log.exception("crop %s failed", ref.key)
                outcomes.append(CropOutcome(ref, CropStatus.FAILED, repr(exc)))
        return outcomes

    def run(self, stop: threading.Event, *, drain: threading.Event | None = None) -> None:
        """Work until ``stop``; when ``drain`` is set, finish what is pending, then return."""
        while not stop.is_set():
            draining = drain is not None and drain.is_set()
            try:
                handled = self.run_once(wait_for_batch=not draining)
            except Exception as exc:  # the loop never dies: the crops stay pending
                if is_storage_full(exc):
                    # No retry can help; the crops stay pending for a run with space.
                    self.halted = storage_full_detail(exc)
                    log.error("tracker stopped: storage is full (%s)", self.halted)
                    return
                log.exception("tracker batch failed; retrying")
                stop.wait(1.0)
                continue
            if handled == 0:
                if draining and not self.counters.pending:
                    return
                stop.wait(self._next_look_s)
