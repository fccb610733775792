"""Reading a CDK file asset from the one role that needs it."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets


def read_asset_object(sid: str, asset: s3_assets.Asset) -> iam.PolicyStatement:
    """``s3:GetObject`` on ``asset``'s one object. Not ``asset.grant_read``: that reads
    (and lists) the whole CDK assets bucket, every stack's assets in the account."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["s3:GetObject"],
        resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
    )
