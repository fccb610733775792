"""Where the local festival keeps its state under the data directory.

{data_dir}/bucket/objects.sqlite the faces "bucket" (SqliteFaceStore)
{data_dir}/festival.sqlite      scored faces (SqliteResultsTable), the per-stage
                                metric time series (SqliteMetricsSink) and the
                                tracker's idempotency records, three tables
{data_dir}/notifications.sqlite crop notifications: the local S3 -> SQS
{data_dir}/setlists.json        artists' setlists per stage
{data_dir}/status.json          live counters of the running pipeline
{data_dir}/edge-queue/{stage}/  store-and-forward queues of edge cameras
{data_dir}/model-cache/         the converted emotion model
{data_dir}/up.pid               the running `up` and its children (locked while it runs)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from datapalooza import constants


def default_data_dir() -> Path:
    """The per-user data directory (e.g. ~/.local/share/datapalooza)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("datapalooza", appauthor=False))


def chosen_data_dir(given: Path | None, env: Mapping[str, str]) -> Path:
    """The data directory a command reads: ``given`` (its ``--data-dir``), else
    ``$DATAPALOOZA_DATA_DIR``, else the per-user one."""
    return given or Path(env.get(constants.ENV_DATA_DIR) or default_data_dir())


@dataclass(frozen=True, slots=True)
class DataLayout:
    """Paths of the local festival's state under one data directory."""

    root: Path

    @property
    def bucket(self) -> Path:
        return self.root / "bucket"

    @property
    def results_db(self) -> Path:
        return self.root / "festival.sqlite"

    @property
    def metrics_db(self) -> Path:
        """The metrics share the results' database file (one writer: the tracker)."""
        return self.results_db

    @property
    def notifications_db(self) -> Path:
        return self.root / "notifications.sqlite"

    @property
    def setlists(self) -> Path:
        return self.root / "setlists.json"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def model_cache(self) -> Path:
        return self.root / "model-cache"

    @property
    def pid_file(self) -> Path:
        return self.root / "up.pid"

    def edge_queue(self, stage: str) -> Path:
        return self.root / "edge-queue" / stage
