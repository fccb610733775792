"""Test doubles for the ports, shipped with the package so that the project's tests and
``datapalooza check`` (attendees' exercises) use the same ones. Never imported by the
runtime itself."""
