"""Fields the vault computes (Metadata Menu Formula, Lookup, Canvas) go vault → target only;
what a user types into them on the target never vanishes silently (issue 8, item 3).

Real parts: a copy of examples/vault (``weekly_minutes`` is a Formula of healing_pathway,
``backlinked_emotions`` a Lookup of wound), the CLI, a real SQLite file edited with SQL.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from syncbridge.adapter import MISSING
from syncbridge.cli import main
from syncbridge.engine import SyncOptions, list_conflicts, merge_entry
from syncbridge.engine.merge import COMPUTED
from syncbridge.state import StateStore
from tests.test_engine_merge import base, rec

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
CONFIG = (
    '[vault]\npath = "vault"\ntimezone = "UTC"\n\n[[targets]]\nname = "local"\n'
    'adapter = "sqlite"\npath = "local.db"\n'
)
SHAME = "Psyche/Wounds/Shame Wound.md"
SOMATIC = "Pathways/Somatic Grounding.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, "utf-8")
    assert main(["sync", "--config", str(tmp_path / "syncbridge.toml")]) == 0
    return tmp_path


def sync(project: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["sync", "--json", *extra, "--config", str(project / "syncbridge.toml")])
    out = capsys.readouterr().out
    assert code == 0, out
    report: dict[str, Any] = json.loads(out)["targets"]["local"]
    return report


def sql(project: Path, statement: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(project / "local.db") as conn:
        return conn.execute(statement, args).fetchall()


def conflicts(project: Path) -> list[tuple[str, Any, Any, str | None, str]]:
    with StateStore.open(project / ".syncbridge" / "state.db") as state:
        return [
            (c.field, c.vault_value, c.remote_value, c.winner, c.decided_by)
            for c in list_conflicts(state, "local")
        ]


def test_a_computed_field_edited_in_the_target_is_kept_in_the_conflict_log(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = project / "vault" / SHAME
    before = note.read_bytes()
    typed = '["[[Typed by hand]]"]'
    sql(project, "UPDATE wound SET backlinked_emotions = ? WHERE title = 'Shame Wound'", typed)
    dry = sync(project, capsys, "--dry-run")
    assert [n["field"] for n in dry["notices"]] == ["backlinked_emotions"]
    report = sync(project, capsys)
    assert report["remote"]["updated"] == 1 and report["remote"]["conflicts"] == 1, report
    (notice,) = report["notices"]
    assert notice["id"] == SHAME and "computed in the vault" in notice["message"]
    assert "[[Typed by hand]]" in notice["message"] and "conflict log" in notice["message"]
    # the vault's value is back in the row; the typed one is logged; the note is untouched
    assert sql(project, "SELECT backlinked_emotions FROM wound WHERE title = 'Shame Wound'") == [
        (None,)
    ]
    assert conflicts(project) == [
        ("backlinked_emotions", MISSING, ["[[Typed by hand]]"], "vault", COMPUTED)
    ]
    assert note.read_bytes() == before
    again = sync(project, capsys)
    assert again["remote"]["updated"] == 0 and again["notices"] == [], again
    # the CLI says it too, in words
    sql(project, "UPDATE wound SET backlinked_emotions = ? WHERE title = 'Shame Wound'", typed)
    capsys.readouterr()
    assert main(["sync", "--config", str(project / "syncbridge.toml")]) == 0
    assert f"note: {SHAME}: backlinked_emotions is computed in the vault" in capsys.readouterr().out


def test_a_row_inserted_with_a_computed_value_logs_it_and_mirrors_the_vault(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(
        project,
        "INSERT INTO healing_pathway (title, body, status, weekly_minutes)"
        " VALUES ('Walking', 'walk\n', 'x', 99)",
    )
    report = sync(project, capsys)
    assert report["vault"]["created"] == 1 and report["remote"]["conflicts"] == 1, report
    (notice,) = report["notices"]
    assert notice["field"] == "weekly_minutes" and '("Walking")' in notice["id"]
    walking = (project / "vault" / "Pathways" / "Walking.md").read_text("utf-8")
    assert "weekly_minutes" not in walking  # never written into a note
    # the target mirrors the vault (no value yet); the typed value is in the log
    assert sql(project, "SELECT weekly_minutes FROM healing_pathway WHERE title = 'Walking'") == [
        (None,)
    ]
    [(field, vault_value, remote_value, winner, how)] = conflicts(project)
    assert (field, vault_value, winner, how) == ("weekly_minutes", MISSING, "vault", COMPUTED)
    assert remote_value in (99, "99")
    again = sync(project, capsys)
    assert all(
        again[s][k] == 0
        for s in ("vault", "remote")
        for k in ("created", "updated", "deleted", "conflicts")
    ), again


def test_a_value_the_vault_recomputes_goes_out_without_a_conflict(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = project / "vault" / SOMATIC
    note.write_text(
        note.read_text("utf-8").replace("weekly_minutes: 70", "weekly_minutes: 77"), "utf-8"
    )
    report = sync(project, capsys)
    assert report["remote"]["updated"] == 1 and report["remote"]["conflicts"] == 0, report
    assert report["notices"] == [] and conflicts(project) == []
    assert sql(
        project, "SELECT weekly_minutes FROM healing_pathway WHERE title = 'Somatic Grounding'"
    ) in ([(77,)], [("77",)])


def test_merge_logs_the_typed_value_only_when_the_remote_changed_it() -> None:
    # row: a computed field: the note's value rules; what the remote typed is a conflict
    opts = SyncOptions(target="t", computed_fields={"note": ("total",)})
    a0, b0 = rec("A.md", {"total": 3}), rec("r1", {"total": 3})
    typed = merge_entry(a0, rec("r1", {"total": 99}), base(a0, b0), opts)
    assert [
        (c.field, c.vault_value, c.remote_value, c.winner, c.decided_by) for c in typed.conflicts
    ] == [("total", 3, 99, "vault", COMPUTED)]
    assert typed.b_fields["total"] == 3
    recomputed = merge_entry(rec("A.md", {"total": 4}), b0, base(a0, b0), opts)
    assert recomputed.conflicts == () and recomputed.b_fields["total"] == 4
    cleared = merge_entry(a0, rec("r1", {}), base(a0, b0), opts)
    assert cleared.conflicts == () and cleared.b_fields["total"] == 3  # nothing typed is lost
    paired = merge_entry(rec("A.md", {"total": 3}), rec("r1", {"total": 5}), None, opts)
    assert [c.decided_by for c in paired.conflicts] == [COMPUTED]  # no base: still logged
