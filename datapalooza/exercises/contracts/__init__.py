"""Behaviour checks per exercise: one module per function attendees write."""
