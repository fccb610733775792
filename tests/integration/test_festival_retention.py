"""What `up`'s expiry pass deletes from the festival's database, and what it keeps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
from datapalooza.emotions.ledger import IdempotencyLedger
from datapalooza.festival.config import default_config
from datapalooza.festival.runtime import TRACKER_SETTINGS, Festival, FestivalOptions
from datapalooza.ports import ScoredFace
from tests.helpers.emotions import crop_key, scores


def test_the_expiry_pass_deletes_expired_claims_and_metric_points_past_the_results_ttl(
    tmp_path,
):
    festival = Festival(FestivalOptions(data_dir=tmp_path, config=default_config(1)))
    database = festival.layout.results_db
    now = datetime.now(UTC)
    ttl = timedelta(days=TRACKER_SETTINGS.results_ttl_days)
    for expires_after_s, key in ((-1, crop_key("main", 0)), (3600, crop_key("main", 1))):
        ledger = IdempotencyLedger(
            SqlitePersistenceLayer(database), expires_after_s=expires_after_s
        )
        assert ledger.claim(key, "", lease_ms=60_000) is None
        ledger.settle(key, "", "scored")
    metrics = SqliteMetricsSink(database)
    for age, index in ((ttl + timedelta(hours=1), 2), (ttl - timedelta(hours=1), 3)):
        face = ScoredFace("main", now - age, crop_key("main", index), "cam-1", scores(happy=90))
        metrics.record([face])

    festival.expire_old_crops()

    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency").fetchall() == [(1,)]
        oldest = db.execute("SELECT MIN(ts_ms) FROM metric_points").fetchone()[0]
    live = IdempotencyLedger(SqlitePersistenceLayer(database), expires_after_s=3600)
    assert live.claim(crop_key("main", 1), "", lease_ms=60_000) == "scored"  # still within TTL
    assert oldest == int((now - ttl + timedelta(hours=1)).timestamp() * 1000)
