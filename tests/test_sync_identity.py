"""Which records are one entry (issue 8, items 2 and 4): re-pairing after a lost state, and
duplicate ids — one rule for ``sync`` and ``doctor``.

The pure phase (``engine.identity.pair_unlinked``) is tested on records; the promises on the
real parts: the CLI, a real vault folder and a real SQLite file edited with plain SQL.
"""

from __future__ import annotations

import doctest
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import syncbridge.engine.identity as identity
from syncbridge.adapter import Record
from syncbridge.cli import main
from syncbridge.engine import SyncOptions, plan_sync
from syncbridge.engine.identity import pair_unlinked
from syncbridge.vault.doctor import diagnose
from syncbridge.vault.vault import Vault
from tests import test_engine_plan as P

CONFIG = (
    '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\n'
    'path = "local.db"\n'
)
TWIN = "---\nstatus: same\n---\nsame body\n"
SECURE = "Psyche/Attachment/Secure Attachment.md"


def rec(
    rid: str, title: str, fields: dict[str, Any] | None = None, body: str = "b\n", cls: str = "note"
) -> Record:
    return Record(cls, fields or {}, body, id=rid, title=title)


def pairs_of(vault: list[Record], remote: list[Record]) -> set[tuple[str | None, str | None]]:
    pairing = pair_unlinked({r.id or "": r for r in vault}, {r.id or "": r for r in remote}, "id")
    return {(a.id, b.id) for a, b in pairing.pairs}


# -- the pure phase --------------------------------------------------------------------------


def test_module_example_holds() -> None:
    assert doctest.testmod(identity).failed == 0


def test_identical_notes_pair_by_their_exact_titles() -> None:
    vault = [rec("A.md", "A", {"s": 1}), rec("B.md", "B", {"s": 1})]
    remote = [rec("r1", "B", {"s": 1}), rec("r2", "A", {"s": 1})]
    assert pairs_of(vault, remote) == {("A.md", "r2"), ("B.md", "r1")}


def test_the_id_field_is_stronger_than_the_title() -> None:
    vault = [rec("A.md", "A", {"id": 1}), rec("B.md", "B", {"id": 2})]
    remote = [rec("r1", "A", {"id": 2}), rec("r2", "B", {"id": 1})]
    assert pairs_of(vault, remote) == {("A.md", "r2"), ("B.md", "r1")}


def test_records_with_different_ids_are_never_paired_by_title_or_content() -> None:
    vault = [rec("A.md", "A", {"id": 1, "s": 1})]
    remote = [rec("r1", "A", {"id": 2, "s": 1})]
    pairing = pair_unlinked({"A.md": vault[0]}, {"r1": remote[0]}, "id")
    assert pairing.pairs == () and pairing.ambiguous == ()  # two entries: both are created


def test_a_title_match_pairs_notes_whose_contents_both_changed() -> None:
    # lost state, then edits on both sides: the title is still the evidence
    vault = [rec("Grief.md", "Grief", {"s": "vault edit"}, "one\n")]
    remote = [rec("r1", "Grief", {"s": "remote edit"}, "two\n")]
    assert pairs_of(vault, remote) == {("Grief.md", "r1")}


def test_a_title_in_another_class_is_not_evidence() -> None:
    vault = [rec("Grief.md", "Grief", {"s": 1}, "one\n", cls="emotion")]
    remote = [rec("r1", "Grief", {"s": 2}, "two\n", cls="wound")]
    assert pairs_of(vault, remote) == set()


def test_content_pairs_what_titles_do_not_name() -> None:
    vault = [rec("What_Why.md", "What_Why", {"s": 1}, "x\n"), rec("Other.md", "Other", {}, "y\n")]
    remote = [rec("r1", "What/Why", {"s": 1}, "x\n")]  # the file name could not hold '/'
    assert pairs_of(vault, remote) == {("What_Why.md", "r1")}


def test_a_pair_made_by_content_leaves_a_title_group_one_to_one() -> None:
    # two "Index" notes in different folders, two "Index" rows: the title alone is
    # ambiguous; content pairs one, then the title pairs the other (edited on both sides)
    vault = [
        rec("A/Index.md", "Index", {"s": 1}, "a\n"),
        rec("B/Index.md", "Index", {"s": 2}, "b\n"),
    ]
    remote = [rec("r1", "Index", {"s": 1}, "a\n"), rec("r2", "Index", {"s": 9}, "changed\n")]
    assert pairs_of(vault, remote) == {("A/Index.md", "r1"), ("B/Index.md", "r2")}


