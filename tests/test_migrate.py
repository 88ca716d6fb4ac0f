"""``syncbridge migrate --to TARGET`` against a real SQLite file: dry run, the migration,
its report, one bad note, the one-direction guard, and resuming after SIGKILL."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncbridge.cli import ExitCode, main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
CONFIG = (
    '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
    '[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "local.db"\n'
)
CLASSES = {"attachment_theory": 4, "emotion": 5, "healing_pathway": 5, "note": 3, "wound": 5}


def make_project(root: Path) -> Path:
    shutil.copytree(EXAMPLE, root / "vault")
    (root / "syncbridge.toml").write_text(CONFIG, encoding="utf-8")
    return root


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_project(tmp_path / "p")


def digest(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def migrate(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> tuple[int, Any]:
    code = main(
        ["migrate", "--to", "local", "--json", *extra, "--config", str(root / "syncbridge.toml")]
    )
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def rows(db: Path) -> list[tuple[str, str]]:
    """(table, the row without its engine columns) of every class table, sorted: two
    migrations of the same vault give equal lists; a duplicate shows twice."""
    out = []
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute("SELECT table_name FROM _meta").fetchall():
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur:
                rec = {k: v for k, v in zip(names, row, strict=True) if not k.startswith("_")}
                out.append((table, json.dumps(rec, sort_keys=True, ensure_ascii=False)))
    return sorted(out)


def test_dry_run_counts_per_class_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    before = digest(proj)
    code, data = migrate(capsys, proj, "--dry-run")
    assert code == ExitCode.OK
    assert data["dry_run"] is True and data["classes"] == CLASSES and data["created"] == 22
    assert data["report"] is None
    # a link to a file that is not in the vault is found before anything is sent
    assert any("inner-child-drawing.png" in w["message"] for w in data["warnings"])
    assert digest(proj) == before  # no database, no state file, no report


def test_migrate_sends_every_note_saves_a_0600_report_and_sync_continues(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    vault_before = digest(proj / "vault")
    code, data = migrate(capsys, proj)
    assert code == ExitCode.OK and data["ok"] is True
    assert data["created"] == 22 and data["classes"] == CLASSES and data["already"] == 0
    assert digest(proj / "vault") == vault_before  # the vault is only read
    assert len(rows(proj / "local.db")) == 22
    saved = Path(data["report"])
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text("utf-8")
    assert "created: 22" in text and "not transferred: 0" in text

    # again: nothing created twice
    code, again = migrate(capsys, proj)
    assert code == ExitCode.OK and again["created"] == 0 and again["already"] == 22
    assert len(rows(proj / "local.db")) == 22
    # sync continues from the links the migration recorded: nothing to do
    assert main(["sync", "--json", "--config", str(proj / "syncbridge.toml")]) == 0
    synced = json.loads(capsys.readouterr()[0])["targets"]["local"]
    assert synced["remote"]["created"] == 0 and synced["vault"]["created"] == 0
    assert synced["remote"]["updated"] == 0 and synced["vault"]["updated"] == 0


def test_one_bad_note_is_reported_and_the_rest_migrates(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    bad = proj / "vault" / "Broken.md"
    bad.write_text("---\nclass: emotion\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    code, dry = migrate(capsys, proj, "--dry-run")
    assert code == ExitCode.PROBLEMS
    assert [n["id"] for n in dry["not_transferred"]] == ["Broken.md"]
    code, data = migrate(capsys, proj)
    assert code == ExitCode.PROBLEMS and data["ok"] is False
    assert [n["id"] for n in data["not_transferred"]] == ["Broken.md"]
    assert data["not_transferred"][0]["reason"]
    assert data["created"] == 22 and len(rows(proj / "local.db")) == 22
    assert "Broken.md" in Path(data["report"]).read_text("utf-8")


def test_a_target_with_records_of_another_vault_stops_before_any_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = make_project(tmp_path / "a")
    assert migrate(capsys, first)[0] == ExitCode.OK
    other = tmp_path / "b"
    (other / "vault").mkdir(parents=True)
    (other / "vault" / "Only.md").write_text("---\nclass: note\n---\nhi\n", encoding="utf-8")
    (other / "syncbridge.toml").write_text(
        CONFIG.replace('path = "local.db"', f'path = "{first / "local.db"}"'), encoding="utf-8"
    )
    before = (digest(other / "vault"), rows(first / "local.db"))
    code = main(["migrate", "--to", "local", "--config", str(other / "syncbridge.toml")])
    _, err = capsys.readouterr()
    assert code == ExitCode.STOPPED
    assert "only sends notes" in err and "Nothing was sent" in err
    assert (digest(other / "vault"), rows(first / "local.db")) == before


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["migrate", "--help"])
    out = capsys.readouterr()[0]
    assert "--dry-run" in out and "examples:" in out and "resumes" in out


def run_cli(root: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "syncbridge",
            "migrate",
            "--to",
            "local",
            "--json",
            "--config",
            str(root / "syncbridge.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    root = make_project(tmp_path_factory.mktemp("clean"))
    done = run_cli(root, None)
    assert done.returncode == 0, done.stderr
    return rows(root / "local.db")


# write N of the 22 creates, at each of the engine's fault points
KILLS = [
    "write:1:before",
    "write:1:after",
    "write:7:committed",
    "write:12:after",
    "write:22:before",
    "write:22:after",
]


@pytest.mark.parametrize("kill_at", KILLS)
def test_sigkilled_migration_resumes_without_duplicates(
    tmp_path: Path, kill_at: str, uninterrupted: list[tuple[str, str]]
) -> None:
    root = make_project(tmp_path / "p")
    vault_before = digest(root / "vault")
    killed = run_cli(root, kill_at)
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    resumed = run_cli(root, None)
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["ok"] is True and data["created"] + data["already"] >= 22 - 1
    assert rows(root / "local.db") == uninterrupted  # same records, none twice
    assert digest(root / "vault") == vault_before
    again = json.loads(run_cli(root, None).stdout)
    assert again["created"] == 0 and again["already"] == 22


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_the_time_left_from_the_measured_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from syncbridge.cli import progress

    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    stream = _Tty()
    bar = progress.ProgressBar(stream, enabled=True, delay_s=0.0, eta=True)
    draw = bar.callback()
    assert draw is not None
    draw("syncing notion", 0, 100)
    now[0] += 10.0  # 10 items in 10 s: 90 left take 90 s
    draw("syncing notion", 10, 100)
    assert stream.getvalue().endswith("10/100 ETA 1m30s")
    now[0] += 1.0
    draw("scanning vault", 5, 50)  # a new phase measures anew
    assert stream.getvalue().endswith("5/50 ETA ?")


def test_counts_per_class_of_a_run_too_big_to_plan_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Over 200 new notes the engine plans and sends them a chunk at a time; the report
    still counts them per class."""
    root = tmp_path / "big"
    (root / "vault").mkdir(parents=True)
    for i in range(205):
        (root / "vault" / f"N{i:03d}.md").write_text(
            f"---\nid: {i}\nscore: {i}\n---\nbody {i}\n", encoding="utf-8"
        )
    (root / "syncbridge.toml").write_text(CONFIG, encoding="utf-8")
    code, data = migrate(capsys, root)
    assert code == ExitCode.OK
    assert data["created"] == 205 and sum(data["classes"].values()) == 205
    assert "(streamed)" not in data["classes"]


def test_dry_run_counts_every_problem_per_class(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    bad = proj / "vault" / "Psyche" / "Emotions" / "Broken.md"
    bad.write_text("---\nfileClass: emotion\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    code, dry = migrate(capsys, proj, "--dry-run")
    assert code == ExitCode.PROBLEMS
    per_class = dry["problems_per_class"]
    assert per_class["healing_pathway"] == {"link": 1}  # [[inner-child-drawing.png]]
    assert sum(c.get("not_transferred", 0) for c in per_class.values()) == 1
    assert all("class" in w and "kind" in w for w in dry["warnings"])
    main(["migrate", "--to", "local", "--dry-run", "--config", str(proj / "syncbridge.toml")])
    out = capsys.readouterr()[0]
    assert "problems per class:" in out and "healing_pathway: link 1" in out
