"""Fault injection: make chosen requests fail the ways Notion and networks fail.

A :class:`FaultRule` matches requests by method and path regex, lets ``skip`` matching
requests through, then fires ``times`` times (``None``: forever), optionally only with
``probability`` (drawn from a seeded generator, so a run is reproducible). Kinds:

- ``status``: answer ``status`` (409, 429, 500, 502, 503, 504 or 529) without applying the
  request (429 as the rate limit answers it, for one chosen request);
  502 comes as an HTML gateway page, as Notion's edge sends it.
- ``slow``: wait ``delay_s`` seconds (past the client's timeout), then apply and answer.
- ``drop_before``: close the connection without applying the request.
- ``drop_after``: apply the request (a create really creates), then close the connection
  without answering: the case where a blind client retry makes duplicates.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_KINDS", "STATUS_FAULTS", "FaultPlan", "FaultRule"]

FAULT_KINDS = ("status", "slow", "drop_before", "drop_after")
STATUS_FAULTS: dict[int, tuple[str, str]] = {
    409: (
        "conflict_error",
        "Conflict occurred while saving. Please try again.",
    ),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Bad Gateway"),
    503: (
        "service_unavailable",
        "Notion is unavailable, try again later. This can occur "
        "when the time to respond to a request takes longer than 60 seconds.",
    ),
    504: (
        "gateway_timeout",
        "Notion timed out while attempting to complete this request. Please try again later.",
    ),
    529: ("service_overload", "Notion is experiencing high load. Please try again later."),
}


@dataclass
class FaultRule:
    """One injected fault; see the module docstring for the kinds."""

    kind: str
    status: int = 500
    method: str | None = None
    path: str | None = None
    skip: int = 0
    times: int | None = 1
    probability: float = 1.0
    delay_s: float = 0.0
    retry_after: int | None = None
    """``Retry-After`` seconds sent with 429/503/529 status faults (none if ``None``)."""
    seen: int = field(default=0, repr=False)
    fired: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {self.kind!r}")
        if self.kind == "status" and self.status not in STATUS_FAULTS:
            raise ValueError(f"status fault must be one of {sorted(STATUS_FAULTS)}")
        if self.path is not None:
            re.compile(self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "skip": self.skip,
            "times": self.times,
            "probability": self.probability,
            "delay_s": self.delay_s,
            "retry_after": self.retry_after,
            "fired": self.fired,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaultRule:
        """Build from a ``/__fake__/config`` entry; raises ``ValueError``/``TypeError``."""
        allowed = {
            "kind",
            "status",
            "method",
            "path",
            "skip",
            "times",
            "probability",
            "delay_s",
            "retry_after",
        }
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**raw)


class FaultPlan:
    """The active rules; :meth:`pick` is called once per API request, thread-safely."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self.rules = list(rules or [])
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first rule that fires for this request, or ``None``; counts as a side effect."""
        with self._lock:
            for rule in self.rules:
                if rule.method is not None and rule.method.upper() != method:
                    continue
                if rule.path is not None and not re.search(rule.path, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
            return None
