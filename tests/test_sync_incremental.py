"""The incremental pass (``Bridge.sync(changed=...)``, what the daemon runs on file events)
gives exactly what a full scan gives.

Two copies of the example vault, each synced into its own SQLite file by a long-lived
:class:`~syncbridge.bridge.Bridge` (as the daemon keeps one). Every step makes the same edits
in both (the vault, the database, or both at once), then syncs copy A with ``changed`` =
the paths the edit touched (what file events would name: both names of a rename) and copy
B with a full scan; after each step the two must agree byte for byte on the vault (the
trash included), row for row on the database (its ``_version`` counters included), on the
reports, the links and the conflict log. The steps cover what the rules read beyond the
edited notes: renames and moves (paired by content), link rewrites in the notes that link
to a renamed one, deletes (to the trash), the mass-delete guard, a note emptied (held for
its run), notes caught unreadable, edits on both sides (conflicts), the schema's own notes
(fileClass definitions, a values-list note) and settings, and paths that are no notes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import syncbridge
from syncbridge.bridge import Bridge
from syncbridge.engine import SyncReport
from syncbridge.schema import build_vault_schema
from syncbridge.schema.model import VaultSchema
from syncbridge.vault import Vault

EXAMPLE_VAULT = Path(__file__).resolve().parent.parent / "examples" / "vault"
T0 = 1_760_000_000  # a fixed past: every edit's mtime, identical in both copies


class Copy:
    """One copy of the project: its folder, its open bridge."""

    def __init__(self, root: Path) -> None:
        shutil.copytree(EXAMPLE_VAULT, root / "vault")
        (root / "syncbridge.toml").write_text(
            '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
            '[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "local.db"\n',
            encoding="utf-8",
        )
        self.root = root
        self.vault = root / "vault"
        self.db = root / "local.db"
        self.bridge: Bridge = syncbridge.open(root / "syncbridge.toml")
        self.clock = T0

    def write(self, rel: str, data: str | bytes) -> None:
        path = self.vault / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        self.clock += 1
        os.utime(path, ns=(self.clock * 10**9, self.clock * 10**9))

    def edit(self, rel: str, old: str, new: str) -> None:
        text = (self.vault / rel).read_text(encoding="utf-8")
        assert old in text, (rel, old)
        self.write(rel, text.replace(old, new, 1))

    def move(self, rel: str, new_rel: str) -> None:
        (self.vault / new_rel).parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.vault / rel, self.vault / new_rel)

    def sql(self, query: str, *args: Any) -> None:
        with sqlite3.connect(self.db) as conn:
            conn.execute(query, args)
        conn.close()


def _vault_files(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every synced table's rows without the columns that differ by construction (the row
    id is random, ``_modified`` is the write's clock), sorted."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for (table,) in conn.execute("SELECT table_name FROM _meta ORDER BY 1"):
            cols = [
                r[1]
                for r in conn.execute(f'PRAGMA table_info("{table}")')
                if r[1] not in ("_id", "_modified")
            ]
            listed = ", ".join(f'"{c}"' for c in cols)
            rows = conn.execute(f'SELECT {listed} FROM "{table}"').fetchall()
            out[table] = sorted(rows, key=repr)
        out["_trash"] = sorted(conn.execute("SELECT table_name FROM _trash").fetchall(), key=repr)
        return out
    finally:
        conn.close()


def _report(r: SyncReport) -> dict[str, Any]:
    data = r.to_dict()
    return {
        "vault": data["vault"],
        "remote": data["remote"],
        "errors": sorted(e.id for e in r.errors),
        "skipped": sorted(s.id for s in r.skipped),
        "safety_stop": r.safety_stop,
        "links": (r.links.notes, r.links.links),
    }


def _state(c: Copy) -> tuple[Any, ...]:
    state = c.bridge.state()
    links = sorted(link.vault_id for link in state.links("local").values())
    conflicts = sorted(
        (e.vault_id, e.field, e.winner, repr(e.vault_value), repr(e.remote_value))
        for e in c.bridge.conflicts("local", include_restored=True)
    )
    return links, conflicts


def _title_row(c: Copy, table: str, title: str, column: str) -> Any:
    with sqlite3.connect(c.db) as conn:
        row = conn.execute(f'SELECT "{column}" FROM "{table}" WHERE title = ?', (title,))
        return row.fetchone()[0]


Step = Callable[[Copy], set[str]]


def _body_edit(c: Copy) -> set[str]:
    c.edit("Psyche/Wounds/Abandonment Wound.md", "Nothing dramatic", "Nothing dramatic, I fear")
    return {"Psyche/Wounds/Abandonment Wound.md"}


def _field_edit(c: Copy) -> set[str]:
    c.edit("Psyche/Wounds/Betrayal Wound.md", "intensity: ", "intensity: 1")
    return {"Psyche/Wounds/Betrayal Wound.md"}


def _new_note(c: Copy) -> set[str]:
    c.write("Journal/2025-09-01 New.md", "---\nmood: [calm]\nenergy: 3\n---\nA new day.\n")
    return {"Journal/2025-09-01 New.md"}


def _rename_linked(c: Copy) -> set[str]:
    # Notes link to [[Fear]]: renaming it rewrites their links (read from every note).
    c.move("Psyche/Emotions/Fear.md", "Psyche/Emotions/Dread.md")
    return {"Psyche/Emotions/Fear.md", "Psyche/Emotions/Dread.md"}


def _move_folder(c: Copy) -> set[str]:
    c.move("Pathways/Somatic Grounding.md", "Psyche/Somatic Grounding.md")
    return {"Pathways/Somatic Grounding.md", "Psyche/Somatic Grounding.md"}


def _delete(c: Copy) -> set[str]:
    (c.vault / "Psyche/Emotions/Anger.md").unlink()
    return {"Psyche/Emotions/Anger.md"}


def _remote_edit(c: Copy) -> set[str]:
    c.sql("UPDATE wound SET intensity = 2, _version = _version + 1 WHERE title = 'Shame Wound'")
    return set()


def _remote_delete(c: Copy) -> set[str]:
    c.sql("DELETE FROM emotion WHERE title = 'Grief'")
    return set()


def _retitle_in_database(c: Copy) -> set[str]:
    # The note is renamed in the vault, and every note linking to it has its links
    # rewritten (a follow-up pass carries those notes to the database).
    c.sql(
        "UPDATE emotion SET title = 'Solitude', _version = _version + 1 WHERE title = 'Loneliness'"
    )
    return set()


def _both_sides(c: Copy) -> set[str]:
    # The same field edited on both sides: a conflict, logged; the vault's later edit wins
    # by its last_modified field (set, not taken from the clock: both copies agree).
    c.edit(
        "Psyche/Wounds/Rejection Wound.md",
        "last_modified: ",
        "last_modified: 2030-01-01 00:00\nx_: ",
    )
    c.edit("Psyche/Wounds/Rejection Wound.md", "intensity: ", "intensity: 9")
    c.sql(
        "UPDATE wound SET intensity = 3, _version = _version + 1, "
        "_modified = '2029-01-01T00:00:00.000Z' WHERE title = 'Rejection Wound'"
    )
    return {"Psyche/Wounds/Rejection Wound.md"}


def _emptied(c: Copy) -> set[str]:
    c.write("Psyche/Wounds/Engulfment Wound.md", b"")
    return {"Psyche/Wounds/Engulfment Wound.md"}


def _broken_frontmatter(c: Copy) -> set[str]:
    c.edit("Psyche/Attachment/Secure Attachment.md", "---\n", "---\n: [unclosed\n")
    return {"Psyche/Attachment/Secure Attachment.md"}


def _same_bytes(c: Copy) -> set[str]:
    # rewritten with its own bytes (a touch, an editor's save without change)
    path = "Welcome.md"
    c.write(path, (c.vault / path).read_bytes())
    return {path}


def _created_then_gone(c: Copy) -> set[str]:
    c.write("Journal/Scratch.md", "scratch\n")
    (c.vault / "Journal/Scratch.md").unlink()
    return {"Journal/Scratch.md"}


def _not_notes(c: Copy) -> set[str]:
    c.write("Attachments/notes.txt", "not a note\n")
    c.write(".obsidian/hidden.md", "in a dot-folder\n")
    c.write("Templates/Another Template.md", "---\nfileClass: wound\n---\n")
    return {"Attachments/notes.txt", ".obsidian/hidden.md", "Templates/Another Template.md"}


def _class_definition(c: Copy) -> set[str]:
    # A fileClass note gains a field: the schema changes for every note of the class
    # (Metadata Menu reads it), though only the definition changed.
    c.edit(
        "Classes/emotion.md",
        "fields:\n",
        'fields:\n  - name: colour\n    type: Input\n    options: {}\n    path: ""\n'
        "    id: e9Colr\n",
    )
    c.edit("Psyche/Emotions/Shame.md", "---\n", "---\ncolour: red\n")
    return {"Classes/emotion.md", "Psyche/Emotions/Shame.md"}


def _values_list(c: Copy) -> set[str]:
    c.edit("Lists/Attachment style types.md", "Secure\n", "Secure\nDisorganised\n")
    return {"Lists/Attachment style types.md"}


def _settings(c: Copy) -> set[str]:
    # Obsidian's property types (not a note: no event names it in the daemon's filter)
    path = c.vault / ".obsidian/types.json"
    path.write_text(path.read_text().replace('"energy": "number"', '"energy": "text"'))
    c.write(
        "Journal/2025-07-12 Evening check-in.md",
        (c.vault / "Journal/2025-07-12 Evening check-in.md").read_text() + "Later.\n",
    )
    return {"Journal/2025-07-12 Evening check-in.md"}


def _mass_delete(c: Copy) -> set[str]:
    gone = sorted(p.relative_to(c.vault).as_posix() for p in (c.vault / "Psyche").rglob("*.md"))
    for rel in gone:
        (c.vault / rel).unlink()
    return set(gone)


STEPS: list[tuple[str, Step]] = [
    ("body edit", _body_edit),
    ("field edit", _field_edit),
    ("new note", _new_note),
    ("rename of a linked note", _rename_linked),
    ("move to another folder", _move_folder),
    ("delete", _delete),
    ("edit in the database", _remote_edit),
    ("delete in the database", _remote_delete),
    ("retitle in the database", _retitle_in_database),
    ("both sides", _both_sides),
    ("emptied note", _emptied),
    ("broken frontmatter", _broken_frontmatter),
    ("same bytes", _same_bytes),
    ("created and gone", _created_then_gone),
    ("not notes", _not_notes),
    ("class definition", _class_definition),
    ("values-list note", _values_list),
    ("settings", _settings),
    ("mass delete", _mass_delete),
]


@pytest.fixture
def copies(tmp_path: Path) -> Iterator[tuple[Copy, Copy]]:
    a, b = Copy(tmp_path / "incremental"), Copy(tmp_path / "full")
    try:
        for c in (a, b):
            c.bridge.sync("local")  # the first sync: a full scan either way
        yield a, b
    finally:
        a.bridge.close()
        b.bridge.close()


def _fresh_schema(c: Copy) -> VaultSchema:
    """The schema as a new process builds it, from the notes as they are now."""
    vault = Vault.open(c.vault)
    return build_vault_schema(
        vault.root, {p: e.fields for p, e in vault.entries().items()}, default_class="note"
    )


def _assert_same(a: Copy, b: Copy, ra: SyncReport, rb: SyncReport, step: str) -> None:
    for c in (a, b):  # a schema kept across scans is the one the notes give now
        assert c.bridge.vault().vault.schema == _fresh_schema(c), step
    assert _report(ra) == _report(rb), step
    assert _vault_files(a.vault) == _vault_files(b.vault), step
    assert _rows(a.db) == _rows(b.db), step
    assert _state(a) == _state(b), step


def test_each_kind_of_edit_gives_the_same_result_incrementally_and_in_full(
    copies: tuple[Copy, Copy],
) -> None:
    a, b = copies
    for name, step in STEPS:
        changed = step(a)
        assert step(b) == changed
        ra = a.bridge.sync("local", changed=changed)
        rb = b.bridge.sync("local")
        _assert_same(a, b, ra, rb, name)
        # and a second sync with nothing new (a held note is taken now, rewrites settle)
        ra = a.bridge.sync("local", changed=set())
        rb = b.bridge.sync("local")
        _assert_same(a, b, ra, rb, f"{name}, then nothing")


def test_the_steps_do_what_they_say(copies: tuple[Copy, Copy]) -> None:
    """The comparison above is worth something only if the steps reach the database."""
    a, _ = copies
    for name, step in STEPS[:6]:
        a.bridge.sync("local", changed=step(a))
        assert a.bridge.sync("local", changed=set()).writes == 0, name
    assert "I fear" in _title_row(a, "wound", "Abandonment Wound", "body")
    assert _title_row(a, "wound", "Betrayal Wound", "intensity") == 15
    assert "Dread" in _title_row(a, "emotion", "Dread", "title")
    with pytest.raises(TypeError):
        _title_row(a, "emotion", "Anger", "title")
    assert ("emotion",) in _rows(a.db)["_trash"]  # deleted there as in the vault


def test_a_path_left_out_is_not_seen_until_a_full_scan(copies: tuple[Copy, Copy]) -> None:
    """The incremental pass trusts its caller's paths (the daemon's events); what they miss
    waits for the next full scan, and is then synced as a full scan would have."""
    a, b = copies
    for c in (a, b):
        _field_edit(c)
        _body_edit(c)
    ra = a.bridge.sync("local", changed={"Psyche/Wounds/Abandonment Wound.md"})
    assert ra.remote.updated == 1
    assert _title_row(a, "wound", "Betrayal Wound", "intensity") == 5  # not told: not seen
    ra = a.bridge.sync("local")  # the periodic full scan
    assert ra.remote.updated == 1
    rb = b.bridge.sync("local")
    assert rb.remote.updated == 2
    assert _vault_files(a.vault) == _vault_files(b.vault)
    assert _rows(a.db) == _rows(b.db)


def test_an_incremental_pass_reads_only_the_paths_it_is_given(
    copies: tuple[Copy, Copy], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = copies
    _body_edit(a)
    walked: list[int] = []
    vault = a.bridge.vault().vault
    real_walk = vault._walk
    monkeypatch.setattr(vault, "_walk", lambda: walked.append(1) or real_walk())
    report = a.bridge.sync("local", changed={"Psyche/Wounds/Abandonment Wound.md"})
    assert report.remote.updated == 1
    assert walked == []  # no folder listed
    a.bridge.sync("local")
    assert walked  # a full one walks the vault
