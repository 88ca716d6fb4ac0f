"""The classic setup mistakes give clear errors that say what to do, the token never shows
(messages, --json, state and cache files), and blocks we do not own survive sync rounds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import adapter_for
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import main
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"
ENV = "SB_TEST_NOTION_SETUP_TOKEN"


def _config(root: Path, server: NotionFakeServer, parent: str) -> Path:
    shutil.copytree(EXAMPLE, root / "vault")
    path = root / "syncbridge.toml"
    path.write_text(
        f'[vault]\npath = "vault"\n\n[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{parent}"\ntoken_env = "{ENV}"\nbase_url = "{server.url}"\n',
        encoding="utf-8",
    )
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def _files_text(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_missing_token_says_how_to_set_it(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    config = _config(tmp_path, notion_server, notion_server.root_page_id)
    code, out = _run(["sync", "--config", str(config)], capsys)
    assert code == 2
    assert f"no Notion token in the environment variable {ENV}" in out
    assert f"export {ENV}=" in out


def test_bad_token_never_shows_anywhere(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any, capsys: Any
) -> None:
    secret = "ntn_definitely_wrong_4242424242"
    monkeypatch.setenv(ENV, secret)
    config = _config(tmp_path, notion_server, notion_server.root_page_id)
    code, out = _run(["sync", "--config", str(config), "--json"], capsys)
    assert code == 2
    assert "Notion rejected the token" in out and "401" in out
    assert secret not in out
    assert secret.encode() not in _files_text(tmp_path)


def test_good_token_never_shows_in_output_state_or_cache(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setenv(ENV, notion_server.token)
    config = _config(tmp_path, notion_server, notion_server.root_page_id)
    code, out = _run(["sync", "--config", str(config), "--json"], capsys)
    assert code == 0, out
    assert json.loads(out)  # valid JSON
    assert notion_server.token not in out
    assert notion_server.token.encode() not in _files_text(tmp_path)


def test_parent_page_not_shared_says_to_share_it(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setenv(ENV, notion_server.token)
    private = notion_server.store.add_unshared_page()
    config = _config(tmp_path, notion_server, private)
    code, out = _run(["sync", "--config", str(config)], capsys)
    assert code == 2
    assert "404" in out and "Connections" in out and "add your integration" in out
    assert [
        p
        for p in notion_server.store.pages.values()
        if p.get("parent", {}).get("type") == "data_source_id"
    ] == []


def _sync(root: Path, server: NotionFakeServer, monkeypatch: Any, state: StateStore) -> Any:
    vault = VaultAdapter(Vault.open(root / "vault"), timezone="Europe/Paris")
    with adapter_for(server, root, monkeypatch, timezone="Europe/Paris") as remote:
        report = run_sync(
            vault,
            remote,
            state,
            SyncOptions(target="notion", timezone="Europe/Paris"),
            schema=vault.vault.schema,
        )
    assert report.errors == [], report.errors
    return report


def test_deleted_property_stops_with_its_name_and_class(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    with StateStore.open(tmp_path / "state.db") as state:
        _sync(tmp_path, notion_server, monkeypatch, state)
        with adapter_for(notion_server, tmp_path, monkeypatch) as remote:
            source = remote.cache.layouts()["wound"][1]
            remote.api.update_data_source(source, {"properties": {"intensity": None}})
        before = (tmp_path / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_bytes()
        from syncbridge_notion.schema import SchemaDrift

        with pytest.raises(
            SchemaDrift,
            match=r"class 'wound'.*'intensity' is gone .renamed or "
            r"deleted.; rename it back, or re-create it as a 'number' property",
        ):
            _sync(tmp_path, notion_server, monkeypatch, state)
        after = (tmp_path / "vault" / "Psyche" / "Wounds" / "Shame Wound.md").read_bytes()
        assert after == before


def test_retyped_property_stops_with_its_name_class_and_what_to_do(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any
) -> None:
    """A property retyped in Notion (number → text): the pages read with it stop the sync
    with the property, the class and what to do; no note changes."""
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    with StateStore.open(tmp_path / "state.db") as state:
        _sync(tmp_path, notion_server, monkeypatch, state)
        with adapter_for(notion_server, tmp_path, monkeypatch) as remote:
            source = remote.cache.layouts()["wound"][1]
            remote.api.update_data_source(source, {"properties": {"intensity": {"rich_text": {}}}})
        before = notes(tmp_path / "vault")
        from syncbridge_notion.schema import SchemaDrift

        with pytest.raises(
            SchemaDrift,
            match=r"class 'wound'.*property 'intensity' is now of "
            r"type 'rich_text'; change it back to 'number'",
        ):
            _sync(tmp_path, notion_server, monkeypatch, state)
        assert notes(tmp_path / "vault") == before


def notes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def test_child_pages_and_foreign_blocks_survive_ten_rounds_of_edits(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from syncbridge_notion_fake import ManualClock

    clock = ManualClock()  # Notion's minutes pass between steps, as between real syncs
    with NotionFakeServer(clock=clock) as notion_server:
        _ten_rounds(tmp_path, notion_server, monkeypatch, clock)


def _ten_rounds(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any, clock: Any
) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    note = tmp_path / "vault" / "Psyche" / "Wounds" / "Shame Wound.md"
    with StateStore.open(tmp_path / "state.db") as state:
        _sync(tmp_path, notion_server, monkeypatch, state)
        clock.advance(60)  # the user works in Notion a minute after the sync
        with adapter_for(notion_server, tmp_path, monkeypatch) as remote:
            (page_id,) = [
                r.id for r in remote.read_many(list(remote.list_ids())) if r.title == "Shame Wound"
            ]
            assert page_id is not None
            child = remote.api.create_page(
                {
                    "parent": {"type": "page_id", "page_id": page_id},
                    "properties": {"title": {"title": [{"text": {"content": "Sub page"}}]}},
                    "children": [
                        {
                            "type": "paragraph",
                            "paragraph": {"rich_text": [{"text": {"content": "Only in Notion."}}]},
                        }
                    ],
                },
                "test",
            )
            remote.api.append_children(page_id, [{"type": "divider", "divider": {}}], None, "t")
        clock.advance(60)
        _sync(tmp_path, notion_server, monkeypatch, state)
        text = note.read_text(encoding="utf-8")
        assert f"%%notion:child_page:{child['id']} Sub page%%" in text
        assert text.count("%%notion:") == 1  # the child page; the divider is Markdown
        assert text.split("\n---\n", 1)[1].startswith("---\n\n## ")  # appended at the start
        for round_ in range(10):
            text = note.read_text(encoding="utf-8")
            note.write_text(
                text.replace("Start small", f"Start small ({round_})", 1).replace(
                    f"Start small ({round_ - 1})", "Start small", 1
                ),
                encoding="utf-8",
            )
            if round_ == 5:  # the placeholder of the child page removed in the vault
                text = note.read_text(encoding="utf-8")
                cut = text.replace(f"\n\n%%notion:child_page:{child['id']} Sub page%%", "")
                assert cut != text
                note.write_text(cut, encoding="utf-8")
            clock.advance(60)
            _sync(tmp_path, notion_server, monkeypatch, state)
            clock.advance(60)
            with adapter_for(notion_server, tmp_path, monkeypatch) as remote:
                remote.api.update_page(page_id, {"properties": {"intensity": {"number": round_}}})
            clock.advance(60)
            _sync(tmp_path, notion_server, monkeypatch, state)
        sub = notion_server.store.pages[child["id"]]
        assert not sub["in_trash"]
        with adapter_for(notion_server, tmp_path, monkeypatch) as remote:
            kids = list(remote.api.children(page_id))
            assert [k["id"] for k in kids if k["type"] == "child_page"] == [child["id"]]
            # the note's three `---` lines and the divider added in Notion, not duplicated
            assert [k["type"] for k in kids].count("divider") == 4
            assert kids[0]["type"] == "divider"
            sub_blocks = list(remote.api.children(child["id"]))
            assert sub_blocks[0]["paragraph"]["rich_text"][0]["plain_text"] == "Only in Notion."
        assert "intensity: 9" in note.read_text(encoding="utf-8")


def test_a_body_edit_in_the_minute_of_our_last_read_is_still_pulled(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Notion rounds last_edited_time to the minute: an edit made later in the minute we
    read the page leaves its version unchanged. A run once that minute is over reads the
    blocks again and pulls the edit."""
    import datetime as dt

    from syncbridge_notion_fake import ManualClock

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    clock = ManualClock(start=start.replace(second=0).timestamp())
    shutil.copytree(EXAMPLE, tmp_path / "vault")
    note = tmp_path / "vault" / "Psyche" / "Wounds" / "Shame Wound.md"
    with NotionFakeServer(clock=clock) as server, StateStore.open(tmp_path / "state.db") as state:
        _sync(tmp_path, server, monkeypatch, state)
        with adapter_for(server, tmp_path, monkeypatch) as remote:
            (rec,) = [
                r for r in remote.read_many(list(remote.list_ids())) if r.title == "Shame Wound"
            ]
            assert rec.id is not None
            blocks = list(remote.api.children(rec.id))
            # our last look at the body, as if it happened in the minute of the edit below
            seen = start.replace(second=10).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            remote.cache._conn.execute("UPDATE bodies SET seen_at=?", (seen,))
        clock.advance(30)  # same minute on Notion's side
        with adapter_for(server, tmp_path, monkeypatch) as remote:
            paragraph = blocks[-1]
            text = paragraph["paragraph"]["rich_text"][0]["plain_text"]
            remote.api.update_block(
                paragraph["id"],
                {
                    "paragraph": {
                        "rich_text": [
                            {"text": {"content": text.replace("Start small", "Begin small")}}
                        ]
                    }
                },
            )
            assert remote.api.page(rec.id)["last_edited_time"].startswith(
                rec.modified.strftime("%Y-%m-%dT%H:%M") if rec.modified else ""
            )
        report = _sync(tmp_path, server, monkeypatch, state)
        assert report.vault.updated == 1
        assert "Begin small" in note.read_text(encoding="utf-8")
