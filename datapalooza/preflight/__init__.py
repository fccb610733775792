"""``datapalooza preflight``: what a deployer checks before ``cdk deploy`` in a fresh
account (permissions, the CDK bootstrap stack, the region's services, the endpoint's
instance quota). The permission tables live in ``deployer_permissions``; the checks in
``checks`` take boto3 clients, so they are tested with botocore's Stubber."""
