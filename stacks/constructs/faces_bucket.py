"""The faces bucket: where face crops land, private and short-lived."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from datapalooza.constants import FACES_PREFIX


class FacesBucket(Construct):
    """A private S3 bucket for face crops, plus the bucket its access logs go to.

    Face crops identify people, so the bucket blocks all public access, refuses
    plain HTTP, encrypts at rest, keeps no old versions and expires everything under
    ``faces/`` after ``expire_days`` (S3's shortest lifecycle is one day). Every
    request is logged to a separate, equally private bucket for audit.

    Both buckets are deleted, with their objects, by ``cdk destroy``: this is a
    workshop, and leftover face crops are a liability, not an asset.

    ``bucket_name`` is deterministic (stacks/names.py: per team, account and Region), so
    the other challenges' stacks refer to the bucket by name, without CloudFormation
    exports (which would pin Challenge 1 until they are destroyed), and the IAM policies
    stay readable. The access-log bucket's name is CloudFormation's, unique already.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        expire_days: int,
        access_logs_expire_days: int,
    ) -> None:
        super().__init__(scope, id)
        self.bucket_name = bucket_name
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(access_logs_expire_days))],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="faces-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-face-crops",
                    prefix=FACES_PREFIX,
                    expiration=Duration.days(expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )


def crops_arn(bucket_name: str, *, stage: str | None = None) -> str:
    """ARN pattern of every face crop object (``faces/*``) in the named bucket, or of
    one stage's crops only (``faces/<stage>/*``: keys are ``faces/<stage>/<date>/...``)."""
    prefix = FACES_PREFIX if stage is None else f"{FACES_PREFIX}{stage}/"
    return f"arn:{Aws.PARTITION}:s3:::{bucket_name}/{prefix}*"


def grant_write_crops(bucket_name: str, grantee: iam.IGrantable) -> iam.Grant:
    """Put face crops, and delete them again: storing a frame's crops is all-or-nothing,
    so a failed frame removes the crops it already wrote. Nothing outside ``faces/``."""
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:PutObject", "s3:DeleteObject"],
        resource_arns=[crops_arn(bucket_name)],
    )


def grant_put_crops(bucket_name: str, grantee: iam.IGrantable, *, stage: str) -> iam.Grant:
    """Put face crops of one ``stage`` and nothing else: the edge device uploads each crop
    once from its store-and-forward queue and never deletes, and a stolen device cannot
    write another stage's crops."""
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:PutObject"],
        resource_arns=[crops_arn(bucket_name, stage=stage)],
    )


def grant_read_crops(bucket_name: str, grantee: iam.IGrantable) -> iam.Grant:
    """Read face crops and their metadata; nothing else in the bucket.

    Listing is allowed under ``faces/`` only: without s3:ListBucket, S3 answers 403
    instead of 404 for a crop deleted before processing, and the tracker would retry
    it into the dead-letter queue instead of counting it as CropMissing.
    """
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[f"arn:{Aws.PARTITION}:s3:::{bucket_name}"],
            conditions={"StringLike": {"s3:prefix": [f"{FACES_PREFIX}*"]}},
        )
    )
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:GetObject"], resource_arns=[crops_arn(bucket_name)]
    )
