"""Pacing and retries: at most ``rate`` requests per second on average, ``Retry-After``
honoured, transient failures retried with backoff and jitter only where that is safe.

Pure logic on an injectable :class:`Clock`, no I/O of its own: :mod:`.client` classifies
notion-client's errors into :class:`Failure` and runs every request through
:meth:`RequestPacer.run`.

Which failures are retried:

- ``rate_limited`` (429): Notion did not apply the request, so it is always retried, after
  ``Retry-After`` (and every later request waits too: the limit is per integration).
- ``transient`` (500, 502, 503, 504, 529, a timeout, a dropped connection): the request
  may or may not have been applied. It is retried only when repeating it is harmless
  (reads, trashing, setting properties or a block's content); otherwise
  :class:`AmbiguousWrite` is raised so that the caller can look before it writes again
  (a lost create is looked up by the note's id before anything is retried).
- ``fatal``: raised at once.

Every wait is on the limiter's ``stop`` event when it has one (the daemon's stop): once it
is set, a wait ends at once with :class:`WaitInterrupted` and the request it was for is
not sent. A request that is not safe to repeat is only ever retried after a 429 (which
Notion did not apply), so one cut short this way was applied by none of its attempts.

>>> clock = ManualClock()
>>> limiter = NotionRateLimiter(rate=2.0, burst=1, clock=clock)
>>> for _ in range(3):
...     limiter.acquire()
>>> clock.now  # the 2nd and 3rd request waited 0.5 s each
1.0
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

__all__ = [
    "AmbiguousWrite",
    "Clock",
    "Failure",
    "ManualClock",
    "NotionRateLimiter",
    "RequestPacer",
    "RetriesExhausted",
    "SystemClock",
    "WaitInterrupted",
]

T = TypeVar("T")
_EPSILON = 1e-9  # seconds / tokens: float rounding, not time


class Clock(Protocol):
    """Time as the pacer sees it: ``monotonic()`` seconds and ``sleep(seconds, stop)``."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait ``seconds``, or less once ``stop`` is set; whether it was set."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is not None:
            return stop.wait(seconds) if seconds > 0 else stop.is_set()
        if seconds > 0:
            time.sleep(seconds)
        return False


class ManualClock:
    """A clock that only moves when slept on (tests): ``sleep`` advances ``now``, unless
    ``stop`` is set; ``on_sleep(seconds)`` (tests) is called before, as if from another
    thread while the sleep goes on."""

    def __init__(self, now: float = 0.0, on_sleep: Callable[[float], None] | None = None) -> None:
        self.now = now
        self.slept: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        if stop is not None and stop.is_set():
            return True
        if seconds > 0:
            self.slept.append(seconds)
            self.now += seconds
        return False


