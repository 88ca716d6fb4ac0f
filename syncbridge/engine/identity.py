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
>>> sorted((a.id, b.id) for a, b in pair_unlinked(vault, remote, "id").pairs)
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


def _compatible(a: Record, b: Record, id_field: str | None) -> bool:
    """False when both carry an id and the ids differ: then they are two entries."""
    ka, kb = key_of(a.fields, id_field), key_of(b.fields, id_field)
    return ka is None or kb is None or ka == kb


def _same_content(a: Record, b: Record) -> bool:
    """The remote record holds the note's body and only values the note holds (a side may
    hold fewer fields); an empty record is no evidence."""
    if not (b.fields or b.body) or a.body != b.body:
        return False
    return all(a.fields.get(k, MISSING) == v for k, v in b.fields.items())


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
    free_a, free_b = dict(vault), dict(remote)
    pairs: list[tuple[Record, Record]] = []

    def take(found: list[tuple[Record, Record]]) -> bool:
        for ra, rb in found:
            assert ra.id is not None and rb.id is not None
            pairs.append((ra, rb))
            del free_a[ra.id]
            del free_b[rb.id]
        return bool(found)

    take(_one_to_one(free_a, free_b, lambda r: key_of(r.fields, id_field), id_field))
    while (
        free_a
        and free_b
        and (
            take(_one_to_one(free_a, free_b, _name, id_field))
            or take(_content_one_to_one(free_a, free_b, id_field))
        )
    ):
        pass
    return Pairing(tuple(pairs), _ambiguities(free_a, free_b, id_field))


def _one_to_one(
    free_a: Mapping[str, Record],
    free_b: Mapping[str, Record],
    label: Callable[[Record], Hashable | None],
    id_field: str | None,
) -> list[tuple[Record, Record]]:
    """Pairs of records that are alone under the same (non-None) label on both sides."""
    by_a: dict[Hashable, list[Record]] = {}
    for ra in free_a.values():
        value = label(ra)
        if value is not None:
            by_a.setdefault(value, []).append(ra)
    by_b: dict[Hashable, list[Record]] = {}
    for rb in free_b.values():
        value = label(rb)
        if value is not None and value in by_a:
            by_b.setdefault(value, []).append(rb)
    return [
        (group_a[0], group_b[0])
        for value, group_b in by_b.items()
        if len(group_b) == 1
        and len(group_a := by_a[value]) == 1
        and _compatible(group_a[0], group_b[0], id_field)
    ]


def _content_candidates(
    free_a: Mapping[str, Record], free_b: Mapping[str, Record], id_field: str | None
) -> dict[str, list[Record]]:
    """Remote id → the notes whose content it matches (:func:`_same_content`)."""
    by_body: dict[str, list[Record]] = {}
    for ra in free_a.values():
        by_body.setdefault(ra.body, []).append(ra)
    out: dict[str, list[Record]] = {}
    for b_id, rb in free_b.items():
        found = [
            ra
            for ra in by_body.get(rb.body, ())
            if _same_content(ra, rb) and _compatible(ra, rb, id_field)
        ]
        if found:
            out[b_id] = found
    return out


def _content_one_to_one(
    free_a: Mapping[str, Record], free_b: Mapping[str, Record], id_field: str | None
) -> list[tuple[Record, Record]]:
    candidates = _content_candidates(free_a, free_b, id_field)
    claims: dict[str | None, int] = {}
    for found in candidates.values():
        for ra in found:
            claims[ra.id] = claims.get(ra.id, 0) + 1
    return [
        (found[0], free_b[b_id])
        for b_id, found in candidates.items()
        if len(found) == 1 and claims[found[0].id] == 1
    ]


def _ambiguities(
    free_a: Mapping[str, Record], free_b: Mapping[str, Record], id_field: str | None
) -> tuple[Ambiguity, ...]:
    """The groups (connected by a shared title or content) left without a one-to-one
    answer."""
    if not free_a or not free_b:
        return ()
    edges: list[tuple[str, str, str]] = []
    names: dict[Hashable, list[str]] = {}
    for a_id, ra in free_a.items():
        value = _name(ra)
        if value is not None:
            names.setdefault(value, []).append(a_id)
    for b_id, rb in free_b.items():
        value = _name(rb)
        for a_id in names.get(value, ()) if value is not None else ():
            if _compatible(free_a[a_id], rb, id_field):
                edges.append((a_id, b_id, "the same title"))
    for b_id, found in _content_candidates(free_a, free_b, id_field).items():
        edges.extend((str(ra.id), b_id, "the same content") for ra in found)
    if not edges:
        return ()
    # connected groups (union-find over "vault:<id>" / "remote:<id>")
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a_id, b_id, _ in edges:
        parent[root("vault:" + a_id)] = root("remote:" + b_id)
    groups: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for a_id, b_id, evidence in edges:
        in_a, in_b, kinds = groups.setdefault(root("vault:" + a_id), (set(), set(), set()))
        in_a.add(a_id)
        in_b.add(b_id)
        kinds.add(evidence)
    return tuple(
        Ambiguity(
            vault_ids=tuple(sorted(in_a)),
            remote_ids=tuple(sorted(in_b)),
            evidence=tuple(sorted(kinds, reverse=True)),  # title before content
            remote_titles={r: free_b[r].title for r in in_b},
        )
        for in_a, in_b, kinds in sorted(groups.values(), key=lambda g: sorted(g[0]))
    )
