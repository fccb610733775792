"""Metrics sinks: EMF documents CloudWatch turns into the right metrics (checked by
ingesting them into moto's CloudWatch as CloudWatch Logs would), and the SQLite twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from datapalooza.adapters.aws.emf_metrics_sink import EmfMetricsSink
from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
from datapalooza.constants import ENV_METRIC_NAMESPACE, METRIC_NAMESPACE, STAGE_DIMENSION
from datapalooza.domain.emotions import crowd_mood
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.ports import ScoredFace
from datapalooza.settings import SettingsError
from tests.helpers.emotions import T0, crop_key, scores

FACES = [
    ScoredFace("main", T0, crop_key("main", 0), "cam-1", scores(happy=90, calm=10)),
    ScoredFace("main", T0, crop_key("main", 1), "cam-1", scores(sad=60, calm=40)),
    ScoredFace("side", T0, crop_key("side", 0), "cam-2", scores(surprised=100)),
]


def emf_documents(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def ingest(cloudwatch, document: dict) -> None:
    """What CloudWatch Logs does with an EMF document (the subset we use)."""
    directive = document["_aws"]["CloudWatchMetrics"][0]
    dimensions = [{"Name": n, "Value": document[n]} for n in directive["Dimensions"][0]]
    stamp = datetime.fromtimestamp(document["_aws"]["Timestamp"] / 1000, tz=UTC)
    data = []
    for metric in directive["Metrics"]:
        values = document[metric["Name"]]
        values = values if isinstance(values, list) else [values]
        data += [
            {
                "MetricName": metric["Name"],
                "Dimensions": dimensions,
                "Value": v,
                "Unit": metric["Unit"],
                "Timestamp": stamp,
            }
            for v in values
        ]
    cloudwatch.put_metric_data(Namespace=directive["Namespace"], MetricData=data)


def test_emf_goes_to_stdout_per_stage_with_only_the_stage_dimension(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "emotion-tracker")
    EmfMetricsSink().record(FACES)
    documents = emf_documents(capsys)
    assert [d["Stage"] for d in documents] == ["main", "side"]
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == METRIC_NAMESPACE
        assert directive["Dimensions"] == [[STAGE_DIMENSION]]
    assert documents[0]["FacesAnalyzed"] == [2.0]
    assert documents[0]["HAPPY"] == [90.0]


def test_a_teams_tracker_writes_its_own_namespace(capsys):
    # The team's stack sets the namespace (POWERTOOLS_METRICS_NAMESPACE); its alarms and
    # dashboard read the same one (tests/infra/test_teams.py).
    settings = TrackerSettings.from_env({ENV_METRIC_NAMESPACE: "DataPalooza/alice"})
    EmfMetricsSink(namespace=settings.metric_namespace).record(FACES)
    for document in emf_documents(capsys):
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DataPalooza/alice"
    assert TrackerSettings.from_env({}).metric_namespace == METRIC_NAMESPACE


@pytest.mark.parametrize("namespace", ["AWS/Lambda", ":x", "n" * 256, "tab\there"])
def test_a_namespace_cloudwatch_would_refuse_is_refused_at_start(namespace):
    with pytest.raises(SettingsError, match=ENV_METRIC_NAMESPACE):
        TrackerSettings.from_env({ENV_METRIC_NAMESPACE: namespace})


def test_cloudwatch_statistics_from_emf_match_the_domain(capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    sink = EmfMetricsSink()
    sink.record(FACES)
    sink.record_unscored("main", "NoFaceFound", 3)
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch")
        for document in emf_documents(capsys):
            ingest(cloudwatch, document)

        def stat(name, statistic, stage="main"):
            answer = cloudwatch.get_metric_statistics(
                Namespace=METRIC_NAMESPACE,
                MetricName=name,
                Dimensions=[{"Name": STAGE_DIMENSION, "Value": stage}],
                StartTime=datetime.now(UTC) - timedelta(hours=1),
                EndTime=datetime.now(UTC) + timedelta(hours=1),
                Period=7200,
                Statistics=[statistic],
            )["Datapoints"]
            return answer[0][statistic]

        assert stat("FacesAnalyzed", "Sum") == 2
        assert stat("CrowdMood", "Average") == pytest.approx(
            crowd_mood([FACES[0].scores, FACES[1].scores])
        )
        assert stat("CALM", "Average") == pytest.approx(25.0)
        assert stat("NoFaceFound", "Sum") == 3
        assert stat("SURPRISED", "Average", stage="side") == 100.0


def test_emf_splits_documents_at_100_values(capsys):
    many = [
        ScoredFace("main", T0, crop_key("main", i), "c", scores(happy=50, calm=50))
        for i in range(150)
    ]
    EmfMetricsSink().record(many)
    documents = emf_documents(capsys)
    assert sum(len(d.get("HAPPY", [])) for d in documents) == 150
    assert all(len(d.get("HAPPY", [])) <= 100 for d in documents)


def test_sqlite_metrics_answer_like_cloudwatch(tmp_path):
    counted_at = T0 + timedelta(seconds=30)
    sink = SqliteMetricsSink(tmp_path / "m.db", clock=lambda: counted_at)
    sink.record(FACES)
    sink.record_unscored("main", "NoFaceFound", 2)
    window = (T0 - timedelta(minutes=1), T0 + timedelta(minutes=2))

    assert sink.statistics("main", "FacesAnalyzed", *window, statistic="Sum") == [(T0, 2.0)]
    ((_, mood),) = sink.statistics("main", "CrowdMood", *window, period_s=180)
    assert mood == pytest.approx(crowd_mood([FACES[0].scores, FACES[1].scores]))
    assert sink.statistics("main", "NoFaceFound", *window, statistic="Sum") == [(T0, 2.0)]
    assert "SAD" in sink.metric_names("main") and "SAD" not in sink.metric_names("side")
    with pytest.raises(ValueError, match="statistic"):
        sink.statistics("main", "HAPPY", *window, statistic="p99")
    reader = SqliteMetricsSink(tmp_path / "m.db", read_only=True)
    assert reader.statistics("side", "SURPRISED", *window, statistic="Maximum") == [(T0, 100.0)]


def test_local_metric_points_older_than_a_cutoff_are_deleted(tmp_path):
    """up's expiry pass keeps metric points as long as the results they describe: every
    scored face adds ten, about 0.63 KB, which would otherwise never go."""
    sink = SqliteMetricsSink(tmp_path / "m.db", clock=lambda: T0)
    sink.record(FACES)
    later = [
        ScoredFace(
            f.stage, f.captured_at + timedelta(days=31), f.face_key + "x", f.camera, f.scores
        )
        for f in FACES
    ]
    sink.record(later)
    window = (T0 + timedelta(days=30), T0 + timedelta(days=32))
    kept = sink.statistics("main", "FacesAnalyzed", *window, statistic="Sum")
    points = sink._query("SELECT COUNT(*) FROM metric_points")[0][0]
    assert sink.purge_before(T0 + timedelta(days=1)) == points / 2  # the first day's half
    assert (
        sink.statistics("main", "FacesAnalyzed", T0 - timedelta(days=1), T0 + timedelta(days=1))
        == []
    )
    assert sink.statistics("main", "FacesAnalyzed", *window, statistic="Sum") == kept
