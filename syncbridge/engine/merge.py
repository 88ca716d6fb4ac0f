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

    ``vault_*`` is what the vault should hold, ``remote_*`` the remote. ``hold`` is true
    when a manual conflict stays open (the base must not advance past it).
    """

    vault_fields: Mapping[str, Any]
    vault_body: str
    vault_title: str | None
    remote_fields: Mapping[str, Any]
    remote_body: str
    remote_title: str | None
    vault_changes: tuple[FieldChange, ...] = ()
    remote_changes: tuple[FieldChange, ...] = ()
    conflicts: tuple[FieldConflict, ...] = ()
    hold: bool = False
    remote_class: str | None = None
    """The remote record's new class when the note changed class (None: unchanged)."""
    notes: tuple[str, ...] = field(default=())


def _floor(t: dt.datetime, precision: dt.timedelta) -> int:
    """``t`` in whole units of ``precision`` since the epoch (the comparable part)."""
    micro = (t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    unit = max(1, precision // dt.timedelta(microseconds=1))
    return micro // unit


def _vault_time(
    vault: Record, vault_base: SideSnapshot | None, options: SyncOptions
) -> tuple[dt.datetime | None, str]:
    """The vault's modification time for conflicts, and which clock it came from.

    Stale-field rule: the note changed since the last sync but its last_modified field did
    not (edited without a plugin stamping it), so the field is stale and the file mtime
    counts.
    """
    lm = options.last_modified_field
    mtime = vault.extra.get("mtime")
    if not isinstance(mtime, dt.datetime):
        return vault.modified, "last_modified"  # an adapter without file times: its own time
    if lm is None or lm not in vault.fields:
        return mtime, "file_mtime"  # a note without the field: its file time is all there is
    if vault_base is not None and vault.fields[lm] == vault_base.fields.get(lm, MISSING):
        return mtime, "file_mtime"  # stale field: edited without a stamp
    return vault.modified, "last_modified"


def decide_winner(
    vault: Record,
    remote: Record,
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
    vault_time, how = _vault_time(vault, base.vault if base else None, options)
    remote_time = remote.modified
    if vault_time is None or remote_time is None:
        return options.tie_breaker, "tie_breaker"  # a side without a time cannot be compared
    precision = max(caps[0].timestamp_precision, caps[1].timestamp_precision)
    vault_floor, remote_floor = _floor(vault_time, precision), _floor(remote_time, precision)
    if vault_floor == remote_floor:
        return options.tie_breaker, "tie_breaker"  # equal at the coarser side's precision
    return ("vault" if vault_floor > remote_floor else "remote"), how


def merge_text(base: str, vault: str, remote: str) -> str | None:
    """Three-way merge of text by lines (merge3); ``None`` when edits overlap."""
    m = merge3.Merge3(
        base.splitlines(keepends=True),
        vault.splitlines(keepends=True),
        remote.splitlines(keepends=True),
    )
    # merge3 calls its two sides "a" (here the vault) and "b" (the remote)
    vault_lines, remote_lines, base_lines = m.a, m.b, m.base
    out: list[str] = []
    for region in m.merge_regions():
        kind = region[0]
        if kind == "conflict":
            return None
        if kind == "unchanged":
            out.extend(base_lines[region[1] : region[2]])
        elif kind in ("a", "same"):
            out.extend(vault_lines[region[1] : region[2]])
        else:  # "b": the remote's lines
            out.extend(remote_lines[region[1] : region[2]])
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
        vault: Record,
        remote: Record,
        base: BaseSnapshot | None,
        options: SyncOptions,
        caps: tuple[Capabilities, Capabilities],
    ) -> None:
        self.vault, self.remote, self.base = vault, remote, base
        self.options, self.caps = options, caps
        self.base_vault_fields: Mapping[str, Any] = base.vault.fields if base else {}
        self.base_remote_fields: Mapping[str, Any] = base.remote.fields if base else {}
        self.vault_fields, self.remote_fields = dict(vault.fields), dict(remote.fields)
        self.vault_changes: list[FieldChange] = []
        self.remote_changes: list[FieldChange] = []
        self.conflicts: list[FieldConflict] = []
        self.hold = False
        self._decided: tuple[Side | None, str] | None = None

    def winner(self) -> tuple[Side | None, str]:
        """Who wins a true conflict on this entry, decided once (on ``last_modified``)."""
        if self._decided is None:
            self._decided = decide_winner(
                self.vault, self.remote, self.base, self.options, self.caps
            )
        return self._decided

    def put(self, side: Side, key: str, value: Any) -> None:
        """Set ``key`` on ``side``'s new fields (``MISSING`` deletes it), noting the change."""
        target, changes = (
            (self.vault_fields, self.vault_changes)
            if side == "vault"
            else (self.remote_fields, self.remote_changes)
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
    vault: Record,
    remote: Record,
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
    m = _Merging(vault, remote, base, options, caps)
    _merge_fields(m, remote_holds)
    vault_body, remote_body, body_conflict, body_hold = _merge_body(
        vault, remote, base, caps, m.winner
    )
    if body_conflict is not None:
        m.conflicts.append(body_conflict)
    m.hold = m.hold or body_hold
    if vault_body != vault.body:
        m.vault_changes.append(FieldChange(BODY, vault.body, vault_body))
    if remote_body != remote.body:
        m.remote_changes.append(FieldChange(BODY, remote.body, remote_body))
    vault_title, remote_title = _merge_titles(m)
    remote_class = _follow_class(m)
    if vault_title != vault.title:
        m.vault_changes.append(FieldChange(TITLE, vault.title, vault_title))
    if remote_title != remote.title:
        m.remote_changes.append(FieldChange(TITLE, remote.title, remote_title))
    _stamp_last_modified(m)
    return EntryMerge(
        vault_fields=m.vault_fields,
        vault_body=vault_body,
        vault_title=vault_title,
        remote_fields=m.remote_fields,
        remote_body=remote_body,
        remote_title=remote_title,
        vault_changes=tuple(m.vault_changes),
        remote_changes=tuple(m.remote_changes),
        conflicts=tuple(m.conflicts),
        hold=m.hold,
        remote_class=remote_class,
    )


def _merge_fields(m: _Merging, remote_holds: frozenset[str] | None) -> None:
    """The field-level table, key by key (``vault_changed`` / ``remote_changed``: that
    side's value differs from its base)."""
    vault, remote = m.vault, m.remote
    lm = m.options.last_modified_field
    computed = frozenset(m.options.computed_fields.get(vault.class_name, ()))
    keys = list(
        dict.fromkeys([*vault.fields, *remote.fields, *m.base_vault_fields, *m.base_remote_fields])
    )
    for key in keys:
        vault_value = vault.fields.get(key, MISSING)
        remote_value = remote.fields.get(key, MISSING)
        vault_base = m.base_vault_fields.get(key, MISSING)
        remote_base = m.base_remote_fields.get(key, MISSING)
        vault_changed, remote_changed = vault_value != vault_base, remote_value != remote_base
        if not vault_changed and not remote_changed:
            continue  # neither side changed it since the last agreement
        if key in computed:
            if vault_changed or remote_value != vault_value:
                if (
                    (remote_changed or m.base is None)
                    and remote_value is not MISSING
                    and remote_value != vault_value
                    and remote_value not in (None, "", [])
                ):
                    # typed on the remote into a field the vault computes: the vault's
                    # value is put back, and the typed one kept in the conflict log
                    m.conflicts.append(
                        FieldConflict(key, vault_value, remote_value, "vault", COMPUTED)
                    )
                m.put("remote", key, vault_value)  # computed in the vault: the note's value rules
            continue
        held = remote_holds is not None and key in remote_holds
        if vault_changed and not remote_changed:
            if (
                remote_value is MISSING
                and remote_base is MISSING
                and vault_base is not MISSING
                and m.base is not None
                and not held
            ):
                continue  # the remote could not hold this field last time either: keep it local
            m.put("remote", key, vault_value)  # only the vault changed it
            continue
        if remote_changed and not vault_changed:
            if remote_value is MISSING and not held:
                continue  # a field vanishing from the remote never deletes a vault value
            # only the remote changed it (a cleared cell of a field it holds: cleared here too)
            m.put("vault", key, remote_value)
            continue
        if vault_value == remote_value:
            continue  # both changed it to the same value: no conflict
        if remote_value is MISSING and not held:
            # gone from a remote that may no longer hold it while the vault edited it: the
            # edit wins and is sent again (a remote that cannot hold it drops it)
            m.put("remote", key, vault_value)
            continue
        side, how = m.winner()
        if key == lm:
            # The stamp itself is derived data: take the winner's, or the later one, unlogged.
            if side is None:
                value = max(str(vault_value), str(remote_value))
            else:
                value = vault_value if side == "vault" else remote_value
            m.put("vault", key, value)
            m.put("remote", key, value)
            continue
        m.conflicts.append(FieldConflict(key, vault_value, remote_value, side, how))
        if side is None:
            m.hold = True  # manual: both keep their value until the user decides
        elif side == "vault":
            m.put("remote", key, vault_value)  # true conflict, the vault's value won
        else:
            m.put("vault", key, remote_value)  # true conflict, the remote's value won


def _merge_titles(m: _Merging) -> tuple[str | None, str | None]:
    """The title each side should have: a rename on one side is carried to the other; a
    rename on both is a conflict decided like a field's."""
    vault, remote, base = m.vault, m.remote, m.base
    vault_title, remote_title = vault.title, remote.title
    vault_base, remote_base = (base.vault.title, base.remote.title) if base else (None, None)
    if vault.title == remote.title or base is None:
        pass  # same title, or no base to tell who renamed: titles only name new records
    elif vault.title != vault_base and remote.title == remote_base and vault.title is not None:
        remote_title = vault.title  # renamed in the vault only: carry the new title over
    elif remote.title != remote_base and vault.title == vault_base and remote.title is not None:
        # retitled on the remote only (the vault may keep its file name)
        vault_title = remote.title
    elif vault.title != vault_base and remote.title != remote_base:
        side, how = m.winner()
        if side is not None:
            m.conflicts.append(FieldConflict(TITLE, vault.title, remote.title, side, how))
            vault_title = remote_title = vault.title if side == "vault" else remote.title
    return vault_title, remote_title


def _follow_class(m: _Merging) -> str | None:
    """The class the remote record moves to when the note changed class, else ``None``: an
    adapter moves it to the new class's collection; a class change on the remote side is
    not carried back."""
    vault, remote, base = m.vault, m.remote, m.base
    if (
        base is not None
        and vault.class_name != base.vault.class_name
        and vault.class_name != remote.class_name
    ):
        m.remote_changes.append(FieldChange(CLASS, remote.class_name, vault.class_name))
        return vault.class_name
    return None


def _stamp_last_modified(m: _Merging) -> None:
    """When remote changes land in a note carrying the last_modified field, stamp it with
    the remote's time (at the vault's precision) so both sides agree on when it changed."""
    lm = m.options.last_modified_field
    remote_wrote_vault = any(c.field not in (lm, TITLE) for c in m.vault_changes)
    if (
        lm is not None
        and lm in m.vault_fields
        and remote_wrote_vault
        and m.remote.modified is not None
    ):
        stamp = format_local_time(
            m.remote.modified, m.options.timezone, m.caps[0].timestamp_precision
        )
        own = m.vault.fields.get(lm)
        if not (isinstance(own, str) and own > stamp and own != m.base_vault_fields.get(lm)):
            m.put("vault", lm, stamp)
            if lm in m.remote_fields:
                m.put("remote", lm, stamp)


def _merge_body(
    vault: Record,
    remote: Record,
    base: BaseSnapshot | None,
    caps: tuple[Capabilities, Capabilities],
    winner: Any,
) -> tuple[str, str, FieldConflict | None, bool]:
    """Merge the bodies: (vault body, remote body, conflict or None, manual hold)."""
    if not (caps[0].supports_body and caps[1].supports_body):
        # one side stores no body: nothing to carry
        return vault.body, remote.body, None, False
    vault_base, remote_base = (base.vault.body, base.remote.body) if base else (None, None)
    vault_changed, remote_changed = vault.body != vault_base, remote.body != remote_base
    if vault.body == remote.body:
        return vault.body, remote.body, None, False  # equal (both unchanged or same edit)
    if base is not None and vault_changed and not remote_changed:
        return vault.body, vault.body, None, False  # only the vault edited the body
    if base is not None and remote_changed and not vault_changed:
        return remote.body, remote.body, None, False  # only the remote edited the body
    if base is None and (not vault.body or not remote.body):
        # no base: an empty body loses nothing
        return (vault.body or remote.body,) * 2 + (None, False)
    if base is not None and vault_base == remote_base:
        merged = merge_text(vault_base or "", vault.body, remote.body)
        if merged is not None:
            return merged, merged, None, False  # both edited, edits do not overlap
    side, how = winner()
    conflict = FieldConflict(BODY, vault.body, remote.body, side, how)
    if side is None:
        return vault.body, remote.body, conflict, True  # manual: keep both until decided
    body = vault.body if side == "vault" else remote.body
    return body, body, conflict, False  # overlapping edits: the winner's body, loser logged
