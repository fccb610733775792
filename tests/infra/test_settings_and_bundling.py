"""Deploy-time settings from CDK context, and the Docker-free Lambda packaging."""

from __future__ import annotations

from pathlib import Path

import pytest

from datapalooza.settings import SettingsError
from stacks.build.bundling import (
    BundlingFailed,
    PipLocalBundling,
    PythonBundle,
    keep_botocore_services,
    prune,
    remove_distribution,
)
from stacks.build.requirements import UnknownRequirement, pinned
from stacks.settings import AppSettings


def test_context_strings_from_the_command_line_become_typed_settings() -> None:
    settings = AppSettings.from_mapping(
        {"datapalooza:tracker_batch_size": "100", "datapalooza:min_confidence": "75.5"}
    )
    assert settings.tracker_batch_size == 100
    assert settings.min_confidence == 75.5
    assert settings.faces_expire_days == 1  # untouched default


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tracker_batch_size", "lots"),  # not a number
        ("faces_expire_days", 90),  # crops identify people: 30 days at most
        ("camera_stage", "Main Stage/../x"),  # not a slug
        ("tracker_mosaic_size", 500),  # Rekognition: 100 faces per call
        ("log_retention_days", 8),  # not a CloudWatch Logs retention period
        ("endpoint_instance_type", "m5.large"),  # SageMaker types start with ml.
        ("camera_source", "webcam:front"),  # not a device index (the programs' own parser)
        ("endpoint_network_isolation", "yes"),  # true or false only
        ("endpoint_stages", "main,Dance Tent"),  # each stage a slug
        ("endpoint_stages", ",".join(f"s{i}" for i in range(33))),  # 32 at most
    ],
)
def test_a_bad_context_value_is_refused_naming_its_key(key: str, value: object) -> None:
    with pytest.raises(SettingsError, match=f"datapalooza:{key}"):
        AppSettings.from_mapping({f"datapalooza:{key}": value})


def test_a_serverless_endpoint_cannot_be_network_isolated() -> None:
    with pytest.raises(SettingsError, match="datapalooza:endpoint_network_isolation"):
        AppSettings.from_mapping(
            {
                "datapalooza:endpoint_serverless_memory_mb": 2048,
                "datapalooza:endpoint_network_isolation": "true",
            }
        )


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("False", False), (True, True)])
def test_switches_take_json_booleans_and_command_line_words(raw: object, expected: bool) -> None:
    settings = AppSettings.from_mapping({"datapalooza:endpoint_network_isolation": raw})
    assert settings.endpoint_network_isolation is expected


def test_an_inference_image_of_unknown_c_library_is_refused_naming_its_key() -> None:
    from stacks.build.container_image import wheel_platform

    with pytest.raises(SettingsError, match="datapalooza:container_framework_version"):
        wheel_platform(AppSettings(container_framework_version="1.13"))


def test_batching_window_is_required_for_batches_over_ten() -> None:
    with pytest.raises(SettingsError, match="tracker_max_batching_window_s"):
        AppSettings(tracker_batch_size=50, tracker_max_batching_window_s=0)
    with pytest.raises(SettingsError, match="tracker_batch_size"):
        AppSettings(tracker_batch_size=10_001)
    # The deployed default (two mosaics of crops) is over ten and so comes with a window.
    default = AppSettings()
    assert default.tracker_batch_size > 10 and 1 <= default.tracker_max_batching_window_s <= 300


def test_function_packages_use_the_projects_exact_pins() -> None:
    assert pinned("numpy", "aws_lambda_powertools") == (
        "numpy==2.4.6",
        "aws-lambda-powertools==3.37.0",
    )
    with pytest.raises(UnknownRequirement, match="left-pad"):
        pinned("left-pad")


def test_local_bundling_copies_the_handler_and_the_runtime_package(tmp_path: Path) -> None:
    # Given a handler folder and no third-party requirements (so no pip, no network)
    handler = tmp_path / "fn"
    handler.mkdir()
    (handler / "handler.py").write_text("def handler(event, context):\n    return event\n")
    bundle = PythonBundle(handler_dir=handler, requirements=())
    out = tmp_path / "out"
    out.mkdir()
    # When CDK asks for the bundle (jsii passes the options struct positionally)
    assert PipLocalBundling(bundle).try_bundle(str(out), {"image": None}) is True
    # Then the package root holds the handler and the datapalooza package, no caches
    assert (out / "handler.py").is_file()
    assert (out / "datapalooza" / "constants.py").is_file()
    assert not list(out.rglob("__pycache__"))


def test_asset_hash_changes_with_the_code_and_only_with_it(tmp_path: Path) -> None:
    handler = tmp_path / "fn"
    handler.mkdir()
    (handler / "handler.py").write_text("A = 1\n")
    bundle = PythonBundle(handler_dir=handler, requirements=("numpy==2.4.6",))
    first = bundle.fingerprint()
    assert bundle.fingerprint() == first
    (handler / "handler.py").write_text("A = 2\n")
    assert bundle.fingerprint() != first
    other_platform = PythonBundle(
        handler_dir=handler, requirements=("numpy==2.4.6",), architecture="x86_64"
    )
    assert other_platform.fingerprint() != bundle.fingerprint()


