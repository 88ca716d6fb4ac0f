"""``syncbridge sync / status / conflicts`` end to end: a copy of examples/vault, a real SQLite
file, edits made with the ``sqlite3`` shell (or, as a second path, a separate Python
process running the same SQL)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syncbridge_sqlite.testing import ExternalSQL, external_sql

from syncbridge.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_VAULT = REPO / "examples" / "vault"

__all__ = ["external_sql"]  # the fixture, shared with the SQLite adapter's tests


def run_cli(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    """``syncbridge`` with ``--config`` appended to the innermost command."""
    code = main([*args, "--config", str(project / "syncbridge.toml")])
    out, _err = capsys.readouterr()
    return code, out


def sync_json(capsys: pytest.CaptureFixture[str], project: Path, *extra: str) -> dict[str, Any]:
    code, out = run_cli(capsys, project, "sync", "--json", *extra)
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)  # exactly one JSON object, nothing else
    return data


def tree_digest(root: Path) -> dict[str, str]:
    """Path → sha256 of every file under ``root`` (for "nothing changed" checks)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def db_dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def entry_count(project: Path) -> int:
    from syncbridge.vault.adapter import VaultAdapter
    from syncbridge.vault.vault import Vault

    return len(list(VaultAdapter(Vault.open(project / "vault")).list()))


ZERO = {"created": 0, "updated": 0, "deleted": 0, "conflicts": 0}


def test_first_sync_creates_every_entry_and_second_is_a_no_op(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    entries = entry_count(project)
    assert entries >= 15
    before = tree_digest(project / "vault")

    first = sync_json(capsys, project)
    local = first["targets"]["local"]
    assert local["remote"] == {**ZERO, "created": entries, "unchanged": 0}
    assert {k: local["vault"][k] for k in ZERO} == ZERO
    assert first["ok"] is True
    assert tree_digest(project / "vault") == before  # the vault was only read
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        rows = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)
    assert rows == entries

    second = sync_json(capsys, project)["targets"]["local"]
    assert second["vault"] == {**ZERO, "unchanged": entries}
    assert second["remote"] == {**ZERO, "unchanged": entries}
    assert tree_digest(project / "vault") == before


