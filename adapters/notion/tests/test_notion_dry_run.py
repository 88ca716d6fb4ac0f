"""A dry run against Notion sends no write, even when an earlier run was interrupted.

The Notion adapter's refresh finishes what an interrupted run left: a page move whose
properties were not written yet (``moves.py``), a relation second pass that did not run
(``relations.py``), a create whose answer was lost (``recovery.py``). A dry run
(``syncbridge sync --dry-run``, ``syncbridge migrate --dry-run`` both ways, the engine's
``dry_run`` option) must only *say* so: each scenario is set up for real against the
local server through the real notion-client, then every dry run is made and the server's
request counts show no write at all, the adapter's journal is left as it was, and the
dry-run output names the work; a real run afterwards still finishes it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV, request_counts, reset_counts, writes
from notion_cli_support import make_project, migrate_process
from notion_vault_support import TZ, Run
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import ExitCode, main
from syncbridge.engine import SyncOptions, run_sync
from syncbridge.errors import RemoteUnavailable
from syncbridge.testing.files import changed_paths, tree_files
from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter


def _config(run: Run) -> Path:
    """A config file for the run's vault, state and adapter cache (what the CLI reads)."""
    path = run.root / "syncbridge.toml"
    path.write_text(
        f'[vault]\npath = "vault"\ntimezone = "{TZ}"\n\n[sync]\nid_field = ""\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{run.server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{run.server.url}"\nrequests_per_s = 1000.0\nburst = 100\n'
        f'timezone = "{TZ}"\n',
        encoding="utf-8",
    )
    return path


def _journal(run: Run) -> tuple[Any, ...]:
    """The adapter's journal of unfinished work (moves, waiting links, creates)."""
    cache = run.remote.cache
    creates = sorted((c.key, c.page_id, json.dumps(c.deferred)) for c in cache.pending_creates())
    return cache.pending_moves(), cache.links_pending(), creates


def _dry_runs(run: Run, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Every kind of dry run, one after the other; the text each printed."""
    config = str(_config(run))
    out: list[str] = []
    vault = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    report = run_sync(
        vault,
        run.remote,
        run.state,
        SyncOptions(target="notion", timezone=TZ, dry_run=True),
        schema=vault.vault.schema,
    )
    out.append("\n".join(n.message for n in report.notices))
    commands = [
        ["sync", "--dry-run", "--config", config],
        ["migrate", "--to", "notion", "--dry-run", "--config", config],
        [
            "migrate",
            "--from",
            "notion",
            "--into",
            str(run.root / "copy"),
            "--dry-run",
            "--config",
            config,
        ],
    ]
    for args in commands:
        main(args)
        printed = capsys.readouterr()
        out.append(printed.out + printed.err)
    assert not (run.root / "copy").exists()
    return out


def _check_dry(run: Run, capsys: pytest.CaptureFixture[str], said: str) -> None:
    """Every dry run: no write request, the journal unchanged, ``said`` in each output."""
    journal = _journal(run)
    reset_counts(run.server)
    printed = _dry_runs(run, capsys)
    assert writes(request_counts(run.server)) == {}
    assert _journal(run) == journal
    for text in printed:
        assert said in text, text


def _interrupted_move(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ship's class changed; its page moved, then the connection went before its
    properties were written there."""
    from syncbridge_notion.page_writes import PageWriter

    note = run.root / "vault" / "Tasks" / "Ship.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("fileClass: task", "fileClass: project")
    )

    def lost(self: PageWriter, pid: str, body: dict[str, object]) -> dict[str, object]:
        raise RemoteUnavailable("Notion: connection dropped (test)")

    with monkeypatch.context() as m:
        m.setattr(PageWriter, "patch", lost)
        with pytest.raises(RemoteUnavailable):
            run.sync()


