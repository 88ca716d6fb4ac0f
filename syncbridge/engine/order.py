"""Creates in link order: a new note is sent after the new notes it links to.

A remote that turns links into references to other records (Notion: page mentions in the
body, relation properties from link fields) can only reference a record that exists. A
note created before the notes it links to is sent with those links as text, and a second
pass fills them in once the targets exist: about three more requests per such page on
Notion (list its blocks, update each block holding such links, read the page back). Sent
in link order, a note's targets are already there, so the second pass is left to links
that go round in a cycle (A links to B, B to A), where one of the two must come first.

Pure functions over ids and records; the executor calls them when the remote says so
(:attr:`syncbridge.adapter.Capabilities.creates_follow_links`). Other actions keep their
places: only the creates on the remote are put in another order, among the positions
they held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from syncbridge.adapter import Record
from syncbridge.engine.plan import EntryAction
from syncbridge.wikilinks import LinkResolver, find_links, links_in_value

__all__ = ["creates_in_link_order", "link_order", "link_targets", "remote_create_id"]


def link_targets(record: Record, resolver: LinkResolver) -> list[str]:
    """The ids (vault paths) of the notes ``record``'s body and fields link to, as
    Obsidian resolves each link from the record's own path; unresolved links and links to
    itself are left out. Reads nothing."""
    source = record.id
    found: list[str] = []
    seen: set[str] = set()
    links = [*find_links(record.body or ""),
             *(link for value in record.fields.values() for link in links_in_value(value))]
    for link in links:
        if not link.target:
            continue
        path = resolver.resolve(link.target, source)
        if path is not None and path != source and path not in seen:
            seen.add(path)
            found.append(path)
    return found


def link_order(ids: Sequence[str], targets_of: Callable[[str], Iterable[str]]) -> list[str]:
    """``ids`` ordered so that each comes after the ids among ``ids`` it links to
    (``targets_of``), depth first; where links form a cycle, the id met first in ``ids``
    waits for the rest of the cycle only as far as the cycle allows. Ids that link to
    nothing among ``ids`` keep their relative order. Iterative (no recursion limit)."""
    rank = {record_id: n for n, record_id in enumerate(ids)}

    def deps(record_id: str) -> list[str]:
        return sorted({t for t in targets_of(record_id) if t in rank and t != record_id},
                      key=rank.__getitem__)

    out: list[str] = []
    state: dict[str, int] = {}  # 1 on the path being walked, 2 placed
    for root in ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(deps(root)))]
        while stack:
            node, pending = stack[-1]
            for dep in pending:
                if dep not in state:
                    state[dep] = 1
                    stack.append((dep, iter(deps(dep))))
                    break
            else:
                stack.pop()
                state[node] = 2
                out.append(node)
    return out


def remote_create_id(action: EntryAction) -> str | None:
    """The vault id of the note ``action`` creates on the remote, else ``None``."""
    if action.a is None or action.a.id is None:
        return None
    if any(w.side == "remote" and w.op == "create" for w in action.writes):
        return action.a.id
    return None


def creates_in_link_order(
    actions: Sequence[EntryAction], rank: Mapping[str, int]
) -> list[EntryAction]:
    """``actions`` with the creates on the remote of notes in ``rank`` put in ``rank``'s
    order, in the positions such creates held; every other action keeps its place."""
    slots = [n for n, a in enumerate(actions) if remote_create_id(a) in rank]
    ordered = sorted((actions[n] for n in slots), key=lambda a: rank[remote_create_id(a) or ""])
    out = list(actions)
    for n, action in zip(slots, ordered, strict=True):
        out[n] = action
    return out
