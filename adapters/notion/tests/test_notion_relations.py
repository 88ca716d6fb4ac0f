"""Relations across classes, end to end: a vault of two classes (projects and tasks) whose
File / MultiFile fields link both ways ⇄ the Notion adapter ⇄ the local Notion server,
through the real notion-client over HTTP, with a real state file.

Each link field becomes a relation to the database of the linked notes' class; a link to
a note created later in the same run is filled in by the second pass; a link to a note
that is not synced stays as written in the vault (carried in the fallback property) and
is reported by name; relations over 25 items are read completely.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from notion_adapter_support import request_counts, reset_counts, writes
from notion_vault_support import TZ, Run, _note, notes

from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter


def test_links_become_relations_to_the_linked_class_both_ways(run: Run) -> None:
    before = notes(run.root / "vault")
    report = run.sync()
    assert report["remote"]["created"] == 4
    assert notes(run.root / "vault") == before  # nothing in the vault moved
    # each link field points at the database of the class it links to, across classes
    assert run.relation_target("project", "tasks") == run.source_of("task")
    assert run.relation_target("project", "lead_task") == run.source_of("task")
    assert run.relation_target("task", "project") == run.source_of("project")
    assert run.relation_target("task", "blocked_by") == run.source_of("task")
    # both directions filled in, whichever note was created first (the second pass)
    assert run.related("Alpha", "tasks") == ["Write spec", "Ship"]
    assert run.related("Alpha", "lead_task") == ["Write spec"]
    assert run.related("Beta", "tasks") == ["Ship"]
    assert run.related("Write spec", "project") == ["Alpha"]
    assert run.related("Ship", "project") == ["Alpha"]
    assert run.related("Ship", "blocked_by") == ["Write spec"]
    # the link to a note that is not synced: intact in the vault, carried in the
    # fallback property, reported by name
    alpha = run.page("Alpha")
    carried = "".join(
        t["plain_text"] for t in alpha["properties"]["syncbridge values"]["rich_text"]
    )
    assert "[[Ghost]]" in carried
    assert any("[[Ghost]]" in p and "Alpha" in p for p in run.remote.problems), run.remote.problems
    assert not any("Write spec" in p or "[[Alpha]]" in p for p in run.remote.problems)
    # the next run: nothing to do, no write at all
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}
    assert notes(run.root / "vault") == before


def test_a_link_to_a_note_created_in_the_same_run_is_filled_in(run: Run) -> None:
    run.sync()
    alpha = run.root / "vault" / "Projects" / "Alpha.md"
    text = alpha.read_text(encoding="utf-8")
    alpha.write_text(
        text.replace('  - "[[Ghost]]"\n', '  - "[[Ghost]]"\n  - "[[Review]]"\n'), encoding="utf-8"
    )
    (run.root / "vault" / "Tasks" / "Review.md").write_text(
        _note(
            {
                "fileClass": "task",
                "project": "[[Alpha]]",
                "blocked_by": ["[[Ship]]"],
                "estimate": 1,
            },
            "Review it.\n",
        ),
        encoding="utf-8",
    )
    before = notes(run.root / "vault")
    report = run.sync()
    assert report["remote"]["created"] == 1 and report["remote"]["updated"] == 1, report
    assert run.related("Alpha", "tasks") == ["Write spec", "Ship", "Review"]
    assert run.related("Review", "project") == ["Alpha"]
    assert run.related("Review", "blocked_by") == ["Ship"]
    assert notes(run.root / "vault") == before
    reset_counts(run.server)
    again = run.sync()
    assert again["remote"]["updated"] == again["vault"]["updated"] == 0, again
    assert writes(request_counts(run.server)) == {}


def test_a_fresh_machine_pulls_every_link_back_as_written(run: Run, tmp_path: Path) -> None:
    run.sync()
    fresh = tmp_path / "fresh"
    (fresh / "vault").mkdir(parents=True)
    shutil.copytree(run.root / "vault" / ".obsidian", fresh / "vault" / ".obsidian")
    shutil.copytree(run.root / "vault" / "Classes", fresh / "vault" / "Classes")
    other = Run(fresh, run.server, run.monkeypatch)
    try:
        pulled = other.sync()
        assert pulled["vault"]["created"] == 4
        assert pulled["remote"]["created"] == pulled["remote"]["updated"] == 0
    finally:
        other.close()
    original = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    copy = VaultAdapter(Vault.open(fresh / "vault"), timezone=TZ)
    by_title = {r.title: r for r in copy.read_many(list(copy.list_ids()))}
    for rec in original.read_many(list(original.list_ids())):
        assert dict(by_title[rec.title].fields) == dict(rec.fields), rec.id


def test_a_relation_over_25_items_is_read_completely(run: Run, tmp_path: Path) -> None:
    many = [f"T{i:02d}" for i in range(30)]
    for name in many:
        (run.root / "vault" / "Tasks" / f"{name}.md").write_text(
            _note({"fileClass": "task", "project": "[[Gamma]]", "estimate": 1}, f"{name}.\n"),
            encoding="utf-8",
        )
    (run.root / "vault" / "Projects" / "Gamma.md").write_text(
        _note({"fileClass": "project", "tasks": [f"[[{n}]]" for n in many]}, "Gamma.\n"),
        encoding="utf-8",
    )
    run.sync()
    assert run.related("Gamma", "tasks") == many
    page = run.page("Gamma")
    assert page["properties"]["tasks"]["has_more"] is True  # a page object shows 25
    # a fresh machine reads the relation through the property endpoint: all 30 come back
    fresh = tmp_path / "fresh"
    (fresh / "vault").mkdir(parents=True)
    shutil.copytree(run.root / "vault" / ".obsidian", fresh / "vault" / ".obsidian")
    shutil.copytree(run.root / "vault" / "Classes", fresh / "vault" / "Classes")
    other = Run(fresh, run.server, run.monkeypatch)
    try:
        reset_counts(run.server)
        other.sync()
        counts = request_counts(run.server)
        assert counts.get("GET /v1/pages/{id}/properties/{property_id}", 0) >= 1, counts
    finally:
        other.close()
    pulled = VaultAdapter(Vault.open(fresh / "vault"), timezone=TZ)
    gamma = next(r for r in pulled.read_many(list(pulled.list_ids())) if r.title == "Gamma")
    assert gamma.fields["tasks"] == [f"[[{n}]]" for n in many]


def test_a_run_ended_before_its_second_pass_is_finished_by_the_next(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that ends after its creates but before the second pass (killed, or the
    batch's fill failed): the journal in the cache finishes it at the next run's start,
    and a page edited in Notion meanwhile is not overwritten."""
    from syncbridge_notion.relations import RelationLinks

    monkeypatch.setattr(RelationLinks, "finish_batch", lambda self: None)
    # the two tasks block each other: whichever is created first links to a page that is
    # not there yet (the engine creates a note after the notes it links to, so only links
    # that go round in a cycle wait)
    spec = run.root / "vault" / "Tasks" / "Write spec.md"
    text = spec.read_text(encoding="utf-8")
    assert "blocked_by:\n" in text
    spec.write_text(
        text.replace("blocked_by:\n", 'blocked_by:\n  - "[[Ship]]"\n'), encoding="utf-8"
    )
    run.sync()
    assert run.remote.cache.links_pending()  # links to pages created after their note

    def filled() -> bool:
        return (
            all(run.related(t, "project") == ["Alpha"] for t in ("Write spec", "Ship"))
            and run.related("Alpha", "tasks") == ["Write spec", "Ship"]
            and run.related("Write spec", "blocked_by") == ["Ship"]
            and run.related("Ship", "blocked_by") == ["Write spec"]
        )

    assert not filled()
    # meanwhile someone edits one waiting page in Notion
    waiting = [
        pid
        for pid in run.remote.cache.links_pending()
        if run.server.store.page_title(run.server.store.page(pid)) != "Alpha"
    ]
    edited = waiting[0]
    run.server.clock.advance(120)
    run.remote.api.update_page(edited, {"properties": {"estimate": {"number": 42}}})
    monkeypatch.undo()
    report = run.sync()
    assert report["vault"]["updated"] == 1  # the edit in Notion reached the note
    # filled: every waiting page but the one edited in Notion (and Alpha's Ghost link)
    alpha_id = run.page("Alpha")["id"]
    assert set(run.remote.cache.links_pending()) == {alpha_id, edited}
    assert run.related("Alpha", "tasks") == ["Write spec", "Ship"]
    edited_title = run.server.store.page_title(run.server.store.page(edited))
    assert run.page(edited_title)["properties"]["estimate"]["number"] == 42
    text = (run.root / "vault" / "Tasks" / f"{edited_title}.md").read_text(encoding="utf-8")
    assert "estimate: 42" in text
    # the edited page waited for the engine to take the edit in; the next run fills it
    reset_counts(run.server)
    run.sync()
    assert writes(request_counts(run.server)) == {"PATCH /v1/pages/{id}": 1}
    assert filled()
    assert run.page(edited_title)["properties"]["estimate"]["number"] == 42
    reset_counts(run.server)
    final = run.sync()
    assert final["vault"]["updated"] == final["remote"]["updated"] == 0, final
    assert writes(request_counts(run.server)) == {}
