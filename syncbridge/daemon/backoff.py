"""Exponential backoff with jitter, for a target that failed (outage, rate limit, lock),
and what the user can do meanwhile (:func:`what_to_do`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from syncbridge.errors import RemoteUnavailable, RetryableError, SyncLocked

__all__ = ["Backoff", "what_to_do"]


@dataclass
class Backoff:
    """Delays after consecutive failures: ``base_s * 2**(n-1)``, capped at ``max_s``, each
    multiplied by a random factor in [0.5, 1] ("equal jitter"), so daemons that lost the
    same server do not come back in step. A ``retry_after_s`` the remote asked for is a
    floor. :meth:`reset` after a success."""

    base_s: float = 1.0
    max_s: float = 300.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self, retry_after_s: float | None = None) -> float:
        """Count one more failure and return the seconds to wait before the next try."""
        self.failures += 1
        ceiling = min(self.max_s, self.base_s * 2 ** min(self.failures - 1, 30))
        delay: float = ceiling * self.rng.uniform(0.5, 1.0)
        if retry_after_s is not None and retry_after_s > delay:
            delay = min(float(retry_after_s), max(self.max_s, float(retry_after_s)))
        return delay

    def reset(self) -> None:
        """Forget the failures (after a success)."""
        self.failures = 0


def what_to_do(exc: BaseException, target: str) -> str:
    """What to do about the error ``target`` backs off for, in one sentence for the log
    (by the error's class: the daemon knows no adapter)."""
    if isinstance(exc, SyncLocked):
        return (
            "The daemon tries again by itself once that run has finished; if it should not "
            "be running, stop the process named (its hold ends with it)"
        )
    if isinstance(exc, RemoteUnavailable):
        return (
            "Nothing to do if it clears: the daemon tries again by itself; if it does not, "
            "fix what it names (close or end the transaction of a program holding the "
            "database, check the network or the service's status)"
        )
    if isinstance(exc, RetryableError):
        return "The daemon tries again by itself; if it does not clear, fix what it names"
    return (
        "This is not a passing failure: fix what it names (the traceback is logged once; "
        f"'syncbridge sync --target {target}' shows it too); the daemon tries again meanwhile"
    )
