"""The benchmark suite's quick mode runs end to end and its JSON has every figure the
page is generated from. No goal is checked here: goals live in the benchmark output
(docs/benchmarks.md), never in timed tests."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bench.measure import (
    CpuWindow,
    default_scratch_root,
    interleaved,
    mount_of,
    thread_cpu_s,
    tree_cpu_s,
)
from bench.profile import parse_collapsed
from datapalooza.domain.keys import CropKey

REPO = Path(__file__).resolve().parents[2]


def positive(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    subprocess.run(
        [sys.executable, "-m", "bench", "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "BENCH_QUICK": "1", "BENCH_SCRATCH": str(tmp / "scratch")},
        check=True,
        timeout=280,
    )
    page = tmp / "benchmarks.md"
    subprocess.run(
        [sys.executable, "-m", "bench.report", "--json", str(out), "--out", str(page)],
        cwd=REPO,
        check=True,
        timeout=60,
    )
    return json.loads(out.read_text()), page.read_text()


def test_benchmarks_write_their_files_beside_ups_data_directory() -> None:
    # What creating a crop file costs moves with where a directory lies on the disk
    # (0.02 to 0.55 ms on one VM): the benchmarks' crops land where `up`'s do.
    from datapalooza.festival.layout import default_data_dir

    assert default_scratch_root().parent == default_data_dir().parent


# Serial: the benchmarks measure CPU and run the festival; another test's load would
# show in their figures (scored frames, the CPU splits checked below).
@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.timeout(400)
def test_quick_suite_writes_every_figure(quick_results: tuple[dict, str]) -> None:
    results, page = quick_results
    assert results["quick"] is True
    assert set(results["benchmarks"]) == {"endpoint", "emotions", "devices", "festival"}
    machine = results["machine_before"]
    assert machine["cores"] >= 1 and machine["cpu_model"] and len(machine["load_average"]) == 3
    # File creation is measured where the benchmarks write, where `up` writes, in the temp
    # directory and under the repository, and shown.
    creates = machine["file_create_ms"]
    assert all(positive(creates[place]) for place in ("scratch", "up_data", "repository"))
    assert "CPU to create one crop-sized file" in page
    # And the file system it is on, with its mount options (e.g. online discard).
    mount = machine["scratch_mount"]
    assert mount["type"] and mount["options"]
    assert f"the scratch directory's file system: {mount['type']}" in page

    endpoint = results["benchmarks"]["endpoint"]
    top = endpoint["latency"]["1280x720"]
    for arm in ("detector", "round_trip", "decode"):
        assert positive(top[arm]["cpu_ms"]["median"]) and positive(top[arm]["wall_ms"]["median"])
        assert top[arm]["cpu_ms"]["rounds"] == 2  # interleaved, repeated
    # The request's parts, measured in process next to the round trip, and shown.
    for part in ("decode", "detect", "crops", "store", "json"):
        assert positive(top["handler"][f"{part}_ms"]["median"])
    assert math.isfinite(top["outside_handler_ms"])
    assert "Where a request's CPU goes" in page
    # The round trip read thread by thread: the server's request thread runs the
    # detector, its event loop and the client do not.
    trip = top["round_trip"]
    assert trip["request_thread_ms"]["median"] > 0.5 * top["detector"]["cpu_ms"]["median"]
    assert 0 < trip["event_loop_ms"]["median"] < trip["request_thread_ms"]["median"]
    assert 0 < trip["client_ms"]["median"] < trip["request_thread_ms"]["median"]
    assert "event loop" in page
    assert "| event loop | request thread | client | round trip |" in page  # and no other
    # The store's part in the kernel (creating files) is within the store's CPU, and shown.
    handler = top["handler"]
    assert 0 <= handler["store_kernel_ms"]["median"] <= handler["store_ms"]["max"]
    assert positive(handler["crops_per_frame"]["median"])
    assert "store in kernel" in page
    # Each round's round trip over the same round's detector, then the median.
    assert len(top["overhead_cpu_by_round"]) == 2
    assert top["overhead_cpu"] == pytest.approx(statistics.median(top["overhead_cpu_by_round"]))
    scaling = endpoint["scaling"]
    assert positive(scaling["scaling"]) and scaling["workers"] >= 2
    assert scaling["scaling_per_core"] == pytest.approx(scaling["scaling"] / scaling["workers"])
    # The machine's own ceiling: the bare detector in 1 process against one per core.
    ceiling = scaling["machine"]
    assert positive(ceiling["one_process"]["fps"]["median"])
    assert positive(ceiling["many_processes"]["cpu_ms"]["median"])
    assert ceiling["endpoint_share"] == pytest.approx(
        scaling["scaling_per_core"] / ceiling["scaling_per_core"]
    )
    assert "The machine's own ceiling" in page

    devices = results["benchmarks"]["devices"]
    qualities = {c["camera_quality"] for c in devices["grid"]}
    faces = {c["faces_placed"] for c in devices["grid"]}
    assert min(qualities) == 75 and max(qualities) == 90 and min(faces) == 5 and max(faces) == 30
    for cell in devices["grid"]:
        assert cell["ratio"] == pytest.approx(cell["edge_bytes"] / cell["cloud_bytes"])
        assert cell["cloud_overhead"] > 500  # SigV4 headers are counted, not guessed away
        if cell["edge_requests"]:
            assert cell["edge_metadata"] > 0 and cell["edge_overhead"] > cell["edge_metadata"]

    emotions = results["benchmarks"]["emotions"]
    sizes = [int(s) for s in emotions["local_analyzer"]["model"]]
    assert max(sizes) > 8  # no cap at the analyzer's default micro-batch
    assert positive(emotions["best_vs_single_cpu"])

    festival = results["benchmarks"]["festival"]["cpu"]
    parts = festival["cpu_ms_per_scored_frame"]
    assert {
        "synthetic_source",
        "endpoint",
        "crop_store",
        "tracker",
        "database",
        "dashboard",
    } <= set(parts)
    assert festival["frames_scored"] > 0
    split = festival["camera_split_ms_per_scored_frame"]
    assert positive(split["jpeg_encode"]) and positive(split["endpoint_client"])
    assert split["jpeg_encode"] + split["endpoint_client"] <= parts["camera"]
    assert "the call through boto3's SageMaker Runtime client" in page
    store_ms = festival["crop_store_endpoint_ms_per_crop"]
    assert positive(store_ms) and 0 <= festival["crop_store_kernel_ms_per_crop"] <= store_ms
    assert festival["pipeline_vs_detector"] == pytest.approx(
        festival["pipeline_cpu_ms_per_scored_frame"] / festival["detector_cpu_ms_per_frame"]
    )

    assert set(results["goals"]) == {
        "endpoint.endpoint_cpu_overhead",
        "endpoint.workers_scaling_per_core",
        "devices.edge_bytes_ratio",
        "festival.up_pipeline_cpu_vs_detector",
    }
    for name, goal in results["goals"].items():
        assert isinstance(goal["met"], bool) and positive(goal["value"]), name
        assert name in page
    # The ratio goals also say how they moved within the run: round by round (the
    # festival: slice by slice of its window), and in how many rounds they were met.
    by_round = {
        "endpoint.endpoint_cpu_overhead": top["overhead_cpu_by_round"],
        "endpoint.workers_scaling_per_core": scaling["scaling_per_core_by_round"],
        "festival.up_pipeline_cpu_vs_detector": festival["pipeline_vs_detector_by_slice"],
    }
    assert len(scaling["scaling_per_core_by_round"]) == 2
    assert 1 <= len(festival["pipeline_vs_detector_by_slice"]) <= 2
    for name, values in by_round.items():
        spread = results["goals"][name]["spread"]
        assert (spread["low"], spread["high"], spread["count"]) == (
            min(values),
            max(values),
            len(values),
        )
        assert 0 <= spread["met_in"] <= spread["count"]
        assert f"{spread['low']:.3f}-{spread['high']:.3f}, met in {spread['met_in']}" in page
    assert "spread" not in results["goals"]["devices.edge_bytes_ratio"]
    assert "## The machine" in page and "## Goals" in page
    assert str(machine["cores"]) in page


def test_cpu_of_a_busy_child_is_counted_from_outside() -> None:
    """tree_cpu_s reads a child's CPU while it runs, not only once it is reaped."""
    busy = (
        "import sys, time\nt = time.process_time()\n"
        "while time.process_time() - t < 0.3: pass\nprint(flush=True)\nsys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", busy], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # it has spent its 0.3 s of CPU and is still alive
        assert tree_cpu_s(child.pid) >= 0.25
    finally:
        child.communicate(b"", timeout=10)
    assert sum(thread_cpu_s().values()) > 0


