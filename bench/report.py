"""Regenerate docs/benchmarks.md from the suite's JSON (bench/out/results.json).

    python -m bench.report [--json bench/out/results.json] [--out docs/benchmarks.md]

The page is generated: edit this script, not the page. It states the machine the
figures were taken on (cores, CPU model, load average before and after), every table
the suite printed and which goals were met.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.goals import (  # noqa: E402
    CAPACITY_GOAL_CAMERAS,
    OVERHEAD_GOAL,
    PIPELINE_GOAL,
    spread_text,
)

DEFAULT_JSON = REPO / "bench" / "out" / "results.json"
DEFAULT_OUT = REPO / "docs" / "benchmarks.md"
PROFILE_JSON = REPO / "bench" / "out" / "profile.json"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _server_share(share: float) -> str:
    """What the endpoint's share of the machine's ceiling says (rounds vary by a few %)."""
    if share >= 1.0:
        return "within the rounds' spread, the server loses nothing beyond what the machine does."
    return (
        f"the other {1 - share:.0%} is the server's (HTTP, the clients on the same cores, "
        "the accept race)."
    )


def _machine_scaling(per_core: float) -> str:
    """What the bare detector's own scaling says about the machine in this run."""
    if per_core >= 0.98:
        return "in this run the busy cores hardly slowed each other."
    return (
        "busy cores slow each other (shared caches and memory, the hypervisor's "
        "neighbours) before any server runs."
    )


def _m(stat: dict[str, Any]) -> str:
    """median (min-max) of a measurement repeated over rounds."""
    return f"{stat['median']:.1f} ({stat['min']:.1f}-{stat['max']:.1f})"


_NOT_PARTS = ("cpu_ms", "store_kernel_ms", "crops_per_frame")
"""Figures of the handler arm that are not one of its parts (a sum, a share, a count)."""


def _parts(row: dict[str, Any]) -> list[str]:
    """The handler's parts, in the order bench/endpoint.py measured them."""
    return [key.removesuffix("_ms") for key in row["handler"] if key not in _NOT_PARTS]


def _store_kernel(handler: dict[str, Any]) -> str:
    """What storing the crops cost the kernel, where the run recorded it."""
    if "store_kernel_ms" not in handler:
        return ""
    return (
        f" ({handler['store_kernel_ms']['median']:.1f} of it in the kernel, for "
        f"{handler['crops_per_frame']['median']:.1f} crops)"
    )


_WHOLE = ("cpu_ms", "wall_ms", "self_cpu_ms")  # the window's own process: the client here


def _threads(row: dict[str, Any]) -> list[str]:
    """The round trip's CPU by thread (request thread, event loop, client), in the order
    bench/endpoint.py measured them; none from a run that did not split it."""
    return [key.removesuffix("_ms") for key in row["round_trip"] if key not in _WHOLE]


def _endpoint_parts(top: dict[str, Any]) -> str:
    """The request's parts beside the detector, from the in-process split."""
    handler = top["handler"]
    parts = {part: handler[f"{part}_ms"]["median"] for part in _parts(top) if part != "detect"}
    listed = ", ".join(
        f"{part} {ms:.1f}{_store_kernel(handler) if part == 'store' else ''}"
        for part, ms in parts.items()
    )
    outside = top["outside_handler_ms"]
    total = sum(parts.values()) + outside
    trip = top["round_trip"]
    threads = (
        f"; read thread by thread, the server's event loop spent "
        f"{trip['event_loop_ms']['median']:.1f} and the client "
        f"{trip['client_ms']['median']:.1f}"
        if "event_loop_ms" in trip
        else ""
    )
    return (
        f"split in process, in the same rounds, the request spends {listed} and {outside:.1f} "
        f"outside the handler (HTTP, the hand-off to the request thread, the client{threads}): "
        f"{total:.1f} ms beside the detector's {handler['detect_ms']['median']:.1f}. Every "
        "endpoint that takes a JPEG and stores crops pays the decode, a write per crop "
        "and a request"
    )


