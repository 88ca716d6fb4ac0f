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

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from syncbridge.adapter import Record
from syncbridge.engine.plan import EntryAction
from syncbridge.wikilinks import LinkResolver, find_links, links_in_value

__all__ = [
    "create_rank",
    "creates_in_link_order",
    "link_order",
    "link_targets",
    "remote_create_id",
]


def link_targets(record: Record, resolver: LinkResolver) -> list[str]:
    """The ids (vault paths) of the notes ``record``'s body and fields link to, as
    Obsidian resolves each link from the record's own path; unresolved links and links to
    itself are left out. Reads nothing."""
    source = record.id
    found: list[str] = []
    seen: set[str] = set()
    links = [
        *find_links(record.body or ""),
        *(link for value in record.fields.values() for link in links_in_value(value)),
    ]
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
    (``targets_of``, asked once per id). Links that go round in a cycle cannot all be
    honoured: within each group of ids that reach one another, the ids whose targets are
    all placed go next, and when none is left, the id the most unplaced ones link to goes
    (it will wait for some of its own targets), so few ids wait: of a chain of notes each
    linking to the one before and after it, every other one instead of all but one.
    Groups come after the groups they link to; ids that link to nothing among ``ids``
    keep their relative order. Iterative (no recursion limit)."""
    rank = {record_id: n for n, record_id in enumerate(ids)}
    deps = {
        record_id: sorted(
            {t for t in targets_of(record_id) if t in rank and t != record_id}, key=rank.__getitem__
        )
        for record_id in ids
    }
    out: list[str] = []
    for group in _groups(ids, deps):
        out.extend(group if len(group) == 1 else _break_cycles(group, deps, rank))
    return out


def _groups(ids: Sequence[str], deps: Mapping[str, Sequence[str]]) -> Iterator[list[str]]:
    """The strongly connected components of the link graph (Tarjan's algorithm, without
    recursion), each after every component it links to."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in ids:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(deps[root]))]
        while work:
            node, pending = work[-1]
            for dep in pending:
                if dep not in index:
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(deps[dep])))
                    break
                if dep in on_stack:
                    low[node] = min(low[node], index[dep])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    yield group


def _break_cycles(
    group: list[str], deps: Mapping[str, Sequence[str]], rank: Mapping[str, int]
) -> list[str]:
    """The ids of one strongly connected ``group`` in an order that leaves few of them
    placed before one of their targets (see :func:`link_order`). When no id has all its
    targets placed, the next is the one the most unplaced ids link to, then the one that
    is the last unplaced target of the most ids (placing it lets them follow), then by
    ``rank``."""
    members = set(group)
    inner = {m: [d for d in deps[m] if d in members] for m in group}
    linkers: dict[str, list[str]] = {m: [] for m in group}
    for m in group:
        for d in inner[m]:
            linkers[d].append(m)
    left = {m: len(inner[m]) for m in group}  # targets not placed yet
    wanted = {m: len(linkers[m]) for m in group}  # unplaced ids linking to it
    last_of = {m: 0 for m in group}  # unplaced ids it is the last unplaced target of
    placed: set[str] = set()

    def last_target(linker: str) -> str:
        return next(t for t in inner[linker] if t not in placed)

    for m in group:
        if left[m] == 1:
            last_of[last_target(m)] += 1
    ready: list[tuple[int, str]] = []  # every target placed: by rank
    best = [(-wanted[m], -last_of[m], rank[m], m) for m in group]
    heapq.heapify(best)

    def push(node: str) -> None:
        heapq.heappush(best, (-wanted[node], -last_of[node], rank[node], node))

    out: list[str] = []
    while len(out) < len(group):
        if ready:
            node = heapq.heappop(ready)[1]
            if node in placed:
                continue
        else:
            w, n_last, _, node = heapq.heappop(best)
            if node in placed or -w != wanted[node] or -n_last != last_of[node]:
                continue  # placed, or outdated counts
            if left[node] == 1:  # it waits for its last target, counted there
                target = last_target(node)
                last_of[target] -= 1
                push(target)
        placed.add(node)
        out.append(node)
        for linker in linkers[node]:
            if linker in placed:
                continue
            left[linker] -= 1
            if left[linker] == 0:
                heapq.heappush(ready, (rank[linker], linker))
            elif left[linker] == 1:
                target = last_target(linker)
                last_of[target] += 1
                push(target)
        for target in inner[node]:
            if target not in placed:
                wanted[target] -= 1
                push(target)
    return out


def remote_create_id(action: EntryAction) -> str | None:
    """The vault id of the note ``action`` creates on the remote, else ``None``."""
    if action.vault is None or action.vault.id is None:
        return None
    if any(w.side == "remote" and w.op == "create" for w in action.writes):
        return action.vault.id
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


def create_rank(records: Iterable[Record], resolver: LinkResolver) -> dict[str, int]:
    """Each of ``records``' ids → its place in link order (:func:`link_order` over the
    records' :func:`link_targets`, in the order given). Consumes ``records`` once, keeping
    only each one's link targets (a caller may read them a chunk at a time)."""
    targets = {r.id: link_targets(r, resolver) for r in records if r.id is not None}
    return {i: n for n, i in enumerate(link_order(list(targets), targets.__getitem__))}
