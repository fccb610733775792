"""Pure domain logic: no I/O, no environment, no AWS."""
