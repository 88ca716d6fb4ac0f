"""``syncbridge sync`` as a real process, SIGKILLed at every write of a busy run, then re-run.

The project is a copy of examples/vault and a SQLite file configured as the README does.
After a clean first sync, the user changes both sides: note fields and bodies, a body
edited in Obsidian *and* in the database (a conflict with a conflict copy), a rename, a
move to another folder under a new name, a note moved to ``.trash/``, a new note; a row
edited, a row retitled (its note is renamed), a row deleted, a row inserted with plain
SQL. Then ``python -m syncbridge sync --config FILE --json`` runs with
``SYNCBRIDGE_TEST_KILL_AT=write:N:POINT`` for every write N of that run and every point:

* ``before`` (journaled, not written), ``after`` (written, state not updated),
  ``committed`` (state updated): the engine's own fault points;
* ``during``: inside the write itself. The real adapters have no hook there, so the worker
  adds one: the SQLite row is written but its transaction not committed, or the note's temp
  file is written and fsynced but not yet renamed into place.

A re-run (the CLI again) must converge: every note linked to exactly one row, no duplicate
note or row, every token the user wrote on either side present on both sides or kept in
the conflict log / a conflict copy, the deletes done (to the trash), the renames and moves
done on both sides (each note's file name is its row's title, its class the row's table),
and one more sync is a no-op. tests/test_crash_vault_sqlite.py kills an in-process worker at a few writes of a
smaller scenario; this sweeps every write of the CLI path, including ``during``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syncbridge_sqlite import SQLiteAdapter
from syncbridge_sqlite.adapter import SQLiteConfig

from syncbridge.cli import main
from syncbridge.config import load_config
from syncbridge.engine import list_conflicts, run_sync
from syncbridge.note.note import Note
from syncbridge.state import StateStore
from syncbridge.vault.adapter import CONFLICT_COPY, VaultAdapter
from syncbridge.vault.vault import Vault

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
TOKEN = re.compile(r"§[\w-]+§")
CONFIG = (
    '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
    '[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "local.db"\n'
)
NOT_ENTRIES = ("Classes/", "Templates/")
MOVED = "Journal/Repair Journaling.md"
RETITLED = "Psyche/Attachment/Anxious Style.md"

# The worker for "during": the CLI, with a kill point inside each real write.
DURING_WORKER = r"""
import sys
import syncbridge.vault.fsio as fsio
from syncbridge.engine import faults
from syncbridge_sqlite.adapter import SQLiteAdapter

finish = SQLiteAdapter._finish_write
def _finish_write(self, *args, **kwargs):
    stored = finish(self, *args, **kwargs)
    faults.during_write()  # the row is written, its transaction still open
    return stored
SQLiteAdapter._finish_write = _finish_write

rename = fsio._rename_noreplace
def _rename_noreplace(source, target):
    if source.name.startswith(".sb-"):
        faults.during_write()  # the new note's temp file is written, not yet in place
    return rename(source, target)
fsio._rename_noreplace = _rename_noreplace

