"""Time sources for the fake Notion server, and Notion's timestamp formats.

The server reads time only through a :class:`Clock`, so tests can pin object timestamps
and drive the rate limiter deterministically with :class:`ManualClock` or
:class:`SteppingClock` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = [
    "Clock",
    "ManualClock",
    "SteppingClock",
    "SystemClock",
    "format_database_time",
    "format_minute",
    "parse_iso",
]


class Clock(Protocol):
    """Where the server gets time from."""

    def now(self) -> float:
        """Wall-clock time in seconds since the Unix epoch (stamps created/edited times)."""
        ...

    def monotonic(self) -> float:
        """A monotonic reading in seconds (drives the rate limiter's token refill)."""
        ...


class SystemClock:
    """The real clocks: :func:`time.time` and :func:`time.monotonic`."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when :meth:`advance` is called; thread-safe."""

    def __init__(self, start: float = 1_783_156_080.0) -> None:
        """``start`` is epoch seconds (default 2026-07-04T09:08:00Z, the cassettes' day)."""
        self._start = start
        self._elapsed = 0.0  # kept apart from ``start`` so small steps stay exact
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._start + self._elapsed

    def monotonic(self) -> float:
        """Seconds advanced since creation."""
        with self._lock:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        """Move both readings forward by ``seconds``."""
        with self._lock:
            self._elapsed += seconds


class SteppingClock(ManualClock):
    """A manual clock that also moves ``step`` seconds forward at every monotonic reading.

    Each request reads the rate limiter's clock once, so this simulates a client sending
    one request every ``step`` seconds without anyone sleeping.
    """

    def __init__(self, step: float, start: float = 1_783_156_080.0) -> None:
        super().__init__(start)
        self.step = step

    def monotonic(self) -> float:
        self.advance(self.step)
        return super().monotonic()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def format_minute(epoch: float) -> str:
    """Notion's page/block/data-source timestamp: rounded down to the minute, ``.000Z``."""
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:00.000Z")


def format_database_time(epoch: float) -> str:
    """The database object's timestamp as recorded: millisecond precision, ``+00:00``."""
    moment = _utc(epoch)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def floor_minute(epoch: float) -> float:
    """``epoch`` rounded down to the whole minute (what filters compare against)."""
    return float(int(epoch // 60) * 60)


def parse_iso(value: str) -> datetime | None:
    """Parse an ISO 8601 date or date-time; naive values are UTC. ``None`` if malformed."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
