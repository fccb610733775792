"""Instructor tools: every team's DataPalooza stacks in an account and Region, their
state and cost, and their removal. Services take boto3 clients as arguments."""