from syncbridge.cli import main
sys.exit(main(sys.argv[1:]))
"""


def write_note(path: Path, **fields: Any) -> None:
    note = Note.from_bytes(path.read_bytes())
    for key, value in fields.items():
        note[key] = value
    path.write_bytes(note.to_bytes())


def append_body(path: Path, line: str) -> None:
    note = Note.from_bytes(path.read_bytes())
    note.body = note.body + line + "\n"
    path.write_bytes(note.to_bytes())


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after a clean first sync and a round of user edits on both sides."""
    root = tmp_path_factory.mktemp("scenario")
    shutil.copytree(EXAMPLE, root / "vault")
    (root / "syncbridge.toml").write_text(CONFIG, "utf-8")
    assert main(["sync", "--json", "--config", str(root / "syncbridge.toml")]) == 0
    v = root / "vault"
    # in Obsidian
    write_note(v / "Psyche/Emotions/Grief.md", notes="§v-grief§")
    append_body(v / "Psyche/Emotions/Fear.md", "a vault line §v-fear§")
    append_body(v / "Psyche/Wounds/Shame Wound.md", "vault tail §v-shame§")
    os.rename(v / "Psyche/Emotions/Anger.md", v / "Psyche/Emotions/Anger renamed.md")
    os.rename(v / "Pathways/Journaling for Repair.md", v / MOVED)  # another folder and name
    (v / ".trash").mkdir(exist_ok=True)
    os.rename(v / "Psyche/Emotions/Loneliness.md", v / ".trash/Loneliness.md")
    (v / "Psyche/Wounds/Crash New.md").write_text(
        "---\nfileClass: wound\nnotes: §v-new§\ntriggers: [criticism]\n---\nnew §v-new-body§\n",
        "utf-8",
    )
    # in DB Browser
    conn = sqlite3.connect(root / "local.db")
    conn.execute(
        "UPDATE wound SET body = body || ? WHERE title = 'Shame Wound'",
        ("remote tail §r-shame§\n",),
    )
    conn.execute("UPDATE healing_pathway SET notes = '§r-earned§' WHERE title = 'Earned Security'")
    conn.execute(
        "UPDATE attachment_theory SET status = '§r-secure§' WHERE title = 'Secure Attachment'"
    )
    conn.execute("DELETE FROM wound WHERE title = 'Rejection Wound'")
    conn.execute(  # retitled in the database: the note is renamed in its folder
        "UPDATE attachment_theory SET title = 'Anxious Style' WHERE title = 'Anxious Attachment'"
    )
    conn.execute(
        "INSERT INTO emotion (title, body, notes) VALUES ('Awe', 'vast §r-awe-body§\n', '§r-awe§')"
    )
    conn.commit()
    conn.close()
    return root


def planned_writes(root: Path) -> list[tuple[str, str]]:
    """(side, op) of every write the next run makes, in order (a dry run of the engine)."""
    config = load_config(root / "syncbridge.toml")
    target = config.targets[0]
    vault = VaultAdapter(Vault.open(config.vault_path), timezone="UTC")
    remote = target.open()
    with StateStore.open(config.state_path) as state:
        report = run_sync(
            vault,
            remote,
            state,
            config.sync_options(target, dry_run=True),
            schema=vault.vault.schema,
        )
    remote.close()
    assert report.plan is not None and report.safety_stop is None
    return [(w.side, w.op) for w in report.plan.writes()]


