"""model.tar.gz as the SageMaker inference container sees it: it serves a frame from
the unpacked archive, installs its requirements with no package index, and is
byte-for-byte reproducible."""

import json
import os
import re
import tarfile

import pytest

from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
from model.build import build_model_artifact
from model.wheels import WheelPlatform, requirement_pins
from stacks.build.container_image import wheel_platform
from stacks.settings import AppSettings
from tests.helpers.processes import run_python, without_datapalooza_settings


@pytest.fixture(scope="module")
def platform() -> WheelPlatform:
    return wheel_platform(AppSettings())


@pytest.fixture(scope="module")
def artifact(tmp_path_factory, platform):
    return build_model_artifact(tmp_path_factory.mktemp("out"), platform=platform)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, artifact):
    """The archive unpacked as SageMaker unpacks it, to /opt/ml/model."""
    target = tmp_path_factory.mktemp("opt-ml-model")
    with tarfile.open(artifact) as tar:
        tar.extractall(target, filter="data")
    return target


def test_the_container_platform_is_the_pinned_images():
    # py312 in settings -> Python 3.12; the 2.6 CPU image is Ubuntu 22.04 (glibc 2.35).
    platform = wheel_platform(AppSettings())
    assert platform.python_version == "3.12"
    assert platform.pip_platforms[0] == "manylinux_2_35_x86_64"
    assert "manylinux_2_28_x86_64" in platform.pip_platforms  # numpy >= 2.3 ships only these


def test_every_requirement_installs_from_the_artifacts_own_wheels_with_no_index(
    model_dir, platform, tmp_path
):
    """What the container runs at start (pip install -r code/requirements.txt), for its
    platform and Python, with no index and no pip configuration of this machine: every
    pin must resolve from code/wheels alone."""
    requirements = model_dir / "code" / "requirements.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # ignore this machine's indexes and find-links
    result = run_python(
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--disable-pip-version-check",
        "--no-index",  # the test never reaches an index, whatever the file says
        # No --find-links here: the requirements file's own line must point pip at
        # code/wheels, as in the container's plain `pip install -r`.
        *platform.pip_target_args(),
        "--target",
        str(tmp_path / "site-packages"),
        "--report",
        str(tmp_path / "report.json"),
        "-r",
        str(requirements),
        timeout=300,
        cwd=tmp_path,  # not code/: the requirements' own --find-links must resolve anyway
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    installed = {
        f"{item['metadata']['name'].lower()}=={item['metadata']['version']}"
        for item in report["install"]
    }
    pins = {pin.lower() for pin in requirement_pins(requirements)}
    assert installed == pins
    assert all(item["download_info"]["url"].startswith("file://") for item in report["install"])


def test_the_requirements_never_reach_an_index(model_dir):
    lines = (model_dir / "code" / "requirements.txt").read_text().splitlines()
    assert "--no-index" in lines and "--find-links wheels" in lines


def test_the_artifact_size_is_reported_and_bounded(artifact):
    size_mb = artifact.stat().st_size / 1e6
    print(f"model.tar.gz: {size_mb:.1f} MB")
    # Wheels for numpy, onnxruntime, OpenCV, Pillow and boto3 are ~125 MB; the weights
    # and code a few MB. A jump past this means something unintended got packed.
    assert size_mb < 160


def test_the_packed_model_artifact_serves_a_frame_in_a_fresh_process(
    model_dir, tmp_path, grace_hopper_jpeg
):
    names = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {"code/inference.py", "code/requirements.txt", "MODEL_CARD.md"} <= names
    assert "code/retinaface/weights.py" in names
    assert "code/datapalooza/detection/face_crops.py" in names
    (tmp_path / "frame.jpg").write_bytes(grace_hopper_jpeg)
    script = f"""
import json, sys, runpy
sys.path.insert(0, {str(model_dir / "code")!r})
import inference, datapalooza, retinaface
assert datapalooza.__file__.startswith({str(model_dir)!r}), datapalooza.__file__
assert retinaface.__file__.startswith({str(model_dir)!r}), retinaface.__file__
class Processor:
    def get_request_properties(self):
        return {{"X-Amzn-SageMaker-Custom-Attributes": "stage=main,camera=cam-9,frame=f1"}}
class Context:
    request_processor = [Processor()]
model = inference.model_fn({str(model_dir)!r})
frame = open({str(tmp_path / "frame.jpg")!r}, "rb").read()
data = inference.input_fn(frame, "image/jpeg", Context())
body, ctype = inference.output_fn(inference.predict_fn(data, model), "application/json")
print(ctype); print(body.decode())
"""
    env = without_datapalooza_settings(DATAPALOOZA_DATA_DIR=str(tmp_path / "crops"))
    result = run_python("-c", script, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    ctype, body = result.stdout.strip().split("\n", 1)
    answer = json.loads(body)
    assert ctype == "application/json"
    assert answer["Camera"] == "cam-9" and answer["FaceCount"] == 1
    assert SqliteFaceStore(tmp_path / "crops").exists(answer["Faces"][0]["CropKey"])


def test_the_artifact_is_reproducible(tmp_path, artifact, platform):
    again = build_model_artifact(tmp_path / "again", platform=platform)
    assert again.read_bytes() == artifact.read_bytes()


def test_a_wheel_that_is_not_pinned_stops_the_build(tmp_path):
    """Reproducible artifacts: every wheel pip brings must be pinned, dependencies too."""
    from model.wheels import WheelsUnavailable, _check_all_pinned

    (tmp_path / "numpy-2.4.6-cp312-cp312-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (tmp_path / "protobuf-7.0.0-cp310-abi3-manylinux2014_x86_64.whl").write_bytes(b"")
    with pytest.raises(WheelsUnavailable, match=re.escape("protobuf==7.0.0")):
        _check_all_pinned(tmp_path, ("numpy==2.4.6", "protobuf==6.33.6"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--no-index\nnumpy>=2\n")
    with pytest.raises(WheelsUnavailable, match="not an exact pin"):
        requirement_pins(requirements)
