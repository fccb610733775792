"""The local emotion tracker: consumes crop notifications, as the Lambda consumes SQS."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field

from datapalooza.adapters.local.crop_notifications import MAX_ATTEMPTS, SqliteCropNotifications
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


class ScoringWorker:
    """Scores pending crops in batches until stopped; on stop, drains what is pending."""

    def __init__(
        self,
        tracker: CropScorer,
        notifications: SqliteCropNotifications,
        *,
        batch: int = 64,
        poll_s: float = 0.1,
    ) -> None:
        self._tracker = tracker
        self._notifications = notifications
        self._batch = batch
        self._poll_s = poll_s
        self.counters = ScoringCounters()
        self.halted: str | None = None
        """Why the worker stopped on its own (the data directory is full), or None."""

    def run_once(self) -> int:
        """Score one batch; returns how many notifications it handled."""
        pending = self._notifications.receive(self._batch)
        if not pending:
            self.counters.pending = 0
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
        self.counters.pending = self._notifications.counts()["pending"]
        return len(pending)

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
            try:
                handled = self.run_once()
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
                if drain is not None and drain.is_set():
                    return
                stop.wait(self._poll_s)
