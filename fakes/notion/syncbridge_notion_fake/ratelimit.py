"""Notion's request rate limit: a token bucket per integration token.

Notion documents "an average of three requests per second", with bursts allowed, and
answers excess requests with ``429 rate_limited``, a ``Retry-After`` header (whole
seconds) and ``additional_data.rate_limit_reason`` naming the limit. The bucket reads time
only from the injected clock, so tests drive it without sleeping.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .clock import Clock

__all__ = ["RateLimitConfig", "TokenBucket"]


@dataclass(frozen=True)
class RateLimitConfig:
    """``rate`` requests per second on average, up to ``burst`` back to back; off when
    ``enabled`` is false (the default, for fast tests). ``reason`` is what a 429 body says in
    ``additional_data.rate_limit_reason``: Notion documents ``public_api_request_rate_limit``
    (the per-connection limit, the default) and ``public_api_space_request_rate_limit`` (the
    per-workspace one)."""

    enabled: bool = False
    rate: float = 3.0
    burst: int = 10
    reason: str = "public_api_request_rate_limit"


class TokenBucket:
    """Tokens refill at ``config.rate`` per second up to ``config.burst``; a request takes one."""

    def __init__(self, config: RateLimitConfig, clock: Clock) -> None:
        if config.rate <= 0 or config.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        if not isinstance(config.reason, str) or not config.reason:
            raise ValueError("reason must be a non-empty string")
        self.config = config
        self._clock = clock
        self._tokens = float(config.burst)
        self._stamp = clock.monotonic()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Spend a token: ``None`` if the request may proceed, else the whole seconds to
        wait (the ``Retry-After`` value, at least 1)."""
        with self._lock:
            now = self._clock.monotonic()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(float(self.config.burst), self._tokens + elapsed * self.config.rate)
            if self._tokens >= 1.0 - 1e-9:  # float refill of 1/3 s * 3/s is 0.999…
                self._tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - self._tokens) / self.config.rate))
