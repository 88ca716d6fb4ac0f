"""What one sync run did (or would do), per side: the report the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from syncbridge.engine.options import Side
from syncbridge.engine.plan import Plan
from syncbridge.engine.relink import LinkReport

__all__ = ["SIDES", "SideCounts", "SyncReport", "count_plan"]

SIDES: tuple[Side, ...] = ("vault", "remote")


@dataclass
class SideCounts:
    """What one run did to one side. ``conflicts`` counts conflicts this side lost."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "conflicts": self.conflicts,
            "unchanged": self.unchanged,
        }


@dataclass
class SyncReport:
    """The outcome of one run of one target (or what it would do, under ``dry_run``)."""

    target: str
    dry_run: bool = False
    vault: SideCounts = field(default_factory=SideCounts)
    remote: SideCounts = field(default_factory=SideCounts)
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    recovered: int = 0
    safety_stop: str | None = None
    plan: Plan | None = None
    links: LinkReport = field(default_factory=LinkReport)
    """Links rewritten because a note was renamed (or, turned off, left broken)."""

    def side(self, side: Side) -> SideCounts:
        return self.vault if side == "vault" else self.remote

    @property
    def writes(self) -> int:
        """Adapter writes made (or planned), both sides."""
        return sum(c.created + c.updated + c.deleted for c in (self.vault, self.remote))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per side counts, errors and skipped notes with messages."""
        return {
            "target": self.target,
            "dry_run": self.dry_run,
            "vault": self.vault.to_dict(),
            "remote": self.remote.to_dict(),
            "errors": list(self.errors),
            "skipped": list(self.skipped),
            "recovered": self.recovered,
            "safety_stop": self.safety_stop,
            "links": self.links.to_dict(),
        }


def count_plan(plan: Plan, report: SyncReport) -> None:
    """Fill ``report``'s counts from the plan (dry run: what would be done)."""
    report.vault.unchanged = report.remote.unchanged = plan.unchanged
    for action in plan.actions:
        if action.kind == "skip":
            report.skipped.append({"id": action.label, "message": action.why})
            continue
        for side, rec in (("vault", action.a), ("remote", action.b)):
            if rec is not None and not any(w.side == side for w in action.writes):
                report.side(side).unchanged += 1  # type: ignore[arg-type]
        for w in action.writes:
            counts = report.side(w.side)
            if w.op == "create":
                counts.created += 1
            elif w.op == "update":
                counts.updated += 1
            else:
                counts.deleted += 1
        for c in action.conflicts:
            for side in SIDES:
                if c.winner != side:
                    report.side(side).conflicts += 1
