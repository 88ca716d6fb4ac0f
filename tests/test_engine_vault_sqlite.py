"""The engine over the real parts: the example vault (VaultAdapter) ↔ the SQLite adapter.

Real files in a tmp copy of ``examples/vault``, a real SQLite database edited with the
``sqlite3`` command-line tool, a real state file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from syncbridge.adapter import Adapter
from syncbridge.engine import SyncOptions, execute, list_conflicts, run_sync
from syncbridge.registry import load_adapter
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
TZ = "Europe/Paris"
SHAME = "Psyche/Wounds/Shame Wound.md"


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(EXAMPLE, root / "vault")
        self.vault = VaultAdapter(Vault.open(root / "vault"), timezone=TZ)
        sqlite_cls = load_adapter("sqlite")
        self.remote: Adapter = sqlite_cls(sqlite_cls.config_model(path="demo.db"), base_dir=root)
        self.state = StateStore.open(root / ".syncbridge" / "state.db")

    def sync(self, **kw: Any) -> dict[str, Any]:
        options = SyncOptions(target="local", timezone=TZ, **kw)
        report = run_sync(
            self.vault, self.remote, self.state, options, schema=self.vault.vault.schema
        )
        assert report.errors == [], report.errors
        return report.to_dict()

    def sql(self, statement: str) -> None:
        """Edit the database as a user would, with the sqlite3 command-line tool."""
        if shutil.which("sqlite3"):
            subprocess.run(["sqlite3", str(self.root / "demo.db"), statement], check=True)
        else:  # the same SQL through the stdlib driver
            with sqlite3.connect(self.root / "demo.db") as conn:
                conn.execute(statement)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    yield s
    s.state.close()
    s.remote.close()


def notes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def test_initial_sync_then_no_changes(setup: Setup) -> None:
    before = notes(setup.root / "vault")
    first = setup.sync()
    assert first["remote"]["created"] == first["vault"]["unchanged"] > 10
    assert first["vault"]["created"] == first["vault"]["updated"] == 0
    assert notes(setup.root / "vault") == before  # nothing in the vault was rewritten
    second = setup.sync()
    assert all(second[s][k] == 0 for s in ("vault", "remote") for k in ("created", "updated"))
    assert second["remote"]["unchanged"] == first["remote"]["created"]


def test_row_edited_with_sqlite3_flows_back_as_a_minimal_edit(setup: Setup) -> None:
    setup.sync()
    before = (setup.root / "vault" / SHAME).read_text("utf-8").splitlines()
    setup.sql("UPDATE wound SET status = '🟨 in progress' WHERE title = 'Shame Wound'")
    report = setup.sync()
    assert report["vault"]["updated"] == 1
    after = (setup.root / "vault" / SHAME).read_text("utf-8").splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if a != b]
    assert [a.split(":")[0] for _, a in changed] == ["last_modified", "status"]
    assert "status: 🟨 in progress" in after
    # the stamp is written in the note's own format (minutes, local time, a space)
    stamp = next(a for _, a in changed if a.startswith("last_modified"))
    assert len(stamp) == len("last_modified: 2025-08-01 19:50") and "T" not in stamp
    quiet = setup.sync()
    assert quiet["vault"]["updated"] == quiet["remote"]["updated"] == 0


def _edit_shame(setup: Setup) -> None:
    path = setup.root / "vault" / SHAME
    path.write_text(
        path.read_text("utf-8").replace("priority: 🟡 Medium", "priority: 🔴 High"), "utf-8"
    )


def test_a_remote_that_ignores_note_paths_is_not_given_them(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite keeps Adapter.note_paths' default (it writes no links into bodies): building
    # the map, a query of every link and a dict of them, would be wasted in every pass
    setup.sync()

    def refuse(state: StateStore, target: str) -> dict[str, str]:
        raise AssertionError("the linked notes' paths were built for a remote that ignores them")

    monkeypatch.setattr(execute, "_linked_note_paths", refuse)
    _edit_shame(setup)
    assert setup.sync()["remote"]["updated"] == 1


def test_a_remote_that_overrides_note_paths_is_told_every_linked_note(setup: Setup) -> None:
    told: list[dict[str, str]] = []
    sqlite_cls = load_adapter("sqlite")

    class PathsTold(sqlite_cls):  # type: ignore[misc,valid-type]
        def note_paths(self, paths: Mapping[str, str]) -> None:
            told.append(dict(paths))

    setup.remote.close()
    setup.remote = PathsTold(sqlite_cls.config_model(path="demo.db"), base_dir=setup.root)
    setup.sync()
    assert told and told[0] == {}  # before the first run nothing is linked
    _edit_shame(setup)
    setup.sync()
    linked = {k.remote_id: k.vault_id for k in setup.state.links("local").values()}
    assert len(linked) > 10 and told[-1] == linked
    assert linked[setup.remote.lookup("title", ["Shame Wound"])["Shame Wound"][0]] == SHAME


def test_note_edit_flows_to_the_row(setup: Setup) -> None:
    setup.sync()
    path = setup.root / "vault" / SHAME
    path.write_text(
        path.read_text("utf-8").replace("priority: 🟡 Medium", "priority: 🔴 High"), "utf-8"
    )
    report = setup.sync()
    assert report["remote"]["updated"] == 1 and report["vault"]["updated"] == 0
    with sqlite3.connect(setup.root / "demo.db") as conn:
        (priority,) = conn.execute(
            "SELECT priority FROM wound WHERE title = 'Shame Wound'"
        ).fetchone()
    assert priority == "🔴 High"


def test_bases_carry_the_versions_both_sides_list_after_creates_and_updates(
    setup: Setup,
) -> None:
    """The read-back check compares a write's version with the record read back: for the
    real adapters they agree, so written entries stay on the fast path (not read next run)."""
    setup.sync()
    path = setup.root / "vault" / SHAME
    path.write_text(
        path.read_text("utf-8").replace("priority: 🟡 Medium", "priority: 🔴 High"), "utf-8"
    )
    setup.sql("UPDATE wound SET intensity = 2 WHERE title = 'Abandonment Wound'")
    setup.sync()
    vault_versions = {r.id: r.version for r in setup.vault.list()}
    remote_versions = {r.id: r.version for r in setup.remote.list()}
    links = list(setup.state.links("local").values())
    assert len(links) == len(remote_versions) > 10
    for link in links:
        assert (link.vault_version, link.remote_version) == (
            vault_versions[link.vault_id],
            remote_versions[link.remote_id],
        ), link.vault_id


def test_conflict_between_note_and_row_keeps_the_loser(setup: Setup) -> None:
    setup.sync()
    path = setup.root / "vault" / SHAME
    text = path.read_text("utf-8")
    path.write_text(text.replace("priority: 🟡 Medium", "priority: 🔴 High"), "utf-8")
    setup.sql("UPDATE wound SET priority = '🟢 Low' WHERE title = 'Shame Wound'")
    report = setup.sync(conflict="vault_wins")
    assert report["remote"]["conflicts"] == 1
    (c,) = list_conflicts(setup.state, "local")
    assert (c.field, c.vault_value, c.remote_value, c.winner) == (
        "priority",
        "🔴 High",
        "🟢 Low",
        "vault",
    )


def test_body_conflict_writes_a_conflict_copy_that_is_never_synced(setup: Setup) -> None:
    setup.sync()
    path = setup.root / "vault" / SHAME
    text = path.read_text("utf-8")
    head, sep, _old_body = text.partition("\n---\n")
    path.write_text(head + sep + "Vault rewrote the body.\n", "utf-8")
    setup.sql(
        "UPDATE wound SET body = 'Row rewrote the body.' || char(10) WHERE title = 'Shame Wound'"
    )
    report = setup.sync(conflict="remote_wins")
    assert report["vault"]["conflicts"] >= 1
    copies = sorted(
        (setup.root / "vault" / "Psyche" / "Wounds").glob("Shame Wound (conflict *).md")
    )
    assert len(copies) == 1
    assert "Vault rewrote the body." in copies[0].read_text("utf-8")
    assert path.read_text("utf-8").endswith("Row rewrote the body.\n")
    (c,) = [c for c in list_conflicts(setup.state, "local") if c.field == "body"]
    assert c.copy_id is not None and c.copy_id.endswith(copies[0].name)
    quiet = setup.sync()
    assert quiet["remote"]["created"] == 0  # the copy is not an entry
    with sqlite3.connect(setup.root / "demo.db") as conn:
        (n,) = conn.execute("SELECT count(*) FROM wound WHERE title LIKE '%conflict%'").fetchone()
    assert n == 0


def test_a_conflict_copy_kept_by_renaming_it_is_a_note_of_its_own(setup: Setup) -> None:
    """The copy does not carry the note's id: renamed to keep it, it is a new entry, not
    a second holder of the id (which froze both notes as duplicates)."""
    setup.sync()
    path = setup.root / "vault" / SHAME
    head, sep, _old_body = path.read_text("utf-8").partition("\n---\n")
    path.write_text(head + sep + "Vault rewrote the body.\n", "utf-8")
    setup.sql(
        "UPDATE wound SET body = 'Row rewrote the body.' || char(10) WHERE title = 'Shame Wound'"
    )
    setup.sync(conflict="remote_wins")
    (copy,) = (setup.root / "vault" / "Psyche" / "Wounds").glob("Shame Wound (conflict *).md")
    text = copy.read_text("utf-8")
    assert "\nid: " not in text and "title: Shame Wound" in text
    assert "\nid: 1752069904121\n" in path.read_text("utf-8")
    copy.rename(copy.with_name("Shame Wound, my version.md"))
    report = setup.sync()
    assert report["remote"]["created"] == 1 and not report["skipped"], report
    with sqlite3.connect(setup.root / "demo.db") as conn:
        titles = sorted(
            t for (t,) in conn.execute("SELECT title FROM wound WHERE title LIKE 'Shame%'")
        )
    assert titles == ["Shame Wound", "Shame Wound, my version"]
    quiet = setup.sync()
    assert quiet["remote"]["created"] == quiet["vault"]["updated"] == 0 and not quiet["skipped"]


def test_note_changing_class_moves_its_row(setup: Setup) -> None:
    setup.sync()
    path = setup.root / "vault" / SHAME
    path.write_text(path.read_text("utf-8").replace("fileClass: [wound]", "fileClass: [emotion]"))
    report = setup.sync()
    assert report["remote"]["updated"] == 1 and report["remote"]["created"] == 0
    with sqlite3.connect(setup.root / "demo.db") as conn:
        in_wound = conn.execute("SELECT count(*) FROM wound WHERE title='Shame Wound'").fetchone()
        in_emotion = conn.execute(
            "SELECT count(*) FROM emotion WHERE title='Shame Wound'"
        ).fetchone()
    assert (in_wound[0], in_emotion[0]) == (0, 1)
    quiet = setup.sync()
    assert quiet["remote"]["updated"] == quiet["vault"]["updated"] == 0