def _crop_rows(festival: dict[str, Any]) -> str:
    """What the crop store costs a crop in this run, a row and a notification each,
    beside what a file per crop would have cost right after the run."""
    created = festival.get("file_create_ms")
    if created is None:
        return ""
    kernel = festival.get("crop_store_kernel_ms_per_crop")
    in_kernel = "" if kernel is None else f", {kernel:.2f} ms of it in the kernel"
    return (
        f": {festival['crop_store_endpoint_ms_per_crop']:.2f} ms a crop{in_kernel}, a row "
        f"of the bucket's file and a notification each, where creating a crop-sized file "
        f"alone cost {created:.2f} ms of CPU"
    )


def machine_section(results: dict[str, Any]) -> list[str]:
    before, after = results["machine_before"], results["machine_after"]
    cores = before["usable_cores"]
    load = before["load_average"]
    mode = "quick mode: few frames and rounds, rough figures" if results["quick"] else "full mode"
    lines = [
        "## The machine",
        "",
        f"- {before['cores']} cores ({cores} usable), {before['cpu_model']}; "
        f"Python {before['python']}, {before['platform']}",
        f"- run from {before['time_utc']} to {after['time_utc']} ({mode})",
        f"- load average (1, 5, 15 min): {', '.join(map(str, load))} before, "
        f"{', '.join(map(str, after['load_average']))} after (the load after includes the "
        "benchmark's own processes)",
    ]
    creates = before.get("file_create_ms") or {}
    if creates.get("scratch") is not None:
        where = {
            "scratch": "in the benchmarks' scratch directory",
            "up_data": "beside `up`'s data directory",
            "system_temp": "in the system temp directory",
            "repository": "under the repository (bench/out)",
        }
        costs = ", ".join(
            f"{creates[name]:.3f} ms {label}"
            for name, label in where.items()
            if creates.get(name) is not None
        )
        lines.append(
            f"- CPU to create one crop-sized file, before the run: {costs}. This cost moves "
            "with the machine's state, which is why the local bucket keeps its crops as rows "
            "of one SQLite file (datapalooza/adapters/local/sqlite_face_store.py); the "
            "festival measures it again after its run, next to what a crop's row cost. The "
            "benchmarks write beside `up`'s data directory, where `up` writes "
            "(bench/measure.py, `SCRATCH_ROOT`)"
        )
    mount = before.get("scratch_mount")
    if mount:
        discard = (
            " (online `discard`: the kernel trims freed blocks as files are deleted, and "
            "creating a file after many were deleted costs several times more)"
            if "discard" in mount["options"]
            else ""
        )
        lines.append(
            f"- the scratch directory's file system: {mount['type']} on {mount['mount_point']}, "
            f"mounted {','.join(mount['options'])}{discard}"
        )
    # Only the load before the run says what else was running: the suite itself keeps
    # both cores busy, so the load after is high on a quiet machine too.
    if load and load[0] > 0.5 * cores:
        lines.append(
            "- **shared machine**: other programs kept the cores busy during the run (load "
            f"above half the {cores} cores). Wall times and throughput are stretched by them; "
            "CPU time per frame, which the goals use, much less."
        )
    return [*lines, ""]


def goals_section(results: dict[str, Any]) -> list[str]:
    rows = [
        [
            name,
            f"{g['value']:.3f}",
            g["goal"] + (f" ({g['where']})" if "where" in g else ""),
            "met" if g["met"] else "**not met**",
            spread_text(g.get("spread")),
        ]
        for name, g in results["goals"].items()
    ]
    return [
        "## Goals",
        "",
        *_table(["goal", "measured", "target", "", "rounds of this run"], rows),
        "A goal is judged on the whole run (the median of its rounds, or its whole window); "
        "the last column gives the same figure round by round (the festival: slice by "
        "slice of its window), and in how many it was met. A verdict whose rounds fall on "
        "both sides of the target is within what the machine's state moves in one run.",
        "",
    ]


