"""Safety promises end to end: a copy of examples/vault ↔ the real SQLite adapter.

Compare-and-swap against an edit racing our write, notes with broken YAML, the mass-delete
guard, rows edited with the ``sqlite3`` command-line tool flowing back as minimal edits for
lists, link lists and dates, a private note never reaching a filtered target, second
conflict copies of one note, and the repository's demo config run as is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from syncbridge_sqlite import SQLiteAdapter
from syncbridge_sqlite.adapter import SQLiteConfig

from syncbridge.adapter import Record, RecordRef
from syncbridge.cli import main
from syncbridge.engine import SyncOptions, SyncReport, list_conflicts, run_sync
from syncbridge.engine.options import Filters
from syncbridge.note.note import Note
from syncbridge.state import StateStore
from syncbridge.vault.adapter import CONFLICT_COPY, VaultAdapter
from syncbridge.vault.fsio import FileSnapshot
from syncbridge.vault.vault import Vault

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "vault"
TZ = "UTC"
TARGET = "local"
GRIEF = "Psyche/Emotions/Grief.md"
SHAME_WOUND = "Psyche/Wounds/Shame Wound.md"
EARNED = "Pathways/Earned Security.md"
SQLITE3 = shutil.which("sqlite3")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".trash/")
    }


class Project:
    """A vault copy, a SQLite file and a state file in ``root``; syncs in-process."""

    def __init__(
        self,
        root: Path,
        vault_cls: type[Vault] = Vault,
        adapter_cls: type[VaultAdapter] = VaultAdapter,
    ) -> None:
        self.root = root
        self.vault_dir = root / "vault"
        if not self.vault_dir.exists():
            shutil.copytree(EXAMPLE, self.vault_dir)
        self.db = root / "local.db"
        self.vault = adapter_cls(vault_cls.open(self.vault_dir), timezone=TZ)
        self.remote = SQLiteAdapter(SQLiteConfig(path=self.db), base_dir=root)
        self.state = StateStore.open(root / ".syncbridge" / "state.db")

    def close(self) -> None:
        self.state.close()
        self.remote.close()

    def sync(self, **kw: Any) -> SyncReport:
        options = SyncOptions(target=TARGET, timezone=TZ, **kw)
        return run_sync(
            self.vault, self.remote, self.state, options, schema=self.vault.vault.schema
        )

    def note(self, rel: str) -> Path:
        return self.vault_dir / rel

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def sql(self, statement: str) -> None:
        """Edit the database from another process, as a user would."""
        if SQLITE3:
            subprocess.run(
                [SQLITE3, "-bail", str(self.db)],
                input=".timeout 5000\n" + statement,
                text=True,
                check=True,
                capture_output=True,
                encoding="utf-8",
            )
        else:  # same SQL through the stdlib driver in a separate connection
            conn = sqlite3.connect(self.db)
            conn.executescript(statement)
            conn.close()

    def dump(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return list(conn.iterdump())


def quiet(report: SyncReport) -> bool:
    return all(
        getattr(side, k) == 0
        for side in (report.vault, report.remote)
        for k in ("created", "updated", "deleted", "conflicts")
    )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    p = Project(tmp_path)
    first = p.sync()
    assert first.errors == [] and first.remote.created > 15
    yield p
    p.close()


def edit_note(path: Path, **fields: Any) -> bytes:
    note = Note.from_bytes(path.read_bytes())
    for key, value in fields.items():
        note[key] = value
    path.write_bytes(note.to_bytes())
    return note.to_bytes()


# -- (a) compare-and-swap: a note edited between our read and our write --------------------


class EditsBeforeUpdate(VaultAdapter):
    """The user saves the note right before the engine's ``update`` reads it for writing."""

    racing: ClassVar[dict[str, dict[str, Any]]] = {}

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        edit = self.racing.pop(str(record.id), None)
        if edit is not None:
            edit_note(self.vault.root / str(record.id), **edit)
        return super().update(record, expected_version=expected_version)


class EditsInsideWrite(Vault):
    """The user saves the note after ``update`` read it, right before the atomic write."""

    racing: ClassVar[dict[str, dict[str, Any]]] = {}

    def write(self, rel: str, note: Note, *, expected: Any) -> FileSnapshot:
        edit = self.racing.pop(rel, None)
        if edit is not None:
            edit_note(self.root / rel, **edit)
        return super().write(rel, note, expected=expected)


