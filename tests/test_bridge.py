"""The library entry point: ``syncbridge.open(config)`` and the README's example."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sqlite3
from pathlib import Path

import pytest

import syncbridge
from syncbridge.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The library") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_readme_library_example_runs(project: Path) -> None:
    code = _readme_example()
    assert "syncbridge.open(" in code
    cwd = os.getcwd()
    out = io.StringIO()
    os.chdir(project)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[0] == "22 0 []"  # 22 notes created in SQLite, no errors
    assert "22 unchanged" in out.getvalue()  # the dry run after it: nothing to do
    assert "22 0 0" in lines  # status: 22 linked, no conflicts, nothing pending


def test_sync_one_target_and_all(project: Path) -> None:
    with syncbridge.open(project / "syncbridge.toml") as bridge:
        report = bridge.sync("local", dry_run=True)
        assert report.dry_run and report.remote.created == 22
        assert not (project / ".syncbridge" / "state.db").exists()  # a dry run writes nothing
        reports = bridge.sync()
        assert list(reports) == ["local"] and reports["local"].remote.created == 22
        again = bridge.sync("local")
        assert again.writes == 0
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        assert conn.execute("SELECT count(*) FROM wound").fetchone()[0] == 5


def test_edit_on_remote_reaches_note_and_conflicts_listed(project: Path) -> None:
    bridge = syncbridge.open(project / "syncbridge.toml")
    bridge.sync()
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        conn.execute("UPDATE wound SET intensity = 2 WHERE title = 'Abandonment Wound'")
    status = bridge.status()["local"]
    assert status.pending.vault.updated == 1 and status.linked == 22
    assert bridge.sync("local").vault.updated == 1
    note = (project / "vault" / "Psyche" / "Wounds" / "Abandonment Wound.md").read_text()
    assert "intensity: 2" in note
    assert bridge.conflicts() == []
    bridge.close()
    bridge.close()  # idempotent


def test_safety_stop_is_in_the_report(project: Path) -> None:
    with syncbridge.open(project / "syncbridge.toml") as bridge:
        bridge.sync()
    db = project / "syncbridge-demo.db"
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '\\_%' ESCAPE '\\'"
        ).fetchall():
            conn.execute(f'DELETE FROM "{table}"')
    before = sorted(p.read_bytes() for p in (project / "vault").rglob("*.md"))
    with syncbridge.open(project / "syncbridge.toml") as bridge:
        report = bridge.sync("local")
    assert report.safety_stop and "--force-delete" in report.safety_stop
    assert sorted(p.read_bytes() for p in (project / "vault").rglob("*.md")) == before


def test_unknown_target_and_bad_config(project: Path, tmp_path: Path) -> None:
    with (
        syncbridge.open(project / "syncbridge.toml") as bridge,
        pytest.raises(ConfigError, match="no target named 'nope'"),
    ):
        bridge.sync("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("[vault]\npth = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"vault\.pth: unknown key"):
        syncbridge.open(bad)


def test_a_kept_bridge_sees_a_class_a_note_just_gained(project: Path) -> None:
    """The daemon keeps one bridge: a sync must use the schema of the vault as it is now,
    not as the previous sync left it (a new class gets its table and its row)."""
    with syncbridge.open(project / "syncbridge.toml") as bridge:
        bridge.sync()
        (project / "vault" / "Recipe.md").write_text(
            "---\nfileClass: recipe\nservings: 4\n---\nFlour, water.\n", encoding="utf-8"
        )
        report = bridge.sync("local")
        assert report.errors == [] and report.remote.created == 1
    with sqlite3.connect(project / "syncbridge-demo.db") as conn:
        assert conn.execute("SELECT servings FROM recipe").fetchall() == [(4,)]


def test_run_with_one_state_plans_then_sends_and_keeps_notes_out(project: Path) -> None:
    """The surface ``syncbridge migrate`` uses: one state scope, a dry run, then a run;
    ``keep_out`` keeps named notes out of that run only."""
    state_file = project / ".syncbridge" / "state.db"
    with syncbridge.open(project / "syncbridge.toml") as bridge:
        with bridge.state_scope(writes=False) as state:
            preview = bridge.run("local", state, dry_run=True)
            assert preview.remote.created == 22 and not state.links("local")
        assert not state_file.exists()  # a throwaway state: the dry run left no file
        kept = "Psyche/Wounds/Abandonment Wound.md"
        with bridge.state_scope(writes=True) as state:
            done = bridge.run("local", state, keep_out=[kept])
            assert done.remote.created == 21
            assert kept not in {link.vault_id for link in state.links("local").values()}
            assert bridge.run("local", state).remote.created == 1  # not kept out again
        assert state_file.exists()


def test_migrate_uses_no_private_member_of_the_bridge() -> None:
    source = (ROOT / "syncbridge" / "migrate.py").read_text(encoding="utf-8")
    assert not re.search(r"bridge\._[a-z]", source)
    for name in ("run", "state_scope"):
        assert getattr(syncbridge.Bridge, name).__doc__