def endpoint_section(r: dict[str, Any]) -> list[str]:
    rows = []
    for frame, row in r["latency"].items():
        rows.append(
            [
                frame,
                _m(row["decode"]["cpu_ms"]),
                _m(row["detector"]["cpu_ms"]),
                _m(row["round_trip"]["cpu_ms"]),
                f"{row['overhead_cpu']:.2f}x",
                _m(row["detector"]["wall_ms"]),
                _m(row["round_trip"]["wall_ms"]),
                f"{row['overhead_wall']:.2f}x",
            ]
        )
    lines = [
        "## Endpoint (`bench/endpoint.py`)",
        "",
        "Detector alone (in the benchmark's process) against the full HTTP /invocations "
        "round trip (decode, detect, crop, store crops, JSON) on the same synthetic crowd "
        "frames, JPEGs at the camera's quality (85), RetinaFace with 1 ONNX Runtime thread, "
        "1 worker, in interleaved rounds. "
        "The round trip's CPU is the server's processes' (read from /proc, each thread's "
        "schedstat, to the nanosecond) plus the client's. Median (min-max) over the "
        "rounds, ms per frame; the overheads are the median of each round's round trip "
        "over the same round's detector.",
        "",
        *_table(
            [
                "frame",
                "decode CPU",
                "detector CPU",
                "round trip CPU",
                "overhead (CPU)",
                "detector wall",
                "round trip wall",
                "overhead (wall)",
            ],
            rows,
        ),
    ]
    parts = [
        [
            frame,
            *(f"{row['handler'][f'{part}_ms']['median']:.1f}" for part in _parts(row)),
            f"{row['handler']['cpu_ms']['median']:.1f}",
            f"{row['outside_handler_ms']:.1f}",
            *(f"{row['round_trip'][f'{key}_ms']['median']:.1f}" for key in _threads(row)),
            f"{row['round_trip']['cpu_ms']['median']:.1f}",
            f"{row['handler']['store_kernel_ms']['median']:.1f}"
            if "store_kernel_ms" in row["handler"]
            else "",
        ]
        for frame, row in r["latency"].items()
        if "handler" in row
    ]
    if parts:
        lines += [
            "Where a request's CPU goes: the server's request handling run in the benchmark's "
            "process part by part, in the same interleaved rounds (median CPU ms per frame). "
            "`crops` cuts and JPEG-encodes the faces, `store` writes them to the local crop "
            "store (a row of its SQLite file a crop), and `outside` is the round trip's CPU "
            "less the handler's, round by round: HTTP, the hand-off to the request thread and the "
            "client. The round trip's CPU read thread by thread: the server's `request "
            "thread` (the handler, in the server), its `event loop` (HTTP) and the `client`. "
            "`store in kernel` is the part of `store` the kernel spent (writing the "
            "file's pages).",
            "",
            *_table(
                [
                    "frame",
                    *_parts(next(iter(r["latency"].values()))),
                    "handler",
                    "outside",
                    *(key.replace("_", " ") for key in _threads(next(iter(r["latency"].values())))),
                    "round trip",
                    "store in kernel",
                ],
                parts,
            ),
        ]
    det = [
        [
            frame,
            f"{row['detector']['cpu_ms']['median']:.1f}",
            f"{row['faces_retinaface']:.1f}",
            f"{row['libfacedetection']['cpu_ms']['median']:.1f}",
            f"{row['faces_libfacedetection']:.1f}",
        ]
        for frame, row in r["latency"].items()
    ]
    lines += [
        "Detectors side by side (CPU ms per frame, mean faces found per frame):",
        "",
        *_table(["frame", "RetinaFace CPU", "faces", "libfacedetection CPU", "faces"], det),
    ]
    s = r["scaling"]
    clients = s.get("clients", 4)
    rows = [
        [str(label), str(n), _m(row["fps"]), _m(row["cpu_ms"])]
        for label, n, row in (
            (1, clients, s["one_worker"]),
            (s["workers"], clients, s["many_workers"]),
        )
    ]
    few = s.get("few_clients")
    if few:
        rows.append(
            [
                str(s["workers"]),
                str(few["clients"]),
                _m(few["many_workers"]["fps"]),
                _m(few["many_workers"]["cpu_ms"]),
            ]
        )
    lines += [
        f"Throughput at 1280x720, both servers up at once and their rounds interleaved "
        f"({s['cores']} usable cores), {clients} concurrent clients (each sends its next "
        "frame when the last is answered, on a new connection):",
        "",
        *_table(["workers", "clients", "frames/s", "CPU ms per frame"], rows),
        f"Scaling: {s['scaling']:.2f}x, {s['scaling_per_core']:.2f} of a worker per added "
        "core. Throughput is wall-clock: on a shared machine the other programs take part "
        "of the cores the second worker needs; the CPU per frame shows whether the work "
        "itself grew.",
        "",
    ]
    machine = s.get("machine")
    if machine:
        alone, together = machine["one_process"], machine["many_processes"]
        lines += [
            "The machine's own ceiling, in the same rounds: the bare detector on the same "
            f"frames in 1 process against {s['workers']} at once, each a plain loop with no "
            "HTTP, client or queue (bench/machine_ceiling.py):",
            "",
            *_table(
                ["processes", "frames/s", "CPU ms per frame"],
                [
                    ["1", _m(alone["fps"]), _m(alone["cpu_ms"])],
                    [str(s["workers"]), _m(together["fps"]), _m(together["cpu_ms"])],
                ],
            ),
            f"{machine['scaling_per_core']:.2f} per core: "
            f"{_machine_scaling(machine['scaling_per_core'])} "
            f"The endpoint's workers make {machine['endpoint_share']:.2f} of what "
            f"these processes make; {_server_share(machine['endpoint_share'])}",
            "",
        ]
    if few:
        lines += [
            f"With {few['clients']} clients the same server makes "
            f"{few['scaling_per_core']:.2f} of a worker per core: each new connection goes "
            "to whichever worker's event loop accepts it first, busy or not, so one worker "
            "can queue frames while another waits. A queueing model of that race "
            "(`accept_race_ceiling` in bench/endpoint.py) predicts "
            f"{few['accept_race_model']:.2f} at {few['clients']} clients and "
            f"{s['accept_race_model']:.2f} at {clients}: with few cameras a frame may wait "
            "behind another while a core is free, which costs latency, not capacity.",
            "",
        ]
    memory = r.get("memory")
    if memory:
        workers = len(memory["peak_rss_mb"])
        rows = [[p["phase"], *(f"{v:.0f}" for v in p["rss_mb"])] for p in memory["phases"]] + [
            ["peak (VmHWM)", *(f"{v:.0f}" for v in memory["peak_rss_mb"])]
        ]
        lines += [
            f"Memory per endpoint worker (RSS MB, {workers} workers, 1280x720 crowd frames "
            "from 8 concurrent clients, then pixel bombs sent among their frames):",
            "",
            *_table(["phase", *(f"worker {i + 1}" for i in range(workers))], rows),
        ]
        if memory["bombs"]:
            lines += [
                "Pixel bombs, each sent among 16 frames from the other clients:",
                "",
                *_table(
                    ["image", "HTTP status", "seconds"],
                    [[b["bomb"], b["status"], f"{b['seconds']:.2f}"] for b in memory["bombs"]],
                ),
            ]
    return lines