@pytest.mark.parametrize("window", ["before-update", "inside-write"])
def test_note_edited_between_read_and_write_is_not_overwritten(tmp_path: Path, window: str) -> None:
    setup = Project(tmp_path)
    assert setup.sync().errors == []
    setup.close()
    setup.sql("UPDATE emotion SET intensity = 9 WHERE title = 'Grief';")

    racing = {GRIEF: {"notes": "typed while syncing"}}
    if window == "before-update":
        EditsBeforeUpdate.racing = racing
        racy = Project(tmp_path, adapter_cls=EditsBeforeUpdate)
    else:
        EditsInsideWrite.racing = racing
        racy = Project(tmp_path, vault_cls=EditsInsideWrite)
    report = racy.sync()
    assert racing == {}, "the race was not staged: sync never wrote the note"
    racy.close()
    users = Note.from_bytes(racy.note(GRIEF).read_bytes())
    # the user's save stands as they made it; the stale write was refused and reported
    assert users["notes"] == "typed while syncing" and users["intensity"] == 6
    assert [e.id for e in report.errors] == [GRIEF]
    assert "changed since" in report.errors[0].message
    user_bytes = racy.note(GRIEF).read_bytes()

    again = Project(tmp_path)
    second = again.sync()
    assert second.errors == []
    merged = Note.from_bytes(again.note(GRIEF).read_bytes())
    assert merged["notes"] == "typed while syncing"  # the user's edit ...
    assert merged["intensity"] == 9  # ... and the row's edit, merged
    assert again.query("SELECT notes, intensity FROM emotion WHERE title = 'Grief'") == [
        ("typed while syncing", 9)
    ]
    changed = [
        (a, b)
        for a, b in zip(
            user_bytes.splitlines(), again.note(GRIEF).read_bytes().splitlines(), strict=True
        )
        if a != b
    ]
    assert [b.split(b":")[0] for _, b in changed] == [b"last_modified", b"intensity"]
    assert quiet(again.sync())
    again.close()


class EditsBeforeDelete(VaultAdapter):
    """The user saves the note right before the engine moves it to the trash."""

    racing: ClassVar[dict[str, dict[str, Any]]] = {}

    def delete(self, record_id: str, *, expected_version: str) -> None:
        edit = self.racing.pop(record_id, None)
        if edit is not None:
            edit_note(self.vault.root / record_id, **edit)
        super().delete(record_id, expected_version=expected_version)


def test_note_edited_while_sync_deletes_it_is_kept_and_its_row_comes_back(
    tmp_path: Path,
) -> None:
    setup = Project(tmp_path)
    assert setup.sync().errors == []
    setup.close()
    setup.sql("DELETE FROM emotion WHERE title = 'Grief';")
    EditsBeforeDelete.racing = {GRIEF: {"notes": "still grieving"}}
    racy = Project(tmp_path, adapter_cls=EditsBeforeDelete)
    report = racy.sync()
    racy.close()
    assert EditsBeforeDelete.racing == {}, "the race was not staged: sync never deleted the note"
    assert [e.id for e in report.errors] == [GRIEF]
    assert racy.note(GRIEF).is_file()  # not moved to the trash under the user's hands
    assert not list((racy.vault_dir / ".trash").rglob("Grief*"))
    assert Note.from_bytes(racy.note(GRIEF).read_bytes())["notes"] == "still grieving"

    again = Project(tmp_path)
    second = again.sync()
    assert second.errors == [] and second.remote.created == 1  # delete vs edit: the edit wins
    assert again.query("SELECT notes FROM emotion WHERE title = 'Grief'") == [("still grieving",)]
    assert quiet(again.sync())
    again.close()


# -- (b) a note whose YAML breaks mid-edit ------------------------------------------------


def test_note_with_broken_yaml_is_skipped_not_deleted_and_syncs_once_fixed(
    project: Project,
) -> None:
    path = project.note(SHAME_WOUND)
    good = path.read_text("utf-8")
    (row_id,) = project.query("SELECT _id FROM wound WHERE title = 'Shame Wound'")[0]
    broken = good.replace("status: ⬜ not started", "status: [⬜ not started")  # typing
    path.write_text(broken, "utf-8")
    project.sql(f"UPDATE wound SET intensity = 3 WHERE _id = '{row_id}';")
    rows_before = project.query("SELECT _id FROM wound ORDER BY _id")

    report = project.sync()
    assert [s.id for s in report.skipped] == [SHAME_WOUND]
    assert "unreadable" in report.skipped[0].message
    assert report.remote.deleted == 0 and report.vault.deleted == 0
    assert project.query("SELECT _id FROM wound ORDER BY _id") == rows_before
    assert project.remote.trash() == []
    assert path.read_text("utf-8") == broken  # the half-typed note is not touched

    fixed = good.replace("status: ⬜ not started", "status: 🟨 in progress")
    path.write_text(fixed, "utf-8")
    report = project.sync()
    assert report.errors == [] and report.skipped == []
    assert project.query("SELECT status, intensity FROM wound WHERE _id = ?", row_id) == [
        ("🟨 in progress", 3)
    ]
    note = Note.from_bytes(path.read_bytes())
    assert (note["status"], note["intensity"]) == ("🟨 in progress", 3)
    assert quiet(project.sync())