def test_a_dry_run_reports_an_interrupted_move_and_sends_nothing(
    run: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run.sync()
    _interrupted_move(run, monkeypatch)
    assert run.remote.cache.pending_moves()
    source = run.source_of("project")
    assert run.page("Ship")["parent"]["data_source_id"] == source  # moved, not finished
    _check_dry(run, capsys, "moved its page to class 'project'")
    run.sync()  # the real run finishes the move
    assert not run.remote.cache.pending_moves()
    assert run.page("Ship")["properties"]["estimate"]["number"] == 5


def test_a_dry_run_reports_an_unfinished_second_pass_and_sends_nothing(
    run: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncbridge_notion.relations import RelationLinks

    with monkeypatch.context() as m:
        m.setattr(RelationLinks, "finish_batch", lambda self: None)
        run.sync()
    assert run.remote.cache.links_pending()
    # Alpha and its tasks link to each other: one side was created first and waits
    assert not (
        all(run.related(t, "project") == ["Alpha"] for t in ("Write spec", "Ship"))
        and run.related("Alpha", "tasks") == ["Write spec", "Ship"]
    )
    _check_dry(run, capsys, "left its relations to fill in")
    run.sync()
    for title in ("Write spec", "Ship"):
        assert run.related(title, "project") == ["Alpha"]
    assert run.related("Alpha", "tasks") == ["Write spec", "Ship"]


DEEP = "".join(f"{'    ' * level}- level {level}\n" for level in range(6))


def test_a_dry_run_reports_a_lost_create_and_sends_nothing(
    run: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A create that reached Notion, then the process stopped before the answer was
    taken in (Ctrl-C): its page holds three list levels, the rest is still to append."""
    from syncbridge_notion.recovery import LostCreates

    run.sync()
    (run.root / "vault" / "Tasks" / "Deep.md").write_text(
        '---\nfileClass: task\nproject: "[[Alpha]]"\nestimate: 1\n---\n' + DEEP,
        encoding="utf-8",
    )
    real = LostCreates.create_page

    def stopped(self: LostCreates, *args: Any) -> dict[str, Any]:
        real(self, *args)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(LostCreates, "create_page", stopped)
        with pytest.raises(KeyboardInterrupt):
            run.sync()
    assert [c.page_id for c in run.remote.cache.pending_creates()] == [None]
    _check_dry(run, capsys, "whose answer was lost is page")
    run.sync()
    assert not list(run.remote.cache.pending_creates())
    page = run.page("Deep")  # one page, not two
    vault = VaultAdapter(Vault.open(run.root / "vault"), timezone=TZ)
    assert [p for p in vault.vault.paths() if "Deep" in p] == ["Tasks/Deep.md"]
    assert _depth(run.remote.api.children, page["id"]) == 6


def _depth(children: Callable[[str], list[dict[str, Any]]], block_id: str) -> int:
    kids = [b for b in children(block_id) if b.get("has_children") or b.get("type")]
    return (
        0
        if not kids
        else 1 + max((_depth(children, b["id"]) if b.get("has_children") else 0) for b in kids)
    )


# -- a dry run writes no byte anywhere ---------------------------------------------------


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class _Project:
    """The example vault and a config for the local server, run through the CLI."""

    def __init__(self, root: Path, server: NotionFakeServer) -> None:
        self.root = make_project(root, server)
        self.server = server
        self.config = str(root / "syncbridge.toml")

    def cli(self, *args: str) -> int:
        return main([*args, "--config", self.config])

    def dry_runs(self, capsys: pytest.CaptureFixture[str], *, edit_notion: bool) -> list[str]:
        """``migrate --to --dry-run``, ``sync --dry-run`` (and, when ``edit_notion``, a
        page edited in Notion first, then ``sync --dry-run`` and ``migrate --from
        --dry-run``): what changed under the project and on the server, asserted empty;
        the printed texts."""
        printed = []
        before = tree_files(self.root)
        store = self.server.store.snapshot()
        reset_counts(self.server)
        commands = [["migrate", "--to", "notion", "--dry-run"], ["sync", "--dry-run"]]
        if edit_notion:
            commands.append(["migrate", "--from", "notion", "--into", "copy", "--dry-run"])
        for args in commands:
            if args[0] == "migrate" and args[1] == "--from":
                args[4] = str(self.root / "copy")
            self.cli(*args)
            out = capsys.readouterr()
            printed.append(out.out + out.err)
            assert changed_paths(before, tree_files(self.root)) == [], args
            assert writes(request_counts(self.server)) == {}, args
            assert self.server.store.snapshot() == store, args
        return printed


def test_a_dry_run_writes_no_byte_anywhere_on_a_fresh_and_on_a_synced_project(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``migrate --to notion --dry-run``, ``sync --dry-run`` and ``migrate --from
    --dry-run`` through the CLI leave every file under the project (vault, state, the
    vault's index cache, the Notion adapter's cache: bytes, mtimes, and no file or folder
    made) and Notion as they were, on a fresh project and on one already migrated with
    edits on both sides waiting; the real runs after them are right."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    project = _Project(tmp_path, notion_server)
    emotions = project.root / "vault" / "Psyche" / "Emotions"
    stale = emotions / f".sb-{_dead_pid()}-{'0' * 16}.tmp"  # a killed write's leftover
    stale.write_bytes(b"partial")
    # a fresh machine: no state, no cache (nothing to read, nothing made)
    printed = project.dry_runs(capsys, edit_notion=False)
    assert "would create: 22" in printed[0] and "22 created" in printed[1]
    assert not (project.root / ".syncbridge").exists() and stale.exists()
    assert project.cli("migrate", "--to", "notion") == ExitCode.OK
    capsys.readouterr()
    assert not stale.exists()  # the real run removes it
    cache = next((project.root / ".syncbridge").glob("notion-*.db"))
    assert (project.root / ".syncbridge" / "vault-index.json").exists()

    # edits on both sides, then every dry run again: the cache and index have something
    # to take in (a changed note, a new one, a page edited in Notion)
    anger = emotions / "Anger.md"
    anger.write_text(anger.read_text(encoding="utf-8").replace("intensity: 5", "intensity: 6"))
    (emotions / "Joy.md").write_text(
        "---\nfileClass: emotion\nintensity: 2\n---\nJoy, after [[Anger]].\n", encoding="utf-8"
    )
    stale.write_bytes(b"partial")
    printed = project.dry_runs(capsys, edit_notion=False)
    assert "would create: 1" in printed[0] and "1 created, 1 updated" in printed[1], printed
    store = notion_server.store
    [fear] = [p for p in store.pages.values() if store.page_title(p) == "Fear"]
    notion.pages.update(page_id=fear["id"], properties={"intensity": {"number": 9}})
    printed = project.dry_runs(capsys, edit_notion=True)
    assert "1 updated" in printed[1].split("vault:")[1].split("\n")[0], printed[1]
    assert stale.exists() and cache.exists()

    # the real run after them: every edit carried, and the caches left right (a second
    # sync finds nothing to do and sends nothing but its listing)
    assert project.cli("sync", "--json") == ExitCode.OK
    synced = json.loads(capsys.readouterr().out)["targets"]["notion"]
    # what the dry run said: Joy created, Anger's intensity and Fear's last_modified
    # (stamped by the pull of its Notion edit) sent, Fear's intensity pulled
    assert "remote: 1 created, 2 updated" in printed[1], printed[1]
    assert synced["remote"]["created"] == 1 and synced["remote"]["updated"] == 2, synced
    assert synced["vault"]["updated"] == 1, synced
    assert "intensity: 9" in (emotions / "Fear.md").read_text(encoding="utf-8")
    assert store.page_title(store.page(fear["id"])) == "Fear"
    reset_counts(notion_server)
    assert project.cli("sync", "--json") == ExitCode.OK
    again = json.loads(capsys.readouterr().out)["targets"]["notion"]
    for side in ("vault", "remote"):
        assert again[side]["created"] == again[side]["updated"] == 0, again
    assert writes(request_counts(notion_server)) == {}


# -- the dry run's lines of a second pass are what the real one sends ----------------------

LINK_PROPS = {"project": ("tasks", "lead_task"), "task": ("project", "blocked_by")}
PAGE_LINE = re.compile(
    r"'([^']+)': an interrupted run left its relations to fill in: (.*) \(one PATCH\)"
)
SCHEMA_LINE = re.compile(
    r"class '(\w+)': an interrupted run left relation propert(?:y|ies) (.*) to add "
    r"\(one schema update\)"
)


def _relations(run: Run) -> set[tuple[str, str, str]]:
    """(page title, relation property, linked page title) of every relation item."""
    out = set()
    for class_name, props in LINK_PROPS.items():
        for page in run.server.store.pages.values():
            parent = page.get("parent") or {}
            if page.get("in_trash") or parent.get("data_source_id") != run.source_of(class_name):
                continue
            title = run.server.store.page_title(page)
            for prop in props:
                out.update((title, prop, linked) for linked in run.related(title, prop))
    return out


def _schemas(run: Run) -> set[tuple[str, str]]:
    """(class, property) of every property of both classes' data sources."""
    return {
        (cls, prop)
        for cls in LINK_PROPS
        for prop in run.remote.api.data_source(run.source_of(cls))["properties"]
    }


def test_the_dry_run_lines_of_a_second_pass_are_what_the_real_pass_sends(
    run: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An interrupted second pass (Alpha and its tasks link to each other; the lead
    task field had no relation yet): every dry run names exactly the links the next
    run's second pass fills in, page by page, one line per ``PATCH`` it sends, and the
    relation properties it adds, one line per schema update; counted at the server."""
    from syncbridge_notion.relations import RelationLinks

    with monkeypatch.context() as m:
        m.setattr(RelationLinks, "finish_batch", lambda self: None)
        run.sync()
    assert run.remote.cache.links_pending()
    relations, schemas = _relations(run), _schemas(run)
    printed = _dry_runs(run, capsys)
    run.remote.close()
    run.remote = run.open_remote()
    reset_counts(run.server)
    run.remote.refresh()  # the real run's start: the second pass left over
    counts = request_counts(run.server)
    filled = _relations(run) - relations
    added = _schemas(run) - schemas
    assert filled and added  # the scenario has both: a fill, and a property to add
    for text in printed:
        pages = PAGE_LINE.findall(text)
        said = {
            (title, field, target.rsplit("/", 1)[-1])
            for title, names in pages
            for target, field in re.findall(r"\[\[([^\]]+)\]\] \((\w+)\)", names)
        }
        assert said == filled, text
        assert len(pages) == counts.get("PATCH /v1/pages/{id}", 0), (text, counts)
        classes = SCHEMA_LINE.findall(text)
        assert len(classes) == counts.get("PATCH /v1/data_sources/{id}", 0), (text, counts)
        assert {(c, f) for c, fields in classes for f in fields.split(", ")} == added, text
    # nothing left to fill: the sync after it sends no relation
    reset_counts(run.server)
    run.sync()
    assert not writes(request_counts(run.server))
    assert _relations(run) == relations | filled


def test_the_dry_run_lines_of_page_mentions_left_are_what_the_real_pass_writes(
    run: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Page mentions left to make (the second pass did not run), and one of those pages
    edited in Notion since: the real pass leaves that page to the engine (its check
    ``GET`` sees the edit), so no dry run names it; the pages it does edit are named."""
    from syncbridge_notion.mentions import BodyMentions
    from test_notion_mentions import ALPHA_BODY, _blocks, _mentioned, _rich, _set_body

    vault = run.root / "vault"
    _set_body(vault / "Projects" / "Alpha.md", ALPHA_BODY)
    _set_body(vault / "Tasks" / "Ship.md", "Ship it, for [[Alpha]].\n")
    _set_body(vault / "Tasks" / "Write spec.md", "Spec it, for [[Alpha]].\n")
    with monkeypatch.context() as m:
        m.setattr(BodyMentions, "finish_batch", lambda self: None)
        run.sync()
    titles = ("Alpha", "Ship", "Write spec", "Beta")
    ids = {t: run.page(t)["id"] for t in titles}
    line = re.compile(r"'([^']+)': an interrupted run left body links")
    named = sorted(set(line.findall(_dry_runs(run, capsys)[1])))
    assert len(named) == 2, named  # the notes created before the note they link to
    edited = named[0]
    prop = "budget" if edited in ("Alpha", "Beta") else "estimate"
    run.remote.api.update_page(ids[edited], {"properties": {prop: {"number": 99}}})

    def mentions() -> dict[str, list[str]]:
        return {
            t: [m for b in _blocks(run, i) for m in _mentioned(_rich(b))] for t, i in ids.items()
        }

    before = mentions()
    printed = _dry_runs(run, capsys)
    run.remote.close()
    run.remote = run.open_remote()
    run.remote.refresh()  # the real run's start: the pass left over
    made = {t for t, found in mentions().items() if found != before[t]}
    assert made == set(named) - {edited}, made
    # the engine's dry run and sync --dry-run (migrate --to stops before anything:
    # Notion changed a note's page; migrate --from reads every record before its run,
    # which takes the edit in, so its run makes that page's mentions too, and says so)
    sync_dry, cli_sync, migrate_to, migrate_from = printed
    assert "stopped:" in migrate_to
    for text in (sync_dry, cli_sync):
        assert set(line.findall(text)) == made, text
    assert set(line.findall(migrate_from)) == set(named), migrate_from
    run.remote.close()
    run.remote = run.open_remote()
    into = str(run.root / "copy")
    assert main(["migrate", "--from", "notion", "--into", into, "--config", str(_config(run))]) == 0
    capsys.readouterr()
    assert mentions()[edited] != before[edited]  # as its dry run said


def test_a_dry_run_after_a_sigkilled_run_leaves_its_files_as_they_were(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A migration SIGKILLed mid-run leaves the caches' SQLite files open (a ``-wal``
    with committed journal rows the file does not hold yet): the dry runs read that
    journal (they see what the run left) and change none of the files, not even the
    ``-wal``/``-shm``; the real run after them resumes with no duplicate page."""
    from test_notion_migrate import NOTES, live_titles

    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    project = _Project(tmp_path, notion_server)
    killed = migrate_process(
        project.root, notion_server, "--to", "notion", kill_at="write:9:before"
    )
    assert killed.returncode == -9
    left = {p.name for p in (project.root / ".syncbridge").iterdir()}
    assert any(name.endswith("-wal") for name in left), left
    printed = project.dry_runs(capsys, edit_notion=False)
    assert "would create" in printed[0]
    resumed = migrate_process(project.root, notion_server, "--to", "notion")
    assert resumed.returncode == 0, resumed.stderr
    titles = live_titles(notion_server)
    assert sum(titles.values()) == NOTES and max(titles.values()) == 1, titles