def emotions_section(r: dict[str, Any]) -> list[str]:
    rows = [
        [
            x["sqs_batch"],
            x["mode"] + (f" (<= {x['mosaic_size']}/call)" if x["mode"] == "mosaic" else ""),
            x["faces"],
            x["calls"],
            f"{x['calls_per_face']:.3f}",
            f"{x['usd_per_1000_faces']:.2f}",
        ]
        for x in r["rekognition"]
    ]
    lines = [
        "## Emotion tracker (`bench/emotions.py`)",
        "",
        "Rekognition DetectFaces calls per face: real face crops through the real tracker "
        "and mosaic, a real boto3 client answered and counted by botocore's Stubber. How "
        "many faces Rekognition itself finds in a mosaic needs an AWS account and is not "
        "measured here.",
        "",
        *_table(["SQS batch", "mode", "faces", "calls", "calls/face", "USD per 1,000 faces"], rows),
    ]
    sizes = list(r["local_analyzer"]["model"])
    rows = [
        [label] + [f"{by[s]['cpu_ms']['median']:.2f}" for s in sizes]
        for label, by in r["local_analyzer"].items()
    ]
    lines += [
        "Local analyzer (mini-Xception on ONNX Runtime, 1 thread): CPU ms per face by the "
        "number of faces per ONNX Runtime run, no cap; `model` scores decoded crops, "
        "`analyzer_jpeg` decodes the JPEG crops first. Median of interleaved rounds.",
        "",
        *_table(["path"] + [f"batch {s}" for s in sizes], rows),
        f"Fastest: {r['best_inference_batch']} faces per run, "
        f"{r['best_vs_single_cpu']:.2f}x less CPU per face than one face per run.",
        "",
    ]
    tracker = r["local_scorer"]
    lines += [
        "Whole local tracker (SQLite bucket, ONNX, SQLite results and metrics), CPU ms per "
        "face by the tracker's batch:",
        "",
        *_table(
            [f"batch {b}" for b in tracker],
            [[f"{v['cpu_ms']['median']:.2f}" for v in tracker.values()]],
        ),
    ]
    return lines


