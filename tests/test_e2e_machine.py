"""End-to-end state machine: a real vault (a copy of examples/vault) ↔ the real SQLite adapter.

Hypothesis drives what a user does between syncs: edits a note through ``Note`` or as raw
text in an editor, renames, moves, deletes (to ``.trash/`` like Obsidian, or unlinks) and
creates notes; edits, inserts and deletes rows with plain SQL over a separate ``sqlite3``
connection, as DB Browser would (values, bodies, titles); edits the same entry on both
sides. Then it syncs with the real engine (``run_sync`` with ``VaultAdapter`` +
``SQLiteAdapter`` + ``StateStore``), sometimes with a run that crashes at a write first
(``FaultInjector``) and is re-run by a fresh "process".

Before each sync, every link's versions must still be those of the last sync unless the
user edited that entry (a version moving by itself would make sync invent an edit).

Every user edit writes a globally unique token (``§12§``) into a field or a body, so "no
edit is lost" is checkable. After each sync:

* every token made since the last sync is on both sides of a linked entry, or in the
  conflict log, or in a conflict copy;
* entries are what a model of the user's actions predicts (a delete against an edit: the
  edit wins), each linked exactly once: no duplicate notes, rows or links;
* linked entries agree field by field and body, and equal their base in the state;
* every file the user did not touch (directly or through its row) keeps its exact bytes;
* a second sync writes nothing: zero counts, same vault bytes, same database dump.

Profiles: ``e2e`` (default, ~1 minute) and ``e2e-long`` (``SYNCBRIDGE_E2E_PROFILE=e2e-long``);
the examples are derandomized unless ``SYNCBRIDGE_HYPOTHESIS=explore`` (see conftest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from syncbridge_sqlite import SQLiteAdapter
from syncbridge_sqlite.adapter import SQLiteConfig

from syncbridge.engine import (
    SyncOptions,
    list_conflicts,
    run_sync,
)
from syncbridge.note.note import Note
from syncbridge.state import StateStore
from syncbridge.testing import FaultInjector, SimulatedCrash
from syncbridge.vault.adapter import CONFLICT_COPY, VaultAdapter
from syncbridge.vault.vault import Vault

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
TARGET = "e2e"
TZ = "UTC"
TOKEN = re.compile(r"§\d+§")
PICK = st.integers(min_value=0, max_value=10_000)
NOT_ENTRIES = ("Classes/", "Templates/")  # fileClass definitions and templates
CLASS_KEY = "fileClass"  # examples/vault's Metadata Menu fileClassAlias

settings.register_profile(
    "e2e",
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    derandomize=os.environ.get("SYNCBRIDGE_HYPOTHESIS") != "explore",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "e2e-long",
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile(os.environ.get("SYNCBRIDGE_E2E_PROFILE", "e2e"))


@dataclass
class Entity:
    """One entry as the user knows it: where it is on each side (None: deleted since the
    last sync) and whether the user changed its content on a side since the last sync."""

    path: str | None
    row: str | None
    vault_edited: bool = False
    remote_edited: bool = False
    vault_deleted: bool = False
    remote_deleted: bool = False
    new: bool = False  # created since the last sync, on one side only
    renamed: bool = False  # renamed in the vault since the last sync

    def survives(self) -> bool:
        """What sync should leave: a delete loses against an edit of the other side."""
        if self.vault_deleted and self.remote_deleted:
            return False
        if self.vault_deleted:
            return self.remote_edited
        if self.remote_deleted:
            return self.vault_edited
        return True


LINK = re.compile(rb"!?\[\[[^\]\n]*\]\]|\]\([^)\n]*\)")
"""A wikilink or a Markdown link's target: what a sync may rewrite in a note nobody
touched, when the note it points at was renamed (issue 13)."""


def snapshot(root: Path) -> dict[str, bytes]:
    """Vault-relative path → bytes of every file outside ``.trash/``."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".trash/")
    }


