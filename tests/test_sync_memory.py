"""What a no-op sync holds (issue 14, item 6): structural checks, never an RSS threshold.

A no-op re-sync of a large vault must not keep every note's values in memory: the index
keeps the values of entries loaded from its cache as their JSON text (decoded on each
access, never kept), the vault listing keeps no values, and the state's links share their
strings with the index and the listings. ``benchmarks/sync_memory.py`` measures the
resulting peak RSS; these tests pin down the structure that bounds it.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import syncbridge
import syncbridge.vault.vault as vault_module
from syncbridge.vault import IndexEntry
from syncbridge.vault.cachefile import StoredValues


def _dicts_under(obj: Any, depth: int) -> int:
    """How many dicts are reachable from ``obj`` within ``depth`` references (through
    tuples, lists and slotted objects; strings and numbers hold none)."""
    found = 0
    stack = [(obj, depth)]
    while stack:
        item, left = stack.pop()
        for ref in gc.get_referents(item):
            if isinstance(ref, dict):
                found += 1
            elif left > 1 and isinstance(ref, tuple | list | IndexEntry):
                stack.append((ref, left - 1))
    return found


def _no_op(project: Path) -> tuple[Any, dict[str, Any]]:
    """A first sync of ``project``, then a no-op sync in a new Bridge (as a new process
    starts: the index from its cache). Returns (that Bridge, its report as a dict)."""
    with syncbridge.open(project / "syncbridge.toml") as first:
        first.sync()
    bridge = syncbridge.open(project / "syncbridge.toml")
    report = bridge.sync()["local"].to_dict()
    return bridge, report


def test_a_no_op_sync_keeps_no_note_values_in_memory(project: Path) -> None:
    decoded_before = getattr(vault_module, "VALUES_DECODED", 0)
    bridge, report = _no_op(project)
    try:
        assert report["vault"]["unchanged"] > 20
        assert all(
            report[s][k] == 0
            for s in ("vault", "remote")
            for k in ("created", "updated", "deleted", "conflicts")
        )
        adapter = bridge.vault()
        entries = list(adapter.vault.entries().values())
        assert len(entries) > 20
        # Every entry leaves its values in the cache file, neither parsed values (a dict of
        # fields each, what a no-op of 30,000 notes used to hold at once) nor their text.
        assert [e.path for e in entries if _dicts_under(e, 3)] == []
        assert [e.path for e in entries if type(e.values) is not StoredValues] == []
        assert all(e.fields == adapter.vault.entry(e.path).fields for e in entries)
        # The listing remembers, per note, its class and modified time in the index entry
        # (the very RecordRef it listed, one object per note, no second table), not its
        # values.
        listed = [e.listed for e in entries if e.listed is not None]
        assert len(listed) > 20
        assert sum(_dicts_under(ref, 3) for ref in listed) == 0
        refs = {r.id: r for r in adapter.list()}
        assert all(refs[ref.id] is ref for ref in listed)
        assert not hasattr(adapter, "_listed_classes")
        # Looked at a bounded number of times: the schema build (its two passes) and the
        # listing, each one note at a time.
        assert 0 < vault_module.VALUES_DECODED - decoded_before <= 3 * 2 * len(entries)
    finally:
        bridge.close()


def test_the_state_links_share_strings_with_the_index_and_listing(project: Path) -> None:
    bridge, _report = _no_op(project)
    try:
        index = bridge.vault().vault.entries()
        links = bridge.state().links("local").values()
        remote = {r.id: r for r in bridge.remote("local").list()}
        assert len(links) > 20
        for link in links:
            entry = index[link.a_id]
            # one object each, not a copy per structure (interned on both sides)
            assert link.a_id is entry.path and link.a_version is entry.sha256
            ref = remote[link.b_id]
            assert link.b_id is ref.id and link.b_version is ref.version
            assert link.a_hash == link.b_hash and link.a_hash is link.b_hash
    finally:
        bridge.close()


def test_lazy_values_answer_as_the_decoded_values(tmp_path: Path) -> None:
    # get() of a key the cache text does not name skips the decoding: never a wrong answer
    # for keys nested deeper, escaped, stored as pairs ($map), or spelled like a value.
    root = tmp_path / "vault"
    root.mkdir()
    notes = {
        "plain.md": "status: done\n",
        "nested.md": "meta: {tags: [x]}\nnote: 'tags:'\n",
        "escaped.md": '"caf\u00e9": 1\n"q\\"uote": 2\n',
        "pairs.md": "1: one\ntags: [a]\n",
        "dollar.md": "$tags: a\ntags: [b]\n",
        "empty.md": "",
    }
    for name, fm in notes.items():
        (root / name).write_text(f"---\n{fm}---\nBody\n", encoding="utf-8")
    cache = tmp_path / "index.json"
    fresh = vault_module.Vault.open(root, cache_path=cache)
    cached = vault_module.Vault.open(root, cache_path=cache)
    asked = ["tags", "status", "meta", "note", "caf\u00e9", 'q"uote', "1", "$tags", "x", ""]
    for name in notes:
        entry = cached.entry(name)
        assert isinstance(entry.values, StoredValues)
        lazy, full = entry.lazy_fields(), fresh.entry(name).fields
        for key in asked:
            assert lazy.get(key) == full.get(key), (name, key)
            assert (key in lazy) == (key in full), (name, key)
        assert dict(entry.lazy_fields()) == full
