import pytest

from datapalooza.festival.config import (
    FestivalConfigError,
    StageConfig,
    default_config,
    load_config,
)
from datapalooza.festival.status_line import StatusLine


def test_default_festival_has_named_synthetic_stages_on_the_cloud_path():
    config = default_config(3, edge_stages=["dance"])
    assert [s.name for s in config.stages] == ["main", "dance", "acoustic"]
    assert [s.path for s in config.stages] == ["cloud", "edge", "cloud"]
    assert config.stages[0].source.startswith("synthetic:stage=main,")
    assert [s.name for s in default_config(10).stages][-1] == "stage-10"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: default_config(0), "between 1 and 64"),
        (lambda: default_config(2, edge_stages=["nope"]), "unknown stages: nope"),
        (lambda: StageConfig("Main", "synthetic:stage=main"), "invalid stage name"),
        (lambda: StageConfig("main", "ftp://camera"), "stage 'main'"),
        (lambda: StageConfig("main", "synthetic:stage=main", path="fog"), "cloud or edge"),
    ],
)
def test_bad_options_say_what_to_change(call, message):
    with pytest.raises(FestivalConfigError, match=message):
        call()


def test_a_festival_file_lists_stages_sources_paths_and_a_setlist(tmp_path):
    (tmp_path / "festival.yaml").write_text(
        "stages:\n"
        "  - name: main\n    source: synthetic:stage=main,seed=4\n"
        "  - name: tent\n    path: edge\n    camera: cam-7\n"
        "setlist: sets.yaml\n"
    )
    config = load_config(tmp_path / "festival.yaml")
    assert [(s.name, s.path, s.camera) for s in config.stages] == [
        ("main", "cloud", "camera-1"),
        ("tent", "edge", "cam-7"),
    ]
    assert config.stages[1].source == "synthetic:stage=tent,seed=1"
    assert config.setlist == tmp_path / "sets.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [", "not valid YAML"),
        ("bands: []", "needs a 'stages:' list"),
        ("stages:\n  - source: webcam:0\n", "needs at least a name"),
        ("stages:\n  - name: a\n  - name: a\n", "unique"),
    ],
)
def test_bad_festival_files_are_explained(tmp_path, text, message):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(FestivalConfigError, match=message):
        load_config(path)
    with pytest.raises(FestivalConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_status_line_shows_progress_per_stage_and_the_tracker():
    status = {
        "elapsed_s": 12,
        "stages": {
            "main": {
                "frames": 12,
                "faces": 140,
                "crops": 85,
                "errors": 0,
                "path": "cloud",
                "scored": 80,
            },
            "tent": {"frames": 11, "faces": 90, "errors": 2, "path": "edge"},
        },
        "tracker": {"scored": 120, "no_face": 3, "pending": 4},
    }
    text = StatusLine.render(status)
    assert "main: 12 frames 140 faces 80 scored" in text
    assert "tent: 11 frames 90 faces 0 scored 2 errors" in text
    assert "scored 120" in text and "pending 4" in text
    summary = StatusLine(__import__("io").StringIO()).summary(status)
    assert "facial expressions" in summary
    assert "faces    140  cropped     85  scored     80" in summary
    assert "faces     90  scored      0" in summary  # no crop count: no column


def test_the_endpoint_gets_the_workers_its_cameras_need(monkeypatch):
    from datapalooza.festival import runtime

    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    # 60 ms of CPU per frame, a worker kept under half busy: 8.3 frames/s per worker.
    assert runtime.endpoint_workers_for(4, 1.0) == 1
    assert runtime.endpoint_workers_for(8, 1.0) == 1
    assert runtime.endpoint_workers_for(9, 1.0) == 2
    assert runtime.endpoint_workers_for(10, 1.0) == 2
    assert runtime.endpoint_workers_for(4, 0.3) == 2  # 13 frames/s
    assert runtime.endpoint_workers_for(200, 1.0) == 4  # one per core at most
    assert runtime.endpoint_workers_for(0, 1.0) == 1  # an edge-only festival never asks
    assert runtime.endpoint_workers_for(4, 0.0) == 4  # --interval 0: as fast as they can


def test_cameras_started_together_capture_spread_over_the_interval():
    from datapalooza.festival import runtime

    assert runtime.camera_phases(4, 1.0) == [0.0, 0.25, 0.5, 0.75]
    assert runtime.camera_phases(3, 2.0) == pytest.approx([0.0, 2 / 3, 4 / 3])
    assert runtime.camera_phases(1, 1.0) == [0.0]
    assert runtime.camera_phases(2, 0.0) == [0.0, 0.0]  # --interval 0: no pacing at all
