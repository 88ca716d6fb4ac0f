"""syncbridge.toml: loading, path resolution, and errors that name the file and key path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from syncbridge.config import DEFAULT_CONFIG_NAME, find_config, load_config
from syncbridge.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """\
[vault]
path = "examples/vault"

[[targets]]
name = "local"
adapter = "sqlite"
path = "syncbridge-demo.db"
"""


def write(tmp_path: Path, text: str, name: str = DEFAULT_CONFIG_NAME) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_minimal_config_from_the_issue_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.vault_path == tmp_path / "examples" / "vault"
    assert config.state_path == tmp_path / ".syncbridge" / "state.db"
    (target,) = config.targets
    assert target.name == "local" and target.section.adapter == "sqlite"
    assert target.adapter_class.name == "sqlite"
    assert target.settings.model_dump()["path"] == Path("syncbridge-demo.db")
    assert config.sync.id_field == "id" and config.sync.default_class == "note"
    assert config.sync.max_delete_fraction == 0.5


def test_adapter_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "project"
    config_dir.mkdir()
    path = write(config_dir, MINIMAL)
    monkeypatch.chdir(tmp_path)  # somewhere else
    config = load_config(path)
    with config.targets[0].open() as adapter:
        assert adapter.path == config_dir / "syncbridge-demo.db"


def test_example_config_documents_and_loads_every_key() -> None:
    config = load_config(REPO / "config.example.toml")
    assert config.vault.timezone == "Europe/Paris"
    target, notion = config.targets
    assert notion.section.adapter == "notion" and not notion.section.enabled
    assert target.section.exclude_values == {"visibility": ["🔒 private"]}
    # Every key of every section appears in the example, so it documents them all.
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    from syncbridge.config import (
        ControlSection,
        DaemonSection,
        StateSection,
        SyncSection,
        TargetSection,
        VaultSection,
    )

    keys = [
        *(k for k in DaemonSection.model_fields if k != "control"),  # a table, below
        *ControlSection.model_fields,
        *VaultSection.model_fields,
        *SyncSection.model_fields,
        *StateSection.model_fields,
        *TargetSection.model_fields,
        *target.adapter_class.config_model.model_fields,
    ]
    missing = [k for k in keys if not re.search(rf"^({k} = |\[targets\.{k}\]$)", text, re.M)]
    assert missing == []
    assert "\n[daemon.control]\n" in text


def test_sync_options_follow_the_config(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL
            + 'exclude = ["Private/**"]\n'
            + '[targets.exclude_values]\nvisibility = "🔒 private"\n'
            + '[sync]\nid_field = ""\nconflict_strategy = "remote_wins"\n',
        )
    )
    options = config.sync_options(config.targets[0], dry_run=True)
    assert options.target == "local" and options.dry_run
    assert options.id_field is None and options.conflict == "remote_wins"
    assert options.filters.exclude == ("Private/**",)
    assert options.filters.exclude_values == {"visibility": ("🔒 private",)}


@pytest.mark.parametrize(
    ("text", "key_path"),
    [
        ('[vault]\npath = "v"\ncolour = "red"\n', "vault.colour: unknown key"),
        ("[sync]\n", "vault: Field required"),
        ("[vault]\npath = 3\n", "vault.path:"),
        ('[vault]\npath = "v"\ntimezone = "Mars/Olympus"\n', "vault.timezone: unknown time zone"),
        ('[vault]\npath = "v"\n[sync]\ntie_breaker = "coin"\n', "sync.tie_breaker:"),
        ('[vault]\npath = "v"\n[sync]\nmax_delete_fraction = 2\n', "sync.max_delete_fraction:"),
        ('[vault]\npath = "v"\n[state]\nfile = "x"\n', "state.file: unknown key"),
        ('[vault]\npath = "v"\n[extra]\n', "extra: unknown key"),
        ('[vault]\npath = "v"\n[[targets]]\nname = "a"\n', "targets[0].adapter: Field required"),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlit"\n',
            "targets[0].adapter: no adapter named 'sqlit'",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a b"\nadapter = "sqlite"\npath = "x"\n',
            "targets[0].name:",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\npth = "x"\n',
            "targets[0].pth: unknown key",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\n',
            "targets[0].path: Field required",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\npath = "x"\n'
            "busy_timeout_ms = -1\n",
            "targets[0].busy_timeout_ms:",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\npath = "x"\n'
            '[[targets]]\nname = "a"\nadapter = "sqlite"\npath = "y"\n',
            "targets[1].name: duplicate target name 'a'",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\npath = "x"\n'
            "[targets.exclude_values]\nvisibility = [{ a = 1 }]\n",
            "targets[0].exclude_values:",
        ),
        (
            '[vault]\npath = "v"\n[[targets]]\nname = "a"\nadapter = "sqlite"\npath = "x"\n'
            'include = "Psyche/**"\n',
            "targets[0].include:",
        ),
    ],
)
def test_every_error_names_the_file_and_key_path(tmp_path: Path, text: str, key_path: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert key_path in message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[vault]\npath = "v"\nfoo = 1\n[sync]\nbar = 2\n'
        '[[targets]]\nname = "a"\nadapter = "sqlite"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "3 problems" in message
    for key_path in ("vault.foo", "sync.bar", "targets[0].path"):
        assert key_path in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[vault]\npath = "v"\nbroken = \n')
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 3"):
        load_config(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config\.example\.toml"):
        load_config(tmp_path / "nope.toml")


def test_find_config_looks_in_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="--config"):
        find_config()
    path = write(tmp_path, MINIMAL)
    assert find_config() == path


def test_unknown_target_name_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match=r"no target named 'remote' \(known: local\)"):
        config.target("remote")


_SECTIONS = {
    "vault": {"path": "v"},
    "sync": {},
    "state": {},
}


@settings(max_examples=60, deadline=None)
@given(
    section=st.sampled_from(["vault", "sync", "state", "targets"]),
    key=st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True),
)
def test_any_unknown_key_is_named_with_its_path(section: str, key: str) -> None:
    from syncbridge_sqlite import SQLiteConfig

    from syncbridge.config import (
        StateSection,
        SyncSection,
        TargetSection,
        VaultSection,
        parse_config,
    )

    known = {
        "vault": VaultSection.model_fields,
        "sync": SyncSection.model_fields,
        "state": StateSection.model_fields,
        "targets": {**TargetSection.model_fields, **SQLiteConfig.model_fields},
    }[section]
    assume(key not in known)
    data: dict[str, Any] = {k: dict(v) for k, v in _SECTIONS.items()}
    data["targets"] = [{"name": "a", "adapter": "sqlite", "path": "x.db"}]
    if section == "targets":
        data["targets"][0][key] = 1
        expected = f"targets[0].{key}: unknown key"
    else:
        data[section][key] = 1
        expected = f"{section}.{key}: unknown key"
    with pytest.raises(ConfigError) as caught:
        parse_config(data, base_dir=Path("."), path=Path("syncbridge.toml"))
    assert str(caught.value) == f"syncbridge.toml: {expected}"


SQLITE_AT = """\
[vault]
path = "vault"