def test_identical_records_under_other_titles_are_ambiguous_not_guessed() -> None:
    vault = [rec("A.md", "A", {"s": 1}), rec("B.md", "B", {"s": 1})]
    remote = [rec("r1", "X", {"s": 1}), rec("r2", "Y", {"s": 1})]
    pairing = pair_unlinked({r.id or "": r for r in vault}, {r.id or "": r for r in remote}, "id")
    assert pairing.pairs == ()
    (group,) = pairing.ambiguous
    assert group.vault_ids == ("A.md", "B.md") and group.remote_ids == ("r1", "r2")
    message = group.message("A.md", "vault")
    assert "B.md" in message and 'remote record r1 ("X")' in message
    assert "same content" in message and "created nothing" in message


def test_one_record_claimed_by_two_identical_notes_is_ambiguous() -> None:
    vault = [rec("A.md", "A", {"s": 1}), rec("B.md", "B", {"s": 1})]
    remote = [rec("r1", "X", {"s": 1})]
    pairing = pair_unlinked({r.id or "": r for r in vault}, {"r1": remote[0]}, "id")
    assert pairing.pairs == ()
    assert [(g.vault_ids, g.remote_ids) for g in pairing.ambiguous] == [(("A.md", "B.md"), ("r1",))]


def test_unrelated_new_records_are_neither_paired_nor_ambiguous() -> None:
    vault = [rec("A.md", "A", {"s": 1}, "a\n")]
    remote = [rec("r1", "B", {"s": 2}, "b\n"), rec("r2", "", {}, "")]
    pairing = pair_unlinked({"A.md": vault[0]}, {r.id or "": r for r in remote}, "id")
    assert pairing.pairs == () and pairing.ambiguous == ()


# -- the planner: duplicate ids -------------------------------------------------------------


def test_plan_skips_every_note_sharing_an_id_linked_or_not() -> None:
    a0, b0 = P.rec("A.md", "a1", id=5, s="x"), P.rec("r1", "b1", id=5, s="x")
    copy = P.rec("Copy.md", "c1", id=5, s="x")
    plan = plan_sync(
        [P.ref(a0), copy],
        [P.ref(b0)],
        P.base_of(P.linked(a0, b0, key="5")),
        SyncOptions(target="t"),
    )
    skips = {a.label: a for a in plan.actions}
    assert set(skips) == {"A.md", "Copy.md"} and plan.writes() == []
    assert all(a.kind == "skip" and a.blocking for a in skips.values())
    assert skips["A.md"].link is not None  # frozen, not forgotten
    assert "also used by Copy.md" in skips["A.md"].why


def test_plan_never_creates_a_record_carrying_the_id_of_a_linked_entry() -> None:
    # the row linked to A.md now has id 7; a new row took id 5, which A.md still holds:
    # creating it would put id 5 on two notes
    a0, b0 = P.rec("A.md", "a1", id=5), P.rec("r1", "b1", id=5)
    b = P.rec("r1", "b2", id=7)
    stray = P.rec("r2", "b9", id=5, s="new")
    plan = plan_sync(
        [a0], [b, stray], P.base_of(P.linked(a0, b0, key="5")), SyncOptions(target="t")
    )
    (skip,) = [a for a in plan.actions if a.kind == "skip"]
    assert skip.remote is stray and skip.blocking and "also used by A.md" in skip.why
    assert not [w for w in plan.writes() if w.op == "create"]


# -- the promises, on the real parts ---------------------------------------------------------


def sync(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["sync", "--json", "--config", str(project / "syncbridge.toml")])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)["targets"]["local"]
    return code, report


def rows(project: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "local.db") as conn:
        return conn.execute(f'SELECT title, body FROM "{table}" ORDER BY title').fetchall()


def notes(project: Path) -> list[str]:
    return sorted(
        p.relative_to(project / "vault").as_posix() for p in (project / "vault").rglob("*.md")
    )


@pytest.fixture
def twins(tmp_path: Path) -> Path:
    """The issue's project: two identical notes A and B, synced once into SQLite."""
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / "A.md").write_text(TWIN, "utf-8")
    (tmp_path / "vault" / "B.md").write_text(TWIN, "utf-8")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, "utf-8")
    assert main(["sync", "--config", str(tmp_path / "syncbridge.toml")]) == 0
    return tmp_path


