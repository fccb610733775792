"""Exponential backoff with jitter, for retrying endpoints, uploads and cameras.

Equal jitter (half fixed, half random) rather than full jitter: full jitter can draw
delays near zero, which turns a dead endpoint into a hot loop; the fixed half keeps a
floor while the random half still spreads a fleet of devices apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays of base * 2**n (capped), each jittered to [d/2, d]; reset() after a success."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError(f"backoff needs 0 < base ({self.base_s}) <= cap ({self.cap_s})")

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.cap_s, self.base_s * (2.0 ** min(self.attempts, 30)))
        self.attempts += 1
        half = ceiling / 2.0
        return half + self.rng.uniform(0.0, half)

    def reset(self) -> None:
        self.attempts = 0