def devices_section(r: dict[str, Any]) -> list[str]:
    rows = [
        [
            c["camera_quality"],
            c["faces_placed"],
            f"{c['faces_found']:.1f}",
            f"{c['cloud_bytes']:,.0f}",
            f"{c.get('crops', 0):.1f}",
            f"{c['edge_requests']:.1f}",
            f"{c['edge_bytes']:,.0f}",
            f"{c['edge_overhead']:,.0f}",
            f"{c['edge_metadata']:,.0f}",
            f"{c['ratio']:.1%}",
        ]
        for c in r["grid"]
    ]
    return [
        "## Edge vs cloud bytes (`bench/devices.py`)",
        "",
        "Bytes per frame on the wire: the cloud path's InvokeEndpoint with the whole JPEG "
        "frame, the edge path's PutObject of one crop sheet per frame (face crops >= "
        f"{r['min_face_px']} px, tiled into 80 px cells, JPEG q{r['crop_quality']}; "
        "`datapalooza/crop_sheets.py`). Each request is the real one "
        "botocore prepares (request line, SigV4 headers, x-amz-meta-* object metadata, "
        "body with its framing), captured at botocore's `before-send` event. "
        f"{r['frames_per_cell']} synthetic 1280x720 frames per cell.",
        "",
        *_table(
            [
                "camera q",
                "faces placed",
                "faces found",
                "cloud B",
                "crops",
                "objects",
                "edge B",
                "edge request heads B",
                "of which metadata B",
                "edge / cloud",
            ],
            rows,
        ),
        f"Per request: InvokeEndpoint head {r['cloud_request_overhead']:,.0f} B, PutObject "
        f"head {r['edge_request_overhead']:,.0f} B. Edge CPU: "
        f"{r['edge_cpu_ms_per_frame']:.1f} ms per frame (detect, crop, sheet).",
        "",
    ]


def _camera_split(main: dict[str, Any]) -> list[str]:
    """The camera's line, split by what its threads metered in place."""
    split = main.get("camera_split_ms_per_scored_frame")
    if not split:
        return []
    camera = main["cpu_ms_per_scored_frame"]["camera"]
    rest = camera - split["jpeg_encode"] - split["endpoint_client"]
    return [
        f"The camera's {camera:.1f} ms: the frame's JPEG encode {split['jpeg_encode']:.1f}, "
        f"the call through boto3's SageMaker Runtime client {split['endpoint_client']:.1f} "
        f"(the request, the answer's JSON), the rest {rest:.1f} (the loop, publishing).",
        "",
    ]


