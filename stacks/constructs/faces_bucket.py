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


def in_this_account() -> dict[str, dict[str, str]]:
    """The condition every grant on the faces bucket carries: the bucket belongs to this
    account.

    An S3 ARN names no account, and the bucket's name is predictable (stacks/names.py), so
    ``arn:aws:s3:::<name>/faces/*`` alone also matches a bucket of that name in another
    account: one created after ``cdk destroy`` of Challenge 1 deleted ours, while a device
    still uploads crop sheets to that name. ``aws:ResourceAccount`` is the account that
    owns the resource (docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_condition-keys.html#condition-keys-resourceaccount), so faces are
    never written to, nor read from, a bucket someone else owns (see also "Verifying
    bucket ownership", docs.aws.amazon.com/AmazonS3/latest/userguide/
    bucket-owner-condition.html)."""
    return {"StringEquals": {"aws:ResourceAccount": Aws.ACCOUNT_ID}}


def crops_arn(bucket_name: str, *, stage: str | None = None) -> str:
    """ARN pattern of every face crop object (``faces/*``) in the named bucket, or of
    one stage's crops only (``faces/<stage>/*``: keys are ``faces/<stage>/<date>/...``)."""
    prefix = FACES_PREFIX if stage is None else f"{FACES_PREFIX}{stage}/"
    return f"arn:{Aws.PARTITION}:s3:::{bucket_name}/{prefix}*"


def grant_write_crops(bucket_name: str, grantee: iam.IGrantable) -> iam.Grant:
    """Put face crops, and delete them again: storing a frame's crops is all-or-nothing,
    so a failed frame removes the crops it already wrote. Nothing outside ``faces/``, and
    only in this account's bucket (``in_this_account``)."""
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:PutObject", "s3:DeleteObject"],
        resource_arns=[crops_arn(bucket_name)],
        conditions=in_this_account(),
    )


def grant_put_crops(bucket_name: str, grantee: iam.IGrantable, *, stage: str) -> iam.Grant:
    """Put face crops of one ``stage`` and nothing else: the edge device uploads each crop
    once from its store-and-forward queue and never deletes, and a stolen device cannot
    write another stage's crops."""
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:PutObject"],
        resource_arns=[crops_arn(bucket_name, stage=stage)],
        conditions=in_this_account(),
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
            conditions={
                "StringLike": {"s3:prefix": [f"{FACES_PREFIX}*"]},
                **in_this_account(),
            },
        )
    )
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:GetObject"],
        resource_arns=[crops_arn(bucket_name)],
        conditions=in_this_account(),
    )
