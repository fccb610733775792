"""Device programs: the camera service (cloud inference) and the edge service (inference
on the device), plus what both need: backoff, store-and-forward, stats."""