def festival_section(r: dict[str, Any]) -> list[str]:
    main = r["cpu"]
    rows = [[part, f"{ms:.1f}"] for part, ms in main["cpu_ms_per_scored_frame"].items()]
    rows.append(
        ["**pipeline without the source**", f"**{main['pipeline_cpu_ms_per_scored_frame']:.1f}**"]
    )
    rows.append(["bare detector, same frames", f"{main['detector_cpu_ms_per_frame']:.1f}"])
    lat = main["latency_median_s"]
    lines = [
        "## Local festival (`bench/festival.py`)",
        "",
        f"`datapalooza up` wiring with {main['cameras']} cameras at 1 fps (1280x720 "
        f"synthetic frames, cloud path, {_endpoint_size(main)}, one dashboard viewer), "
        f"{main['window_s']:.0f} s window after a warm-up: {main['frames_scored']} frames "
        f"scored ({main['frames_captured']} captured). CPU ms per **scored** frame:",
        "",
        *_table(["part", "CPU ms per scored frame"], rows),
        f"Pipeline / detector: **{main['pipeline_vs_detector']:.2f}x**. Median capture-to-"
        f"database latency {lat:.2f} s."
        if lat is not None
        else "",
        "",
        *_camera_split(main),
        "How each part is measured: the camera threads' and tracker thread's CPU from "
        "/proc; inside them, the synthetic source's `read`, the crop store's and the "
        "database's methods metered in place with each thread's CPU clock; the endpoint "
        "and dashboard process trees from /proc; the endpoint's share of crop-store work "
        f"replayed alone on the run's crops ({main['crop_store_endpoint_ms_per_crop']:.2f} ms "
        "per crop) and moved from the endpoint's line to the crop store's.",
        "",
    ]
    capacity = r.get("capacity", [])
    if capacity:
        rows = [
            [
                c["cameras"],
                c.get("endpoint_workers", "-"),
                f"{c['scored_fps_per_camera']:.2f}",
                f"{c['latency_median_s']:.2f}" if c["latency_median_s"] is not None else "-",
                f"{c['latency_p90_s']:.2f}" if c["latency_p90_s"] is not None else "-",
                f"{c['pipeline_cpu_ms_per_scored_frame']:.1f}",
            ]
            for c in capacity
        ]
        lines += [
            "Capacity (wall-clock, so it depends on the machine's other load):",
            "",
            *_table(
                [
                    "cameras",
                    "endpoint workers",
                    "scored frames/s per camera",
                    "median latency s",
                    "p90 latency s",
                    "pipeline CPU ms/frame",
                ],
                rows,
            ),
        ]
    return lines


def _endpoint_size(run: dict[str, Any]) -> str:
    workers = run.get("endpoint_workers")
    return f"endpoint with {workers} worker(s) as `up` sizes it" if workers else "endpoint"


def profile_section() -> list[str]:
    if not PROFILE_JSON.exists():
        return []
    profile = json.loads(PROFILE_JSON.read_text())
    threads = ", ".join(f"{ms:.1f}" for ms in profile.get("thread_cpu_ms_per_request", []))
    lines = [
        "## Where the endpoint's CPU goes (`python -m bench.profile`)",
        "",
        f"A 1-worker endpoint over {profile['requests']} round trips at 1280x720. CPU ms per "
        f"request of each server thread (/proc): {threads} (the request handler, then the "
        f"event loop). py-spy samples of the request handler ({profile['samples']} "
        "samples): share by the function each sample was in (self time), top entries. "
        "Everything but `Session.run` and the detector's pre/post-processing "
        "(the wheel's `preprocess`, `retinaface_decoding.py`, `create_face`), which the "
        "bare detector also runs, is the endpoint's overhead.",
        "",
        *_table(
            ["function", "self share"],
            [[f"`{name}`", f"{share:.1%}"] for name, share in profile["self"]],
        ),
    ]
    return lines


def _within_reach(
    busy: float, capacity: list[dict[str, Any]], cameras: int, judged: dict[str, Any] | None
) -> str:
    """What 'the cores suffice' means when they would be this busy, with what the run's
    capacity row for that many cameras measured, and whether it met the goal."""
    measured = next((c for c in capacity if c["cameras"] == cameras), None)
    run = (
        f" (this run: {measured['scored_fps_per_camera']:.3f} scored frames a second a "
        f"camera, median latency {measured['latency_median_s']:.2f} s)"
        if measured and measured["latency_median_s"] is not None
        else ""
    )
    if judged is not None and judged.get("met"):
        return (
            f"within reach on otherwise idle cores: at {busy:.0%} busy, the cameras keep "
            f"up{run}; other programs on the same cores take from that margin."
        )
    return (
        f"within reach only on otherwise idle cores: at {busy:.0%} busy, frames queue "
        f"behind each other and cameras fall behind{run}."
    )


