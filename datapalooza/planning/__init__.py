"""Capacity and cost planning: pure arithmetic over measured figures and a dated prices
file (no AWS calls)."""