def test_new_note_with_broken_yaml_is_not_sent_until_fixed(project: Project) -> None:
    path = project.note("Psyche/Wounds/Half typed.md")
    path.write_text("---\nfileClass: wound\ntriggers: [criticism\n---\nbody\n", "utf-8")
    report = project.sync()
    assert [s.id for s in report.skipped] == ["Psyche/Wounds/Half typed.md"]
    assert report.remote.created == 0
    assert project.query("SELECT count(*) FROM wound WHERE title = 'Half typed'") == [(0,)]
    path.write_text("---\nfileClass: wound\ntriggers: [criticism]\n---\nbody\n", "utf-8")
    report = project.sync()
    assert report.remote.created == 1 and report.skipped == []
    assert project.query("SELECT triggers FROM wound WHERE title = 'Half typed'") == [
        ('["criticism"]',)
    ]
    assert quiet(project.sync())


# -- (c) the mass-delete guard -------------------------------------------------------------


def cli_project(tmp_path: Path, extra: str = "") -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    (tmp_path / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
        'path = "local.db"\n' + extra,
        encoding="utf-8",
    )
    return tmp_path


def cli_sync(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    code = main(["sync", *args, "--config", str(root / "syncbridge.toml")])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("how", ["most-notes-to-trash", "vault-emptied"])
def test_deleting_most_notes_stops_until_force_delete(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, how: str
) -> None:
    root = cli_project(tmp_path)
    code, _ = cli_sync(capsys, root, "--json")
    assert code == 0
    db = root / "local.db"
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM _meta")]
        live_before = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    notes = sorted(
        p
        for p in (root / "vault").rglob("*.md")
        if not p.relative_to(root / "vault").as_posix().startswith(("Classes/", "Templates/"))
    )
    doomed = notes if how == "vault-emptied" else notes[: int(len(notes) * 0.75)]
    trash = root / "vault" / ".trash"
    trash.mkdir(exist_ok=True)
    for p in doomed:
        p.rename(trash / p.name)  # what Obsidian's delete does
    dump_before = list(sqlite3.connect(db).iterdump())

    code, out = cli_sync(capsys, root)
    assert code == 3
    assert "--force-delete" in out
    assert list(sqlite3.connect(db).iterdump()) == dump_before  # nothing deleted remotely

    code, out = cli_sync(capsys, root, "--json", "--force-delete")
    assert code == 0, out
    report = json.loads(out[: out.rindex("}") + 1])["targets"]["local"]
    assert report["remote"]["deleted"] == len(doomed)
    remote = SQLiteAdapter(SQLiteConfig(path=db), base_dir=root)
    trashed = remote.trash()
    assert sorted(t.title or "" for t in trashed) == sorted(p.stem for p in doomed)
    assert len(list(remote.list())) == live_before - len(doomed)
    remote.restore(trashed[0].record_id)  # the adapter's trash gives them back
    remote.close()


# -- (d) sqlite3 CLI edits of lists, link lists and dates flow back minimally -------------


def field_span(lines: list[str], key: str) -> tuple[int, int]:
    """[start, end) of ``key``'s lines in a note's frontmatter (its line and indented ones)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith((" ", "\t")):
        end += 1
    return start, end


def outside(lines: list[str], keys: tuple[str, ...]) -> list[str]:
    spans = [field_span(lines, k) for k in keys]
    return [line for i, line in enumerate(lines) if not any(s <= i < e for s, e in spans)]


@pytest.mark.parametrize(
    ("rel", "table", "column", "sql_value", "expected_lines"),
    [
        # a flow-style list of options: stays a flow list
        (
            SHAME_WOUND,
            "wound",
            "triggers",
            'json(\'["criticism","being watched","conflict"]\')',
            ["triggers: [criticism, being watched, conflict]"],
        ),
        # a link list: quoted wikilinks, flow style kept
        (
            SHAME_WOUND,
            "wound",
            "healing_pathways",
            "json('[\"[[Earned Security]]\"]')",
            ['healing_pathways: ["[[Earned Security]]"]'],
        ),
        # a block-style list: stays a block list with Obsidian's "  - " items
        (
            GRIEF,
            "emotion",
            "body_sensations",
            'json(\'["tight chest","lump in throat"]\')',
            ["body_sensations:", "  - tight chest", "  - lump in throat"],
        ),
        # a block-style link list
        (
            EARNED,
            "healing_pathway",
            "addresses_wounds",
            "json('[\"[[Shame Wound]]\"]')",
            ["addresses_wounds:", '  - "[[Shame Wound]]"'],
        ),
        # a date
        (EARNED, "healing_pathway", "started", "'2025-08-03'", ["started: 2025-08-03"]),
        # an empty date filled in
        (SHAME_WOUND, "wound", "first_noticed", "'2024-11-02'", ["first_noticed: 2024-11-02"]),
    ],
)
def test_sqlite3_cli_edit_of_a_list_link_list_or_date_is_a_minimal_edit(
    project: Project, rel: str, table: str, column: str, sql_value: str, expected_lines: list[str]
) -> None:
    path = project.note(rel)
    title = Path(rel).stem
    before = path.read_text("utf-8").splitlines()
    others = {p: d for p, d in tree_digest(project.vault_dir).items() if p != rel}

    project.sql(f"UPDATE {table} SET {column} = {sql_value} WHERE title = '{title}';")
    report = project.sync()
    assert report.errors == [] and report.vault.updated == 1 and quiet(report) is False

    after = path.read_text("utf-8").splitlines()
    start, end = field_span(after, column)
    assert after[start:end] == expected_lines
    # nothing changed outside that field and the last_modified stamp
    assert outside(after, (column, "last_modified")) == outside(before, (column, "last_modified"))
    assert {p: d for p, d in tree_digest(project.vault_dir).items() if p != rel} == others
    assert quiet(project.sync())


def test_cell_cleared_with_sqlite3_empties_the_field_in_the_note(project: Project) -> None:
    path = project.note(GRIEF)
    assert (
        Note.from_bytes(path.read_bytes())["notes"] == "Grief for what did not happen counts too."
    )
    project.sql("UPDATE emotion SET notes = NULL WHERE title = 'Grief';")
    report = project.sync()
    assert report.errors == []
    vault = {r.id: r for r in project.vault.read_many([GRIEF])}[GRIEF]
    (row_id,) = project.query("SELECT _id FROM emotion WHERE title = 'Grief'")[0]
    remote = project.remote.read(row_id)
    # the user's edit (clearing the value) is either applied to the note or logged
    logged = [c for c in list_conflicts(project.state, TARGET) if c.field == "notes"]
    assert vault.fields.get("notes") == remote.fields.get("notes") or logged, (
        vault.fields.get("notes"),
        remote.fields.get("notes"),
    )


# -- (e) a private note never reaches a target that filters it out ------------------------


def test_private_notes_never_reach_a_filtered_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = cli_project(tmp_path, 'exclude_values = { visibility = "🔒 private" }\n')
    vault = root / "vault"
    private, public = [], []
    for p in sorted(vault.rglob("*.md")):
        rel = p.relative_to(vault).as_posix()
        if rel.startswith(("Classes/", "Templates/")):
            continue
        text = p.read_text("utf-8")
        (private if "visibility: 🔒 private" in text else public).append(p)
    assert len(private) >= 5 and public
    # a phrase only a private note has, to look for in the database's raw bytes
    secret = "Not ready to write this part yet."
    assert secret in (vault / SHAME_WOUND).read_text("utf-8")
    assert all(secret not in p.read_text("utf-8") for p in public)

    code, out = cli_sync(capsys, root, "--json")
    assert code == 0, out
    report = json.loads(out)["targets"]["local"]
    skipped = {s["id"] for s in report["skipped"]}
    assert skipped == {p.relative_to(vault).as_posix() for p in private}
    assert report["remote"]["created"] == len(public)

    # a public note made private, then edited: frozen, the edit stays in the vault
    earned = vault / EARNED
    edit_note(earned, visibility="🔒 private", notes="a private thought")
    code, out = cli_sync(capsys, root, "--json")
    assert code == 0, out

    db = root / "local.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = [t for (t,) in conn.execute("SELECT table_name FROM _meta")]
        titles = {r[0] for t in tables for r in conn.execute(f'SELECT title FROM "{t}"')}
        visibilities = {
            r[0]
            for t in tables
            if "visibility" in {c[1] for c in conn.execute(f'PRAGMA table_info("{t}")')}
            for r in conn.execute(f'SELECT visibility FROM "{t}"')
        }
    assert titles == {p.stem for p in public}
    assert "🔒 private" not in visibilities
    raw = b"".join(f.read_bytes() for f in root.glob("local.db*"))
    assert secret.encode() not in raw
    assert b"a private thought" not in raw
    code, out = cli_sync(capsys, root, "--json")
    data = json.loads(out)["targets"]["local"]
    assert all(
        data[s][k] == 0
        for s in ("vault", "remote")
        for k in ("created", "updated", "deleted", "conflicts")
    )


def test_note_made_private_is_frozen_and_resumes_when_public_again(project: Project) -> None:
    private = Filters(exclude_values={"visibility": ("🔒 private",)})
    path = project.note(EARNED)  # public and linked
    (row_id,) = project.query("SELECT _id FROM healing_pathway WHERE title = 'Earned Security'")[0]
    edit_note(path, visibility="🔒 private", notes="kept to myself")
    project.sql(f"UPDATE healing_pathway SET modality = 'somatic' WHERE _id = '{row_id}';")
    frozen = path.read_bytes()
    report = project.sync(filters=private)
    assert [s.id for s in report.skipped if s.id == EARNED] == [EARNED]
    assert report.remote.deleted == 0
    # frozen: neither side written, the row is kept
    assert project.query(
        "SELECT visibility, notes, modality FROM healing_pathway WHERE _id = ?", row_id
    ) == [("🌐 public", "Security is a practice, not a personality.\n", "somatic")]
    assert path.read_bytes() == frozen

    edit_note(path, visibility="🌐 public")
    report = project.sync(filters=private)
    assert report.errors == [] and all(s.id != EARNED for s in report.skipped)
    note = Note.from_bytes(path.read_bytes())
    assert (note["notes"], note["modality"]) == ("kept to myself", "somatic")
    assert project.query("SELECT notes, modality FROM healing_pathway WHERE _id = ?", row_id) == [
        ("kept to myself", "somatic")
    ]
    assert quiet(project.sync(filters=private))


# -- conflict copies: a second one for the same note is not synced -------------------------


def test_second_conflict_copy_of_a_note_in_the_same_minute_is_never_synced(
    project: Project,
) -> None:
    """Two body conflicts on one note within a minute: the second copy needs another name
    (``... (conflict 2026-11-28 1432) 2.md``), and it must stay out of sync like the first."""
    path = project.note(GRIEF)
    now = dt.datetime.now()
    for minute in (now, now + dt.timedelta(minutes=1)):  # the label the run will use is taken
        label = minute.strftime("%Y-%m-%d %H%M")
        project.note(f"Psyche/Emotions/Grief (conflict {label}).md").write_text(
            "an earlier conflict copy\n", "utf-8"
        )
    note = Note.from_bytes(path.read_bytes())
    note.body = note.body + "vault tail\n"
    path.write_bytes(note.to_bytes())
    project.sql(
        "UPDATE emotion SET body = body || 'remote tail' || char(10) WHERE title = 'Grief';"
    )
    rows = project.query("SELECT count(*) FROM emotion")

    report = project.sync()
    assert report.errors == [] and len(list_conflicts(project.state, TARGET)) == 1
    copies = sorted(p.name for p in path.parent.glob("Grief (conflict *"))
    assert len(copies) == 3, copies
    assert all(CONFLICT_COPY.search(name) for name in copies), copies
    again = project.sync()
    assert quiet(again), again.to_dict()
    assert project.query("SELECT count(*) FROM emotion") == rows


# -- (f) the repository's demo config, as is ------------------------------------------------


def test_demo_config_works_as_is_against_a_copy_of_the_example_vault(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "vault")
    shutil.copy(REPO / "syncbridge.toml", tmp_path / "syncbridge.toml")  # unchanged
    before = tree_digest(tmp_path / "examples" / "vault")

    def run() -> dict[str, Any]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "syncbridge",
                "sync",
                "--config",
                str(tmp_path / "syncbridge.toml"),
                "--json",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        assert data["ok"] is True
        return data["targets"]["local"]

    first = run()
    assert first["remote"]["created"] == 22 and first["errors"] == []
    assert (tmp_path / "syncbridge-demo.db").is_file()
    assert not (REPO / "examples" / "syncbridge-demo.db").exists()
    second = run()
    for side in ("vault", "remote"):
        assert {k: second[side][k] for k in ("created", "updated", "deleted", "conflicts")} == {
            "created": 0,
            "updated": 0,
            "deleted": 0,
            "conflicts": 0,
        }
        assert second[side]["unchanged"] == 22
    assert tree_digest(tmp_path / "examples" / "vault") == before
