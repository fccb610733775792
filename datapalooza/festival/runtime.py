"""The local festival: every part of the pipeline, running on this machine.

    cameras (threads) --frames--> endpoint server (child process, N workers)
          |                                | crops into the bucket directory,
          | edge stages: detector in-thread | announced as notifications
          '--------------------------------'
    notifications --> tracker (thread: local ONNX emotion model) --> SQLite results
                                                                   + metrics
    dashboard server (child process) <-- SQLite, status.json

Nothing here re-implements a part: the cameras are datapalooza.devices, the endpoint is
``datapalooza serve-endpoint``, the tracker is datapalooza.emotions, the dashboard is
datapalooza.dashboard.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.adapters.local.crop_notifications import (
    NotifyingFaceStore,
    SqliteCropNotifications,
)
from datapalooza.adapters.local.log_publisher import LogPublisher
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from datapalooza.adapters.local.sqlite_health import sqlite_problem
from datapalooza.adapters.local.sqlite_idempotency import SqlitePersistenceLayer
from datapalooza.adapters.local.sqlite_metrics_sink import SqliteMetricsSink
from datapalooza.adapters.local.sqlite_results_table import SqliteResultsTable
from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.detection.weights import ModelUnavailable
from datapalooza.devices.bootstrap import build_camera_service, build_edge_service
from datapalooza.devices.camera import CameraService, CameraSettings
from datapalooza.devices.edge import EdgeService, EdgeSettings
from datapalooza.emotions.bootstrap import local_scorer
from datapalooza.emotions.settings import TrackerSettings
from datapalooza.festival.children import ChildFailed, ChildServer
from datapalooza.festival.config import FestivalConfig, StageConfig
from datapalooza.festival.layout import DataLayout
from datapalooza.festival.run_lock import RunLock, RunLocked
from datapalooza.festival.scoring_worker import ScoringWorker
from datapalooza.planning.planner import DETECT_CPU_S_PER_FRAME
from datapalooza.sources.base import InvalidSourceSpec, SourceUnavailable
from datapalooza.sources.spec import open_source, redacted
from datapalooza.system.atomic_write import write_atomically
from datapalooza.system.network import free_port, port_is_free
from datapalooza.system.stale_files import remove_stale_temp_files
from datapalooza.system.storage_errors import is_storage_full, storage_full_detail

log = logging.getLogger(__name__)

TRACKER_SETTINGS = TrackerSettings(analyzer="local")
"""The local tracker's settings: its results' TTL also bounds how long their metric
points are kept (expire_old_crops)."""
EXPIRY_EVERY_S = 300.0
MIN_FREE_BYTES = 100 * 1024 * 1024
"""Free space `up` wants in the data directory at start, for the model cache, the
databases and a while of crops; below it, `up` refuses to start rather than fail later."""


STATUS_TEMP_PREFIX = ".tmp-status-"
"""What a killed ``write_status`` leaves beside status.json (swept at the next start)."""


class FestivalError(RuntimeError):
    """Something the person starting the festival must fix; the message says how."""


@dataclass(frozen=True, slots=True)
class FestivalOptions:
    data_dir: Path
    config: FestivalConfig
    host: str = "127.0.0.1"
    port: int = 8000
    endpoint_port: int | None = None
    endpoint_workers: int | None = None
    """None: as many as the cloud cameras' frames need (``endpoint_workers_for``)."""
    interval_s: float = 1.0
    duration_s: float | None = None
    dashboard: bool = True
    drain_timeout_s: float = 120.0
    keep_crops_hours: float = 24.0
    """Face crops older than this are deleted, as the bucket's lifecycle rule does."""


LOCAL_WORKER_UTILISATION = 0.5
"""How busy ``up`` lets an endpoint worker get: lower than the planner's 70% for a
SageMaker instance, since here the cameras, the tracker and the dashboard share its
cores (10 cameras on one worker scored 0.96 frames per camera a second, not 1.0)."""


