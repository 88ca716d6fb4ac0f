"""Fault injection for crash-safety tests: stop the executor at a chosen write.

``SYNCBRIDGE_TEST_KILL_AT="write:3:after"`` makes the process SIGKILL itself right after
its third adapter write, before the state records it. Points: ``before`` (journaled, not
written), ``during`` (inside the adapter's write, for adapters that call
:func:`during_write`), ``after`` (written, state not updated), ``committed`` (state
updated). ``write:3:before:stop`` stops the process (SIGSTOP) there instead, for tests
that need a run caught in the middle (a second run started meanwhile); SIGCONT resumes it.
In-process tests pass a :class:`FaultInjector` with ``kill=False`` instead, which
raises :class:`SimulatedCrash` (a ``BaseException``: nothing in the engine catches it).

Steps outside the executor name themselves: ``relink:1:after`` SIGKILLs ``migrate
--from`` right after the first note whose links it rewrites is written, before the state
records it (``before``: journaled, not written); see :func:`step`.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

__all__ = ["ENV_VAR", "FaultInjector", "SimulatedCrash", "activate", "during_write", "step"]

ENV_VAR = "SYNCBRIDGE_TEST_KILL_AT"
POINTS = ("before", "during", "after", "committed")
STEPS = ("relink",)
"""The kinds of :func:`step` (``$SYNCBRIDGE_TEST_KILL_AT`` names one or a ``write``)."""


class SimulatedCrash(BaseException):
    """The executor stopped at an injected fault point (in-process crash simulation)."""


@dataclass
class FaultInjector:
    """Crash at write number ``write_number`` (1-based, counted over both sides) at ``point``.

    ``count`` is the number of the write in progress; mutated by the executor.
    """

    write_number: int
    point: str
    kill: bool = False
    count: int = 0
    stop: bool = False
    """Stop (SIGSTOP) instead of dying; the run goes on once continued."""

    def __post_init__(self) -> None:
        if self.point not in POINTS:
            raise ValueError(f"fault point must be one of {POINTS}, not {self.point!r}")

    @classmethod
    def from_env(cls) -> FaultInjector | None:
        """The injector described by ``$SYNCBRIDGE_TEST_KILL_AT`` (kills), or None."""
        spec = os.environ.get(ENV_VAR)
        if not spec:
            return None
        kind, number, point, *how = spec.split(":")
        if kind in STEPS and not how:
            return None  # a step outside the executor: step() kills there
        if kind != "write" or how not in ([], ["stop"]):
            raise ValueError(f"{ENV_VAR}: expected 'write:N:POINT[:stop]', got {spec!r}")
        return cls(int(number), point, kill=True, stop=how == ["stop"])

    def hit(self, point: str, *, since: int | None = None) -> None:
        """Crash now if this is the chosen write and point (SIGKILL or SimulatedCrash).

        ``since`` (for ``committed``): the first write number of the action just
        committed, so that an action of two writes commits "after" both of them.
        """
        first = self.count if since is None else since
        if point != self.point or not first <= self.write_number <= self.count:
            return
        if self.kill and self.stop:
            os.kill(os.getpid(), signal.SIGSTOP)
            return
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise SimulatedCrash(f"write {self.count} {point}")


_active: FaultInjector | None = None


def activate(injector: FaultInjector | None) -> None:
    """Make ``injector`` the one :func:`during_write` consults (the executor does this)."""
    global _active
    _active = injector


def during_write() -> None:
    """Hook for test adapters: call between starting and finishing a durable write."""
    if _active is not None:
        _active.hit("during")


def step(kind: str, number: int, point: str) -> None:
    """SIGKILL this process when ``$SYNCBRIDGE_TEST_KILL_AT`` is ``KIND:NUMBER:POINT``
    (``kind`` one of :data:`STEPS`): the hook of a durable step outside the executor."""
    if os.environ.get(ENV_VAR) == f"{kind}:{number}:{point}":
        os.kill(os.getpid(), signal.SIGKILL)