def _camera_parts(main: dict[str, Any]) -> str:
    split = main.get("camera_split_ms_per_scored_frame")
    if not split:
        return ""
    return (
        f": {split['jpeg_encode']:.1f} the encode, {split['endpoint_client']:.1f} the call "
        "through boto3, which `up` keeps so that its cameras run the AWS path's own client"
    )


def _pipeline_floor(parts: dict[str, float], detector: float, budget: float) -> str:
    """The camera, the endpoint beyond the detector and the tracker: what every frame
    of the cloud path needs, set against what the goal leaves."""
    floor = parts["camera"] + parts["endpoint"] - detector + parts["tracker"]
    if floor <= budget:
        return (
            f" Those three come to {floor:.1f} ms: the crop store, the database and the "
            f"dashboard must fit in the {budget - floor:.1f} ms left."
        )
    return (
        f" Those three alone come to {floor:.1f} ms, more than the {budget:.1f} ms the goal "
        "leaves, before a crop is stored, a score written or a page served: the goal needs "
        "them to shrink first, and beyond the JPEG codecs and the two models what they "
        "hold is boto3, HTTP and the tracker's steps for each crop (split above and in "
        "the endpoint section)."
    )


def analysis_section(b: dict[str, Any], *, cores: int) -> list[str]:
    """For each goal, what the measured parts say about how far it can be reached."""
    lines = ["## What limits each goal", ""]
    if "festival" in b:
        main = b["festival"]["cpu"]
        parts = main["cpu_ms_per_scored_frame"]
        detector = main["detector_cpu_ms_per_frame"]
        budget = (PIPELINE_GOAL - 1) * detector
        extra = main["pipeline_cpu_ms_per_scored_frame"] - detector
        lines += [
            f"- **`up` pipeline** ({main['pipeline_vs_detector']:.2f}x): the goal leaves "
            f"{budget:.1f} ms per frame beyond the detector's {detector:.1f} ms; the "
            f"pipeline spends {extra:.1f} ms more. The camera's JPEG encode and its request "
            f"({parts['camera']:.1f} ms{_camera_parts(main)}) and the endpoint beyond the "
            "detector "
            f"({parts['endpoint'] - detector:.1f} ms: the frame's decode, the crops, the JSON "
            "and HTTP, split in the endpoint section; the endpoint and the bare detector run "
            "in different processes, so this difference is the noisiest figure here) are what "
            f"the cloud path needs for any frame, and the tracker "
            f"scores every crop ({parts['tracker']:.1f} ms); crop rows and notifications "
            f"({parts['crop_store']:.1f} ms{_crop_rows(main)}), the database "
            f"({parts['database']:.1f} ms) and "
            f"one dashboard viewer ({parts['dashboard']:.1f} ms) share the rest. Fixed "
            "per-second costs (idle servers, status loop, the viewer) weigh more per frame "
            "with fewer cameras." + _pipeline_floor(parts, detector, budget),
        ]
        source = parts["synthetic_source"]
        pipeline = main["pipeline_cpu_ms_per_scored_frame"]
        n = CAPACITY_GOAL_CAMERAS
        need_now = n * (pipeline + source) / 1000
        need_goal = n * (PIPELINE_GOAL * detector + source) / 1000
        at_goal = (
            f" and {need_goal:.2f} even at the {PIPELINE_GOAL}x goal"
            if need_goal < need_now
            else ""
        )
        lines += [
            f"- **{n} cameras at 1 fps**: each frame costs {pipeline:.1f} ms of pipeline CPU"
            f" plus {source:.1f} ms for the synthetic source that stands in "
            f"for the cameras (on the same cores in `up`), so {n} frames a second need "
            f"{need_now:.2f} cores today{at_goal}. With {cores} cores that is "
            + (
                _within_reach(
                    need_now / cores,
                    b["festival"].get("capacity", []),
                    n,
                    b["festival"].get("goals", {}).get(f"cameras_{n}_median_latency_s"),
                )
                if need_now < cores
                else "out of reach: the detector alone at "
                f"1280x720 takes {n * detector / 1000:.2f} cores for {n} frames a second."
            ),
        ]
    if "endpoint" in b:
        top = b["endpoint"]["latency"]["1280x720"]
        detector = top["detector"]["cpu_ms"]["median"]
        decode = top["decode"]["cpu_ms"]["median"]
        budget = (OVERHEAD_GOAL - 1) * detector
        if "handler" in top:
            reason = _endpoint_parts(top)
        else:
            reason = (
                f"decoding the 1280x720 JPEG alone takes {decode:.1f} ms of it "
                f"({decode / detector:.0%} of the detector), before cropping, storing the "
                "crops, HTTP and the client"
            )
        lines += [
            f"- **Endpoint** ({top['overhead_cpu']:.2f}x): {OVERHEAD_GOAL - 1:.0%} of the "
            f"detector is {budget:.1f} ms per frame; {reason}. See the profile below.",
        ]
        s = b["endpoint"]["scaling"]
        lines += [
            f"- **Workers** ({s['scaling_per_core']:.2f} per core, "
            f"{s.get('clients', 4)} clients): throughput is wall-clock; CPU per frame with "
            f"{s['workers']} workers ({s['many_workers']['cpu_ms']['median']:.1f} ms) against "
            f"1 ({s['one_worker']['cpu_ms']['median']:.1f} ms) shows whether the work itself "
            "grew. On a machine whose other programs keep the cores busy, a second worker "
            "cannot get a second core's worth of time, so this goal can only be judged on "
            "quiet cores. Fewer clients than that leave a worker idle now and then by the "
            "accept race (see the endpoint section).",
        ]
        machine = s.get("machine")
        if machine:
            lines[-1] += (
                f" The bare detector itself, in {s['workers']} processes at once in the same "
                f"rounds, makes {machine['scaling_per_core']:.2f} per core: that is this "
                f"machine's ceiling, and the endpoint reaches {machine['endpoint_share']:.2f} "
                "of it."
            )
    if "devices" in b:
        d = b["devices"]
        worst = max(d["grid"], key=lambda c: c["ratio"])
        objects = max(worst["edge_requests"], 1)
        lines += [
            f"- **Edge bytes** (worst {worst['ratio']:.0%} at camera q"
            f"{worst['camera_quality']}, {worst['faces_placed']} faces): a frame's "
            f"{worst.get('crops', 0):.1f} crops go up as {worst['edge_requests']:.1f} crop "
            f"sheet, one PutObject with {d['edge_request_overhead']:,.0f} B of request head "
            f"and a {worst['edge_body'] / objects:,.0f} B JPEG (of which "
            f"{d.get('sheet_jpeg_header_bytes', 0):,.0f} B are its own headers). The "
            "pixels sent are what the tracker uses: each crop fits an 80 px cell, "
            "Rekognition's smallest image side.",
        ]
    return [*lines, ""]