def test_cpu_window_reads_a_child_to_better_than_a_clock_tick() -> None:
    """A child spends 25 ms of CPU inside the window: stat's clock ticks (10 ms) would read
    20 or 30 ms; the threads' schedstat reads what the child itself counted."""
    spin = (
        "import sys, time\nprint(flush=True)\nsys.stdin.readline()\n"
        "t = time.process_time()\nwhile time.process_time() - t < 0.025: pass\n"
        "print(time.process_time() - t, flush=True)\nsys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdout.readline()  # started, waiting
        window = CpuWindow([child.pid])
        window.start()
        child.stdin.write(b"go\n")
        child.stdin.flush()
        spent = float(child.stdout.readline())
        window.stop()
    finally:
        child.communicate(b"", timeout=10)
    assert spent >= 0.025
    assert window.cpu_s == pytest.approx(spent, abs=0.003)


def test_interleaved_alternates_order() -> None:
    order: list[str] = []
    runs = interleaved(
        {
            "a": lambda: order.append("a") or {"x": 1.0},
            "b": lambda: order.append("b") or {"x": 2.0},
        },
        4,
    )
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert [r["x"] for r in runs["b"]] == [2.0] * 4


def test_the_capacity_analysis_says_what_the_run_measured() -> None:
    from bench.report import _within_reach

    row = {"cameras": 20, "scored_fps_per_camera": 0.991, "latency_median_s": 0.42}
    met = _within_reach(0.66, [row], 20, {"met": True})
    assert "the cameras keep up (this run: 0.991 scored frames" in met
    assert "fall behind" not in met
    slow = {**row, "scored_fps_per_camera": 0.93}
    missed = _within_reach(0.8, [slow], 20, {"met": False})
    assert "cameras fall behind (this run: 0.930" in missed


def test_the_pipeline_analysis_sets_the_parts_every_frame_needs_against_the_goal() -> None:
    from bench.report import _pipeline_floor

    parts = {"camera": 4.7, "endpoint": 47.4, "tracker": 3.7}
    over = _pipeline_floor(parts, detector=42.1, budget=12.6)
    assert "Those three alone come to 13.7 ms, more than the 12.6 ms" in over
    under = _pipeline_floor({**parts, "endpoint": 45.0}, detector=42.1, budget=12.6)
    assert "must fit in the 1.3 ms left" in under


def test_the_festival_reads_only_recent_faces_keys_from_the_results_file(tmp_path: Path) -> None:
    from bench.festival import ScoredFaces
    from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
    from datapalooza.ports import ScoredFace
    from tests.helpers.emotions import T0, crop_key, scores

    table = SqliteResultsTable(tmp_path / "festival.sqlite")
    late = T0 + timedelta(seconds=ScoredFaces.WINDOW_S + 5)
    for moment, index in ((T0, 0), (late, 1)):
        key = crop_key("main", index, ms_offset=int(1000 * (moment - T0).total_seconds()))
        face = ScoredFace("main", moment, key, "cam-1", scores(happy=90, calm=10))
        table.put_if_new(face, ttl_epoch_s=int(late.timestamp()) + 3600)
    faces = ScoredFaces(tmp_path / "festival.sqlite")
    try:
        found = faces.recent(late.timestamp() + 1)
    finally:
        faces.close()
        table.close()
    assert [(CropKey.parse(k).index, round(t, 3)) for k, t in found] == [
        (1, round(late.timestamp(), 3))
    ]


def test_the_kernels_share_never_exceeds_the_whole() -> None:
    # Linux splits a thread's CPU into user and kernel by its clock ticks: over a few
    # ticks all of it may read as kernel, more than the exact clock measured in between.
    from bench.measure import kernel_share

    assert kernel_share((1.0, 2.0), (1.0, 2.03)) == 1.0
    assert kernel_share((1.0, 2.0), (1.03, 2.01)) == pytest.approx(0.25)
    assert kernel_share((1.0, 2.0), (1.0, 2.0)) == 0.0


def test_profile_parses_collapsed_stacks() -> None:
    text = (
        "process 1:python;main (app.py:1);detect (det.py:5);run (ort.py:9) 30\n"
        "process 1:python;main (app.py:1);decode (images.py:3) 10\n"
    )
    own, inclusive, total = parse_collapsed(text)
    assert total == 40
    assert own["ort.py:run"] == 30 and own["images.py:decode"] == 10
    assert inclusive["app.py:main"] == 40 and inclusive["det.py:detect"] == 30
    own, _, total = parse_collapsed(text, within="det.py:detect")
    assert total == 30 and set(own) == {"ort.py:run"}


def test_mount_of_finds_the_innermost_file_system(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw,relatime,discard 0 0\n"
        "tmpfs /run/user tmpfs rw,nosuid 0 0\n"
        "/dev/vdb /srv/my\\040data xfs rw,noatime 0 0\n"
        "broken line\n"
    )
    assert mount_of(Path("/srv/my data/festival"), mounts) == {
        "mount_point": "/srv/my data",
        "type": "xfs",
        "options": ["rw", "noatime"],
    }
    assert mount_of(Path("/run/user/0"), mounts)["type"] == "tmpfs"
    assert mount_of(Path("/home/x"), mounts)["options"] == ["rw", "relatime", "discard"]
    assert mount_of(Path("/home/x"), tmp_path / "missing") is None


@pytest.mark.timeout(120)
def test_a_detector_process_that_dies_stops_the_machine_ceiling_with_an_error() -> None:
    import signal

    from bench.endpoint import crowd_frames
    from bench.machine_ceiling import DetectorProcesses

    with DetectorProcesses(crowd_frames(320, 180, 1), 1) as processes:
        assert positive(processes.arm(1, 2)()["fps"])
        os.kill(processes.pids[0], signal.SIGKILL)
        with pytest.raises(RuntimeError, match=r"a detector process (has ended|ended before)"):
            processes.arm(1, 2)()