def cli(
    root: Path, kill_at: str | None = None, *, during: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    code = ["-c", DURING_WORKER] if during else ["-m", "syncbridge"]
    return subprocess.run(
        [sys.executable, *code, "sync", "--json", "--config", str(root / "syncbridge.toml")],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def entry_notes(vault: Path) -> dict[str, str]:
    out = {}
    for p in sorted(vault.rglob("*.md")):
        rel = p.relative_to(vault).as_posix()
        if rel.startswith((".", *NOT_ENTRIES)) or CONFLICT_COPY.search(rel):
            continue
        out[rel] = p.read_text("utf-8")
    return out


def all_rows(db: Path) -> dict[str, tuple[str, str]]:
    """Row id → (table, JSON of the row) for every class table."""
    out: dict[str, tuple[str, str]] = {}
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute("SELECT table_name FROM _meta").fetchall():
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            for row in cursor:
                record = dict(zip(names, row, strict=True))
                assert record["_id"] not in out, f"row {record['_id']} twice"
                out[record["_id"]] = (table, json.dumps(record, ensure_ascii=False))
    return out


def assert_converged(root: Path, tokens: set[str]) -> None:
    vault, db = root / "vault", root / "local.db"
    notes, rows = entry_notes(vault), all_rows(db)
    with StateStore.open(root / ".syncbridge" / "state.db") as state:
        assert state.pending_journal("local") == []
        links = list(state.links("local").values())
        logged: set[str] = set()
        for c in list_conflicts(state, "local"):
            logged.update(
                TOKEN.findall(
                    json.dumps([c.vault_value, c.remote_value], ensure_ascii=False, default=repr)
                )
            )
    # no duplicates: each note and each row linked exactly once
    assert len(links) == len(notes) == len(rows), (len(links), sorted(notes), len(rows))
    assert {lk.vault_id for lk in links} == set(notes)
    assert {lk.remote_id for lk in links} == set(rows)
    titles = [Path(p).stem for p in notes]
    assert len(titles) == len(set(titles)), sorted(titles)
    # the user's deletes and rename happened, once
    assert "Psyche/Emotions/Loneliness.md" not in notes
    assert "Psyche/Wounds/Rejection Wound.md" not in notes
    assert "Psyche/Emotions/Anger.md" not in notes and "Psyche/Emotions/Anger renamed.md" in notes
    assert sum(1 for p in notes if Path(p).stem == "Awe") == 1
    assert "Pathways/Journaling for Repair.md" not in notes and MOVED in notes
    assert "Psyche/Attachment/Anxious Attachment.md" not in notes and RETITLED in notes
    remote = SQLiteAdapter(SQLiteConfig(path=db), base_dir=root)
    assert sorted(t.title or "" for t in remote.trash()) == ["Loneliness"]
    remote_classes = {r.id: r.class_name for r in remote.list()}
    remote.close()
    # the sides agree on every entry's name and class, not only its content: a rename or
    # move killed half-way must still reach the other side
    note_classes = {r.id: r.class_name for r in VaultAdapter(Vault.open(vault)).list()}
    for link in links:
        title = json.loads(rows[link.remote_id][1])["title"]
        assert Path(link.vault_id).stem == title, (link.vault_id, title)
        assert note_classes[link.vault_id] == remote_classes[link.remote_id], link.vault_id
    # no lost edit: on both sides of a link, or kept as a loser
    both: set[str] = set()
    for link in links:
        in_note = set(TOKEN.findall(notes[link.vault_id]))
        in_row = set(TOKEN.findall(rows[link.remote_id][1]))
        assert in_note == in_row, (link.vault_id, in_note, in_row)
        both |= in_note
    copies = "".join(
        p.read_text("utf-8") for p in vault.rglob("*.md") if CONFLICT_COPY.search(p.name)
    )
    lost = tokens - both - logged - set(TOKEN.findall(copies))
    assert not lost, f"edits lost: {sorted(lost)}"
    stray = [p for p in vault.rglob("*") if p.name.startswith(".sb-") and p.suffix == ".md"]
    assert not stray


def scenario_tokens(root: Path) -> set[str]:
    found: set[str] = set()
    for text in entry_notes(root / "vault").values():
        found.update(TOKEN.findall(text))
    for _, row in all_rows(root / "local.db").values():
        found.update(TOKEN.findall(row))
    return found


def keep_working(root: Path) -> set[str]:
    """The user edits on between the crash and the re-run, including what the killed run
    may just have created (a create whose link was lost must still be found)."""
    vault = root / "vault"
    write_note(vault / "Psyche/Wounds/Crash New.md", core_belief="§v-after§")
    made = {"§v-after§", "§r-after§"}
    for awe in vault.rglob("Awe.md"):
        append_body(awe, "more awe §v-after-awe§")
        made.add("§v-after-awe§")
    with sqlite3.connect(root / "local.db") as conn:
        conn.execute(
            "UPDATE emotion SET body = body || ? WHERE title = 'Awe'", ("and more §r-after§\n",)
        )
        if conn.execute(
            "UPDATE wound SET status = '§r-after-new§' WHERE title = 'Crash New'"
        ).rowcount:
            made.add("§r-after-new§")
    return made


def kill_and_converge(scenario: Path, case: Path, kill_at: str, *, during: bool) -> None:
    shutil.copytree(scenario, case)
    tokens = scenario_tokens(case)
    assert len(tokens) == 10
    killed = cli(case, kill_at, during=during)
    assert killed.returncode == -signal.SIGKILL, (kill_at, killed.returncode, killed.stderr)
    tokens |= keep_working(case)
    recovering = cli(case)
    assert recovering.returncode == 0, (kill_at, recovering.stdout, recovering.stderr)
    report = json.loads(recovering.stdout)["targets"]["local"]
    assert report["errors"] == [] and report["safety_stop"] is None, report
    assert_converged(case, tokens)
    quiet = cli(case)
    assert quiet.returncode == 0, quiet.stderr
    again = json.loads(quiet.stdout)["targets"]["local"]
    for side in ("vault", "remote"):
        assert all(again[side][k] == 0 for k in ("created", "updated", "deleted")), (kill_at, again)


def test_scenario_writes_on_both_sides(scenario: Path) -> None:
    """The sweep below only means something if the run writes every kind of thing."""
    writes = set(planned_writes(scenario))
    assert writes >= {
        ("vault", "create"),
        ("vault", "update"),
        ("vault", "delete"),
        ("remote", "create"),
        ("remote", "update"),
        ("remote", "delete"),
    }


@pytest.mark.parametrize("point", ["before", "after", "committed"])
def test_killed_at_every_write_converges(scenario: Path, tmp_path: Path, point: str) -> None:
    writes = planned_writes(scenario)
    for number in range(1, len(writes) + 1):
        kill_and_converge(
            scenario, tmp_path / f"w{number}", f"write:{number}:{point}", during=False
        )


def test_killed_inside_every_write_converges(scenario: Path, tmp_path: Path) -> None:
    """``during``: the SQLite transaction is open, or the new note's temp file is written."""
    writes = planned_writes(scenario)
    hooked = [
        n
        for n, (side, op) in enumerate(writes, start=1)
        if (side == "remote" and op != "delete") or (side, op) == ("vault", "create")
    ]
    assert len(hooked) >= 4
    for number in hooked:
        kill_and_converge(scenario, tmp_path / f"w{number}", f"write:{number}:during", during=True)


def test_no_temp_file_is_left_in_the_vault_after_a_kill_inside_a_note_write(
    scenario: Path, tmp_path: Path
) -> None:
    writes = planned_writes(scenario)
    number = writes.index(("vault", "create")) + 1
    case = tmp_path / "case"
    kill_and_converge(scenario, case, f"write:{number}:during", during=True)
    leftovers = [p.relative_to(case).as_posix() for p in (case / "vault").rglob(".sb-*")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("note", "table", "new_title"),
    [
        pytest.param("Psyche/Emotions/Fear.md", "emotion", "Terror", id="with-id-field"),
        pytest.param(
            "Journal/2025-07-12 Evening check-in.md",
            "note",
            "2025-07-12 Calm evening",
            id="no-id-field",
        ),
    ],
)
def test_killed_after_a_note_followed_its_retitled_row_converges(
    tmp_path: Path, note: str, table: str, new_title: str
) -> None:
    """A row retitled in the database while its note was edited: sync moves the note to the
    new title, then updates the row. Killed between the two, the re-run must find the moved
    note (its link still names the old path) instead of re-creating the old one."""
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, "utf-8")
    assert main(["sync", "--json", "--config", str(tmp_path / "syncbridge.toml")]) == 0
    append_body(tmp_path / "vault" / note, "written before the crash §v-edit§")
    with sqlite3.connect(tmp_path / "local.db") as conn:
        conn.execute(f"UPDATE {table} SET title = ? WHERE title = ?", (new_title, Path(note).stem))
    writes = planned_writes(tmp_path)
    assert writes == [("vault", "update"), ("remote", "update")], writes

    killed = cli(tmp_path, "write:1:after")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    moved = str(Path(note).parent / f"{new_title}.md")
    assert (tmp_path / "vault" / moved).is_file()  # the move landed
    recovering = cli(tmp_path)
    assert recovering.returncode == 0, recovering.stderr
    notes = entry_notes(tmp_path / "vault")
    rows = all_rows(tmp_path / "local.db")
    edited = sorted(p for p, text in notes.items() if "§v-edit§" in text)
    assert edited == [moved], edited  # one note, not the old one re-created beside it
    assert len(notes) == len(rows) == 22, (len(notes), len(rows))
    quiet = json.loads(cli(tmp_path).stdout)["targets"]["local"]
    assert all(quiet[s][k] == 0 for s in ("vault", "remote") for k in ("created", "deleted"))
