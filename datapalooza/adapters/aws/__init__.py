"""Adapters that talk to AWS services through boto3."""
