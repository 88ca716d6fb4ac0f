"""Links follow the notes a sync moves: the journaled link rewrite of a run.

When a write to the vault renames or moves a note (a record retitled on the remote), every
other note's links to it are rewritten (:mod:`syncbridge.relink`) as one journaled action
with the move, so a run killed anywhere never leaves half the vault pointing at the old
name. The steps, each a state transaction:

1. with the chunk's journal: a ``relink`` entry naming each move the vault adapter expects
   (``from``, the predicted ``to``, the link) — before the note is moved;
2. with the chunk's commit: the entry is replaced by one holding the moves that happened;
3. at the end of the run: the moves' rewrites are planned (per linking note: its hash
   before, after, and the link texts old → new), the entries replaced by one holding that
   plan, then each note is written with compare-and-swap;
4. one entry is left for the notes that changed between the plan and their write (edited
   meanwhile: merged next run — the same link texts replaced in the new version, the
   edit kept); otherwise the entry is dropped.

The next run handles whatever an interrupted run left (:func:`finish_relinks`, before
planning): an unresolved move is looked up on disk (old path gone and predicted path
there, or the link already moved by recovery), planned rewrites are replayed on the notes
as they are now (a note already rewritten is left alone). Dry runs only preview.

Only a vault adapter implementing :class:`LinkRewriter` takes part; with
``SyncOptions.update_links`` off, nothing is rewritten and the links left pointing at an
old name are reported by name (``SyncReport.links.broken``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from syncbridge.adapter import Record
from syncbridge.engine.faults import FaultInjector
from syncbridge.engine.options import SyncOptions
from syncbridge.relink import BrokenLink, NoteRelink
from syncbridge.state import JournalEntry, StateStore

__all__ = [
    "JOURNAL_KIND",
    "LinkReport",
    "LinkRewriter",
    "finish_relinks",
    "move_intent",
    "preview_relinks",
]

JOURNAL_KIND = "relink"
"""The journal entries of link rewrites (kept apart from entry actions by recovery)."""

RelinkOutcome = Literal["written", "done", "changed", "gone"]


@runtime_checkable
class LinkRewriter(Protocol):
    """What the vault adapter offers for link rewrites (the engine only calls these)."""

    def planned_move(self, record: Record) -> str | None:
        """Where :meth:`~syncbridge.adapter.Adapter.update` of ``record`` would move its
        note (a new title), or None. Reads the folder listing only."""

    def note_exists(self, path: str) -> bool:
        """Whether a note is at vault path ``path`` now (reads the file system)."""

    def plan_relinks(self, moves: Mapping[str, str], *, applied: bool) -> list[NoteRelink]:
        """The notes whose links change for ``moves`` (old → new path), with their new
        bytes; ``applied``: the moves happened already (else the vault is read as it is
        and the notes listed under their current paths). Reads every note; writes nothing."""

    def apply_relink(
        self, path: str, before: str, after: str, mapping: Mapping[str, Mapping[str, str]]
    ) -> RelinkOutcome:
        """Replay ``mapping`` on the note at ``path`` and write it with compare-and-swap:
        ``done`` when it already holds ``after``, ``changed`` when it changed during the
        write (left as it is), ``gone`` when it is no longer there."""


@dataclass
class LinkReport:
    """What a run did to links: notes rewritten and links changed in them (what a dry
    run would do), the links left broken, and per note the diff (dry run)."""

    notes: int = 0
    links: int = 0
    pending: int = 0
    broken: list[BrokenLink] = field(default_factory=list)
    previews: list[tuple[str, list[str]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "notes": self.notes,
            "links": self.links,
            "pending": self.pending,
            "broken": [b.to_dict() for b in self.broken],
        }

    def render(self) -> list[str]:
        """The dry-run preview: ``relink NOTE: ...`` and the diff of each note."""
        lines: list[str] = []
        for path, diff in self.previews:
            lines.append(f"relink {path}: links to a renamed note")
            lines.extend("    " + line for line in diff)
        return lines


def move_intent(
    rewriter: LinkRewriter, record: Record, link_id: int | None
) -> dict[str, Any] | None:
    """The journal's record of a move ``record``'s vault update is about to make."""
    if record.id is None:
        return None
    to = rewriter.planned_move(record)
    if to is None or to == record.id:
        return None
    return {"from": record.id, "to": to, "link_id": link_id}


def _resolve(
    move: Mapping[str, Any], rewriter: LinkRewriter, state: StateStore, claimed: set[str]
) -> str | None:
    """Where an unresolved move went, or None (it did not happen, or cannot be told).
    ``claimed``: destinations already given to other moves (two notes retitled alike: the
    second got `` 2``)."""
    old, to = move["from"], move["to"]
    if rewriter.note_exists(old):
        return None  # not moved: the next plan retitles it again, with its rewrites
    link = state.link_by_id(move["link_id"]) if move.get("link_id") is not None else None
    if (
        link is not None
        and link.a_id != old
        and link.a_id not in claimed
        and rewriter.note_exists(link.a_id)
    ):
        return link.a_id  # recovery already found the note under its new name
    if to and to not in claimed and rewriter.note_exists(to):
        return str(to)  # the name predicted before the move, free then: ours
    return None


def _apply(
    notes: Sequence[Mapping[str, Any]],
    rewriter: LinkRewriter,
    report: LinkReport,
    injector: FaultInjector | None,
) -> list[Mapping[str, Any]]:
    """Write each planned note; return those that changed meanwhile (kept for next run)."""
    left: list[Mapping[str, Any]] = []
    for note in notes:
        if injector is not None:
            injector.count += 1
            injector.hit("before")
        outcome = rewriter.apply_relink(
            note["path"], note["before"], note["after"], note["mapping"]
        )
        if injector is not None:
            injector.hit("after")
        if outcome == "written":
            report.notes += 1
            report.links += int(note.get("links", 0))
        elif outcome == "changed":
            left.append(note)
    return left


def finish_relinks(
    rewriter: LinkRewriter,
    state: StateStore,
    options: SyncOptions,
    report: LinkReport,
    *,
    injector: FaultInjector | None = None,
    entries: Sequence[JournalEntry] | None = None,
) -> bool:
    """Carry out the pending ``relink`` journal entries of ``options.target`` (this run's,
    or an interrupted run's): resolve the moves, plan the rewrites, write the notes.

    Side effects: writes linking notes (compare-and-swap) and the journal; with
    ``options.update_links`` off, writes no note and fills ``report.broken`` instead.
    Returns whether any note was written (the caller's vault listing is then stale).
    """
    target = options.target
    pending = [
        e
        for e in (entries if entries is not None else state.pending_journal(target))
        if e.kind == JOURNAL_KIND
    ]
    if not pending:
        return False
    moves: dict[str, str] = {}
    planned: list[Mapping[str, Any]] = []
    every = [m for e in pending for m in e.payload.get("moves") or ()]
    claimed = {str(m["to"]) for m in every if m.get("resolved")}
    for entry in pending:
        planned.extend(entry.payload.get("notes") or ())
    for move in every:
        to = move["to"] if move.get("resolved") else _resolve(move, rewriter, state, claimed)
        if to is not None and to != move["from"]:
            moves[move["from"]] = to
            claimed.add(to)
    if not options.update_links:
        for relink in rewriter.plan_relinks(moves, applied=True) if moves else []:
            report.broken.extend(_as_broken(relink))
        state.journal_done(*(e.id for e in pending))
        return False
    fresh = [e for e in pending if not e.payload.get("notes")]
    unplanned = {m["from"] for e in fresh for m in e.payload.get("moves") or ()}
    todo = {old: new for old, new in moves.items() if old in unplanned}
    if todo:
        for relink in rewriter.plan_relinks(todo, applied=True):
            report.broken.extend(relink.broken)
            if relink.changed:
                planned.append(_planned(relink))
    done_moves = [{"from": k, "to": v, "resolved": True} for k, v in moves.items()]
    with state.batch():
        state.journal_done(*(e.id for e in pending))
        entry_id = state.journal_begin(
            target, JOURNAL_KIND, {"moves": done_moves, "notes": planned}
        )
    first_write = injector.count + 1 if injector is not None else 0
    left = _apply(planned, rewriter, report, injector)
    with state.batch():
        state.journal_done(entry_id)
        if left:
            state.journal_begin(target, JOURNAL_KIND, {"moves": done_moves, "notes": left})
    report.pending = len(left)
    if injector is not None and planned:
        injector.hit("committed", since=first_write)
    return report.notes > 0


def _planned(relink: NoteRelink) -> dict[str, Any]:
    return {
        "path": relink.path,
        "before": relink.old_sha256,
        "after": hashlib.sha256(relink.data).hexdigest(),
        "mapping": {k: dict(v) for k, v in relink.mapping.items()},
        "links": len(relink.changes),
    }


def _as_broken(relink: NoteRelink) -> list[BrokenLink]:
    """Every link of ``relink`` as a broken link (the rewrite is turned off)."""
    out = [
        BrokenLink(
            relink.path,
            c.old,
            c.line,
            c.target,
            "links are not updated (vault.update_links is off)",
        )
        for c in relink.changes
    ]
    return out + list(relink.broken)


def preview_relinks(
    rewriter: LinkRewriter,
    writes: Sequence[Record],
    options: SyncOptions,
    report: LinkReport,
) -> None:
    """Dry run: fill ``report`` with the notes whose links the planned vault updates
    ``writes`` would change, with each diff (or, turned off, the links left broken).
    Reads the vault; writes nothing."""
    moves: dict[str, str] = {}
    for record in writes:
        intent = move_intent(rewriter, record, None)
        if intent is not None:
            moves[intent["from"]] = intent["to"]
    if not moves:
        return
    for relink in rewriter.plan_relinks(moves, applied=False):
        if not options.update_links:
            report.broken.extend(_as_broken(relink))
            continue
        report.broken.extend(relink.broken)
        if relink.changed:
            report.notes += 1
            report.links += len(relink.changes)
            report.previews.append((relink.path, relink.diff()))
