"""Creates in link order (syncbridge.engine.order): targets first, cycles kept whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncbridge.adapter import Record
from syncbridge.engine.order import creates_in_link_order, link_order, link_targets
from syncbridge.engine.plan import EntryAction, Write
from syncbridge.wikilinks import LinkResolver


def _rec(path: str, body: str = "", **fields: object) -> Record:
    return Record(class_name="note", fields=fields, body=body, id=path)


def test_link_targets_reads_body_and_fields_as_obsidian_resolves_them() -> None:
    resolver = LinkResolver(["A.md", "Sub/B.md", "C.md", "D.md"])
    rec = _rec(
        "A.md",
        "see [[B]] and [[C#Heading|c]], `[[D]]` in code, [[A]] itself, [[Nowhere]]",
        related=["[[D]]", "[[B]]"],
    )
    assert link_targets(rec, resolver) == ["Sub/B.md", "C.md", "D.md"]


def test_link_order_puts_targets_first_and_keeps_the_rest_in_place() -> None:
    links = {"a": ["c"], "b": [], "c": ["d"], "d": [], "e": ["b"]}
    assert link_order(list(links), links.__getitem__) == ["d", "c", "a", "b", "e"]


def test_a_cycle_is_placed_once_and_nothing_is_lost() -> None:
    # a is linked to most (by b and c): it goes first and alone waits for its target
    links = {"a": ["b"], "b": ["a"], "c": ["a"]}
    assert link_order(list(links), links.__getitem__) == ["a", "b", "c"]


def _waiting(order: list[str], links: dict[str, list[str]]) -> list[str]:
    pos = {i: n for n, i in enumerate(order)}
    return [i for i in order if any(pos[t] > pos[i] for t in links[i] if t in pos)]


def test_a_chain_of_mutual_links_leaves_every_other_note_waiting() -> None:
    """Each note links to the one before and after it (benchmarks/notion_sync.py
    --forward-links): one of each pair must wait, and no more than one of each pair
    does (a depth-first order would leave all but the last waiting)."""
    n = 40
    ids = [f"n{i:02d}" for i in range(n)]
    links = {ids[i]: [ids[j] for j in (i - 1, i + 1) if 0 <= j < n] for i in range(n)}
    for listed in (ids, sorted(ids, key=lambda i: (int(i[1:]) * 7) % n)):
        order = link_order(listed, links.__getitem__)  # in any listing order
        assert sorted(order) == ids
        assert len(_waiting(order, links)) == n // 2, listed


def test_a_cycle_waits_for_nothing_outside_it() -> None:
    links = {"x": ["a"], "a": ["b", "d"], "b": ["a"], "d": []}
    order = link_order(list(links), links.__getitem__)
    assert order.index("d") < order.index("a") and order[-1] == "x"
    assert len(_waiting(order, links)) == 1


def test_links_outside_the_ids_are_ignored() -> None:
    assert link_order(["x", "y"], lambda i: ["elsewhere", i]) == ["x", "y"]


def test_a_long_chain_needs_no_recursion() -> None:
    ids = [f"n{i}" for i in range(5000)]
    order = link_order(ids, lambda i: [f"n{int(i[1:]) + 1}"])
    assert order == list(reversed(ids))


@given(st.dictionaries(st.integers(0, 30), st.lists(st.integers(0, 30), max_size=4), max_size=25))
def test_every_id_once_and_acyclic_links_are_honoured(graph: dict[int, list[int]]) -> None:
    ids = [str(i) for i in graph]
    targets = {str(k): [str(v) for v in vs] for k, vs in graph.items()}
    order = link_order(ids, lambda i: targets[i])
    assert sorted(order) == sorted(ids)
    pos = {i: n for n, i in enumerate(order)}

    def reaches(src: str, dst: str) -> bool:
        seen, todo = set(), [src]
        while todo:
            node = todo.pop()
            for t in targets.get(node, []):
                if t == dst:
                    return True
                if t in pos and t not in seen:
                    seen.add(t)
                    todo.append(t)
        return False

    for src, outs in targets.items():
        for dst in outs:
            if dst in pos and dst != src and not reaches(dst, src):
                assert pos[dst] < pos[src], (src, dst, order)


def test_only_remote_creates_move_and_only_among_their_own_places() -> None:
    def create(path: str) -> EntryAction:
        rec = _rec(path)
        return EntryAction("create", "new", vault=rec, writes=(Write("remote", "create", rec),))

    update = EntryAction(
        "update", "changed", vault=_rec("U.md"), writes=(Write("remote", "update", _rec("U.md")),)
    )
    vault_create = EntryAction(
        "create",
        "new on the remote",
        remote=_rec("r1"),
        writes=(Write("vault", "create", _rec("V.md")),),
    )
    actions = [create("A.md"), update, create("B.md"), vault_create, create("C.md")]
    rank = {"C.md": 0, "A.md": 1, "B.md": 2}
    out = creates_in_link_order(actions, rank)
    assert [a.vault.id if a.vault else a.remote.id for a in out] == [
        "C.md",
        "U.md",
        "A.md",
        "r1",
        "B.md",
    ]
    assert out[1] is update and out[3] is vault_create
