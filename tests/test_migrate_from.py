"""``syncbridge migrate --from TARGET --into VAULT`` against a real SQLite file: the example
vault there and back (values, bodies, fileClass notes, field order), into an existing
vault (nothing of the user's replaced or sent), the one-direction guard, the dry run's
problems, class folders, hostile titles, and resuming after SIGKILL."""

from __future__ import annotations

import hashlib
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
from syncbridge.schema.build import read_fileclass_frontmatter
from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vault"
CONFIG = (
    '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
    '[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "local.db"\n'
)
CLASSES = {"attachment_theory": 4, "emotion": 5, "healing_pathway": 5, "note": 3, "wound": 5}


def make_project(root: Path, config: str = CONFIG) -> Path:
    shutil.copytree(EXAMPLE, root / "vault")
    (root / "syncbridge.toml").write_text(config, encoding="utf-8")
    return root


def cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, Any]:
    code = main(["migrate", *args, "--json", "--config", str(root / "syncbridge.toml")])
    out, _ = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None


def to_target(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, data = cli(capsys, root, "--to", "local")
    assert code == ExitCode.OK, data


def back(
    capsys: pytest.CaptureFixture[str], root: Path, into: Path, *extra: str
) -> tuple[int, Any]:
    return cli(capsys, root, "--from", "local", "--into", str(into), *extra)


def entries(folder: Path) -> dict[str, tuple[dict[str, Any], str, str]]:
    """Title → (canonical fields, body, class) of every entry, as the vault adapter reads
    them."""
    adapter = VaultAdapter(Vault.open(folder), timezone="UTC")
    out = {}
    for ref in adapter.list():
        record = adapter.read(ref.id)
        assert record.title not in out, record.title
        out[record.title or ""] = (dict(record.fields), record.body, record.class_name)
    return out


def digest(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".syncbridge" not in p.parts
    }


def rows(db: Path) -> list[str]:
    out = []
    with sqlite3.connect(db) as conn:
        for (table,) in conn.execute("SELECT table_name FROM _meta").fetchall():
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            out.extend(json.dumps(dict(zip(names, r, strict=True)), sort_keys=True) for r in cur)
    return sorted(out)


@pytest.fixture
def proj(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = make_project(tmp_path / "p")
    to_target(capsys, root)
    return root


def test_there_and_back_into_an_empty_vault_keeps_every_value_and_body(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    into = proj / "copy"
    code, data = back(capsys, proj, into)
    assert code == ExitCode.OK, data
    assert data["direction"] == "from" and data["created"] == 22 and data["classes"] == CLASSES
    original, copy = entries(proj / "vault"), entries(into)
    assert copy.keys() == original.keys()
    for title, (fields, body, cls) in original.items():
        got = dict(copy[title][0])
        if "fileClass" not in fields:  # classed by its folder there: by its key here
            assert got.pop("fileClass", cls) == cls
        assert got == fields, title
        assert copy[title][1:] == (body, cls), title  # the body byte for byte
    # fileClass notes for the target's classes (the new vault had none), read by the schema
    assert sorted(data["fileclasses"]) == [
        f"Classes/{c}.md" for c in sorted(CLASSES) if c != "note"
    ]
    wound = read_fileclass_frontmatter(into / "Classes" / "wound.md")
    assert wound is not None
    names = [f["name"] for f in wound["fields"]]
    assert names[:3] == ["created", "last_modified", "title"]
    assert Vault.open(into).schema.classes["wound"].source == "metadata-menu"
    # frontmatter in the class's field order, the class key first, Obsidian's list style
    text = (into / "Abandonment Wound.md").read_text("utf-8")
    keys = [
        line.split(":")[0]
        for line in text.split("---")[1].splitlines()
        if line and not line.startswith(" ")
    ]
    assert keys[0] == "fileClass"
    defined = [k for k in keys if k in names]
    assert defined == [n for n in names if n in defined]
    assert '  - "[[Earned Security]]"' in text
    saved = Path(data["report"])
    assert saved.parent == into / ".syncbridge" and stat.S_IMODE(saved.stat().st_mode) == 0o600
    # the config's own vault and state are untouched by a migration into another vault
    code, again = back(capsys, proj, into)
    assert code == ExitCode.OK and again["created"] == 0 and again["already"] == 22
    assert len(list(into.glob("*.md"))) == 22


def test_into_an_existing_vault_replaces_and_sends_nothing_of_the_users(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    into = proj / "mine"
    into.mkdir()
    (into / "Grief.md").write_text("my own grief note\n", encoding="utf-8")
    (into / "Ideas.md").write_text("---\nstatus: draft\n---\nideas\n", encoding="utf-8")
    before_rows = rows(proj / "local.db")
    code, data = back(capsys, proj, into)
    assert code == ExitCode.OK, data
    assert data["created"] == 22 and data["kept_out"] == 2
    assert (into / "Grief.md").read_text("utf-8") == "my own grief note\n"
    assert (into / "Ideas.md").read_text("utf-8") == "---\nstatus: draft\n---\nideas\n"
    assert "fileClass: emotion" in (into / "Grief 2.md").read_text("utf-8")
    assert any(w["kind"] == "name" and w["id"] == "Grief 2.md" for w in data["warnings"])
    assert rows(proj / "local.db") == before_rows  # the target is only read


def test_a_record_that_would_change_an_existing_note_stops_before_any_write(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    into = proj / "mine"
    into.mkdir()
    # the same entry (same id) with another value: pairing it would rewrite the user's note
    (into / "Grief.md").write_text(
        "---\nid: 1752583140660\nfileClass: emotion\nintensity: 2\n---\nmine\n", encoding="utf-8"
    )
    before = digest(into)
    before_rows = rows(proj / "local.db")
    code = main(
        [
            "migrate",
            "--from",
            "local",
            "--into",
            str(into),
            "--config",
            str(proj / "syncbridge.toml"),
        ]
    )
    _, err = capsys.readouterr()
    assert code == ExitCode.STOPPED
    assert "only creates notes" in err and "Grief.md" in err and "Nothing was written" in err
    assert {k for k in digest(into) if not k.startswith(("Classes/", ".obsidian/"))} == set(before)
    assert (into / "Grief.md").read_bytes() == before["Grief.md"]
    assert rows(proj / "local.db") == before_rows


def test_dry_run_lists_names_that_collide_and_links_to_no_note_writing_nothing(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    with sqlite3.connect(proj / "local.db") as conn:  # two rows whose titles make one name
        conn.execute("UPDATE emotion SET title = 'Fear: the old one' WHERE title = 'Fear'")
        conn.execute("UPDATE emotion SET title = 'Fear  the old one' WHERE title = 'Anger'")
    into = proj / "new"
    code, data = back(capsys, proj, into, "--dry-run")
    assert code == ExitCode.OK, data
    assert not into.exists()  # not even the folder
    assert data["dry_run"] is True and data["created"] == 22 and data["classes"] == CLASSES
    names = {w["id"]: w["message"] for w in data["warnings"] if w["kind"] == "name"}
    assert "cannot" in names["Fear the old one.md"]
    assert "Fear the old one 2.md" in names
    links = [w for w in data["warnings"] if w["kind"] == "link"]
    assert any("[[Fear]]" in w["message"] for w in links)  # the note is named otherwise now
    assert data["problems_per_class"]["emotion"]["name"] == 2
    assert data["problems_per_class"]["wound"]["link"] >= 1
    text_code = main(
        [
            "migrate",
            "--from",
            "local",
            "--into",
            str(into),
            "--dry-run",
            "--config",
            str(proj / "syncbridge.toml"),
        ]
    )
    out = capsys.readouterr()[0]
    assert text_code == ExitCode.OK and "problems per class:" in out and "emotion: " in out


def test_class_folders_and_hostile_titles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = make_project(
        tmp_path / "p",
        CONFIG.replace(
            'timezone = "UTC"\n', 'timezone = "UTC"\nclass_folders = { wound = "Psyche/Wounds" }\n'
        ),
    )
    to_target(capsys, root)
    with sqlite3.connect(root / "local.db") as conn:
        conn.execute("UPDATE emotion SET title = '../../escape' WHERE title = 'Fear'")
        conn.execute("UPDATE emotion SET title = 'CON' WHERE title = 'Anger'")
    into = tmp_path / "out"
    code, data = back(capsys, root, into)
    assert code == ExitCode.OK, data
    assert sorted(p.name for p in (into / "Psyche" / "Wounds").iterdir()) == [
        "Abandonment Wound.md",
        "Betrayal Wound.md",
        "Engulfment Wound.md",
        "Rejection Wound.md",
        "Shame Wound.md",
    ]
    assert (into / "escape.md").is_file() and (into / "CON_.md").is_file()
    assert not (tmp_path / "escape.md").exists()


def run_cli(root: Path, into: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "syncbridge",
            "migrate",
            "--from",
            "local",
            "--into",
            str(into),
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


@pytest.mark.parametrize("kill_at", ["write:1:after", "write:11:before", "write:22:after"])
def test_sigkilled_migration_into_a_vault_resumes_without_a_duplicate_note(
    capsys: pytest.CaptureFixture[str], proj: Path, kill_at: str
) -> None:
    clean = proj / "clean"
    assert run_cli(proj, clean, None).returncode == 0
    into = proj / "killed"
    killed = run_cli(proj, into, kill_at)
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    resumed = run_cli(proj, into, None)
    assert resumed.returncode == 0, resumed.stderr
    assert digest(into) == digest(clean)  # the same notes, byte for byte, none twice
    again = json.loads(run_cli(proj, into, None).stdout)
    assert again["created"] == 0 and again["already"] == 22


def test_usage_errors(capsys: pytest.CaptureFixture[str], proj: Path) -> None:
    assert (
        main(["migrate", "--from", "local", "--config", str(proj / "syncbridge.toml")])
        == ExitCode.USAGE
    )
    assert "--into" in capsys.readouterr()[1]
    code = main(
        [
            "migrate",
            "--to",
            "local",
            "--from",
            "local",
            "--into",
            "x",
            "--config",
            str(proj / "syncbridge.toml"),
        ]
    )
    assert code == ExitCode.USAGE
    (proj / "afile").write_text("x", encoding="utf-8")
    assert (
        main(
            [
                "migrate",
                "--from",
                "local",
                "--into",
                str(proj / "afile"),
                "--config",
                str(proj / "syncbridge.toml"),
            ]
        )
        == ExitCode.USAGE
    )
    assert "is a file" in capsys.readouterr()[1]


def test_into_the_configs_own_vault_uses_its_state_and_finds_everything_there(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    before = digest(proj / "vault")
    code, data = back(capsys, proj, proj / "vault")
    assert code == ExitCode.OK, data
    assert data["created"] == 0 and data["already"] == 22 and not data["fileclasses"]
    assert digest(proj / "vault") == before


def test_a_class_the_existing_vault_lacks_gets_its_fileclass_note(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    into = proj / "mine"
    shutil.copytree(EXAMPLE / ".obsidian", into / ".obsidian")
    (into / "Classes").mkdir()
    shutil.copy(EXAMPLE / "Classes" / "emotion.md", into / "Classes" / "emotion.md")
    own = (into / "Classes" / "emotion.md").read_bytes()
    code, data = back(capsys, proj, into)
    assert code == ExitCode.OK, data
    assert sorted(data["fileclasses"]) == [
        "Classes/attachment_theory.md",
        "Classes/healing_pathway.md",
        "Classes/wound.md",
    ]
    assert (into / "Classes" / "emotion.md").read_bytes() == own  # the user's, kept
    assert "fileClass: wound" in (into / "Abandonment Wound.md").read_text("utf-8")


@pytest.mark.parametrize("folder", ["../escaped/", "..", "a/../../x"])
def test_a_plugin_class_folder_outside_the_vault_gets_no_fileclass_note(
    capsys: pytest.CaptureFixture[str], proj: Path, folder: str
) -> None:
    """The class folder of the vault's own Metadata Menu settings is not trusted: one that
    leaves the vault is reported and nothing is written outside; the notes still come."""
    into = proj / "mine"
    settings = into / ".obsidian" / "plugins" / "metadata-menu" / "data.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"classFilesPath": folder}), "utf-8")
    outside = {p for p in proj.rglob("*") if not p.is_relative_to(into)}
    code, data = back(capsys, proj, into)
    assert code == ExitCode.OK, data
    assert data["fileclasses"] == []
    (warning,) = [w for w in data["warnings"] if w["kind"] == "fileclass"]
    assert warning["id"] == ".obsidian/plugins/metadata-menu/data.json"
    assert "classFilesPath" in warning["message"] and "inside the vault" in warning["message"]
    assert {p for p in proj.rglob("*") if not p.is_relative_to(into)} == outside
    assert "fileClass: wound" in (into / "Abandonment Wound.md").read_text("utf-8")


@pytest.mark.parametrize("folder", ["../out", "/abs", ".hidden/x", "a/../b"])
def test_class_folders_must_stay_inside_the_vault(tmp_path: Path, folder: str) -> None:
    from syncbridge.config import load_config
    from syncbridge.errors import ConfigError

    (tmp_path / "vault").mkdir()
    path = tmp_path / "syncbridge.toml"
    path.write_text(
        CONFIG.replace(
            'timezone = "UTC"\n', f'timezone = "UTC"\nclass_folders = {{ wound = "{folder}" }}\n'
        ),
        "utf-8",
    )
    with pytest.raises(ConfigError, match="class_folders"):
        load_config(path)


def test_declared_types_win_and_values_refine_what_a_declaration_cannot_tell() -> None:
    """``classes_from_records`` with a remote's own schema (Notion's is tested against
    the local server): declared types and options first, in the declared order; text
    holding JSON, a date holding date-times, one link or several are refined from the
    values; a field only records hold is inferred; a class with no record still has one."""
    from syncbridge.adapter import Record
    from syncbridge.schema.fileclass_files import classes_from_records
    from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

    def spec(name: str, ftype: FieldType, kind: FieldKind, **kw: Any) -> FieldSpec:
        return FieldSpec(name, ftype, kind, origin="remote", **kw)

    declared = {
        "item": ClassSchema(
            "item",
            {
                "state": spec("state", FieldType.SELECT, FieldKind.TEXT, choices=("a", "b")),
                "count": spec("count", FieldType.NUMBER, FieldKind.NUMBER),
                "meta": spec("meta", FieldType.INPUT, FieldKind.TEXT),
                "at": spec("at", FieldType.DATE, FieldKind.DATE),
                "parent": spec(
                    "parent", FieldType.MULTIFILE, FieldKind.LINKS, options={"class": "item"}
                ),
            },
            source="remote",
        ),
        "empty": ClassSchema(
            "empty", {"n": spec("n", FieldType.NUMBER, FieldKind.NUMBER)}, source="remote"
        ),
    }
    records = [
        Record(
            "item",
            {
                "state": "a",
                "count": None,
                "meta": {"k": [1]},
                "at": "2026-01-05T10:30",
                "parent": "[[X]]",
                "extra": 3,
            },
        )
    ]
    out = classes_from_records(records, skip={"fileClass"}, declared=declared)
    item = out["item"].fields
    assert list(item) == ["state", "count", "meta", "at", "parent", "extra"]
    assert [item[k].type for k in item] == [
        FieldType.SELECT,
        FieldType.NUMBER,
        FieldType.YAML,
        FieldType.DATETIME,
        FieldType.FILE,
        FieldType.NUMBER,
    ]
    assert item["state"].choices == ("a", "b")
    assert item["parent"].options["class"] == "item"
    assert out["empty"].fields["n"].type is FieldType.NUMBER
    # a value the declared property cannot hold (kept aside by the remote) is not typed
    # by it: the values decide
    odd = [Record("item", {"count": "twelve", "state": ["a", "b"]})]
    fields = classes_from_records(odd, declared=declared)["item"].fields
    assert fields["count"].type is FieldType.INPUT and fields["state"].type is FieldType.MULTI
    # without a declaration, the values alone (the fallback): an all-empty field is Input
    alone = classes_from_records(records, skip={"fileClass"})["item"].fields
    assert alone["state"].type is FieldType.INPUT and alone["count"].type is FieldType.INPUT


def test_links_to_a_record_whose_note_got_another_name_are_written_to_that_note(
    capsys: pytest.CaptureFixture[str], proj: Path
) -> None:
    """Two titles no file name holds as they are, and that make one name: each note is
    named otherwise ("Fear the old one", "... 2"), and every link field naming them is
    written to the note its record got (the title kept as alias), so Obsidian resolves
    it; no report line for them; a sync afterwards finds nothing to do on either side."""
    from syncbridge.wikilinks import LinkResolver, links_in_value

    renames = {"Fear": "Fear: the old one", "Anger": "Fear  the old one"}
    with sqlite3.connect(proj / "local.db") as conn:
        for old, new in renames.items():
            conn.execute("UPDATE emotion SET title = ? WHERE title = ?", (new, old))
            conn.execute(
                "UPDATE wound SET linked_emotions = replace(linked_emotions, ?, ?)",
                (f"[[{old}]]", f"[[{new}]]"),
            )
    into = proj / "new"
    code, dry = back(capsys, proj, into, "--dry-run")
    assert code == ExitCode.OK, dry
    unresolved = [w["message"] for w in dry["warnings"] if w["kind"] == "link"]
    assert not [m for m in unresolved if "the old one" in m], unresolved
    code, data = back(capsys, proj, into)
    assert code == ExitCode.OK, data
    notes = Vault.open(into)
    resolver = LinkResolver(notes.paths())
    betrayal = entries(into)["Betrayal Wound"][0]["linked_emotions"]
    targets = {}
    for link in links_in_value(betrayal):
        path = resolver.resolve(link.target, "Psyche/Wounds/Betrayal Wound.md")
        assert path is not None, (link, betrayal)
        targets[link.alias] = path
    # each link reaches the note of the record it named (its body tells which)
    for old, new in renames.items():
        source = EXAMPLE / "Psyche" / "Emotions" / f"{old}.md"
        body = source.read_text(encoding="utf-8").split("---\n", 2)[2]
        assert (into / targets[new]).read_text(encoding="utf-8").endswith(body), new
    assert sorted(Path(p).name for p in targets.values()) == [
        "Fear the old one 2.md",
        "Fear the old one.md",
    ]
    # the two sides agree as they are: a two-way sync of that vault changes nothing
    config = proj / "new.toml"
    config.write_text(
        CONFIG.replace('path = "vault"', 'path = "new"').replace(
            "[[targets]]", '[state]\npath = "new/.syncbridge/state.db"\n\n[[targets]]'
        )
    )
    assert main(["sync", "--json", "--config", str(config)]) == ExitCode.OK
    report = json.loads(capsys.readouterr()[0])["targets"]["local"]
    for side in ("vault", "remote"):
        assert {k: v for k, v in report[side].items() if k != "unchanged"} == {
            "created": 0,
            "updated": 0,
            "deleted": 0,
            "conflicts": 0,
        }, report


def test_a_file_made_at_a_planned_name_between_a_kill_and_the_rerun_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Killed after ``Alpha`` was written, before ``Zed``; the user makes ``Zed.md``
    (the name the record kept, planned for it) before the rerun. The rerun would pair the
    record with the user's file and merge into it: it stops before any write instead,
    as a first run into a vault holding that note does, and the file stays as it is."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Alpha.md").write_text('---\nrelated: "[[Zed]]"\n---\nA [[Zed]].\n', encoding="utf-8")
    (vault / "Zed.md").write_text('---\nrelated: "[[Alpha]]"\n---\nZ.\n', encoding="utf-8")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, encoding="utf-8")
    to_target(capsys, tmp_path)
    into = tmp_path / "copy"
    killed = run_cli(tmp_path, into, "write:1:after")
    assert killed.returncode == -9, killed.stderr
    assert (into / "Alpha.md").exists() and not (into / "Zed.md").exists()
    users = b"My own Zed.\n"
    (into / "Zed.md").write_bytes(users)
    before = digest(into)
    resumed = run_cli(tmp_path, into, None)
    assert resumed.returncode == ExitCode.STOPPED, resumed.stderr
    assert "Zed.md" in resumed.stderr and "Nothing was written" in resumed.stderr
    assert digest(into) == before


def _taken_name_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``Alpha`` (field and body link to ``Zed``) and ``Zed`` sent to SQLite, then ``Zed``
    retitled ``Zed: x`` there (a name no file holds: its note is planned as ``Zed x.md``),
    ``Alpha``'s field link with it: a migration back writes ``Alpha`` first, its field
    link written to the planned note (``[[Zed x|Zed: x]]``)."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Alpha.md").write_text('---\nrelated: "[[Zed]]"\n---\nA.\n', encoding="utf-8")
    (vault / "Zed.md").write_text("---\nkind: z\n---\nZ.\n", encoding="utf-8")
    (tmp_path / "syncbridge.toml").write_text(CONFIG, encoding="utf-8")
    to_target(capsys, tmp_path)
    with sqlite3.connect(tmp_path / "local.db") as conn:
        ((table,),) = conn.execute("SELECT table_name FROM _meta").fetchall()
        conn.execute(f"UPDATE \"{table}\" SET title = 'Zed: x' WHERE title = 'Zed'")
        conn.execute(f"UPDATE \"{table}\" SET related = replace(related, '[[Zed]]', '[[Zed: x]]')")
    return tmp_path


def _link_of(into: Path, path: str) -> tuple[str, bool]:
    """The version the migrated vault's state records for the note at ``path``, and
    whether the link has a base."""
    from syncbridge.state import StateStore

    with StateStore.open(into / ".syncbridge" / "state.db") as state:
        (link,) = [k for k in state.links("local").values() if k.vault_id == path]
    return link.vault_version, link.has_base


@pytest.mark.parametrize("point", ["after", "before"])
def test_a_rerun_sigkilled_during_a_link_rewrite_is_finished_by_the_next_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], point: str
) -> None:
    """Killed after ``Alpha`` was written (its link names ``Zed x``, the planned note of
    ``Zed: x``), the user makes ``Zed x.md``; the rerun gives the record ``Zed x 2.md``
    and is SIGKILLed while rewriting ``Alpha``'s link to it: right after writing the
    note, before the state records it (``relink:1:after``), or journaled but not
    written (``before``). The next run finishes it: ``Alpha`` links to ``Zed x 2``, the
    state takes the rewritten bytes for the migration's own (not for an edit that would
    stop the migration or be sent to the target), no warning is left; the user's file
    and the SQLite target are never written."""
    root = _taken_name_project(tmp_path, capsys)
    target = rows(root / "local.db")
    into = root / "copy"
    killed = run_cli(root, into, "write:1:after")
    assert killed.returncode == -9, killed.stderr
    alpha = into / "Alpha.md"
    assert b'"[[Zed x|Zed: x]]"' in alpha.read_bytes() and not (into / "Zed x.md").exists()
    users = b"made meanwhile\n"
    (into / "Zed x.md").write_bytes(users)
    rewrite = run_cli(root, into, f"relink:1:{point}")
    assert rewrite.returncode == -9, rewrite.stderr + rewrite.stdout
    assert (b'"[[Zed x 2|Zed: x]]"' in alpha.read_bytes()) is (point == "after")
    done = run_cli(root, into, None)
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert [w["kind"] for w in report["warnings"] if w["id"] == "Alpha.md"] == (
        [] if point == "after" else ["relink"]
    ), report["warnings"]
    rewritten = alpha.read_bytes()
    assert rewritten == b'---\nrelated: "[[Zed x 2|Zed: x]]"\n---\nA.\n'
    assert _link_of(into, "Alpha.md") == (hashlib.sha256(rewritten).hexdigest(), True)
    assert (into / "Zed x.md").read_bytes() == users
    assert (into / "Zed x 2.md").read_bytes() == b"---\nkind: z\n---\nZ.\n"
    assert rows(root / "local.db") == target  # a migration from the target never writes it
    before = digest(into)
    again = json.loads(run_cli(root, into, None).stdout)
    assert again["created"] == 0 and again["warnings"] == [], again
    assert digest(into) == before and rows(root / "local.db") == target
