"""One place that opens an AWS session for a command and, when the region or the
credentials are missing, says so in one line that names the fix (no traceback)."""

from __future__ import annotations

import os
import sys
from typing import Any

REGION_FIX = "set AWS_REGION or AWS_DEFAULT_REGION (or `region` in ~/.aws/config), or pass --region"
CREDENTIALS_FIX = (
    "run `aws configure` (or `aws sso login --profile NAME` and set AWS_PROFILE), "
    "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)

PROFILE_FIX = "set AWS_PROFILE to a profile in ~/.aws/config (`aws configure list-profiles`)"


class AwsAccessMissing(Exception):
    """No AWS region or no AWS credentials: the message names what is missing and the fix."""


def aws_session(*, purpose: str, region: str | None = None) -> Any:
    """A boto3 session that has a region and credentials.

    ``purpose`` names what needs AWS (``"--analyzer rekognition"``) in the message.
    """
    import boto3
    from botocore.exceptions import ProfileNotFound

    # botocore reads AWS_DEFAULT_REGION; Lambda, Greengrass and this project's docs set
    # AWS_REGION, so both work.
    try:
        session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    except ProfileNotFound as exc:
        raise AwsAccessMissing(f"{purpose}: {exc}: {PROFILE_FIX}") from None
    if not session.region_name:
        raise AwsAccessMissing(f"{purpose} needs an AWS region: {REGION_FIX}")
    if session.get_credentials() is None:
        raise AwsAccessMissing(f"{purpose} needs AWS credentials: {CREDENTIALS_FIX}")
    return session


def missing_access_message(exc: BaseException) -> str | None:
    """The one-line message for botocore's own "no region" / "no credentials" errors
    (raised where a client was built without ``aws_session``); None for anything else."""
    if "botocore" not in sys.modules:
        return None
    from botocore.exceptions import (
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, ProfileNotFound):
        return f"{exc}: {PROFILE_FIX}"
    if isinstance(exc, NoRegionError):
        return f"no AWS region: {REGION_FIX}"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return f"no usable AWS credentials ({exc}): {CREDENTIALS_FIX}"
    return None