def render(results: dict[str, Any]) -> str:
    b = results["benchmarks"]
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench.report` from bench/out/results.json "
        "(`make bench`). Do not edit by hand. -->",
        "",
        "`make bench` runs every benchmark in `bench/` (`python -m bench`), prints its tables "
        "and writes bench/out/results.json; this page is generated from that file. Compared "
        "things run side by side in one run, in interleaved rounds (A B, then B A), and "
        "every cost is given as **CPU time** per unit of work next to wall time: other "
        "programs on the same cores stretch wall time, not the CPU a frame costs. The goals "
        "are reported here, met or not; no test fails on them "
        "(tests/integration/test_bench_smoke.py only checks that the quick suite runs).",
        "",
        *machine_section(results),
        *goals_section(results),
        *analysis_section(results["benchmarks"], cores=results["machine_before"]["usable_cores"]),
    ]
    for name, section in (
        ("festival", festival_section),
        ("endpoint", endpoint_section),
        ("devices", devices_section),
        ("emotions", emotions_section),
    ):
        if name in b:
            lines += section(b[name])
    lines += profile_section()
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    try:
        results = json.loads(args.json.read_text())
    except FileNotFoundError:
        sys.exit(f"{args.json} does not exist: run `make bench` first")
    args.out.write_text(render(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