def endpoint_workers_for(cloud_cameras: int, interval_s: float) -> int:
    """Endpoint worker processes for this many cameras, each sending a frame every
    ``interval_s``: the CPU a frame costs (measured here, as the festival planner uses
    it) over LOCAL_WORKER_UTILISATION of a core, at least 1 and at most one per core.
    An idle worker still holds a model (~230 MB) and wakes 10 times a second."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if interval_s <= 0:  # frames as fast as the cameras can: every core
        return max(1, cores or 1)
    need = cloud_cameras / interval_s * DETECT_CPU_S_PER_FRAME / LOCAL_WORKER_UTILISATION
    return max(1, min(cores or 1, math.ceil(need)))


def camera_phases(cameras: int, interval_s: float) -> list[float]:
    """When each camera reads its first frame, in seconds after they all start: spread
    evenly over one interval. Cameras on their own devices capture at unrelated moments;
    threads started together would capture together, and every frame of an interval
    would queue at the endpoint at once (a burst each interval, and latency to match)."""
    if interval_s <= 0:
        return [0.0] * cameras
    return [interval_s * index / cameras for index in range(cameras)]


@dataclass(slots=True)
class StageRunner:
    config: StageConfig
    service: CameraService | EdgeService
    thread: threading.Thread | None = None
    phase_s: float = 0.0
    """When its camera reads its first frame, after the festival starts (camera_phases)."""

    def status(self, elapsed_s: float, scored: int) -> dict[str, Any]:
        if isinstance(self.service, CameraService):
            c = self.service.counters
            frames, faces, errors = c.frames, c.faces, c.endpoint_errors + c.source_errors
            extra: dict[str, Any] = {"crops": c.crops, "sent": c.sent, "last_error": c.last_error}
        else:
            s = self.service.stats
            frames, faces = s.frames, s.faces
            errors = s.upload_errors + s.source_errors + s.unexpected_errors
            extra = {
                "crops": s.crops,
                "uploaded": s.uploaded,
                "queue_depth": s.queue_depth,
                "last_error": s.last_error,
            }
        return {
            "path": self.config.path,
            "source": redacted(self.config.source),
            "frames": frames,
            "faces": faces,
            "errors": errors,
            "scored": scored,
            "fps": round(frames / elapsed_s, 2) if elapsed_s > 0 else 0.0,
            **extra,
        }


@dataclass
class Festival:
    """Start with start(), wait with run(), always finish with shutdown()."""

    options: FestivalOptions
    layout: DataLayout = field(init=False)
    endpoint: ChildServer | None = field(default=None, init=False)
    dashboard: ChildServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.layout = DataLayout(self.options.data_dir)
        self._stop_cameras = threading.Event()
        self._stop_tracker = threading.Event()
        self._drain = threading.Event()
        self._stages: list[StageRunner] = []
        self._tracker: ScoringWorker | None = None
        self._tracker_thread: threading.Thread | None = None
        self._notifications: SqliteCropNotifications | None = None
        self._started_at = datetime.now(UTC)
        self._started = time.monotonic()
        self._last_expiry = -float("inf")
        self._run_lock = RunLock(self.layout.pid_file)

    # -- checks that turn into clear errors -------------------------------------------
    def check(self) -> None:
        self._check_data_dir()
        self._check_databases()
        try:
            notice = self._run_lock.acquire()
        except RunLocked as exc:
            raise FestivalError(str(exc)) from None
        if notice:
            log.warning("%s", notice)
        if self.options.dashboard and not port_is_free(self.options.host, self.options.port):
            raise FestivalError(
                f"port {self.options.port} on {self.options.host} is in use (another "
                "`datapalooza up`?); stop it or pick another port with --port"
            )
        port = self.options.endpoint_port
        if port is not None and not port_is_free("127.0.0.1", port):
            raise FestivalError(
                f"endpoint port {port} is in use; pick another with --endpoint-port"
            )
        for stage in self.options.config.stages:
            self._check_source(stage)

    def _check_data_dir(self) -> None:
        root = self.options.data_dir
        try:
            root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
                pass
        except OSError as exc:
            raise FestivalError(
                f"data directory {root} is not writable ({exc.strerror or exc}); "
                "choose another with --data-dir"
            ) from exc

    def _full(self, detail: str) -> FestivalError:
        return FestivalError(
            f"the data directory {self.options.data_dir} is full ({detail}): free some "
            "space or choose another --data-dir; crops not yet scored stay queued for "
            "the next run"
        )

    def _check_databases(self) -> None:
        """A corrupt SQLite file is named with what to do, before anything uses it."""
        usage = shutil.disk_usage(self.options.data_dir)
        if usage.free < MIN_FREE_BYTES:
            raise self._full(f"{usage.free // (1024 * 1024)} MB free")
        for path in (self.layout.results_db, self.layout.notifications_db):
            problem = sqlite_problem(path)
            if problem is not None:
                raise FestivalError(
                    f"{path} is not a usable SQLite database ({problem}); move it aside "
                    f"(mv {path} {path}.corrupt) and start again: a new one is created, "
                    "and stored crops are scored again"
                )

    def _check_source(self, stage: StageConfig) -> None:
        try:
            source = open_source(stage.source, stage=stage.name)
        except (InvalidSourceSpec, SourceUnavailable, OSError, ValueError) as exc:
            raise FestivalError(
                f"stage {stage.name}: cannot open source {redacted(stage.source)!r}: {exc}. "
                "Check the path or device, or use a synthetic:stage=NAME source"
            ) from exc
        source.close()

    # -- start ------------------------------------------------------------------------
    def start(self) -> None:
        layout = self.layout
        notifications = SqliteCropNotifications(layout.notifications_db)
        self._notifications = notifications
        bucket = SqliteFaceStore(layout.bucket)
        # Left by a kill inside _check_data_dir or write_status.
        for pattern in (".write-check-*", f"{STATUS_TEMP_PREFIX}*"):
            remove_stale_temp_files(layout.root, pattern)
        self.expire_old_crops()
        # Crops written before a crash but never announced: announce them now.
        recovered = notifications.announce(list(bucket.keys()))
        if recovered:
            log.info("resuming: %d stored crops were never scored; scoring them", recovered)
        try:
            tracker = local_scorer(
                TRACKER_SETTINGS,
                faces_root=layout.bucket,
                database=layout.results_db,
                cache_dir=layout.model_cache,
            )
            detector_settings = DetectorSettings()
            detector = (
                load_detector(detector_settings)
                if any(s.path == "edge" for s in self.options.config.stages)
                else None
            )
        except ModelUnavailable as exc:
            raise FestivalError(str(exc)) from exc  # the message says how to install it
        self._tracker = ScoringWorker(tracker, notifications)
        self._tracker_thread = threading.Thread(
            target=self._tracker.run,
            args=(self._stop_tracker,),
            kwargs={"drain": self._drain},
            name="tracker",
            daemon=True,
        )
        self._tracker_thread.start()

        if any(s.path == "cloud" for s in self.options.config.stages):
            self.endpoint = self._start_endpoint()
            self._record_children()
        if self.options.dashboard:
            self.dashboard = self._start_dashboard()
            self._record_children()

        store = NotifyingFaceStore(bucket, notifications)
        publisher = LogPublisher(logging.getLogger("datapalooza.mqtt"), level=logging.DEBUG)
        for stage in self.options.config.stages:
            service: CameraService | EdgeService
            if stage.path == "cloud":
                assert self.endpoint is not None
                service = build_camera_service(
                    CameraSettings(
                        stage=stage.name,
                        camera=stage.camera,
                        source=stage.source,
                        interval_s=self.options.interval_s,
                        endpoint_name=constants.DEFAULT_ENDPOINT_NAME,
                        endpoint_url=self.endpoint.url,
                        region="us-east-1",
                    ),
                    publisher=publisher,
                )
            else:
                service = build_edge_service(
                    EdgeSettings(
                        stage=stage.name,
                        camera=stage.camera,
                        source=stage.source,
                        interval_s=self.options.interval_s,
                        queue_dir=layout.edge_queue(stage.name),
                    ),
                    detector_settings,
                    store=store,
                    publisher=publisher,
                    detector=detector,
                )
            runner = StageRunner(stage, service)
            runner.thread = threading.Thread(
                target=self._run_stage, args=(runner,), name=f"stage-{stage.name}", daemon=True
            )
            self._stages.append(runner)
        phases = camera_phases(len(self._stages), self.options.interval_s)
        for runner, phase_s in zip(self._stages, phases, strict=True):
            runner.phase_s = phase_s
        self._started = time.monotonic()
        for runner in self._stages:
            assert runner.thread is not None
            runner.thread.start()

    def _run_stage(self, runner: StageRunner) -> None:
        if isinstance(runner.service, CameraService):
            runner.service.run(
                duration_s=self.options.duration_s,
                stop=self._stop_cameras,
                phase_s=runner.phase_s,
            )
        else:
            runner.service.run(
                duration_s=self.options.duration_s,
                stop=self._stop_cameras,
                drain_timeout_s=self.options.drain_timeout_s,
                phase_s=runner.phase_s,
            )

    def _start_endpoint(self) -> ChildServer:
        port = self.options.endpoint_port or free_port()
        workers = self.options.endpoint_workers
        if workers is None:
            cloud_cameras = sum(1 for s in self.options.config.stages if s.path == "cloud")
            workers = endpoint_workers_for(cloud_cameras, self.options.interval_s)
        log.info("endpoint: %d worker process(es)", workers)
        server = ChildServer(
            "face-detection endpoint",
            [
                "serve-endpoint",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--store",
                str(self.layout.bucket),
            ],
            host="127.0.0.1",
            port=port,
            ready_path="/ping",
            env={constants.ENV_NOTIFICATIONS_DB: str(self.layout.notifications_db)},
            log_path=str(self.layout.root / "endpoint.log"),
        )
        return _started(server)

    def _start_dashboard(self) -> ChildServer:
        server = ChildServer(
            "dashboard",
            [
                "dashboard",
                "--data-dir",
                str(self.layout.root),
                "--host",
                self.options.host,
                "--port",
                str(self.options.port),
            ],
            host=self.options.host,
            port=self.options.port,
            ready_path="/api/stages",
            log_path=str(self.layout.root / "dashboard.log"),
        )
        return _started(server)

    def _record_children(self) -> None:
        """In the pid file, so that the next `up` can tell if any outlived this one."""
        children = {"endpoint": self.endpoint, "dashboard": self.dashboard}
        self._run_lock.record({n: c.pid for n, c in children.items() if c is not None})

    # -- run --------------------------------------------------------------------------
    def cameras_running(self) -> bool:
        return any(r.thread is not None and r.thread.is_alive() for r in self._stages)

    def status(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self._started
        tracker = self._tracker.counters.to_json() if self._tracker else {}
        scored_by_stage = self._tracker.counters.scored_by_stage if self._tracker else {}
        if self._notifications is not None:
            tracker["pending"] = self._notifications.pending_count()
        return {
            "started_at": self._started_at.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            "elapsed_s": round(elapsed, 1),
            "stages": {
                r.config.name: r.status(elapsed, scored_by_stage.get(r.config.name, 0))
                for r in self._stages
            },
            "tracker": tracker,
            "dashboard": self.dashboard.url if self.dashboard else None,
            "endpoint": self.endpoint.url if self.endpoint else None,
        }

    def expire_old_crops(self) -> int:
        """Privacy: crops live ``keep_crops_hours`` at most, like the bucket's lifecycle
        rule; scored results keep their own TTL (purged by the results table). Claims past
        their TTL go too, and metric points as old as the results' TTL, so a festival left
        running does not grow its database without end."""
        self._last_expiry = time.monotonic()
        now = datetime.now(UTC)
        cutoff = now - timedelta(hours=self.options.keep_crops_hours)
        removed = SqliteFaceStore(self.layout.bucket).expire(cutoff)
        if self._notifications is not None:
            self._notifications.forget(int(cutoff.timestamp() * 1000))
        results = SqliteResultsTable(self.layout.results_db)
        claims = SqlitePersistenceLayer(self.layout.results_db)
        metrics = SqliteMetricsSink(self.layout.results_db)
        try:
            # What DynamoDB's TTL does in AWS, for the results and the claims.
            results.purge_expired(now)
            claims.purge_expired(now)
            metrics.purge_before(now - timedelta(days=TRACKER_SETTINGS.results_ttl_days))
        finally:
            for database in (results, claims, metrics):
                database.close()
        if removed:
            log.info(
                "deleted %d face crops older than %s h", removed, self.options.keep_crops_hours
            )
        return removed

    def write_status(self) -> dict[str, Any]:
        status = self.status()
        body = json.dumps(status, indent=1).encode()
        write_atomically(self.layout.status, body, prefix=STATUS_TEMP_PREFIX)
        return status

    def run(self, stop: threading.Event, *, on_status: Any = None, every_s: float = 1.0) -> None:
        """Until ``stop`` is set or the cameras finish (--duration, finite sources)."""
        while not stop.is_set() and self.cameras_running():
            if self._tracker is not None and self._tracker.halted is not None:
                raise self._full(self._tracker.halted)
            if time.monotonic() - self._last_expiry >= EXPIRY_EVERY_S:
                self.expire_old_crops()
            try:
                status = self.write_status()
            except OSError as exc:
                if is_storage_full(exc):
                    raise self._full(storage_full_detail(exc)) from None
                raise
            if on_status is not None:
                on_status(status)
            for child in (self.endpoint, self.dashboard):
                if child is not None and not child.alive():
                    raise FestivalError(f"the {child.name} stopped unexpectedly")
            stop.wait(every_s)

    def shutdown(self, *, drain: bool = True) -> dict[str, Any]:
        """Stop cameras, let the tracker score what is pending (``drain``), stop servers."""
        self._stop_cameras.set()
        for runner in self._stages:
            if runner.thread is not None:
                runner.thread.join(timeout=self.options.drain_timeout_s)
        if self._tracker_thread is not None:
            if drain:
                self._drain.set()
                self._tracker_thread.join(timeout=self.options.drain_timeout_s)
            self._stop_tracker.set()
            self._tracker_thread.join(timeout=30)
        try:
            status = self.write_status() if self._tracker else self.status()
        except OSError:  # a full disk: the summary is still printed
            status = self.status()
        for child in (self.dashboard, self.endpoint):
            if child is not None:
                child.stop()
        if self._notifications is not None:
            self._notifications.close()
        self._run_lock.release()
        return status


def _started(server: ChildServer) -> ChildServer:
    """Start a child server; a failure is a FestivalError naming the server and its log."""
    try:
        server.start()
    except ChildFailed as exc:
        raise FestivalError(str(exc)) from exc
    return server