def test_identical_notes_are_paired_again_when_the_state_is_lost(
    twins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    shutil.rmtree(twins / ".syncbridge")  # a new machine, a deleted state folder
    code, report = sync(twins, capsys)
    assert code == 0, report
    assert report["vault"]["created"] == report["remote"]["created"] == 0, report
    assert notes(twins) == ["A.md", "B.md"]
    assert rows(twins, "note") == [("A", "same body\n"), ("B", "same body\n")]
    code, again = sync(twins, capsys)
    assert code == 0 and all(
        again[s][k] == 0 for s in ("vault", "remote") for k in ("created", "updated", "deleted")
    ), again


def test_truly_ambiguous_notes_are_reported_and_never_duplicated(
    twins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(twins / "local.db") as conn:  # retitled in the database
        conn.execute("UPDATE note SET title = 'X' WHERE title = 'A'")
        conn.execute("UPDATE note SET title = 'Y' WHERE title = 'B'")
    shutil.rmtree(twins / ".syncbridge")
    capsys.readouterr()
    code, report = sync(twins, capsys)
    assert code == 1, report  # something for the user to resolve
    assert report["vault"]["created"] == report["remote"]["created"] == 0, report
    assert notes(twins) == ["A.md", "B.md"]
    assert [r[0] for r in rows(twins, "note")] == ["X", "Y"]
    skipped = {s["id"]: s for s in report["skipped"]}
    assert len(skipped) == 4 and all(s["blocking"] for s in skipped.values()), skipped
    assert "B.md" in skipped["A.md"]["message"] and '("Y")' in skipped["A.md"]["message"]
    # resolved by the user (the titles agree again): paired, still nothing duplicated
    with sqlite3.connect(twins / "local.db") as conn:
        conn.execute("UPDATE note SET title = 'A' WHERE title = 'X'")
    code, report = sync(twins, capsys)
    assert code == 0, report
    assert report["vault"]["created"] == report["remote"]["created"] == 0, report
    assert notes(twins) == ["A.md", "B.md"] and len(rows(twins, "note")) == 2


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "examples" / "vault", tmp_path / "vault"
    )
    (tmp_path / "syncbridge.toml").write_text(CONFIG, "utf-8")
    return tmp_path


def doctor_messages(vault: Path) -> dict[str, str]:
    report = diagnose(Vault.open(vault), check_edits=False)
    return {f.path: f.message for f in report.findings if f.kind == "duplicate-id"}


def test_notes_sharing_an_id_are_skipped_by_sync_as_doctor_says(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One rule from both commands: doctor's findings are sync's skips, word for word."""
    vault = example / "vault"
    shutil.copy(vault / SECURE, vault / "Psyche/Twin.md")  # a copy keeps the id
    said = doctor_messages(vault)
    assert set(said) == {SECURE, "Psyche/Twin.md"}
    assert "also used by Psyche/Twin.md" in said[SECURE]
    capsys.readouterr()
    assert main(["doctor", str(vault)]) == 1  # the command says the same as the library
    printed = capsys.readouterr().out
    assert all(f"error: {path}: {message}" in printed for path, message in said.items())
    code, report = sync(example, capsys)
    assert code == 1, report
    skipped = {s["id"]: s["message"] for s in report["skipped"]}
    assert skipped == said
    with sqlite3.connect(example / "local.db") as conn:
        titles = [t for (t,) in conn.execute("SELECT title FROM attachment_theory")]
    assert "Secure Attachment" not in titles and "Twin" not in titles
    # fixed (the copy deleted): both sync from then on
    (vault / "Psyche/Twin.md").unlink()
    code, report = sync(example, capsys)
    assert code == 0 and report["remote"]["created"] == 1, report


def test_a_linked_note_copied_with_its_id_freezes_both_until_fixed(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = example / "vault"
    assert sync(example, capsys)[0] == 0
    shutil.copy(vault / SECURE, vault / "Psyche/Twin.md")
    with sqlite3.connect(example / "local.db") as conn:  # an edit waiting on the remote
        conn.execute(
            "UPDATE attachment_theory SET status = 'edited' WHERE title = ?", ("Secure Attachment",)
        )
    code, report = sync(example, capsys)
    assert code == 1
    assert {s["id"] for s in report["skipped"]} == {SECURE, "Psyche/Twin.md"}
    assert report["remote"]["created"] == 0  # the copy is not a second row
    assert "status: edited" not in (vault / SECURE).read_text("utf-8")  # frozen, not lost
    (vault / "Psyche/Twin.md").unlink()
    code, report = sync(example, capsys)
    assert code == 0, report
    assert "status: edited" in (vault / SECURE).read_text("utf-8")  # the edit arrives


def test_a_row_inserted_with_an_existing_id_creates_no_second_note(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(example, capsys)[0] == 0
    with sqlite3.connect(example / "local.db") as conn:
        (the_id,) = conn.execute(
            "SELECT id FROM attachment_theory WHERE title = 'Secure Attachment'"
        ).fetchone()
        conn.execute(
            "INSERT INTO attachment_theory (title, id, body) VALUES ('Impostor', ?, 'x')", (the_id,)
        )
    before = notes(example)
    code, report = sync(example, capsys)
    assert code == 1, report
    assert notes(example) == before and report["vault"]["created"] == 0, report
    messages = [s["message"] for s in report["skipped"]]
    assert len(messages) == 2 and all(f"id {the_id} is also used by" in m for m in messages)
    assert any('"Impostor"' in m for m in messages)
    assert any(f"linked to {SECURE}" in m for m in messages)
    with sqlite3.connect(example / "local.db") as conn:
        conn.execute("DELETE FROM attachment_theory WHERE title = 'Impostor'")
    code, report = sync(example, capsys)
    assert code == 0 and report["skipped"] == [], report
    assert notes(example) == before


def _reuse_project(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    for n, word in ((1, "one"), (2, "two"), (3, "three")):
        (vault / f"N{n}.md").write_text(f"---\nid: {n}\nstatus: {word}\n---\nbody {word}\n")
    (tmp_path / "c.toml").write_text(
        '[vault]\npath = "vault"\n[[targets]]\nname = "l"\nadapter = "sqlite"\npath = "x.db"\n'
    )
    return tmp_path


def _sync_reuse(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["sync", "--json", "--config", str(root / "c.toml")])
    out = capsys.readouterr().out
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)["targets"]["l"]
    return data


def _rows(root: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(root / "x.db") as conn:
        rows = conn.execute("SELECT id, title, status FROM note ORDER BY id").fetchall()
    conn.close()
    return [(str(i), str(t), str(s)) for i, t, s in rows]


@pytest.mark.parametrize("remote_edit", [True, False])
def test_a_path_taken_by_another_entry_deletes_the_old_one_and_renames_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], remote_edit: bool
) -> None:
    """N1 (id 1) deleted and N2 (id 2) renamed to N1.md: id 1's record goes to the trash,
    id 2's follows its note (rename by id) with the remote edit merged; one record per id
    (the row of id 1 used to be overwritten with id 2, and N2 made again as a new note)."""
    root = _reuse_project(tmp_path)
    _sync_reuse(root, capsys)
    if remote_edit:
        with sqlite3.connect(root / "x.db") as conn:
            conn.execute("UPDATE note SET status = 'two, edited' WHERE id = '2'")
        conn.close()
    (root / "vault" / "N1.md").unlink()
    (root / "vault" / "N2.md").rename(root / "vault" / "N1.md")
    data = _sync_reuse(root, capsys)
    assert data["remote"]["deleted"] == 1 and data["remote"]["created"] == 0
    status = "two, edited" if remote_edit else "two"
    assert _rows(root) == [("2", "N1", status), ("3", "N3", "three")]
    with sqlite3.connect(root / "x.db") as conn:
        (trashed,) = conn.execute("SELECT count(*) FROM _trash").fetchone()
    conn.close()
    assert trashed == 1
    assert sorted(p.name for p in (root / "vault").glob("*.md")) == ["N1.md", "N3.md"]
    assert f"status: {status}\n" in (root / "vault" / "N1.md").read_text()
    again = _sync_reuse(root, capsys)
    assert again["remote"] == again["remote"] | {"created": 0, "updated": 0, "deleted": 0}
    assert again["vault"] == again["vault"] | {"created": 0, "updated": 0, "deleted": 0}


def test_two_notes_swapping_names_keep_their_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _reuse_project(tmp_path)
    _sync_reuse(root, capsys)
    vault = root / "vault"
    (vault / "N1.md").rename(vault / "tmp.md")
    (vault / "N2.md").rename(vault / "N1.md")
    (vault / "tmp.md").rename(vault / "N2.md")
    data = _sync_reuse(root, capsys)
    assert data["remote"]["deleted"] == data["remote"]["created"] == 0
    assert _rows(root) == [("1", "N2", "one"), ("2", "N1", "two"), ("3", "N3", "three")]
    again = _sync_reuse(root, capsys)
    assert again["remote"] == again["remote"] | {"created": 0, "updated": 0, "deleted": 0}


def test_a_note_whose_id_is_edited_stays_the_same_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No other entry holds the new id: the same entry, its record kept (not trashed)."""
    root = _reuse_project(tmp_path)
    _sync_reuse(root, capsys)
    note = root / "vault" / "N1.md"
    note.write_text(note.read_text().replace("id: 1\n", "id: 7\n"))
    data = _sync_reuse(root, capsys)
    assert data["remote"]["deleted"] == 0 and data["remote"]["created"] == 0
    assert ("7", "N1", "one") in _rows(root)
