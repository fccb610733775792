"""The CDK CLI from package.json synthesises the app offline, bundling real packages."""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from datapalooza import constants

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"
STACKS = (constants.CLOUD_INFERENCE_STACK, constants.EMOTION_TRACKER_STACK, constants.EDGE_STACK)

# Lambda refuses a function whose package is over 250 MB unzipped (262,144,000 bytes:
# MB here is 2**20 bytes): https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# Our own ceiling is 200 MB, so one dependency bump cannot break CreateFunction.
LAMBDA_UNZIPPED_LIMIT = 250 * 2**20
PACKAGE_CEILING = 200 * 2**20

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # `make test` installs the CLI (scripts/install-system-deps runs npm install).
    assert CDK.exists(), "run scripts/install-system-deps (npm install) first"
    out = tmp_path_factory.mktemp("cdk") / "cdk.out"
    try:
        result = subprocess.run(
            [str(CDK), "synth", "--quiet", "-o", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=540,
            env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        )
        assert result.returncode == 0, result.stderr[-3000:]
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)  # ~500 MB of bundled packages


def _function_packages(out: Path) -> dict[str, Path]:
    """Each Lambda function's unzipped package folder, by stack/logical id."""
    packages: dict[str, Path] = {}
    for stack in STACKS:
        template = json.loads((out / f"{stack}.template.json").read_text())
        assets = json.loads((out / f"{stack}.assets.json").read_text())["files"]
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            code = resource["Properties"]["Code"]
            if "S3Key" not in code:
                continue  # inline code
            asset_hash = json.dumps(code["S3Key"]).split(".zip")[0].split('"')[-1]
            folder = out / assets[asset_hash]["source"]["path"]
            if folder.is_dir():
                packages[f"{stack}/{logical_id}"] = folder
    return packages


def _unzipped_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.timeout(600)
def test_cdk_synth_builds_every_stack_and_bundles_the_tracker(cdk_out: Path) -> None:
    for stack in STACKS:
        assert json.loads((cdk_out / f"{stack}.template.json").read_text())["Resources"]
    assets = json.loads((cdk_out / f"{constants.EMOTION_TRACKER_STACK}.assets.json").read_text())
    bundles = [
        cdk_out / a["source"]["path"]
        for a in assets["files"].values()
        if (cdk_out / a["source"]["path"]).is_dir()
    ]
    tracker = [b for b in bundles if (b / "handler.py").exists()]
    assert tracker, "the emotion tracker's bundle is missing"
    assert (tracker[0] / "datapalooza" / "emotions" / "tracker.py").exists()
    assert (tracker[0] / "aws_lambda_powertools").is_dir()


@pytest.mark.timeout(600)
def test_every_lambda_package_stays_well_inside_lambdas_size_limit(cdk_out: Path) -> None:
    packages = _function_packages(cdk_out)
    handlers = {"handler.py", "camera_lambda.py", "edge_lambda.py"}
    # The tracker, the camera and the edge programs, at least (plus CDK's own handlers).
    assert handlers <= {p.name for f in packages.values() for p in f.iterdir()}, packages
    sizes = {name: _unzipped_size(folder) for name, folder in packages.items()}
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"{name}: {size / 2**20:.1f} MB unzipped ({size:,} bytes)")
    assert PACKAGE_CEILING < LAMBDA_UNZIPPED_LIMIT
    too_big = {name: size for name, size in sizes.items() if size > PACKAGE_CEILING}
    assert too_big == {}, f"over {PACKAGE_CEILING / 2**20:.0f} MB unzipped: {too_big}"
