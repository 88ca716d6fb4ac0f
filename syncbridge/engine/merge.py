"""Three-way merge of one entry: per field, the body as text, and the title. Pure, no I/O.

Each side is compared with *its own* base (the state stores both sides as last agreed), so
a value one side normalises (the remote drops a field it cannot hold, rounds a time) is not
mistaken for an edit. See ``docs/sync.md`` for the decision table these branches implement.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import merge3

from syncbridge.adapter import MISSING, Capabilities, Record
from syncbridge.engine.options import Side, SyncOptions
from syncbridge.state import BaseSnapshot, SideSnapshot

__all__ = [
    "BODY",
    "CLASS",
    "COMPUTED",
    "TITLE",
    "EntryMerge",
    "FieldChange",
    "FieldConflict",
    "decide_winner",
    "format_local_time",
    "merge_entry",
    "merge_text",
]

BODY = "body"
"""Conflict-log name of the Markdown body."""
TITLE = "(title)"
"""Conflict-log name of the title (the vault's file name)."""
CLASS = "(class)"
"""Plan name of a class change (the remote record moves collection)."""
COMPUTED = "computed"
"""``decided_by`` of a value typed on the remote into a field the vault computes (Formula,
Lookup, Canvas): the vault's value won by rule, the typed one is kept in the conflict log."""


@dataclass(frozen=True)
class FieldChange:
    """One value to write on one side: ``old`` → ``new`` (either may be MISSING)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class FieldConflict:
    """Both sides changed ``field`` to different values; ``winner`` took it.

    ``winner`` is ``None`` under the manual strategy (both sides keep their value).
    """

    field: str
    vault_value: Any
    remote_value: Any
    winner: Side | None
    decided_by: str


@dataclass(frozen=True)
class EntryMerge:
    """The merged contents each side should hold, with what changed and what conflicted.

    ``a_*`` is the vault side, ``b_*`` the remote. ``hold`` is true when a manual conflict
    stays open (the base must not advance past it).
    """

    a_fields: Mapping[str, Any]
    a_body: str
    a_title: str | None
    b_fields: Mapping[str, Any]
    b_body: str
    b_title: str | None
    a_changes: tuple[FieldChange, ...] = ()
    b_changes: tuple[FieldChange, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()
    hold: bool = False
    b_class: str | None = None
    """The remote record's new class when the note changed class (None: unchanged)."""
    notes: tuple[str, ...] = field(default=())


def _floor(t: dt.datetime, precision: dt.timedelta) -> int:
    """``t`` in whole units of ``precision`` since the epoch (the comparable part)."""
    micro = (t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    unit = max(1, precision // dt.timedelta(microseconds=1))
    return micro // unit


def _vault_time(
    a: Record, base_a: SideSnapshot | None, options: SyncOptions
) -> tuple[dt.datetime | None, str]:
    """The vault's modification time for conflicts, and which clock it came from.

    Stale-field rule: the note changed since the last sync but its last_modified field did
    not (edited without a plugin stamping it), so the field is stale and the file mtime
    counts.
    """
    lm = options.last_modified_field
    mtime = a.extra.get("mtime")
    if not isinstance(mtime, dt.datetime):
        return a.modified, "last_modified"  # an adapter without file times: its own time
    if lm is None or lm not in a.fields:
        return mtime, "file_mtime"  # a note without the field: its file time is all there is
    if base_a is not None and a.fields[lm] == base_a.fields.get(lm, MISSING):
        return mtime, "file_mtime"  # stale field: edited without a stamp
    return a.modified, "last_modified"


def decide_winner(
    a: Record,
    b: Record,
    base: BaseSnapshot | None,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities],
) -> tuple[Side | None, str]:
    """Who wins a true conflict on this entry, and how it was decided."""
    if options.conflict == "manual":
        return None, "manual"  # the user decides; both sides keep their value
    if options.conflict == "vault_wins":
        return "vault", "vault_wins"
    if options.conflict == "remote_wins":
        return "remote", "remote_wins"
    t_a, how = _vault_time(a, base.a if base else None, options)
    t_b = b.modified
    if t_a is None or t_b is None:
        return options.tie_breaker, "tie_breaker"  # a side without a time cannot be compared
    precision = max(caps[0].timestamp_precision, caps[1].timestamp_precision)
    fa, fb = _floor(t_a, precision), _floor(t_b, precision)
    if fa == fb:
        return options.tie_breaker, "tie_breaker"  # equal at the coarser side's precision
    return ("vault" if fa > fb else "remote"), how


def merge_text(base: str, a: str, b: str) -> str | None:
    """Three-way merge of text by lines (merge3); ``None`` when edits overlap."""
    m = merge3.Merge3(
        base.splitlines(keepends=True), a.splitlines(keepends=True), b.splitlines(keepends=True)
    )
    al, bl, basel = m.a, m.b, m.base
    out: list[str] = []
    for region in m.merge_regions():
        kind = region[0]
        if kind == "conflict":
            return None
        if kind == "unchanged":
            out.extend(basel[region[1] : region[2]])
        elif kind in ("a", "same"):
            out.extend(al[region[1] : region[2]])
        else:  # "b"
            out.extend(bl[region[1] : region[2]])
    return "".join(out)


def format_local_time(t: dt.datetime, timezone: str | None, precision: dt.timedelta) -> str:
    """``t`` as canonical ISO local-naive time in ``timezone`` (None: this machine's zone),
    truncated to ``precision`` (minutes: ``2025-07-05T16:56``)."""
    local = t.astimezone(zoneinfo.ZoneInfo(timezone)) if timezone else t.astimezone()
    local = local.replace(tzinfo=None)
    if precision >= dt.timedelta(minutes=1):
        return local.strftime("%Y-%m-%dT%H:%M")
    if precision >= dt.timedelta(seconds=1):
        return local.strftime("%Y-%m-%dT%H:%M:%S")
    return local.isoformat()


class _Merging:
    """One entry's merge in progress: each side's new fields and the changes and conflicts
    found so far, shared by the phases of :func:`merge_entry`."""

    def __init__(
        self,
        a: Record,
        b: Record,
        base: BaseSnapshot | None,
        options: SyncOptions,
        caps: tuple[Capabilities, Capabilities],
    ) -> None:
        self.a, self.b, self.base, self.options, self.caps = a, b, base, options, caps
        self.base_a_fields: Mapping[str, Any] = base.a.fields if base else {}
        self.base_b_fields: Mapping[str, Any] = base.b.fields if base else {}
        self.a_fields, self.b_fields = dict(a.fields), dict(b.fields)
        self.a_changes: list[FieldChange] = []
        self.b_changes: list[FieldChange] = []
        self.conflicts: list[FieldConflict] = []
        self.hold = False
        self._decided: tuple[Side | None, str] | None = None

    def winner(self) -> tuple[Side | None, str]:
        """Who wins a true conflict on this entry, decided once (on ``last_modified``)."""
        if self._decided is None:
            self._decided = decide_winner(self.a, self.b, self.base, self.options, self.caps)
        return self._decided

    def put(self, side: Side, key: str, value: Any) -> None:
        """Set ``key`` on ``side``'s new fields (``MISSING`` deletes it), noting the change."""
        target, changes = (
            (self.a_fields, self.a_changes) if side == "vault" else (self.b_fields, self.b_changes)
        )
        old = target.get(key, MISSING)
        if old == value:
            return
        changes.append(FieldChange(key, old, value))
        if value is MISSING:
            del target[key]
        else:
            target[key] = value


def merge_entry(
    a: Record,
    b: Record,
    base: BaseSnapshot | None,
    options: SyncOptions,
    caps: tuple[Capabilities, Capabilities] = (Capabilities(), Capabilities()),
    remote_holds: frozenset[str] | None = None,
) -> EntryMerge:
    """Merge a linked entry three-way. ``base`` is ``None`` for a pair that never agreed.

    ``remote_holds``: the fields the remote stores for this record's class
    (:meth:`Adapter.held_fields`), or ``None`` when unknown. Returns the contents each side
    should hold; nothing is written here.

    The phases, in order, each a table of ``docs/sync.md``: the fields (the field-level
    table), the body (the body rules), the title and class, and last the ``last_modified``
    stamp.
    """
    m = _Merging(a, b, base, options, caps)
    _merge_fields(m, remote_holds)
    a_body, b_body, body_conflict, body_hold = _merge_body(a, b, base, caps, m.winner)
    if body_conflict is not None:
        m.conflicts.append(body_conflict)
    m.hold = m.hold or body_hold
    if a_body != a.body:
        m.a_changes.append(FieldChange(BODY, a.body, a_body))
    if b_body != b.body:
        m.b_changes.append(FieldChange(BODY, b.body, b_body))
    a_title, b_title = _merge_titles(m)
    b_class = _follow_class(m)
    if a_title != a.title:
        m.a_changes.append(FieldChange(TITLE, a.title, a_title))
    if b_title != b.title:
        m.b_changes.append(FieldChange(TITLE, b.title, b_title))
    _stamp_last_modified(m)
    return EntryMerge(
        a_fields=m.a_fields,
        a_body=a_body,
        a_title=a_title,
        b_fields=m.b_fields,
        b_body=b_body,
        b_title=b_title,
        a_changes=tuple(m.a_changes),
        b_changes=tuple(m.b_changes),
        conflicts=tuple(m.conflicts),
        hold=m.hold,
        b_class=b_class,
    )


def _merge_fields(m: _Merging, remote_holds: frozenset[str] | None) -> None:
    """The field-level table, key by key (``da``/``db``: the vault's / remote's value
    differs from its base)."""
    a, b = m.a, m.b
    lm = m.options.last_modified_field
    computed = frozenset(m.options.computed_fields.get(a.class_name, ()))
    keys = list(dict.fromkeys([*a.fields, *b.fields, *m.base_a_fields, *m.base_b_fields]))
    for key in keys:
        va, vb = a.fields.get(key, MISSING), b.fields.get(key, MISSING)
        ba, bb = m.base_a_fields.get(key, MISSING), m.base_b_fields.get(key, MISSING)
        da, db = va != ba, vb != bb
        if not da and not db:
            continue  # neither side changed it since the last agreement
        if key in computed:
            if da or vb != va:
                if (
                    (db or m.base is None)
                    and vb is not MISSING
                    and vb != va
                    and vb not in (None, "", [])
                ):
                    # typed on the remote into a field the vault computes: the vault's
                    # value is put back, and the typed one kept in the conflict log
                    m.conflicts.append(FieldConflict(key, va, vb, "vault", COMPUTED))
                m.put("remote", key, va)  # computed in the vault: the note's value rules
            continue
        held = remote_holds is not None and key in remote_holds
        if da and not db:
            if (
                vb is MISSING
                and bb is MISSING
                and ba is not MISSING
                and m.base is not None
                and not held
            ):
                continue  # the remote could not hold this field last time either: keep it local
            m.put("remote", key, va)  # only the vault changed it
            continue
        if db and not da:
            if vb is MISSING and not held:
                continue  # a field vanishing from the remote never deletes a vault value
            # only the remote changed it (a cleared cell of a field it holds: cleared here too)
            m.put("vault", key, vb)
            continue
        if va == vb:
            continue  # both changed it to the same value: no conflict
        if vb is MISSING and not held:
            # gone from a remote that may no longer hold it while the vault edited it: the
            # edit wins and is sent again (a remote that cannot hold it drops it)
            m.put("remote", key, va)
            continue
        side, how = m.winner()
        if key == lm:
            # The stamp itself is derived data: take the winner's, or the later one, unlogged.
            value = max(str(va), str(vb)) if side is None else (va if side == "vault" else vb)
            m.put("vault", key, value)
            m.put("remote", key, value)
            continue
        m.conflicts.append(FieldConflict(key, va, vb, side, how))
        if side is None:
            m.hold = True  # manual: both keep their value until the user decides
        elif side == "vault":
            m.put("remote", key, va)  # true conflict, the vault's value won
        else:
            m.put("vault", key, vb)  # true conflict, the remote's value won


def _merge_titles(m: _Merging) -> tuple[str | None, str | None]:
    """The title each side should have: a rename on one side is carried to the other; a
    rename on both is a conflict decided like a field's."""
    a, b, base = m.a, m.b, m.base
    a_title, b_title = a.title, b.title
    ta, tb = (base.a.title, base.b.title) if base else (None, None)
    if a.title == b.title or base is None:
        pass  # same title, or no base to tell who renamed: titles only name new records
    elif a.title != ta and b.title == tb and a.title is not None:
        b_title = a.title  # renamed in the vault only: carry the new title over
    elif b.title != tb and a.title == ta and b.title is not None:
        a_title = b.title  # retitled on the remote only (the vault may keep its file name)
    elif a.title != ta and b.title != tb:
        side, how = m.winner()
        if side is not None:
            m.conflicts.append(FieldConflict(TITLE, a.title, b.title, side, how))
            a_title = b_title = a.title if side == "vault" else b.title
    return a_title, b_title


def _follow_class(m: _Merging) -> str | None:
    """The class the remote record moves to when the note changed class, else ``None``: an
    adapter moves it to the new class's collection; a class change on the remote side is
    not carried back."""
    a, b, base = m.a, m.b, m.base
    if base is not None and a.class_name != base.a.class_name and a.class_name != b.class_name:
        m.b_changes.append(FieldChange(CLASS, b.class_name, a.class_name))
        return a.class_name
    return None


def _stamp_last_modified(m: _Merging) -> None:
    """When remote changes land in a note carrying the last_modified field, stamp it with
    the remote's time (at the vault's precision) so both sides agree on when it changed."""
    lm = m.options.last_modified_field
    remote_wrote_vault = any(c.field not in (lm, TITLE) for c in m.a_changes)
    if lm is not None and lm in m.a_fields and remote_wrote_vault and m.b.modified is not None:
        stamp = format_local_time(m.b.modified, m.options.timezone, m.caps[0].timestamp_precision)
        own = m.a.fields.get(lm)
        if not (isinstance(own, str) and own > stamp and own != m.base_a_fields.get(lm)):
            m.put("vault", lm, stamp)
            if lm in m.b_fields:
                m.put("remote", lm, stamp)


def _merge_body(
    a: Record,
    b: Record,
    base: BaseSnapshot | None,
    caps: tuple[Capabilities, Capabilities],
    winner: Any,
) -> tuple[str, str, FieldConflict | None, bool]:
    """Merge the bodies: (vault body, remote body, conflict or None, manual hold)."""
    if not (caps[0].supports_body and caps[1].supports_body):
        return a.body, b.body, None, False  # one side stores no body: nothing to carry
    ba, bb = (base.a.body, base.b.body) if base else (None, None)
    da, db = a.body != ba, b.body != bb
    if a.body == b.body:
        return a.body, b.body, None, False  # equal (both unchanged or same edit)
    if base is not None and da and not db:
        return a.body, a.body, None, False  # only the vault edited the body
    if base is not None and db and not da:
        return b.body, b.body, None, False  # only the remote edited the body
    if base is None and (not a.body or not b.body):
        return (a.body or b.body,) * 2 + (None, False)  # no base: an empty body loses nothing
    if base is not None and ba == bb:
        merged = merge_text(ba or "", a.body, b.body)
        if merged is not None:
            return merged, merged, None, False  # both edited, edits do not overlap
    side, how = winner()
    conflict = FieldConflict(BODY, a.body, b.body, side, how)
    if side is None:
        return a.body, b.body, conflict, True  # manual: keep both until decided
    body = a.body if side == "vault" else b.body
    return body, body, conflict, False  # overlapping edits: the winner's body, loser logged
