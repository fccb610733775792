"""The DataPalooza CDK app: one stack per workshop challenge, built from small constructs.

Stacks compose constructs and make the grants between them (so a reader sees who may
do what in one place); constructs build one concern each. Nothing here runs at
event time: the runtime lives in ``datapalooza/`` and the entry-point folders.
"""
