"""What the tracker's ``_record`` must do: turn the analyzer's answer for one crop into
one results item, written once (Challenge 2, cloud side)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.domain.keys import CropKey
from datapalooza.emotions.scoring import CropRef, CropStatus, _Pending
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.exercises.checks import Check, Implementation
from datapalooza.ports import AnalyzedFace
from datapalooza.testing.fakes import FakeResultsTable

KEY = "faces/main/2026/07/19/21/1784494800000-f000042-0.jpg"
SETTINGS = TrackerSettings(analyzer="local", results_ttl_days=7)


def happy_scores() -> EmotionScores:
    return EmotionScores({Emotion.HAPPY: 90.0, Emotion.CALM: 10.0})


def _pending() -> _Pending:
    return _Pending(CropRef(KEY, item_id="message-1"), CropKey.parse(KEY), b"jpeg", "cam-1")


def writes_one_item(record: Implementation, workdir: Path) -> None:
    table = FakeResultsTable()
    outcome = record(_pending(), AnalyzedFace(happy_scores()), table, SETTINGS)
    assert outcome.status is CropStatus.SCORED, f"status {outcome.status}; expected SCORED"
    assert len(table.items) == 1, f"{len(table.items)} results items written; expected 1"
    ((face, _ttl),) = table.items.values()
    key = CropKey.parse(KEY)
    assert (face.stage, face.face_key, face.camera) == ("main", KEY, "cam-1"), (
        f"item stage/face_key/camera = {face.stage}/{face.face_key}/{face.camera}"
    )
    assert face.captured_at == key.captured_at, "captured_at must come from the crop key"
    assert face.scores == happy_scores(), "the item does not hold the analyzer's scores"
    assert outcome.face == face, "the outcome must carry the face, so its metrics are emitted"


def sets_the_ttl(record: Implementation, workdir: Path) -> None:
    table = FakeResultsTable()
    record(_pending(), AnalyzedFace(happy_scores()), table, SETTINGS)
    ((_face, ttl),) = table.items.values()
    expected = int((CropKey.parse(KEY).captured_at + timedelta(days=7)).timestamp())
    assert ttl == expected, f"ttl_epoch_s = {ttl}; expected capture time + 7 days = {expected}"


def no_face_writes_nothing(record: Implementation, workdir: Path) -> None:
    table = FakeResultsTable()
    outcome = record(_pending(), AnalyzedFace(None), table, SETTINGS)
    assert outcome.status is CropStatus.NO_FACE, f"status {outcome.status}; expected NO_FACE"
    assert table.items == {}, "an item was written for a crop without a face"
    assert outcome.face is None, "no face: the outcome must not carry one (no metrics)"


def duplicates_are_written_once(record: Implementation, workdir: Path) -> None:
    table = FakeResultsTable()
    record(_pending(), AnalyzedFace(happy_scores()), table, SETTINGS)
    again = record(_pending(), AnalyzedFace(happy_scores()), table, SETTINGS)
    assert again.status is CropStatus.DUPLICATE, f"status {again.status}; expected DUPLICATE"
    assert again.face is None, "a duplicate must not carry a face: its metrics were emitted"
    assert len(table.items) == 1, "the duplicate was written twice"


def table_outage_is_retried(record: Implementation, workdir: Path) -> None:
    outcome = record(
        _pending(), AnalyzedFace(happy_scores()), FakeResultsTable(down=True), SETTINGS
    )
    assert outcome.status is CropStatus.FAILED, (
        f"status {outcome.status}; expected FAILED so that SQS delivers the crop again"
    )


CHECKS = (
    Check(
        "a scored face becomes one results item with stage, time, key, camera and scores",
        "build ScoredFace(stage=item.key.stage, captured_at=item.key.captured_at, "
        "face_key=item.ref.key, camera=item.camera, scores=analyzed.scores); "
        "write it with results.put_if_new(...) and return CropOutcome(item.ref, "
        "CropStatus.SCORED, ..., face)",
        writes_one_item,
    ),
    Check(
        "the item expires settings.ttl_seconds after the capture",
        "ttl_epoch_s = int((face.captured_at + timedelta(seconds=settings.ttl_seconds))"
        ".timestamp())",
        sets_the_ttl,
    ),
    Check(
        "no face in the crop: NO_FACE, nothing written",
        "analyzed.scores is None (or empty) when the analyzer found no face",
        no_face_writes_nothing,
    ),
    Check(
        "a crop delivered twice is written once and its metrics are not emitted again",
        "put_if_new returns False for an existing item: return CropStatus.DUPLICATE without a face",
        duplicates_are_written_once,
    ),
    Check(
        "a results-table outage fails the crop for a retry instead of raising",
        "catch the table's exception and return CropStatus.FAILED with the reason",
        table_outage_is_retried,
    ),
)
