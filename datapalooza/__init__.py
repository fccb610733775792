"""DataPalooza: crowd emotion tracking for a music festival."""

__version__ = "0.1.0"
