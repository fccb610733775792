"""Adapters: one per port and place (aws/, local/)."""
