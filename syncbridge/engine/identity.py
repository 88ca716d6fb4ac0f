"""Which records are the same entry: the id field, duplicate ids, and re-pairing.

Three pure pieces the planner (and ``syncbridge doctor``) share, no I/O:

* :func:`key_of` — the id-field value of a record as the identity across sides;
* :func:`duplicate_ids` and :func:`duplicate_id_message` — **one rule** for records of one
  side sharing an id: sync skips every one of them (a linked one is frozen, an unlinked
  one is neither paired nor created) until each has its own id, and ``doctor`` reports
  the same notes with the same message;
* :func:`pair_unlinked` — **re-pairing**: which unlinked records of the two sides are one
  entry, by the strongest evidence first. It is what keeps a lost state file (a new
  machine, a deleted ``.syncbridge`` folder) or an interrupted first sync from duplicating
  every note, and what a stale or restored state is reconciled with.

>>> vault = {"A.md": Record("note", {"s": 1}, "same\\n", id="A.md", title="A"),
...          "B.md": Record("note", {"s": 1}, "same\\n", id="B.md", title="B")}
>>> remote = {"r1": Record("note", {"s": 1}, "same\\n", id="r1", title="B"),
...           "r2": Record("note", {"s": 1}, "same\\n", id="r2", title="A")}
>>> sorted((note.id, record.id) for note, record in pair_unlinked(vault, remote, "id").pairs)
[('A.md', 'r2'), ('B.md', 'r1')]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbridge.adapter import MISSING, Record

__all__ = [
    "Ambiguity",
    "Pairing",
    "duplicate_id_message",
    "duplicate_ids",
    "key_of",
    "pair_unlinked",
]


def key_of(fields: Mapping[str, Any], id_field: str | None) -> str | None:
    """The id-field value as JSON (the identity across sides), or None when absent/empty."""
    if id_field is None:
        return None
    value = fields.get(id_field, MISSING)
    if type(value) is int:
        return str(value)  # what json.dumps gives, without its cost (ids are mostly ints)
    if value is MISSING or value is None or value == "" or isinstance(value, list | dict):
        return None
    return json.dumps(value)


def duplicate_ids(keys: Mapping[str, str | None]) -> dict[str, list[str]]:
    """Key → the record ids holding it, for every key (:func:`key_of`) held by more than
    one record of one side. ``keys``: record id → its key (``None``: no id)."""
    # The first holder of each key by itself, a list only for keys held twice: a side of
    # 30,000 records with their own ids builds no list (issue 14: a no-op's memory).
    first: dict[str, str] = {}
    shared: dict[str, list[str]] = {}
    for record_id, key in keys.items():
        if key is None:
            continue
        if key in first:
            shared.setdefault(key, [first[key]]).append(record_id)
        else:
            first[key] = record_id
    return {k: sorted(ids) for k, ids in shared.items()}


def duplicate_id_message(
    id_field: str, key: str, others: Sequence[str], *, what: str = "note"
) -> str:
    """What ``doctor`` and ``sync`` say about a record whose id ``key`` ``others`` share."""
    return (
        f"{id_field} {key} is also used by {', '.join(others)}; sync skips every {what} "
        f"with that {id_field} until each has its own, so give each {what} its own "
        f"{id_field} (or delete the copy)"
    )


@dataclass(frozen=True)
class Ambiguity:
    """Unlinked records that may be one entry, with no evidence to tell which is which.

    None of them is paired or created (creating them would duplicate the entry on both
    sides); the run reports each with :meth:`message`. ``evidence`` names what they share
    (``"the same title"``, ``"the same content"``).
    """

    vault_ids: tuple[str, ...]
    remote_ids: tuple[str, ...]
    evidence: tuple[str, ...]
    remote_titles: Mapping[str, str | None]

    def remote_label(self, remote_id: str) -> str:
        """``remote record r7 ("Grief")``: how messages name a remote record."""
        title = self.remote_titles.get(remote_id)
        named = f" ({json.dumps(title, ensure_ascii=False)})" if title else ""
        return f"remote record {remote_id}{named}"

    def message(self, record_id: str, side: str) -> str:
        """Why ``record_id`` (of ``side``, ``"vault"`` or ``"remote"``) was not synced."""
        others = [v for v in self.vault_ids if not (side == "vault" and v == record_id)]
        others += [
            self.remote_label(r)
            for r in self.remote_ids
            if not (side == "remote" and r == record_id)
        ]
        return (
            f"may be the same entry as {', '.join(others)} ({' and '.join(self.evidence)});"
            " syncbridge will not guess which is which and created nothing for it: give "
            "them distinct titles or ids, or delete the extra copies, then sync again"
        )


@dataclass(frozen=True)
class Pairing:
    """The outcome of :func:`pair_unlinked`: records paired (vault, remote), and groups
    left ambiguous. Records in neither are new on their side."""

    pairs: tuple[tuple[Record, Record], ...] = ()
    ambiguous: tuple[Ambiguity, ...] = ()


def _compatible(vault: Record, remote: Record, id_field: str | None) -> bool:
    """False when both carry an id and the ids differ: then they are two entries."""
    vault_key, remote_key = key_of(vault.fields, id_field), key_of(remote.fields, id_field)
    return vault_key is None or remote_key is None or vault_key == remote_key


def _same_content(vault: Record, remote: Record) -> bool:
    """The remote record holds the note's body and only values the note holds (a side may
    hold fewer fields); an empty record is no evidence."""
    if not (remote.fields or remote.body) or vault.body != remote.body:
        return False
    return all(vault.fields.get(k, MISSING) == v for k, v in remote.fields.items())


def _name(r: Record) -> Hashable | None:
    """What a title match compares: the class and the exact title (a vault note's file
    stem, a remote record's title); None when there is no title."""
    return (r.class_name, r.title) if r.title else None


def pair_unlinked(
    vault: Mapping[str, Record], remote: Mapping[str, Record], id_field: str | None
) -> Pairing:
    """Re-pairing: decide which unlinked vault notes and remote records are one entry.

    The evidence, strongest first; a pair is made only when it is one to one (the
    record's only candidate, and it the candidate's only one):

    1. the same id-field value (:func:`key_of`);
    2. the same exact title (the note's file stem, the record's title) and class;
    3. the same content: equal bodies, and every value the remote record holds equal to
       the note's (a side may hold fewer fields); an empty record proves nothing.

    Records whose ids differ are never paired by weaker evidence. Steps 2 and 3 repeat
    while they pair something, since each pair can leave another group one to one.
    What title or content still links without a one-to-one answer (two identical notes
    and two identical records under other titles) is returned as :class:`Ambiguity`:
    the caller creates nothing for it and reports it, rather than duplicating the entry
    on both sides. Everything else is simply new on its side.

    Pure: the mappings are not changed. Cost: linear in the records (per body, in the
    records sharing that body).
    """
    free_vault, free_remote = dict(vault), dict(remote)
    pairs: list[tuple[Record, Record]] = []

    def take(found: list[tuple[Record, Record]]) -> bool:
        for vault_rec, remote_rec in found:
            assert vault_rec.id is not None and remote_rec.id is not None
            pairs.append((vault_rec, remote_rec))
            del free_vault[vault_rec.id]
            del free_remote[remote_rec.id]
        return bool(found)

    take(_one_to_one(free_vault, free_remote, lambda r: key_of(r.fields, id_field), id_field))
    while (
        free_vault
        and free_remote
        and (
            take(_one_to_one(free_vault, free_remote, _name, id_field))
            or take(_content_one_to_one(free_vault, free_remote, id_field))
        )
    ):
        pass
    return Pairing(tuple(pairs), _ambiguities(free_vault, free_remote, id_field))


def _one_to_one(
    free_vault: Mapping[str, Record],
    free_remote: Mapping[str, Record],
    label: Callable[[Record], Hashable | None],
    id_field: str | None,
) -> list[tuple[Record, Record]]:
    """Pairs of records that are alone under the same (non-None) label on both sides."""
    by_vault: dict[Hashable, list[Record]] = {}
    for vault_rec in free_vault.values():
        value = label(vault_rec)
        if value is not None:
            by_vault.setdefault(value, []).append(vault_rec)
    by_remote: dict[Hashable, list[Record]] = {}
    for remote_rec in free_remote.values():
        value = label(remote_rec)
        if value is not None and value in by_vault:
            by_remote.setdefault(value, []).append(remote_rec)
    return [
        (group_vault[0], group_remote[0])
        for value, group_remote in by_remote.items()
        if len(group_remote) == 1
        and len(group_vault := by_vault[value]) == 1
        and _compatible(group_vault[0], group_remote[0], id_field)
    ]


def _content_candidates(
    free_vault: Mapping[str, Record], free_remote: Mapping[str, Record], id_field: str | None
) -> dict[str, list[Record]]:
    """Remote id → the notes whose content it matches (:func:`_same_content`)."""
    by_body: dict[str, list[Record]] = {}
    for vault_rec in free_vault.values():
        by_body.setdefault(vault_rec.body, []).append(vault_rec)
    out: dict[str, list[Record]] = {}
    for remote_id, remote_rec in free_remote.items():
        found = [
            vault_rec
            for vault_rec in by_body.get(remote_rec.body, ())
            if _same_content(vault_rec, remote_rec) and _compatible(vault_rec, remote_rec, id_field)
        ]
        if found:
            out[remote_id] = found
    return out


def _content_one_to_one(
    free_vault: Mapping[str, Record], free_remote: Mapping[str, Record], id_field: str | None
) -> list[tuple[Record, Record]]:
    candidates = _content_candidates(free_vault, free_remote, id_field)
    claims: dict[str | None, int] = {}
    for found in candidates.values():
        for vault_rec in found:
            claims[vault_rec.id] = claims.get(vault_rec.id, 0) + 1
    return [
        (found[0], free_remote[remote_id])
        for remote_id, found in candidates.items()
        if len(found) == 1 and claims[found[0].id] == 1
    ]


def _ambiguities(
    free_vault: Mapping[str, Record], free_remote: Mapping[str, Record], id_field: str | None
) -> tuple[Ambiguity, ...]:
    """The groups (connected by a shared title or content) left without a one-to-one
    answer."""
    if not free_vault or not free_remote:
        return ()
    edges: list[tuple[str, str, str]] = []
    names: dict[Hashable, list[str]] = {}
    for vault_id, vault_rec in free_vault.items():
        value = _name(vault_rec)
        if value is not None:
            names.setdefault(value, []).append(vault_id)
    for remote_id, remote_rec in free_remote.items():
        value = _name(remote_rec)
        for vault_id in names.get(value, ()) if value is not None else ():
            if _compatible(free_vault[vault_id], remote_rec, id_field):
                edges.append((vault_id, remote_id, "the same title"))
    for remote_id, found in _content_candidates(free_vault, free_remote, id_field).items():
        edges.extend((str(vault_rec.id), remote_id, "the same content") for vault_rec in found)
    if not edges:
        return ()
    # connected groups (union-find over "vault:<id>" / "remote:<id>")
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for vault_id, remote_id, _ in edges:
        parent[root("vault:" + vault_id)] = root("remote:" + remote_id)
    groups: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for vault_id, remote_id, evidence in edges:
        in_vault, in_remote, kinds = groups.setdefault(
            root("vault:" + vault_id), (set(), set(), set())
        )
        in_vault.add(vault_id)
        in_remote.add(remote_id)
        kinds.add(evidence)
    return tuple(
        Ambiguity(
            vault_ids=tuple(sorted(in_vault)),
            remote_ids=tuple(sorted(in_remote)),
            evidence=tuple(sorted(kinds, reverse=True)),  # title before content
            remote_titles={r: free_remote[r].title for r in in_remote},
        )
        for in_vault, in_remote, kinds in sorted(groups.values(), key=lambda g: sorted(g[0]))
    )