class NotionRateLimiter:
    """A token bucket: ``burst`` requests back to back, then one every ``1/rate`` s.

    :meth:`pause_until` (a ``Retry-After``) holds every later request too. Thread-safe:
    concurrent callers take turns. ``stop``: once set, :meth:`acquire` raises
    :class:`WaitInterrupted` instead of waiting.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Clock | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.clock: Clock = clock or SystemClock()
        self._tokens = float(burst)
        self._stamp = self.clock.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.stop = stop
        self.waited_s = 0.0
        """Total time spent waiting, seconds (for reports and benchmarks)."""

    def acquire(self) -> None:
        """Wait (sleep on the clock) until one request may go out, and take its token.
        :class:`WaitInterrupted` (no token taken) when :attr:`stop` is set before or
        during a wait."""
        with self._lock:
            while True:
                now = self.clock.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                wait = max(self._paused_until - now, 0.0)
                if wait <= _EPSILON and self._tokens >= 1.0 - _EPSILON:
                    self._tokens = max(self._tokens - 1.0, 0.0)
                    return
                if wait <= _EPSILON:
                    # rounding must not leave a wait too small to move the clock
                    wait = max((1.0 - self._tokens) / self.rate, _EPSILON)
                if self.stop is not None and self.stop.is_set():
                    raise WaitInterrupted(wait)
                self.waited_s += wait
                if self.clock.sleep(wait, self.stop):
                    raise WaitInterrupted(wait)

    def pause_until(self, delay_s: float) -> None:
        """No request goes out for ``delay_s`` seconds from now (a ``Retry-After``); the
        bucket is emptied, so requests resume at the average rate, not in a burst."""
        with self._lock:
            now = self.clock.monotonic()
            self._paused_until = max(self._paused_until, now + max(delay_s, 0.0))
            self._tokens = 0.0
            self._stamp = now


FailureKind = Literal["rate_limited", "transient", "fatal"]


@dataclass(frozen=True)
class Failure:
    """How a failed request is to be treated (see the module docstring).

    ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one;
    ``reason`` a short description without secrets ("HTTP 503", "timed out").
    """

    kind: FailureKind
    reason: str
    retry_after: float | None = None
    answered: bool = False
    """An HTTP error status came back (the server decided), not a timeout or drop."""


class AmbiguousWrite(Exception):
    """A request that is not safe to repeat failed in a way that leaves unknown whether
    Notion applied it (timeout, dropped connection, 5xx). Nothing was retried."""

    def __init__(self, what: str, reason: str, *, answered: bool = False) -> None:
        super().__init__(f"{what}: {reason}; it may or may not have been applied")
        self.what = what
        self.reason = reason
        self.answered = answered
        """The server answered with an error status (rather than no answer at all)."""


class WaitInterrupted(Exception):
    """A wait before a request ended early: the limiter's ``stop`` was set (the process is
    stopping). The request was not sent (again)."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"stopped waiting {wait_s:.1f} s to send a request: stopping")
        self.wait_s = wait_s


class RetriesExhausted(Exception):
    """A request kept failing transiently (or rate limited) after every retry."""

    def __init__(self, what: str, attempts: int, reason: str) -> None:
        super().__init__(f"{what}: still failing after {attempts} attempts ({reason})")
        self.what = what
        self.attempts = attempts
        self.reason = reason


class RequestPacer:
    """Runs requests through the rate limiter with retries (see the module docstring).

    ``classify(exc)`` turns an exception raised by a request into a :class:`Failure`, or
    ``None`` for exceptions that are not request failures (they propagate as they are).
    Backoff without ``Retry-After``: ``initial_s * 2**attempt``, capped at ``max_s``, with
    full jitter drawn from ``rng`` (seeded in tests).
    """

    def __init__(
        self,
        limiter: NotionRateLimiter,
        classify: Callable[[BaseException], Failure | None],
        *,
        max_retries: int = 6,
        initial_s: float = 0.5,
        max_s: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.limiter = limiter
        self.classify = classify
        self.max_retries = max_retries
        self.initial_s = initial_s
        self.max_s = max_s
        self.rng = rng or random.Random()
        self.requests = 0
        """Requests sent (every attempt counts)."""
        self.retries = 0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based), without Retry-After:
        half the exponential step plus a random share of the other half."""
        step = float(min(self.max_s, self.initial_s * (2**attempt)))
        return step / 2 + float(self.rng.uniform(0, step / 2))

    def run(self, what: str, call: Callable[[], T], *, safe: bool) -> T:
        """``call()`` paced, retried as described; ``what`` names it in errors.

        Raises :class:`AmbiguousWrite` when an unsafe call fails transiently,
        :class:`RetriesExhausted` when retries run out, and the original exception for
        fatal failures and exceptions ``classify`` does not know.
        """
        attempt = 0
        while True:
            self.limiter.acquire()
            self.requests += 1
            try:
                return call()
            except Exception as exc:
                failure = self.classify(exc)
                if failure is None or failure.kind == "fatal":
                    raise
                if failure.kind == "transient" and not safe:
                    raise AmbiguousWrite(what, failure.reason, answered=failure.answered) from exc
                if attempt >= self.max_retries:
                    raise RetriesExhausted(what, attempt + 1, failure.reason) from exc
                if failure.retry_after is not None:
                    delay = min(failure.retry_after, self.max_s)
                else:
                    delay = self.backoff(attempt)
                self.limiter.pause_until(delay)
                attempt += 1
                self.retries += 1