def digest(root: Path) -> dict[str, str]:
    """Vault-relative path → sha256 of every file outside ``.trash/``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".trash/")
    }


class VaultSqliteMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory(prefix="sb-e2e-")
        self.dir = Path(self.tmp.name)
        self.root = self.dir / "vault"
        shutil.copytree(EXAMPLE, self.root)
        self.db = self.dir / "local.db"
        self.vault = VaultAdapter(Vault.open(self.root), timezone=TZ)
        self.remote = SQLiteAdapter(SQLiteConfig(path=self.db), base_dir=self.dir)
        self.state = StateStore.open(self.dir / ".syncbridge" / "state.db")
        self.options = SyncOptions(target=TARGET, timezone=TZ, force_delete=True)
        self.counter = 0
        first = self.run_sync()
        assert first.remote.created == len(self.entry_paths()) > 15, first.to_dict()
        self.user = sqlite3.connect(self.db, timeout=5, isolation_level=None)  # DB Browser
        self.entities: list[Entity] = [
            Entity(lk.a_id, lk.b_id) for lk in self.state.links(TARGET).values()
        ]
        self.touched: set[str] = set()  # vault paths the user changed, or whose row changed
        self.agreed = self.live_tokens()  # tokens both sides hold after the last sync

    def teardown(self) -> None:
        self.user.close()
        self.remote.close()
        self.state.close()
        self.tmp.cleanup()

    # -- helpers ------------------------------------------------------------------------

    def token(self) -> str:
        self.counter += 1
        return f"§{self.counter}§"

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix} {self.counter}"

    def run_sync(self) -> Any:
        report = run_sync(
            self.vault, self.remote, self.state, self.options, schema=self.vault.vault.schema
        )
        assert report.errors == [], report.errors
        assert report.skipped == [], report.skipped
        return report

    def entry_paths(self) -> list[str]:
        """Notes that are entries, found on disk (not through the adapter under test)."""
        out = []
        for p in sorted(self.root.rglob("*.md")):
            rel = p.relative_to(self.root).as_posix()
            if rel.startswith((".", *NOT_ENTRIES)) or CONFLICT_COPY.search(rel):
                continue
            out.append(rel)
        return out

    def rows(self) -> dict[str, str]:
        """Row id → table name, for every class table, read with plain SQL."""
        out: dict[str, str] = {}
        for (table,) in self.user.execute("SELECT table_name FROM _meta ORDER BY table_name"):
            for (row_id,) in self.user.execute(f'SELECT _id FROM "{table}"'):
                assert row_id not in out, f"row id {row_id} in two tables"
                out[row_id] = table
        return out

    def live_entities(self, side: str) -> list[Entity]:
        return [
            e
            for e in self.entities
            if (e.path is not None if side == "vault" else e.row is not None)
        ]

    def pick(self, side: str, index: int) -> Entity | None:
        live = self.live_entities(side)
        return live[index % len(live)] if live else None

    def entity_of_path(self, path: str) -> Entity | None:
        return next((e for e in self.entities if e.path == path), None)

    def pick_editable(self, index: int) -> Entity | None:
        """A note the user may edit now. Not one renamed since the last sync without an id:
        renamed *and* edited, neither its bytes nor its content say what it was, so sync
        sees a delete and a create (docs/sync.md, "Renames without an id")."""
        e = self.pick("vault", index)
        if e is None or e.path is None:
            return None
        if e.renamed and not isinstance(self.read_note(e.path).get("id"), int):
            return None
        return e

    def touch(self, entity: Entity) -> None:
        if entity.path is not None:
            self.touched.add(entity.path)

    def conflict_copies(self) -> list[Path]:
        return [
            p
            for p in self.root.rglob("*.md")
            if CONFLICT_COPY.search(p.name)
            and not p.relative_to(self.root).as_posix().startswith(".")
        ]

    def live_tokens(self) -> set[str]:
        found: set[str] = set()
        for rel in self.entry_paths():
            found.update(TOKEN.findall((self.root / rel).read_text("utf-8")))
        for (table,) in self.user.execute("SELECT table_name FROM _meta").fetchall():
            for row in self.user.execute(f'SELECT * FROM "{table}"'):
                found.update(TOKEN.findall(json.dumps(row, ensure_ascii=False)))
        return found

    def write_note(self, path: str, data: bytes) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_bytes(data)

    def read_note(self, path: str) -> Note:
        return Note.from_bytes((self.root / path).read_bytes(), path=path)

    def sql(self, statement: str, *params: Any) -> None:
        self.user.execute(statement, params)

    # -- the user in Obsidian ------------------------------------------------------------

    @rule(index=PICK, field=st.sampled_from(["notes", "related", "status"]))
    def edit_field(self, index: int, field: str) -> None:
        """A plugin or the Properties view sets one field (a minimal edit through Note)."""
        e = self.pick_editable(index)
        if e is None:
            return
        assert e.path is not None
        note = self.read_note(e.path)
        tok = self.token()
        note[field] = ["[[Grief]]", tok] if field == "related" else tok
        self.write_note(e.path, note.to_bytes())
        e.vault_edited = True
        self.touch(e)

    @rule(index=PICK, how=st.sampled_from(["append", "prepend", "replace_line"]))
    def edit_body(self, index: int, how: str) -> None:
        e = self.pick_editable(index)
        if e is None:
            return
        assert e.path is not None
        note = self.read_note(e.path)
        tok = self.token()
        body = note.body
        if how == "append":
            body = body + ("" if body.endswith("\n") or not body else "\n") + f"added {tok}\n"
        elif how == "prepend":
            body = f"first {tok}\n" + body
        else:
            lines = body.splitlines(keepends=True) or ["\n"]
            lines[len(lines) // 2] = f"rewritten {tok}\n"
            body = "".join(lines)
        note.body = body
        self.write_note(e.path, note.to_bytes())
        e.vault_edited = True
        self.touch(e)

    @rule(index=PICK, how=st.sampled_from(["status_line", "new_key", "body_text"]))
    def edit_raw_text(self, index: int, how: str) -> None:
        """Typing in the editor: the file's text changes, no library involved."""
        e = self.pick_editable(index)
        if e is None:
            return
        assert e.path is not None
        text = (self.root / e.path).read_bytes().decode("utf-8")
        tok = self.token()
        has_fm = text.startswith("---\n") and "\n---\n" in text[4:]
        if how == "status_line" and re.search(r"^status:.*$", text, re.M):
            text = re.sub(r"^status:.*$", f"status: {tok}", text, count=1, flags=re.M)
        elif how == "new_key" and has_fm:
            end = text.index("\n---\n", 4)
            text = text[: end + 1] + f"typed_{self.counter}: {tok}\n" + text[end + 1 :]
        else:
            text = text + ("" if text.endswith("\n") else "\n") + f"typed {tok}\n"
        self.write_note(e.path, text.encode("utf-8"))
        e.vault_edited = True
        self.touch(e)

    @rule(index=PICK)
    def delete_field(self, index: int) -> None:
        """Remove a property in Obsidian: the key goes, the row's cell empties."""
        e = self.pick_editable(index)
        if e is None:
            return
        assert e.path is not None
        note = self.read_note(e.path)
        keys = [k for k in ("notes", "related", "status", "intensity") if k in note]
        if not keys:
            return
        del note[keys[self.counter % len(keys)]]
        self.counter += 1
        self.write_note(e.path, note.to_bytes())
        e.vault_edited = True
        self.touch(e)

    @rule(index=PICK)
    def convert_to_crlf(self, index: int) -> None:
        """Saved by a Windows editor: every line ending becomes CRLF, plus one new line."""
        e = self.pick_editable(index)
        if e is None:
            return
        assert e.path is not None
        text = (self.root / e.path).read_bytes().decode("utf-8").replace("\r\n", "\n")
        text = text + ("" if text.endswith("\n") else "\n") + f"windows {self.token()}\n"
        self.write_note(e.path, text.replace("\n", "\r\n").encode("utf-8"))
        e.vault_edited = True
        self.touch(e)

    @rule(index=PICK)
    def rename_and_edit_note_with_id(self, index: int) -> None:
        """Renamed and edited before the next sync: the id field still identifies it."""
        candidates = [
            e
            for e in self.live_entities("vault")
            if e.path is not None and isinstance(self.read_note(e.path).get("id"), int)
        ]
        if not candidates:
            return
        e = candidates[index % len(candidates)]
        assert e.path is not None
        note = self.read_note(e.path)
        note["notes"] = self.token()
        new = f"Moved/{self.name('Moved')}.md"
        self.write_note(new, note.to_bytes())
        (self.root / e.path).unlink()
        self.touched.update({e.path, new})
        e.path = new
        e.vault_edited = True

    @rule(index=PICK, where=st.sampled_from(["Moved/", "Psyche/Emotions/", "same"]))
    def rename_note(self, index: int, where: str) -> None:
        """Move or rename a note in the file explorer (the bytes do not change)."""
        e = self.pick("vault", index)
        if e is None:
            return
        assert e.path is not None
        if e.vault_edited and not isinstance(self.read_note(e.path).get("id"), int):
            # edited and renamed without an id: neither bytes nor content identify it, so
            # sync sees a delete and a create (docs/sync.md, "Renames without an id")
            return
        old = e.path
        folder = old.rsplit("/", 1)[0] + "/" if where == "same" and "/" in old else ""
        new = (where if where != "same" else folder) + self.name("Renamed") + ".md"
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.root / old, self.root / new)
        self.touched.update({old, new})
        e.path = new
        e.renamed = True

    @rule(index=PICK, to_trash=st.booleans())
    def delete_note(self, index: int, to_trash: bool) -> None:
        e = self.pick("vault", index)
        if e is None:
            return
        assert e.path is not None
        if to_trash:  # Obsidian's "move to .trash"
            dest = self.root / ".trash" / f"{self.counter}-{Path(e.path).name}"
            dest.parent.mkdir(exist_ok=True)
            os.rename(self.root / e.path, dest)
        else:
            (self.root / e.path).unlink()
        self.touched.add(e.path)
        e.path = None
        if e.new:
            self.entities.remove(e)  # never synced: simply gone
        else:
            e.vault_deleted = True

    @rule(kind=st.sampled_from(["wound", "emotion-by-folder", "plain", "no-frontmatter"]))
    def create_note(self, kind: str) -> None:
        tok, tok2 = self.token(), self.token()
        title = self.name("New")
        if kind == "wound":
            path = f"Psyche/Wounds/{title}.md"
            text = f"---\nfileClass: wound\nnotes: {tok}\ntriggers: [criticism]\n---\nbody {tok2}\n"
        elif kind == "emotion-by-folder":
            path = f"Psyche/Emotions/{title}.md"
            text = f"---\nintensity: 3\nnotes: {tok}\n---\n\nbody {tok2}\n"
        elif kind == "plain":
            path = f"Journal/{title}.md"
            text = f"---\ntitle: {tok}\ntags:\n  - journal\n---\nbody {tok2}\n"
        else:
            path = f"{title}.md"
            text = f"# {title}\n\nno frontmatter {tok} {tok2}\n"
        self.write_note(path, text.encode("utf-8"))
        self.entities.append(Entity(path, None, vault_edited=True, new=True))
        self.touched.add(path)

    # -- the user in DB Browser ----------------------------------------------------------

    def row_table(self, e: Entity) -> str:
        assert e.row is not None
        return self.rows()[e.row]

    @rule(
        index=PICK,
        column=st.sampled_from(["notes", "body", "related", "status", "title", "intensity"]),
    )
    def sql_update(self, index: int, column: str) -> None:
        e = self.pick("remote", index)
        if e is None:
            return
        table = self.row_table(e)
        tok = self.token()
        columns = {r[1] for r in self.user.execute(f'PRAGMA table_info("{table}")')}
        if column == "title":  # retitled in the database: the note follows (a rename)
            self.sql(f'UPDATE "{table}" SET title = ? WHERE _id = ?', self.name("Retitled"), e.row)
            e.remote_edited = True  # an edit of the row: it wins against a delete of the note
            self.touch(e)
            return
        if column == "intensity":  # a number column, typed loosely, and a token beside it
            if not {"intensity", "notes"} <= columns:
                return
            value: Any = [7.5, "high", 2][self.counter % 3]
            self.sql(
                f'UPDATE "{table}" SET intensity = ?, notes = ? WHERE _id = ?', value, tok, e.row
            )
        elif column == "body":
            self.sql(
                f"UPDATE \"{table}\" SET body = coalesce(body, '') || ? WHERE _id = ?",
                f"row line {tok}\n",
                e.row,
            )
        elif column in columns:
            value = (
                json.dumps(["[[Fear]]", tok], ensure_ascii=False) if column == "related" else tok
            )
            self.sql(f'UPDATE "{table}" SET "{column}" = ? WHERE _id = ?', value, e.row)
        else:
            return  # that table has no such column: the user cannot type there
        e.remote_edited = True
        self.touch(e)

    @rule(table=st.sampled_from(["wound", "emotion", "note"]))
    def sql_insert(self, table: str) -> None:
        tok, tok2 = self.token(), self.token()
        title = self.name("Row")
        known = {r[0] for r in self.user.execute("SELECT table_name FROM _meta")}
        if table not in known:
            return
        columns = {r[1] for r in self.user.execute(f'PRAGMA table_info("{table}")')}
        if "notes" in columns:
            self.sql(
                f'INSERT INTO "{table}" (title, body, notes) VALUES (?, ?, ?)',
                title,
                f"row body {tok}\n",
                tok2,
            )
        else:
            self.sql(f'INSERT INTO "{table}" (title, body) VALUES (?, ?)', title, f"{tok} {tok2}\n")
        (row_id,) = self.user.execute(
            f'SELECT _id FROM "{table}" WHERE title = ?', (title,)
        ).fetchone()
        self.entities.append(Entity(None, row_id, remote_edited=True, new=True))

    @rule(index=PICK)
    def sql_delete(self, index: int) -> None:
        e = self.pick("remote", index)
        if e is None:
            return
        self.sql(f'DELETE FROM "{self.row_table(e)}" WHERE _id = ?', e.row)
        self.touch(e)
        e.row = None
        if e.new:
            self.entities.remove(e)
        else:
            e.remote_deleted = True

    @rule(index=PICK, what=st.sampled_from(["notes", "body"]))
    def edit_both_sides(self, index: int, what: str) -> None:
        """The same entry edited in Obsidian and in the database: a conflict or a merge."""
        linked = [
            e
            for e in self.entities
            if e.path is not None
            and e.row is not None
            and not (e.renamed and not isinstance(self.read_note(e.path).get("id"), int))
        ]
        if not linked:
            return
        e = linked[index % len(linked)]
        assert e.path is not None
        note = self.read_note(e.path)
        vtok, rtok = self.token(), self.token()
        table = self.row_table(e)
        columns = {r[1] for r in self.user.execute(f'PRAGMA table_info("{table}")')}
        if what == "notes" and "notes" in columns:
            note["notes"] = vtok
            self.sql(f'UPDATE "{table}" SET notes = ? WHERE _id = ?', rtok, e.row)
        else:
            note.body = note.body + f"vault tail {vtok}\n"
            self.sql(
                f"UPDATE \"{table}\" SET body = coalesce(body, '') || ? WHERE _id = ?",
                f"remote tail {rtok}\n",
                e.row,
            )
        self.write_note(e.path, note.to_bytes())
        e.vault_edited = e.remote_edited = True
        self.touch(e)

    # -- sync and its invariants ---------------------------------------------------------

    @rule(write=st.integers(1, 6), point=st.sampled_from(["before", "after", "committed"]))
    def crashing_sync(self, write: int, point: str) -> None:
        """A sync that dies at a write (in-process: the executor raises SimulatedCrash where
        the CLI would be SIGKILLed), then a new "process" re-runs it: together they must do
        what one sync does, with every invariant below."""
        self.sync(crash=FaultInjector(write, point))

    def check_bases_are_current(self) -> None:
        """Every entry the user left alone still has the versions its link recorded: a
        version that moved by itself would make sync see an edit nobody made."""
        versions = {r.id: r.version for r in self.remote.list()}
        for link in self.state.links(TARGET).values():
            e = self.entity_of_path(link.a_id) or next(
                (x for x in self.entities if x.row == link.b_id), None
            )
            if e is None or e.remote_edited or e.remote_deleted or e.path in self.touched:
                continue
            assert versions.get(link.b_id) == link.b_version, (
                f"row {link.b_id} ({link.a_id}) moved from version {link.b_version} to "
                f"{versions.get(link.b_id)} with no edit"
            )
            if e.path == link.a_id and not e.vault_edited:
                data = (self.root / link.a_id).read_bytes()
                assert hashlib.sha256(data).hexdigest() == link.a_version, link

    @rule()
    def sync(self, crash: FaultInjector | None = None) -> None:
        self.check_bases_are_current()
        before = digest(self.root)
        before_bytes = snapshot(self.root)
        edits = self.live_tokens() - self.agreed
        where_before = {
            rel: TOKEN.findall((self.root / rel).read_text("utf-8")) for rel in self.entry_paths()
        }
        where_before = {k: v for k, v in where_before.items() if set(v) & edits}
        conflicts_before = len(list_conflicts(self.state, TARGET))

        if crash is not None:
            with contextlib.suppress(SimulatedCrash):
                run_sync(
                    self.vault,
                    self.remote,
                    self.state,
                    self.options,
                    schema=self.vault.vault.schema,
                    faults_at=crash,
                )
            # a new process: the adapters' caches die with the old one
            self.remote.close()
            self.remote = SQLiteAdapter(SQLiteConfig(path=self.db), base_dir=self.dir)
            self.vault = VaultAdapter(Vault.open(self.root), timezone=TZ)
        report = self.run_sync()
        plan = report.plan.render() if report.plan else ""

        links = list(self.state.links(TARGET).values())
        by_path = {lk.a_id: lk for lk in links}
        by_row = {lk.b_id: lk for lk in links}
        # 1. entries are what the user's actions predict, each linked exactly once
        survivors = [e for e in self.entities if e.survives()]
        matched: set[int] = set()
        for e in survivors:
            link = by_path.get(e.path) if e.path is not None else None
            if link is None and e.row is not None:
                link = by_row.get(e.row)
            assert link is not None, f"entry {e} is not linked after sync"
            assert link.link_id not in matched, f"two entries share link {link}"
            matched.add(link.link_id)
            e.path, e.row = link.a_id, link.b_id
        paths, rows = self.entry_paths(), self.rows()
        unexpected = [lk for lk in links if lk.link_id not in matched]
        assert len(links) == len(survivors) == len(paths) == len(rows), (
            f"{len(links)} links, {len(survivors)} expected entries, "
            f"{len(paths)} notes, {len(rows)} rows; unexpected: {unexpected}\n{plan}"
        )
        assert {lk.a_id for lk in links} == set(paths)
        assert {lk.b_id for lk in links} == set(rows)
        ids = [self.read_note(p).get("id") for p in paths]
        ids = [i for i in ids if i is not None]
        assert len(ids) == len(set(ids)), "a note was duplicated (same id twice)"

        # 2. linked entries agree field by field and body, and equal the base
        snaps = self.state.snapshots(TARGET, [lk.link_id for lk in links])
        computed = {
            name: {k for k, spec in cls.fields.items() if spec.read_only}
            for name, cls in self.vault.vault.schema.classes.items()
        }
        vault_records = {r.id: r for r in self.vault.read_many(paths)}
        remote_records = {r.id: r for r in self.remote.read_many(list(rows))}
        for link in links:
            a, b = vault_records[link.a_id], remote_records[link.b_id]
            vault_fields, remote_fields = dict(a.fields), dict(b.fields)
            if CLASS_KEY not in b.fields:
                # a row typed into a class table has its class in the table, not a cell;
                # the note gets a fileClass key (it must, to keep its class)
                vault_fields.pop(CLASS_KEY, None)
            for key in computed.get(a.class_name, ()):
                if key not in vault_fields:
                    # Formula / Lookup: the vault computes it, and a note re-created from
                    # its row is written without it (Metadata Menu fills it in again)
                    remote_fields.pop(key, None)
            assert vault_fields == remote_fields, (
                f"{link.a_id} and row {link.b_id} disagree:\n{a.fields}\n{b.fields}\n"
                f"{(self.root / link.a_id).read_text('utf-8')}\n{plan}"
            )
            assert a.body == b.body, (link.a_id, a.body, b.body)
            snap = snaps[link.link_id]
            assert (dict(snap.a.fields), snap.a.body) == (dict(a.fields), a.body), link.a_id
            assert (dict(snap.b.fields), snap.b.body) == (dict(b.fields), b.body), link.b_id

        # 3. no edit lost: on both sides, or in the conflict log, or in a conflict copy
        both = set()
        for link in links:
            both.update(
                TOKEN.findall(json.dumps(vault_records[link.a_id].fields, ensure_ascii=False))
            )
            both.update(TOKEN.findall(vault_records[link.a_id].body))
        kept = set(both)
        conflicts = list_conflicts(self.state, TARGET)
        for c in conflicts[conflicts_before:]:
            kept.update(
                TOKEN.findall(
                    json.dumps([c.vault_value, c.remote_value], ensure_ascii=False, default=repr)
                )
            )
        for copy in self.conflict_copies():
            kept.update(TOKEN.findall(copy.read_text("utf-8")))
        lost = edits - kept
        assert not lost, f"edits lost: {sorted(lost)} ({where_before})\n{plan}"

        # 4. notes nobody touched keep their exact bytes; new files are entries or copies
        after = digest(self.root)
        renamed_this_sync = any(path not in after for path in before)  # a note moved away
        for path, sha in before.items():
            if path not in self.touched and after.get(path) != sha:
                # only a link to a renamed note may change (links follow renames); every
                # byte outside the link spans stays
                now = (self.root / path).read_bytes() if path in after else None
                assert (
                    now is not None
                    and renamed_this_sync
                    and (LINK.sub(b"[[]]", now) == LINK.sub(b"[[]]", before_bytes[path]))
                ), f"{path} was rewritten but nobody touched it"
        for path in set(after) - set(before):
            assert path in by_path or CONFLICT_COPY.search(path), f"stray file {path}"

        # 5. a second sync writes nothing
        dump = list(self.user.iterdump())
        again = self.run_sync()
        for side in (again.vault, again.remote):
            assert side.created == side.updated == side.deleted == side.conflicts == 0, (
                again.to_dict(),
                again.plan.render() if again.plan else None,
            )
        assert digest(self.root) == after, "the quiet sync rewrote notes"
        assert list(self.user.iterdump()) == dump, "the quiet sync wrote to the database"

        self.entities = [Entity(e.path, e.row) for e in survivors]
        self.touched = set()
        self.agreed = self.live_tokens()

    @invariant()
    def state_links_are_unique(self) -> None:
        links = self.state.links(TARGET).values()
        assert len({lk.a_id for lk in links}) == len({lk.b_id for lk in links}) == len(links)
        assert self.state.pending_journal(TARGET) == []


VaultSqliteMachine.TestCase.settings = PROFILE
TestVaultSqliteMachine = VaultSqliteMachine.TestCase
