"""The CDK CLI from package.json synthesises the app offline, bundling real packages."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from datapalooza import constants

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.slow


def test_cdk_synth_builds_every_stack_and_bundles_the_tracker(tmp_path):
    # `make test` installs the CLI (scripts/install-system-deps runs npm install).
    assert CDK.exists(), "run scripts/install-system-deps (npm install) first"
    out = tmp_path / "cdk.out"
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
        stacks = (
            constants.CLOUD_INFERENCE_STACK,
            constants.EMOTION_TRACKER_STACK,
            constants.EDGE_STACK,
        )
        for stack in stacks:
            assert json.loads((out / f"{stack}.template.json").read_text())["Resources"]
        assets = json.loads((out / f"{constants.EMOTION_TRACKER_STACK}.assets.json").read_text())
        bundles = [
            out / a["source"]["path"]
            for a in assets["files"].values()
            if (out / a["source"]["path"]).is_dir()
        ]
        tracker = [b for b in bundles if (b / "handler.py").exists()]
        assert tracker, "the emotion tracker's bundle is missing"
        assert (tracker[0] / "datapalooza" / "emotions" / "tracker.py").exists()
        assert (tracker[0] / "aws_lambda_powertools").is_dir()
    finally:
        shutil.rmtree(out, ignore_errors=True)  # ~500 MB of bundled packages
