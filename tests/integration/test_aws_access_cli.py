"""Every command that talks to AWS, run with no AWS region or no AWS credentials, says
so in one line that names the fix, exits 2, and prints no traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import grace_hopper_path
from tests.helpers.processes import run_datapalooza

COMMANDS = {
    "emotions-rekognition": ["emotions", "--analyzer", "rekognition", str(grace_hopper_path())],
    "camera": ["camera", "--stage", "main", "--frames", "1"],
    "edge-bucket": ["edge", "--stage", "main", "--frames", "0", "--bucket", "faces-bucket"],
    "preflight": ["preflight", "--challenge", "1"],
}


def run_without_aws(args: list[str], tmp_path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata lookups from a laptop
        **extra,
    )
    return run_datapalooza(*args, cwd=tmp_path, env=env)


def assert_one_line_with_fix(result: subprocess.CompletedProcess[str], *fix: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("datapalooza: error: ")
    for words in fix:
        assert words in lines[0]


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_no_region_is_one_line_naming_the_fix(command, tmp_path):
    result = run_without_aws(command, tmp_path)
    assert_one_line_with_fix(result, "AWS region", "AWS_REGION", "--region")


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_no_credentials_is_one_line_naming_the_fix(command, tmp_path):
    result = run_without_aws(command, tmp_path, AWS_REGION="eu-west-1")
    assert_one_line_with_fix(result, "AWS credentials", "aws configure", "AWS_ACCESS_KEY_ID")


def test_a_profile_that_does_not_exist_is_one_line_naming_the_fix(tmp_path):
    result = run_without_aws(COMMANDS["preflight"], tmp_path, AWS_PROFILE="workshop-typo")
    assert_one_line_with_fix(result, "workshop-typo", "AWS_PROFILE", "list-profiles")
