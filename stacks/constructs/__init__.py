"""Constructs: each builds one concern (a bucket, the endpoint, the tracker, a device
program, ...) from keyword-only, typed settings. No grants across concerns here."""