def test_human_output_is_a_short_summary(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out = run_cli(capsys, project, "sync")
    assert code == 0
    assert out.startswith("local (sqlite): synced\n")
    assert "remote: " in out and "created" in out
    code, out = run_cli(capsys, project, "sync")
    assert "vault:  no changes" in out and "remote: no changes" in out


def test_dry_run_on_a_fresh_project_writes_nothing(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    before = tree_digest(project)
    code, out = run_cli(capsys, project, "sync", "--dry-run")
    assert code == 0
    assert "# plan for local" in out and "+ remote: create" in out
    assert tree_digest(project) == before  # no database, no state file, no note touched


def test_dry_run_prints_the_plan_per_field_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    db = project / "syncbridge-demo.db"
    external_sql(db, "UPDATE emotion SET intensity = 9 WHERE title = 'Grief';\n")
    vault_before, db_before = tree_digest(project / "vault"), db_dump(db)
    state_before = db_dump(project / ".syncbridge" / "state.db")

    code, out = run_cli(capsys, project, "sync", "--dry-run")
    assert code == 0
    assert "Grief.md" in out
    assert "vault intensity: -6 +9" in out  # per note and field, like a diff
    assert "local (sqlite): would sync" in out

    data = sync_json(capsys, project, "--dry-run")
    assert data["dry_run"] is True and data["targets"]["local"]["vault"]["updated"] == 1
    assert any("intensity" in line for line in data["targets"]["local"]["plan"])

    assert tree_digest(project / "vault") == vault_before
    assert db_dump(db) == db_before
    assert db_dump(project / ".syncbridge" / "state.db") == state_before


def _note(project: Path, title: str) -> Path:
    (path,) = (project / "vault").rglob(f"{title}.md")
    return path


def test_row_edited_with_sqlite3_flows_back_as_a_minimal_edit(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    note = _note(project, "Grief")
    before = note.read_bytes().splitlines(keepends=True)
    others = {p: d for p, d in tree_digest(project / "vault").items() if not p.endswith("Grief.md")}

    external_sql(
        project / "syncbridge-demo.db",
        "UPDATE emotion SET status = '🟩 complete' WHERE title = 'Grief';\n",
    )
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["vault"]["updated"] == 1 and data["vault"]["created"] == 0

    after = note.read_bytes().splitlines(keepends=True)
    assert len(after) == len(before)
    changed = {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
    status_line = next(i for i, line in enumerate(before) if line.startswith(b"status:"))
    stamp_line = next(i for i, line in enumerate(before) if line.startswith(b"last_modified:"))
    # Only the edited field's line changes, plus last_modified, which sync stamps with the
    # remote's modification time (both sides then agree on it).
    assert changed == {status_line, stamp_line}
    assert after[status_line] == "status: 🟩 complete\n".encode()
    assert after[stamp_line].startswith(b"last_modified: ")
    assert len(after[stamp_line]) == len(before[stamp_line])  # same minute-precision format
    assert {p: d for p, d in tree_digest(project / "vault").items() if p in others} == others

    again = sync_json(capsys, project)["targets"]["local"]
    assert again["vault"]["updated"] == again["remote"]["updated"] == 0


def test_field_of_a_note_without_last_modified_changes_one_line(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    note = _note(project, "2025-07-12 Evening check-in")
    before = note.read_bytes().splitlines(keepends=True)
    assert not any(line.startswith(b"last_modified:") for line in before)
    external_sql(project / "syncbridge-demo.db", "UPDATE note SET energy = 4 WHERE energy = 3;\n")
    sync_json(capsys, project)
    after = note.read_bytes().splitlines(keepends=True)
    assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [
        before.index(b"energy: 3\n")
    ]
    assert b"energy: 4\n" in after


def test_row_inserted_by_hand_becomes_a_note_and_deleted_row_goes_to_trash(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    lonely = _note(project, "Loneliness")
    db = project / "syncbridge-demo.db"
    external_sql(
        db,
        "INSERT INTO emotion (title, body, status, intensity)"
        " VALUES ('Awe', 'Vastness.\n', '🟥 draft', 4);\n"
        "DELETE FROM emotion WHERE title = 'Loneliness';\n",
    )
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["vault"]["created"] == 1 and data["vault"]["deleted"] == 1
    created = _note(project, "Awe").read_text(encoding="utf-8")
    assert "status: 🟥 draft" in created and "intensity: 4" in created
    assert "Vastness." in created
    assert not lonely.exists()
    assert list((project / "vault" / ".trash").rglob("Loneliness*.md"))


def test_emptied_table_stops_with_a_force_delete_hint(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    before = tree_digest(project / "vault")
    db = project / "syncbridge-demo.db"
    tables = external_sql(db, "SELECT table_name FROM _meta;\n").split()
    external_sql(db, "".join(f'DELETE FROM "{t}";\n' for t in tables))
    code = main(["sync", "--config", str(project / "syncbridge.toml")])
    out, err = capsys.readouterr()
    assert code == 3
    assert "--force-delete" in out + err
    assert tree_digest(project / "vault") == before


def test_conflict_is_logged_shown_and_restored(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    note = _note(project, "Grief")
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("intensity: 6", "intensity: 5"), encoding="utf-8")
    hour_ago = note.stat().st_mtime - 3600  # the vault edit is clearly the older one
    os.utime(note, (hour_ago, hour_ago))
    external_sql(
        project / "syncbridge-demo.db", "UPDATE emotion SET intensity = 8 WHERE title = 'Grief';\n"
    )
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["vault"]["conflicts"] == 1  # the vault's value lost ...
    assert "intensity: 8" in note.read_text(encoding="utf-8")

    code, out = run_cli(capsys, project, "conflicts", "list")
    assert code == 0 and "Grief.md / intensity" in out
    code, out = run_cli(capsys, project, "conflicts", "list", "--json")
    (entry,) = json.loads(out)
    assert entry["vault_value"] == 5 and entry["remote_value"] == 8
    assert entry["winner"] == "remote"

    code, out = run_cli(capsys, project, "conflicts", "show", str(entry["id"]))
    assert code == 0 and "vault:   5" in out and "kept:    5" in out

    code, out = run_cli(capsys, project, "conflicts", "restore", str(entry["id"]))
    assert code == 0 and "restored 5" in out  # ... and is kept, to be put back
    assert "intensity: 5" in note.read_text(encoding="utf-8")
    sync_json(capsys, project)
    rows = external_sql(
        project / "syncbridge-demo.db", "SELECT intensity FROM emotion WHERE title = 'Grief';\n"
    )
    assert rows == "5"
    code, out = run_cli(capsys, project, "conflicts", "list")
    assert out == "no conflicts\n"


@pytest.mark.parametrize("command", ["show", "restore"])
@pytest.mark.parametrize("number", ["99999999999999999999999", "-99999999999999999999999", "0"])
def test_a_conflict_id_no_conflict_has_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], project: Path, command: str, number: str
) -> None:
    sync_json(capsys, project)
    before = tree_digest(project)
    code = main(["conflicts", command, number, "--config", str(project / "syncbridge.toml")])
    err = capsys.readouterr().err
    assert code not in (0, 70) and "Traceback" not in err
    assert number in err and "conflicts list" in err
    assert tree_digest(project) == before


def test_status_reports_pending_changes_without_writing(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    external_sql(
        project / "syncbridge-demo.db", "UPDATE emotion SET intensity = 1 WHERE title = 'Fear';\n"
    )
    before = tree_digest(project)
    code, out = run_cli(capsys, project, "status", "--json")
    assert code == 0
    local = json.loads(out)["targets"]["local"]
    assert local["linked"] == entry_count(project)
    assert local["pending"]["vault"]["updated"] == 1
    code, out = run_cli(capsys, project, "status")
    assert "vault:  would be 1 updated" in out
    assert tree_digest(project) == before


def test_missing_vault_folder_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    shutil.rmtree(project / "vault")
    code = main(["sync", "--config", str(project / "syncbridge.toml")])
    assert code == 2
    assert "vault.path: " in capsys.readouterr().err


def test_unknown_target_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code = main(["sync", "--target", "nope", "--config", str(project / "syncbridge.toml")])
    assert code == 2
    assert "no target named 'nope' (known: local)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["sync"],
        ["status"],
        ["conflicts"],
        ["conflicts", "list"],
        ["conflicts", "show"],
        ["conflicts", "restore"],
        ["watch"],
    ],
)
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and "syncbridge " + command[0] in out


def test_console_script_runs_the_main_job(project: Path) -> None:
    """``python -m syncbridge sync`` from the config's folder, as the README does."""
    done = subprocess.run(
        [sys.executable, "-m", "syncbridge", "sync", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["targets"]["local"]["remote"]["created"] > 0
    assert done.stderr == ""  # no progress bar when stderr is not a terminal


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal() -> None:
    from syncbridge.cli.progress import ProgressBar

    quiet = io.StringIO()
    assert ProgressBar(quiet, enabled=True).callback() is None  # not a terminal
    assert ProgressBar(_Terminal(), enabled=False).callback() is None  # --json

    screen = _Terminal()
    bar = ProgressBar(screen, enabled=True, delay_s=0.0)
    draw = bar.callback()
    assert draw is not None
    draw("syncing local", 10, 10)
    assert "syncing local" in screen.getvalue() and "[" + "#" * 30 + "] 10/10" in screen.getvalue()
    bar.close()
    assert screen.getvalue().endswith("\r")


def _all_titles(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        return {title for t in tables for (title,) in conn.execute(f'SELECT title FROM "{t}"')}


def test_two_targets_with_filters_and_target_selection(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """A private value keeps notes off one target; --target syncs only the one named."""
    (project / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n'
        '[[targets]]\nname = "all"\nadapter = "sqlite"\npath = "all.db"\n\n'
        '[[targets]]\nname = "shared"\nadapter = "sqlite"\npath = "shared.db"\n'
        'exclude = ["Journal/**"]\n'
        '[targets.exclude_values]\nvisibility = ["🔒 private"]\n',
        encoding="utf-8",
    )
    data = sync_json(capsys, project, "--target", "shared")
    assert list(data["targets"]) == ["shared"]
    assert not (project / "all.db").exists()
    shared = _all_titles(project / "shared.db")
    assert "Grief" not in shared and "Abandonment Wound" not in shared  # 🔒 private
    assert "2025-07-12 Evening check-in" not in shared  # excluded folder
    assert "Fear" in shared

    data = sync_json(capsys, project)
    assert list(data["targets"]) == ["all", "shared"]
    assert data["targets"]["all"]["remote"]["created"] == entry_count(project)
    assert data["targets"]["shared"]["remote"]["created"] == 0
    assert {"Grief", "Abandonment Wound", "Fear"} <= _all_titles(project / "all.db")


def test_force_delete_lets_a_stopped_run_through(
    capsys: pytest.CaptureFixture[str], project: Path, external_sql: ExternalSQL
) -> None:
    sync_json(capsys, project)
    db = project / "syncbridge-demo.db"
    tables = external_sql(db, "SELECT table_name FROM _meta;\n").split()
    external_sql(db, "".join(f'DELETE FROM "{t}";\n' for t in tables))
    assert main(["sync", "--config", str(project / "syncbridge.toml")]) == 3
    capsys.readouterr()
    data = sync_json(capsys, project, "--force-delete")
    entries = data["targets"]["local"]["vault"]["deleted"]
    assert entries > 0 and entry_count(project) == 0
    assert len(list((project / "vault" / ".trash").rglob("*.md"))) >= entries


def test_vault_ignore_and_default_class_are_honoured(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\nignore = ["Pathways/**"]\n\n'
        '[sync]\ndefault_class = "plain"\n\n'
        '[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "syncbridge-demo.db"\n',
        encoding="utf-8",
    )
    sync_json(capsys, project)
    db = project / "syncbridge-demo.db"
    with sqlite3.connect(db) as conn:
        classes = {r[0] for r in conn.execute("SELECT class_name FROM _meta")}
    assert "plain" in classes and "note" not in classes
    assert "Earned Security" not in _all_titles(db)  # under the ignored Pathways/


def test_database_locked_by_another_program_is_a_temporary_failure(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    config = project / "syncbridge.toml"
    config.write_text(config.read_text(encoding="utf-8") + "busy_timeout_ms = 50\n", "utf-8")
    sync_json(capsys, project)
    _note(project, "Fear").write_text(
        _note(project, "Fear").read_text(encoding="utf-8").replace("intensity: ", "intensity: 1"),
        encoding="utf-8",
    )
    blocker = sqlite3.connect(project / "syncbridge-demo.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # e.g. DB Browser with unsaved changes
    try:
        code = main(["sync", "--config", str(config)])
        err = capsys.readouterr().err
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert code == 4
    assert "try again" in err and "busy" in err
    data = sync_json(capsys, project)["targets"]["local"]  # once the lock is gone
    assert data["remote"]["updated"] == 1


def test_commands_collect_garbage_less_often_and_restore_the_thresholds(
    tmp_path: Path,
) -> None:
    import gc

    from syncbridge.cli import BATCH_GC_THRESHOLDS, batch_gc

    before = gc.get_threshold()
    with batch_gc():
        assert gc.get_threshold() == BATCH_GC_THRESHOLDS
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), batch_gc():
        raise RuntimeError("a failing command")
    assert gc.get_threshold() == before
    assert main(["sync", "--config", str(tmp_path / "missing.toml")]) == 2
    assert gc.get_threshold() == before


def test_fields_past_sqlites_column_limit_stay_in_the_note(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    # SQLite allows 2,000 columns per table: a class with more fields syncs what fits, and
    # the rest stays in the notes (held nowhere else, never cleared, never an error).
    wide = project / "vault" / "Journal" / "wide.md"
    data = ("---\n" + "".join(f"k{i}: {i}\n" for i in range(2100)) + "---\nwide\n").encode()
    wide.write_bytes(data)
    first = sync_json(capsys, project)["targets"]["local"]
    assert first["errors"] == [] and first["remote"]["created"] >= 16
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        (table,) = [
            r[0]
            for r in conn.execute("SELECT table_name FROM _meta_columns WHERE field_name = 'k0'")
        ]
        columns = len(conn.execute(f'PRAGMA table_info("{table}")').fetchall())
        assert columns == conn.getlimit(sqlite3.SQLITE_LIMIT_COLUMN)
        assert conn.execute(f'SELECT k0, body FROM "{table}" WHERE k0 = 0').fetchone() == (
            0,
            "wide\n",
        )
        with conn:  # an edit of a held field flows back; the others stay as they are
            conn.execute(f'UPDATE "{table}" SET k1 = 11 WHERE k0 = 0')
    second = sync_json(capsys, project)["targets"]["local"]
    assert second["vault"]["updated"] == 1 and second["errors"] == []
    assert wide.read_bytes() == data.replace(b"\nk1: 1\n", b"\nk1: 11\n")
    third = sync_json(capsys, project)["targets"]["local"]
    assert [third[side][k] for side in ("vault", "remote") for k in ZERO] == [0] * 8


def test_a_remote_title_shaped_like_a_conflict_copy_never_makes_the_entry_look_deleted(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    # Conflict copies ("Title (conflict 2026-01-01 0000).md") are never synced; a row titled
    # like one must still be a synced note, so its file name loses the parentheses.
    sync_json(capsys, project)
    with sqlite3.connect(project / "syncbridge-demo.db") as conn, conn:
        conn.execute(
            "UPDATE emotion SET title = 'Grief (conflict 2026-01-01 0000)' WHERE title = 'Grief'"
        )
        conn.execute(
            "INSERT INTO emotion (title, body) VALUES ('Joy (conflict 2026-01-01 0000)', 'joy\n')"
        )
    first = sync_json(capsys, project)["targets"]["local"]
    assert first["vault"]["created"] == 1 and first["vault"]["updated"] == 1
    emotions = project / "vault" / "Psyche" / "Emotions"
    assert (emotions / "Grief conflict 2026-01-01 0000.md").is_file()
    assert (emotions / "Joy conflict 2026-01-01 0000.md").read_text().endswith("joy\n")
    for _ in range(2):  # neither is taken for deleted later, and nothing keeps changing
        again = sync_json(capsys, project)["targets"]["local"]
        assert [again[side][k] for side in ("vault", "remote") for k in ZERO] == [0] * 8
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        titles = {r[0] for r in conn.execute("SELECT title FROM emotion")}
    assert {"Grief (conflict 2026-01-01 0000)", "Joy (conflict 2026-01-01 0000)"} <= titles


@pytest.mark.parametrize(
    ("rel", "data"),
    [
        (".obsidian/plugins/metadata-menu/data.json", b"{bad"),
        (".obsidian/plugins/metadata-menu/data.json", b"[1, 2]"),
        (".obsidian/types.json", b'{"types": ["text"]}'),
        (".obsidian/types.json", b"\xff\xfe"),
    ],
)
def test_a_settings_file_that_cannot_be_read_stops_the_sync_before_any_write(
    capsys: pytest.CaptureFixture[str], project: Path, rel: str, data: bytes
) -> None:
    # Without Metadata Menu's settings the fileClass notes would sync as entries and folder
    # classes would be lost (then come back, deleting what they created): stop instead.
    sync_json(capsys, project)
    (project / "vault" / rel).write_bytes(data)
    before = (tree_digest(project / "vault"), db_dump(project / "syncbridge-demo.db"))
    code = main(["sync", "--config", str(project / "syncbridge.toml")])
    out = capsys.readouterr().out
    assert code == 3
    assert f"STOPPED, nothing written: {rel} cannot be read" in out and "Fix it" in out
    assert (tree_digest(project / "vault"), db_dump(project / "syncbridge-demo.db")) == before
    code = main(["doctor", str(project / "vault")])
    out = capsys.readouterr().out
    assert code == 1 and f"error: {rel}: cannot be read" in out


def test_a_deleted_database_stops_with_what_to_check_first(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    sync_json(capsys, project)
    before = tree_digest(project / "vault")
    (project / "syncbridge-demo.db").unlink()
    code = main(["sync", "--config", str(project / "syncbridge.toml")])
    out = capsys.readouterr().out
    assert code == 3 and "the remote side is empty but" in out
    assert "moved, deleted or replaced" in out and "--force-delete" in out
    assert tree_digest(project / "vault") == before  # no note went to the trash


def test_json_ok_agrees_with_the_exit_code(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """A note the sync must skip until it is fixed (broken frontmatter) makes exit code 1
    (problems): ``"ok"`` says false then, in ``sync`` and in ``doctor``; and true with 0."""
    code, out = run_cli(capsys, project, "sync", "--json")
    assert (code, json.loads(out)["ok"]) == (0, True)
    (project / "vault" / "Broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    code, out = run_cli(capsys, project, "sync", "--json")
    data = json.loads(out)
    assert data["targets"]["local"]["errors"] == []  # skipped, not an error of the run
    assert any(s["id"] == "Broken.md" for s in data["targets"]["local"]["skipped"])
    assert (code, data["ok"]) == (1, False)
    code = main(["doctor", "--json", str(project / "vault")])
    assert (code, json.loads(capsys.readouterr().out)["ok"]) == (1, False)
    (project / "vault" / "Broken.md").unlink()
    code = main(["doctor", "--json", str(project / "vault")])
    assert (code, json.loads(capsys.readouterr().out)["ok"]) == (0, True)


def _trash_and_rows(db: Path) -> list[str]:
    return [line for line in db_dump(db) if line.startswith("INSERT")]


def test_a_folder_added_to_vault_ignore_keeps_its_records(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """Ignoring a synced folder freezes its notes' records, as a target's exclude does;
    it never deletes them (5 of 22, under the mass-delete guard, used to go to the
    target's trash)."""
    sync_json(capsys, project)
    db = project / "syncbridge-demo.db"
    before, notes = _trash_and_rows(db), tree_digest(project / "vault")
    config = project / "syncbridge.toml"
    config.write_text(
        config.read_text("utf-8").replace(
            '[vault]\npath = "vault"\n', '[vault]\npath = "vault"\nignore = ["Pathways/"]\n'
        ),
        "utf-8",
    )
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["remote"]["deleted"] == 0 and data["vault"]["deleted"] == 0
    code, out = run_cli(capsys, project, "sync")
    assert code == 0 and out.count("ignored in the vault by 'Pathways/'") == 5
    assert _trash_and_rows(db) == before
    assert tree_digest(project / "vault") == notes
    config.write_text(config.read_text("utf-8").replace('ignore = ["Pathways/"]\n', ""), "utf-8")
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["remote"]["created"] == 0 and data["remote"]["deleted"] == 0
    assert data["vault"]["created"] == 0 and data["vault"]["deleted"] == 0
    assert _trash_and_rows(db) == before


def test_a_folder_replaced_by_a_symlink_keeps_its_records(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """A synced folder moved elsewhere and linked back (not followed) holds its notes:
    reported, skipped, never taken for deleted."""
    sync_json(capsys, project)
    db = project / "syncbridge-demo.db"
    before = _trash_and_rows(db)
    (project / "vault" / "Pathways").rename(project / "elsewhere")
    (project / "vault" / "Pathways").symlink_to(project / "elsewhere")
    code, out = run_cli(capsys, project, "sync")
    assert code == 1 and "Pathways/: a symbolic link" in out
    assert _trash_and_rows(db) == before
    (project / "vault" / "Pathways").unlink()
    (project / "elsewhere").rename(project / "vault" / "Pathways")
    data = sync_json(capsys, project)["targets"]["local"]
    assert data["remote"]["deleted"] == 0 and data["remote"]["created"] == 0
    assert _trash_and_rows(db) == before
