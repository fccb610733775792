"""Adapters with real local parts: directories, SQLite, ONNX models, HTTP on localhost."""