def test_asset_hash_changes_with_the_shared_code_a_package_carries(tmp_path: Path) -> None:
    handler, shared = tmp_path / "fn", tmp_path / "shared"
    for folder in (handler, shared):
        folder.mkdir()
        (folder / "module.py").write_text("A = 1\n")
    bundle = PythonBundle(handler_dir=handler, requirements=(), shared_dirs=(shared,))
    first = bundle.fingerprint()
    (shared / "module.py").write_text("A = 2\n")
    assert bundle.fingerprint() != first


def test_every_detector_name_has_a_detector_and_a_device_wheel() -> None:
    """The names the stacks and CLIs accept are exactly the detectors that exist."""
    from datapalooza import constants
    from datapalooza.detection.factory import DETECTORS
    from stacks.constructs.device_program import DETECTOR_WHEELS

    assert set(DETECTORS) == set(constants.DETECTOR_NAMES)
    assert set(DETECTOR_WHEELS) == set(constants.DETECTOR_NAMES)


def test_synth_and_runtime_accept_the_same_min_face_px() -> None:
    """A value the stack accepts is never refused by the device's own settings."""
    from datapalooza.detection.settings import DetectorSettings
    from datapalooza.settings import SettingsError as RuntimeSettingsError

    for value in (0, 1, 1000, 1001):
        synth_ok = runtime_ok = True
        try:
            AppSettings(min_face_px=value)
        except SettingsError:
            synth_ok = False
        try:
            DetectorSettings(min_face_px=value)
        except RuntimeSettingsError:
            runtime_ok = False
        assert synth_ok == runtime_ok, value


def test_botocore_keeps_only_the_models_of_the_services_a_program_calls(tmp_path: Path) -> None:
    data = tmp_path / "botocore" / "data"
    for service in ("s3", "ec2", "sagemaker-runtime"):
        (data / service / "2006-03-01").mkdir(parents=True)
        (data / service / "2006-03-01" / "service-2.json.gz").write_bytes(b"model")
    for shared in (
        "endpoints.json",
        "partitions.json",
        "_retry.json",
        "sdk-default-configuration.json",
    ):
        (data / shared).write_text("{}")
    (data / "unrelated.json").write_text("{}")
    keep_botocore_services(tmp_path, ("s3",))
    assert sorted(p.name for p in data.iterdir()) == [
        "_retry.json",
        "endpoints.json",
        "partitions.json",
        "s3",
        "sdk-default-configuration.json",
    ]
    with pytest.raises(BundlingFailed, match="no model for kinesis"):
        keep_botocore_services(tmp_path, ("kinesis",))


def test_an_unused_distribution_leaves_with_every_file_its_record_lists(tmp_path: Path) -> None:
    # Given protobuf (google/protobuf/...) next to another package sharing google/
    info = tmp_path / "protobuf-7.36.2.dist-info"
    info.mkdir()
    (tmp_path / "google" / "protobuf").mkdir(parents=True)
    (tmp_path / "google" / "protobuf" / "message.py").write_text("")
    (tmp_path / "google" / "other").mkdir()
    (tmp_path / "google" / "other" / "keep.py").write_text("")
    (info / "RECORD").write_text(
        "google/protobuf/message.py,sha256=x,0\nprotobuf-7.36.2.dist-info/RECORD,,\n"
        "../outside.py,,\n"
    )
    (tmp_path.parent / "outside.py").write_text("")
    remove_distribution(tmp_path, "protobuf")
    assert not info.exists() and not (tmp_path / "google" / "protobuf").exists()
    assert (tmp_path / "google" / "other" / "keep.py").is_file()  # not listed: kept
    assert (tmp_path.parent / "outside.py").is_file()  # never outside the package
    with pytest.raises(BundlingFailed, match="flatbuffers is not installed"):
        remove_distribution(tmp_path, "flatbuffers")


def test_pruning_drops_what_no_program_loads_and_keeps_what_they_do(tmp_path: Path) -> None:
    files = {
        "onnxruntime/capi/libonnxruntime.so.1.32.0": False,
        "onnxruntime/capi/onnxruntime_pybind11_state.cpython-312-aarch64-linux-gnu.so": True,
        "onnxruntime/capi/libonnxruntime_providers_shared.so": True,
        "PIL/_avif.cpython-312-aarch64-linux-gnu.so": False,
        "pillow.libs/libavif-ba04b566.so.16.4.2": False,
        "opencv_python_headless.libs/libavif-96469e55.so.16.4.2": True,  # cv2 links it
        "PIL/_imaging.cpython-312-aarch64-linux-gnu.so": True,
        "numpy/_core/include/numpy/ndarraytypes.h": False,
        "numpy/__init__.pyi": False,
        "numpy/__init__.py": True,
        "bin/f2py": False,
        "somepkg/bin/tool.py": True,  # only the package root's bin/ is console scripts
    }
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    prune(tmp_path)
    assert {name: (tmp_path / name).exists() for name in files} == files


def test_the_default_scaling_target_is_below_what_an_instance_takes() -> None:
    # Target tracking never adds an instance if the target is more than one can take:
    # invocations per instance then stop growing while the queue grows.
    from datapalooza.planning import planner
    from datapalooza.planning.prices import load_prices

    settings = AppSettings()
    workers = load_prices("us-east-1").vcpus(settings.endpoint_instance_type)
    busy_s = planner.endpoint_busy_s(planner.MEASURED_CROPS_PER_FRAME)
    takes_per_minute = 60 * workers / busy_s * planner.TARGET_CPU_UTILISATION
    assert settings.endpoint_target_invocations_per_instance < takes_per_minute
