"""The one progress bar of the CLI: a line on stderr, drawn only when it is a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO

__all__ = ["ProgressBar", "ProgressFn"]

ProgressFn = Callable[[str, int, int], None]


class ProgressBar:
    """A one-line progress bar on ``stream`` (stderr), drawn only when it is a terminal.

    Redraws at most every 0.1 s and only once a run has lasted ``delay_s`` seconds, so short
    runs print nothing; :meth:`close` clears the line.
    """

    def __init__(
        self, stream: IO[str], *, enabled: bool, delay_s: float = 0.5, eta: bool = False
    ) -> None:
        self.stream = stream
        self.eta = eta
        """Also print the time left, from the rate measured since the first item."""
        self.first: tuple[str, float, int] | None = None
        self.enabled = enabled and stream.isatty()
        self.delay_s = delay_s
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.visible = False

    def callback(self) -> ProgressFn | None:
        """A ``progress(label, done, total)`` function drawing the bar, or None when
        disabled."""
        if not self.enabled:
            return None

        def draw(label: str, done: int, total: int) -> None:
            now = time.monotonic()
            if self.first is None or self.first[0] != label or self.first[2] > done:
                self.first = (label, now, done)  # a new phase: measure its rate anew
            if now - self.started < self.delay_s or (now - self.drawn_at < 0.1 and done < total):
                return
            self.drawn_at = now
            width = 30
            filled = width * done // total if total else width
            bar = "#" * filled + "." * (width - filled)
            eta = self._eta(now, done, total)
            self.stream.write(f"\r{label:<24.24} [{bar}] {done}/{total}{eta}")
            self.stream.flush()
            self.visible = True

        return draw

    def _eta(self, now: float, done: int, total: int) -> str:
        """`` ETA 1m05s`` from the items done since the first call and their time."""
        if not self.eta or self.first is None or done >= total:
            return ""
        _label, t0, d0 = self.first
        if done <= d0 or now <= t0:
            return " ETA ?"
        left = (total - done) * (now - t0) / (done - d0)
        m, sec = divmod(int(left + 0.5), 60)
        return f" ETA {m}m{sec:02d}s" if m else f" ETA {sec}s"

    def phase(self, label: str) -> Callable[[int, int], None] | None:
        """A ``progress(done, total)`` function for one labelled phase (a vault scan, a
        check), or None when disabled."""
        draw = self.callback()
        if draw is None:
            return None
        return lambda done, total: draw(label, done, total)

    def close(self) -> None:
        if self.visible:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()
            self.visible = False
