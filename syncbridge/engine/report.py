"""What one sync run did (or would do), per side: the report the CLI prints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from syncbridge.adapter import MISSING
from syncbridge.engine.merge import COMPUTED
from syncbridge.engine.options import Side
from syncbridge.engine.plan import EntryAction, Plan
from syncbridge.engine.relink import LinkReport

__all__ = ["SIDES", "EntryProblem", "Notice", "SideCounts", "SyncReport", "count_plan"]

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


@dataclass(frozen=True)
class EntryProblem:
    """An entry this run did not sync: in :attr:`SyncReport.errors` (a write failed; the
    entry syncs again next run) or :attr:`SyncReport.skipped` (``blocking``: the user must fix
    something first, and the command exits 1). ``id`` names the note or the record."""

    id: str
    message: str
    blocking: bool = False

    def to_dict(self, *, with_blocking: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "message": self.message}
        if with_blocking:
            out["blocking"] = self.blocking
        return out


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not an error (:attr:`SyncReport.notices`):
    e.g. a value typed into a computed field and replaced, kept in the conflict log.
    ``field`` names the field when it is about one."""

    id: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class SyncReport:
    """The outcome of one run of one target (or what it would do, under ``dry_run``)."""

    target: str
    dry_run: bool = False
    vault: SideCounts = field(default_factory=SideCounts)
    remote: SideCounts = field(default_factory=SideCounts)
    errors: list[EntryProblem] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    """Things the user should know that are not errors: a value typed into a computed
    field and replaced (kept in the conflict log)."""
    skipped: list[EntryProblem] = field(default_factory=list)
    recovered: int = 0
    safety_stop: str | None = None
    plan: Plan | None = None
    links: LinkReport = field(default_factory=LinkReport)
    """Links rewritten because a note was renamed (or, turned off, left broken)."""

    def skip(self, action: EntryAction) -> None:
        """Report a skipped entry (blocking: the user must fix something before it syncs,
        and the command exits 1)."""
        self.skipped.append(EntryProblem(action.label, action.why, action.blocking))

    def count_conflicts(self, action: EntryAction) -> None:
        """Count the action's conflicts against the sides that lost them, and add a notice
        for each value typed on the remote into a field the vault computes."""
        for c in action.conflicts:
            for side in SIDES:
                if c.winner != side:
                    self.side(side).conflicts += 1
            if c.decided_by == COMPUTED:
                self.notices.append(
                    Notice(
                        id=_name(action),
                        field=c.field,
                        message=(
                            f"{c.field} is computed in the vault (vault → target only): the "
                            f"remote's {_value(c.remote_value)} was replaced by the vault's "
                            f"{_value(c.vault_value)} and is kept in the conflict log "
                            "(syncbridge conflicts list)"
                        ),
                    )
                )

    @property
    def blocked(self) -> bool:
        """Some entry could not be synced until the user fixes it (errors included)."""
        return bool(self.errors) or any(s.blocking for s in self.skipped)

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
            "errors": [e.to_dict(with_blocking=False) for e in self.errors],
            "skipped": [s.to_dict() for s in self.skipped],
            "notices": [n.to_dict() for n in self.notices],
            "recovered": self.recovered,
            "safety_stop": self.safety_stop,
            "links": self.links.to_dict(),
        }


def _name(action: EntryAction) -> str:
    """The entry's note path, or ``remote record ID ("Title")`` before it has a note."""
    if action.a is not None or action.b is None:
        return action.label
    title = getattr(action.b, "title", None)
    named = f" ({json.dumps(title, ensure_ascii=False)})" if title else ""
    return f"remote record {action.b.id}{named}"


def _value(value: Any) -> str:
    """A logged value for a message: ``70``, ``"text"``, or ``(none)`` when absent."""
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def count_plan(plan: Plan, report: SyncReport) -> None:
    """Fill ``report``'s counts from the plan (dry run: what would be done)."""
    report.vault.unchanged = report.remote.unchanged = plan.unchanged
    for action in plan.actions:
        if action.kind == "skip":
            report.skip(action)
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
        report.count_conflicts(action)