[[targets]]
name = "local"
adapter = "sqlite"
path = "{db}"
{state}
"""


@pytest.mark.parametrize(
    ("db", "state", "key", "says"),
    [
        ("vault/n.md", "", "targets[0].path", "inside the vault"),
        ("vault/sub/x.db", "", "targets[0].path", "inside the vault"),
        ("local.db", '[state]\npath = "vault/n.md"', "state.path", "inside the vault"),
        ("local.db", '[state]\npath = "vault/.obsidian/workspace.json"', "state.path", "inside"),
        ("local.db", '[state]\npath = "vault"', "state.path", "is a folder"),
        ("", "", "targets[0].path", "is a folder"),
        ("vault", "", "targets[0].path", "is a folder"),
        ("/dev/null", "", "targets[0].path", "not a regular file"),
        ("local.db", '[state]\npath = "local.db"', "targets[0].path", "also the state file"),
    ],
)
def test_files_syncbridge_writes_cannot_be_notes_folders_or_shared_with_the_state(
    tmp_path: Path, db: str, state: str, key: str, says: str
) -> None:
    """A state file or database among the notes (a note taken for a damaged database
    would be replaced by ``repair``), a folder, a device, or the state file sharing a
    target's database: a configuration error naming the key, before anything is opened."""
    (tmp_path / "vault" / ".obsidian").mkdir(parents=True)
    (tmp_path / "vault" / "n.md").write_bytes(b"---\nstatus: a\n---\nbody\n")
    before = sorted(tmp_path.rglob("*"))
    config = write(tmp_path, SQLITE_AT.format(db=db, state=state))
    with pytest.raises(ConfigError, match=re.escape(key) + ".*" + says):
        load_config(config)
    assert sorted(p for p in tmp_path.rglob("*") if p != config) == before
    assert (tmp_path / "vault" / "n.md").read_bytes() == b"---\nstatus: a\n---\nbody\n"


def test_a_config_kept_in_the_vault_root_may_keep_its_state_there(tmp_path: Path) -> None:
    """The default state file beside a config kept in the vault's own root is under
    ``.syncbridge/``, which the vault never reads: allowed."""
    text = '[vault]\npath = "."\n\n[[targets]]\nname = "local"\nadapter = "sqlite"\npath = "../local.db"\n'
    config = load_config(write(tmp_path, text))
    assert config.state_path == tmp_path / ".syncbridge" / "state.db"
