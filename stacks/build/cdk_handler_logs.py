"""Log groups of the stack's own for the Lambda functions CDK adds by itself.

CDK makes two functions this app never asks the one factory for
(stacks/build/python_function.py): the provider that empties the buckets on
``cdk destroy`` (``auto_delete_objects``) and the handler that adds the ``faces/``
notification to Challenge 1's bucket. Neither names a log group, so Lambda's own
``/aws/lambda/<function name>`` is made "when it's first invoked"
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html):
outside CloudFormation, with no retention, and left behind by ``cdk destroy``, one per
stack per team. Sending their logs to a log group the stack owns instead, as every
function of the factory does, keeps them ``log_retention`` and deletes them with the
stack, after the function (it refers to the group), so a handler's last run on delete
still has somewhere to write.
"""

from __future__ import annotations

from aws_cdk import CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

LAMBDA_FUNCTION = "AWS::Lambda::Function"


def own_cdk_handler_logs(stack: Stack, *, retention: logs.RetentionDays) -> list[logs.LogGroup]:
    """Give every Lambda function in ``stack`` that CDK made as a bare CloudFormation
    resource (not a ``lambda.Function``, which the factory gives its own group) a log
    group beside it with ``retention``, deleted with the stack; return the groups."""
    handlers = [
        construct
        for construct in stack.node.find_all()
        if isinstance(construct, CfnResource)
        and not isinstance(construct, lambda_.CfnFunction)
        and construct.cfn_resource_type == LAMBDA_FUNCTION
    ]
    groups: list[logs.LogGroup] = []
    for handler in handlers:
        parent = handler.node.scope
        assert isinstance(parent, Construct)  # a resource always sits in a construct
        group = logs.LogGroup(
            parent, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY
        )
        handler.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
        groups.append(group)
    return groups
