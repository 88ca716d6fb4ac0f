"""``syncbridge migrate --from notion --into VAULT``: the example vault sent to the local
Notion server and brought back into empty vaults through the real notion-client over HTTP,
as the CLI runs it; in process, and as a SIGKILLed process run again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV, request_counts, reset_counts, writes
from notion_cli_support import make_project, migrate_cli, migrate_process
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import ExitCode, main
from syncbridge.testing.files import changed_paths, tree_bytes, tree_files
from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter

NOTES = 22


def entries(folder: Path) -> dict[str, tuple[dict[str, Any], str, str]]:
    """Vault path → (canonical fields, body, class) of every entry."""
    adapter = VaultAdapter(Vault.open(folder), timezone="UTC")
    out = {}
    for ref in adapter.list():
        record = adapter.read(ref.id)
        out[ref.id] = (dict(record.fields), record.body, record.class_name)
    return out


def computed(folder: Path) -> dict[str, set[str]]:
    """Class → its computed fields (Metadata Menu Lookup, Formula): vault → target only,
    so the Notion adapter does not read them back; Metadata Menu computes them again."""
    schema = Vault.open(folder).schema
    return {
        c.name: {k for k, f in c.fields.items() if f.read_only} for c in schema.classes.values()
    }


def same_entries(original: Path, copy: Path) -> None:
    want, got = entries(original), entries(copy)
    lookups = computed(original)
    assert got.keys() == want.keys()  # each note where it was: Notion kept its path
    for path, (fields, body, cls) in want.items():
        fields_back = dict(got[path][0])
        if "fileClass" not in fields:  # classed by its folder there: by its key here
            assert fields_back.pop("fileClass", cls) == cls
        fields = {k: v for k, v in fields.items() if k not in lookups.get(cls, set())}
        assert fields_back == fields, path
        assert got[path][1:] == (body, cls), path


def test_there_and_back_through_notion_with_the_same_config(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    code, sent = migrate_cli(root, capsys, "--to", "notion")
    assert code == ExitCode.OK, sent
    into = tmp_path / "copy"
    code, dry = migrate_cli(root, capsys, "--from", "notion", "--into", str(into), "--dry-run")
    assert code == ExitCode.OK, dry
    assert dry["created"] == NOTES and dry["classes"] == sent["classes"] and not into.exists()
    reset_counts(notion_server)
    code, data = migrate_cli(root, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, data
    assert data["created"] == NOTES and data["classes"] == sent["classes"]
    assert not writes(request_counts(notion_server))  # Notion is only read
    same_entries(root / "vault", into)
    assert {p.name for p in (into / "Classes").iterdir()} == {
        "attachment_theory.md",
        "emotion.md",
        "healing_pathway.md",
        "wound.md",
    }
    # a rerun creates nothing
    code, again = migrate_cli(root, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK and again["created"] == 0 and again["already"] == NOTES


def test_without_the_adapter_cache_bodies_come_from_the_converter(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another machine: no cache of the bodies sent. Every note still arrives, with every
    field value; bodies are the converter's Markdown, or the layout Notion carries."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    assert migrate_cli(root, capsys, "--to", "notion")[0] == ExitCode.OK
    for cache in (root / ".syncbridge").glob("notion-*.db*"):
        cache.unlink()
    into = tmp_path / "elsewhere"
    code, data = migrate_cli(root, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, data
    want, got = entries(root / "vault"), entries(into)
    lookups = computed(root / "vault")
    assert got.keys() == want.keys()
    for path, (fields, _body, cls) in want.items():
        back = dict(got[path][0])
        if "fileClass" not in fields:
            back.pop("fileClass", None)
        fields = {k: v for k, v in fields.items() if k not in lookups.get(cls, set())}
        assert back == fields, path
        assert got[path][2] == cls


def run_cli(root: Path, server: NotionFakeServer, into: Path, kill_at: str | None) -> Any:
    return migrate_process(root, server, "--from", "notion", "--into", str(into), kill_at=kill_at)


@pytest.mark.parametrize("kill_at", ["write:2:after", "write:15:before"])
def test_sigkilled_migration_from_notion_resumes_without_a_duplicate_note(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kill_at: str,
) -> None:
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    assert migrate_cli(root, capsys, "--to", "notion")[0] == ExitCode.OK
    clean = tmp_path / "clean"
    assert run_cli(root, notion_server, clean, None).returncode == 0
    into = tmp_path / "killed"
    killed = run_cli(root, notion_server, into, kill_at)
    assert killed.returncode == -9, killed.stderr
    resumed = run_cli(root, notion_server, into, None)
    assert resumed.returncode == 0, resumed.stderr
    assert tree_bytes(into) == tree_bytes(clean)
    again = json.loads(run_cli(root, notion_server, into, None).stdout)
    assert again["created"] == 0 and again["already"] == NOTES


def test_a_field_null_in_every_note_comes_back_null(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A field no note gives a value has no Notion property; it still comes back, null
    (the corpus's ``fileClass:`` lines were lost before)."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    shutil.rmtree(root / "vault")
    (root / "vault").mkdir()
    for name in ("A", "B"):
        (root / "vault" / f"{name}.md").write_text(
            f"---\nfileClass:\nreviewed:\ncreated: 2024-09-17, 14:35\n---\n{name}\n",
            encoding="utf-8",
        )
    assert migrate_cli(root, capsys, "--to", "notion")[0] == ExitCode.OK
    into = tmp_path / "copy"
    assert migrate_cli(root, capsys, "--from", "notion", "--into", str(into))[0] == ExitCode.OK
    assert (into / "A.md").read_text("utf-8").startswith("---\nfileClass:\nreviewed:\n")
    assert entries(into)["A.md"][0] == entries(root / "vault")["A.md"][0]


def test_a_name_no_portable_file_can_hold_comes_back_sanitized_in_its_folder(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    (root / "vault" / "Pathways" / "Why me?.md").write_text(
        "---\nmood: low\n---\nasked\n", encoding="utf-8"
    )
    assert migrate_cli(root, capsys, "--to", "notion")[0] == ExitCode.OK
    into = tmp_path / "copy"
    code, data = migrate_cli(root, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, data
    assert (into / "Pathways" / "Why me.md").read_text("utf-8").endswith("---\nasked\n")
    assert any(w["kind"] == "name" and w["id"] == "Pathways/Why me.md" for w in data["warnings"])


SCHEMA_PROJECT = """---
fields:
  - name: phase
    type: Select
    options:
      sourceType: ValuesList
      valuesList: {"1": plan, "2": build, "3": done}
    path: ""
    id: s1Phas
  - name: budget
    type: Number
    options: {}
    path: ""
    id: s2Budg
  - name: labels
    type: Multi
    options:
      sourceType: ValuesList
      valuesList: {"1": red, "2": green, "3": blue}
    path: ""
    id: s3Labl
  - name: due
    type: Date
    options: {dateFormat: YYYY-MM-DD}
    path: ""
    id: s4Due0
  - name: lead_task
    type: File
    options: {}
    path: ""
    id: s5Lead
  - name: tasks
    type: MultiFile
    options: {}
    path: ""
    id: s6Task
---
"""
SCHEMA_TASK = """---
fields:
  - name: estimate
    type: Number
    options: {}
    path: ""
    id: t1Estm
  - name: project
    type: File
    options: {}
    path: ""
    id: t2Proj
---
"""


def test_fileclasses_from_notion_take_its_declared_types_and_options(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fileClass notes ``migrate --from notion`` writes follow the databases' own
    schema, not only the values: a select option no page uses, a number no page fills,
    multi-select options, a date, relations as File / MultiFile suggesting their class."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = tmp_path
    vault = root / "vault"
    (vault / ".obsidian" / "plugins" / "metadata-menu").mkdir(parents=True)
    (vault / ".obsidian" / "plugins" / "metadata-menu" / "data.json").write_text(
        json.dumps({"classFilesPath": "Classes/", "fileClassAlias": "fileClass"})
    )
    (vault / "Classes").mkdir()
    (vault / "Classes" / "project.md").write_text(SCHEMA_PROJECT, encoding="utf-8")
    (vault / "Classes" / "task.md").write_text(SCHEMA_TASK, encoding="utf-8")
    (vault / "Alpha.md").write_text(
        "---\nfileClass: project\nphase: plan\nlabels:\n  - red\ndue: 2026-01-05\n"
        'lead_task: "[[Write spec]]"\ntasks:\n  - "[[Write spec]]"\n  - "[[Ship]]"\n---\nA.\n',
        encoding="utf-8",
    )
    for title in ("Write spec", "Ship"):
        (vault / f"{title}.md").write_text(
            f'---\nfileClass: task\nproject: "[[Alpha]]"\n---\n{title}.\n', encoding="utf-8"
        )
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\ntimezone = "UTC"\n\n[sync]\nid_field = ""\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{notion_server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{notion_server.url}"\nrequests_per_s = 1000.0\nburst = 100\n',
        encoding="utf-8",
    )
    code, sent = migrate_cli(root, capsys, "--to", "notion")
    assert code == ExitCode.OK, sent
    into = tmp_path / "copy"
    code, data = migrate_cli(root, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, data
    classes = Vault.open(into).schema.classes
    project, task = classes["project"].fields, classes["task"].fields
    assert {k: f.type.value for k, f in project.items()} == {
        "phase": "Select",
        "budget": "Number",
        "labels": "Multi",
        "due": "Date",
        "lead_task": "File",
        "tasks": "MultiFile",
    }
    assert project["phase"].choices == ("plan", "build", "done")  # build, done: unused
    assert project["labels"].choices == ("red", "green", "blue")
    assert {k: f.type.value for k, f in task.items()} == {"estimate": "Number", "project": "File"}
    assert project["tasks"].options["dvQueryString"] == (
        'dv.pages().where(p => p["fileClass"] == "task")'
    )
    assert task["project"].options["dvQueryString"] == (
        'dv.pages().where(p => p["fileClass"] == "project")'
    )
    # the notes are typed by them: values came back as they were sent
    back = entries(into)
    assert back["Alpha.md"][0]["phase"] == "plan"
    assert back["Alpha.md"][0]["tasks"] == ["[[Write spec]]", "[[Ship]]"]


def _page_url(page_id: str) -> str:
    return "https://www.notion.so/" + page_id.replace("-", "")


def _mention(page_id: str) -> dict[str, Any]:
    return {"type": "mention", "mention": {"type": "page", "page": {"id": page_id}}}


def _text(content: str, url: str | None = None, *, code: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if url is not None:
        item["text"]["link"] = {"url": url}
    if code:
        item["annotations"] = {"code": True}
    return item


def _paragraph(*items: dict[str, Any]) -> dict[str, Any]:
    return {"object": "block", "type": "paragraph", "paragraph": {"rich_text": list(items)}}


def _body_links(folder: Path) -> dict[str, list[tuple[str, str | None]]]:
    """Vault path → (link as written, the note it resolves to by the vault's own rules)
    of every body wikilink (outside code and comments) of every note."""
    from syncbridge.wikilinks import LinkResolver, find_links

    vault = Vault.open(folder)
    resolver = LinkResolver(vault.paths())
    out = {}
    for path in vault.paths():
        body = (folder / path).read_text("utf-8").split("\n---\n", 1)[-1]
        out[path] = [
            (body[link.start : link.end], resolver.resolve(link.target, path))
            for link in find_links(body, skip_comments=True)
        ]
    return out


def _notion_made_pages(
    root: Path, notion: Any, server: NotionFakeServer, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    """A database of ours (one note sent by ``migrate --to``), then pages made in Notion
    with titles no file name can hold (``A/B``, ``Foo:``), a title twice (``Foo``), a
    plain one, and ``Index`` whose body mentions and links them (and is mentioned back by
    the second ``Foo``, so some links name notes written after their own): name → id."""
    vault = root / "vault"
    vault.mkdir()
    (vault / "Seed.md").write_text("seed\n", encoding="utf-8")
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{server.url}"\nrequests_per_s = 1000.0\nburst = 100\n',
        encoding="utf-8",
    )
    code, sent = migrate_cli(root, capsys, "--to", "notion")
    assert code == ExitCode.OK, sent
    (seed,) = notion.search(query="Seed", filter={"property": "object", "value": "page"})["results"]
    source = seed["parent"]["data_source_id"]

    def page(title: str, *blocks: dict[str, Any]) -> str:
        made = notion.pages.create(
            parent={"type": "data_source_id", "data_source_id": source},
            properties={"Name": {"title": [{"text": {"content": title}}]}},
            children=list(blocks) or [_paragraph(_text(title))],
        )
        return str(made["id"])

    ids = {"A/B": page("A/B"), "Foo:": page("Foo:"), "Foo": page("Foo"), "Plain": page("Plain")}
    index = page("Index")
    ids["Foo#2"] = page("Foo", _paragraph(_text("back to "), _mention(index)))
    ids["Index"] = index
    notion.blocks.children.append(
        block_id=index,
        children=[
            _paragraph(
                _mention(ids["A/B"]),
                _text(", "),
                _mention(ids["Foo:"]),
                _text(", "),
                _mention(ids["Foo"]),
                _text(", "),
                _mention(ids["Foo#2"]),
                _text(", "),
                _mention(ids["Plain"]),
                _text(" and "),
                _text("the second one", _page_url(ids["Foo#2"])),
                _text("."),
            ),
            _paragraph(_text("[[A/B]] in code", code=True)),
        ],
    )
    (seed_page,) = [seed["id"]]
    notion.pages.update(page_id=seed_page, in_trash=True)
    return ids


def test_body_links_to_notes_named_otherwise_name_the_notes_they_became(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Page mentions and page links in Notion bodies, to pages whose notes get another
    name than the title (a ``/`` or ``:`` in it, a title twice, a name taken by a note the
    vault had), come back as wikilinks that resolve, by the vault's own rules, to the very
    note of that page, with the title shown; links that resolve already, code, and the
    vault's own note are left as they are."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    ids = _notion_made_pages(tmp_path, notion, notion_server, capsys)
    into = tmp_path / "copy"
    into.mkdir()
    own = b"---\nmine: yes\n---\nMy own [[Foo]] and [[A/B]].\n"
    (into / "Foo 2.md").write_bytes(own)
    code, data = migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, (data["not_transferred"], data["warnings"])
    assert (into / "Foo 2.md").read_bytes() == own  # the vault's own note: untouched
    # which note each page became: its body says (a paragraph of its title)
    note_of = {}
    for path in Vault.open(into).paths():
        text = (into / path).read_text("utf-8")
        for name, page_id in ids.items():
            if name != "Foo#2" and text.split("---\n")[-1].split("\n")[0] == name:
                note_of.setdefault(page_id, []).append(path)
            if "back to" in text:
                note_of[ids["Foo#2"]] = [path]
    assert all(len(v) == 1 for v in note_of.values()), note_of
    where = {page_id: paths[0] for page_id, paths in note_of.items()}
    assert len({where[ids[n]] for n in ("Foo:", "Foo", "Foo#2")} | {"Foo 2.md"}) == 4
    links = _body_links(into)
    index = links[where[ids["Index"]]]
    assert [to for _, to in index] == [
        where[ids["A/B"]],
        where[ids["Foo:"]],
        where[ids["Foo"]],
        where[ids["Foo#2"]],
        where[ids["Plain"]],
        where[ids["Foo#2"]],
    ], index
    stem = {page_id: path[:-3] for page_id, path in where.items()}
    assert [written for written, _ in index] == [
        f"[[{stem[ids['A/B']]}|A/B]]",  # the title shown, as the mention showed it
        f"[[{stem[ids['Foo:']]}|Foo:]]",
        f"[[{stem[ids['Foo']]}|Foo]]",
        f"[[{stem[ids['Foo#2']]}|Foo]]",
        "[[Plain]]",  # resolves as it is: no alias
        f"[[{stem[ids['Foo#2']]}|the second one]]",
    ]
    assert links[where[ids["Foo#2"]]] == [("[[Index]]", where[ids["Index"]])]
    text = (into / where[ids["Index"]]).read_text("utf-8")
    assert "`[[A/B]] in code`" in text  # code is text, never a link
    assert "notion.so" not in text  # every page of ours is a note: no link to Notion
    assert links["Foo 2.md"] == [("[[Foo]]", "Foo.md"), ("[[A/B]]", None)]
    # syncing that vault on: nothing to do but send the vault's own note (Notion lacks
    # it); a line added to Index goes to Notion with every link in it still the page
    # mention it was (the note names are the state's)
    config = tmp_path / "copy.toml"
    config.write_text(
        (tmp_path / "syncbridge.toml")
        .read_text("utf-8")
        .replace('path = "vault"', 'path = "copy"')
        .replace("[[targets]]", '[state]\npath = "copy/.syncbridge/state.db"\n\n[[targets]]'),
        encoding="utf-8",
    )
    reset_counts(notion_server)
    assert main(["sync", "--json", "--config", str(config)]) == ExitCode.OK
    report = json.loads(capsys.readouterr()[0])["targets"]["notion"]
    assert report["vault"]["updated"] == report["remote"]["updated"] == 0, report
    assert report["vault"]["created"] == 0 and report["remote"]["created"] == 1, report
    assert writes(request_counts(notion_server)).get("POST /v1/pages") == 1
    assert (into / "Foo 2.md").read_bytes() == own
    index_note = into / where[ids["Index"]]
    index_note.write_text(index_note.read_text("utf-8") + "\nMore.\n", encoding="utf-8")
    assert main(["sync", "--json", "--config", str(config)]) == ExitCode.OK
    report = json.loads(capsys.readouterr()[0])["targets"]["notion"]
    assert report["remote"]["updated"] == 1, report
    blocks = notion.blocks.children.list(block_id=ids["Index"])["results"]
    mentioned = [
        i["mention"]["page"]["id"]
        for b in blocks
        if b["type"] == "paragraph"
        for i in b["paragraph"]["rich_text"]
        if i["type"] == "mention"
    ]
    assert mentioned == [ids[n] for n in ("A/B", "Foo:", "Foo", "Foo#2", "Plain")]
    assert blocks[-1]["paragraph"]["rich_text"][0]["plain_text"] == "More."


@pytest.mark.parametrize("kill_at", ["write:2:after", "write:5:before"])
def test_body_links_to_notes_named_otherwise_survive_a_sigkill(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kill_at: str,
) -> None:
    """Killed between the notes' creates and run again, the migration gives the notes
    not made yet the names the notes made already link to: the vault is byte for byte
    an uninterrupted run's, every body link resolving to its page's note."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    _notion_made_pages(tmp_path, notion, notion_server, capsys)
    own = b"---\nmine: yes\n---\nMy own [[Foo]] and [[A/B]].\n"
    clean, into = tmp_path / "clean", tmp_path / "killed"
    for folder in (clean, into):
        folder.mkdir()
        (folder / "Foo 2.md").write_bytes(own)
    assert run_cli(tmp_path, notion_server, clean, None).returncode == 0
    killed = run_cli(tmp_path, notion_server, into, kill_at)
    assert killed.returncode == -9, killed.stderr
    resumed = run_cli(tmp_path, notion_server, into, None)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert tree_bytes(into) == tree_bytes(clean)
    links = _body_links(into)
    assert all(
        to is not None for path, found in links.items() if path != "Foo 2.md" for _, to in found
    )
    assert any("|Foo]]" in written for written, _ in links["Index.md"]), links


CLASSES = 5
"""Classes of the example vault with notes: a database (and data source) each."""


def _queries_per_listing(server: NotionFakeServer) -> int:
    """The queries one listing of every data source takes: one per data source, and one
    more per further 100 live pages (the page size the client asks for)."""
    live: dict[str, int] = dict.fromkeys(server.store.data_sources, 0)
    for page in server.store.pages.values():
        source = page.get("parent", {}).get("data_source_id")
        if source in live and not page.get("in_trash"):
            live[source] += 1
    return sum(max(1, -(-n // 100)) for n in live.values())


@pytest.mark.parametrize("machine", ["same", "fresh"])
def test_migrate_from_reads_each_data_source_schema_and_listing_once(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    machine: str,
) -> None:
    """The declared classes (types, options) come from each data source's schema: one
    ``GET`` each. On a fresh machine the listing adopts every database and reads its
    schema already; the classes are taken from that read, not from a second ``GET``.
    Reading the records, planning the run and running it share one listing: a query of
    each data source (and of its further pages: a class of 105 notes takes two), in the
    dry run too, whose counts stay those of the run."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    root = make_project(tmp_path, notion_server)
    extra = 100
    for n in range(extra):
        (root / "vault" / "Psyche" / "Emotions" / f"Extra {n:03}.md").write_text(
            f"---\nfileClass: emotion\n---\nExtra {n}.\n", encoding="utf-8"
        )
    code, sent = migrate_cli(root, capsys, "--to", "notion")
    assert code == ExitCode.OK, sent
    if machine == "fresh":
        for cache in (root / ".syncbridge").glob("notion-*.db*"):
            cache.unlink()
    listing = _queries_per_listing(notion_server)
    assert listing == CLASSES + 1  # the emotions' second page
    for dry in (True, False):
        reset_counts(notion_server)
        into = tmp_path / f"copy-{dry}"
        code, data = migrate_cli(
            root, capsys, "--from", "notion", "--into", str(into), *(["--dry-run"] * dry)
        )
        assert code == ExitCode.OK and data["created"] == NOTES + extra, data
        assert data["classes"] == sent["classes"], data
        counts = request_counts(notion_server)
        assert counts["GET /v1/data_sources/{id}"] == CLASSES, counts
        assert counts.get("GET /v1/databases/{id}", 0) == (CLASSES if machine == "fresh" else 0)
        assert counts["POST /v1/data_sources/{id}/query"] == listing, counts
        assert not writes(counts)
    assert len(entries(tmp_path / "copy-False")) == NOTES + extra


@pytest.mark.parametrize("kill_at", ["write:5:after", "write:6:before"])
@pytest.mark.parametrize("edited", [False, True])
def test_links_to_a_name_taken_between_the_kill_and_the_rerun_follow_the_note(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kill_at: str,
    edited: bool,
) -> None:
    """Killed after ``Index`` was written (its links name ``Foo 4``, the planned name of
    the second ``Foo``, not written yet), and the user makes a file ``Foo 4.md`` before
    the rerun: that page's note gets another name, and the links in ``Index`` are
    rewritten to it, the alias kept; the user's file is never written. An ``Index`` the
    user edited meanwhile is left as it is, each such link reported with what to do."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    _notion_made_pages(tmp_path, notion, notion_server, capsys)
    into = tmp_path / "killed"
    into.mkdir()
    own = b"---\nmine: yes\n---\nMy own [[Foo]] and [[A/B]].\n"
    (into / "Foo 2.md").write_bytes(own)
    killed = run_cli(tmp_path, notion_server, into, kill_at)
    assert killed.returncode == -9, killed.stderr
    index = into / "Index.md"
    assert "[[Foo 4|Foo]]" in index.read_text("utf-8") and not (into / "Foo 4.md").exists()
    users = b"---\nmine: too\n---\nMy [[Index]] note, made meanwhile.\n"
    (into / "Foo 4.md").write_bytes(users)
    if edited:
        index.write_text(index.read_text("utf-8") + "\nMy edit.\n", encoding="utf-8")
    edit_made = index.read_bytes()
    resumed = run_cli(tmp_path, notion_server, into, None)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    report = json.loads(resumed.stdout)
    assert (into / "Foo 4.md").read_bytes() == users and (into / "Foo 2.md").read_bytes() == own
    (second,) = [
        p
        for p in Vault.open(into).paths()
        if "back to" in (into / p).read_text("utf-8") and "conflict" not in p
    ]
    assert second == "Foo 5.md"
    links = dict(_body_links(into)["Index.md"])
    warned = [w for w in report["warnings"] if w["id"] == "Index.md"]
    if not edited:
        assert links["[[Foo 5|Foo]]"] == links["[[Foo 5|the second one]]"] == second
        assert "[[Foo 4|Foo]]" not in links
        assert [w["kind"] for w in warned] == ["relink"], report["warnings"]
        assert index.read_bytes() == edit_made.replace(b"[[Foo 4|", b"[[Foo 5|")
    else:
        assert index.read_bytes() == edit_made  # the user's edit: never rewritten
        assert [w["kind"] for w in warned] == ["link", "link"], report["warnings"]
        assert "[[Foo 4|Foo]]" in warned[0]["message"]
        assert "change the link to [[Foo 5|Foo]]" in warned[0]["message"]
        assert "Foo 5.md" in warned[0]["message"]
    before = tree_bytes(into)
    again = run_cli(tmp_path, notion_server, into, None)
    assert again.returncode == 0, again.stderr + again.stdout
    data = json.loads(again.stdout)
    assert data["created"] == 0 and data["warnings"] == [], data
    assert tree_bytes(into) == before


def test_a_rerun_killed_between_a_rewrite_and_its_state_finishes_it(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The rerun that rewrites ``Index``'s links stops right after writing the note,
    before the state records it: the next run takes the rewritten note for the
    migration's own (not for an edit, which would stop the migration) and ends clean."""
    import syncbridge.migrate_relink
    from syncbridge.engine.faults import SimulatedCrash

    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    _notion_made_pages(tmp_path, notion, notion_server, capsys)
    into = tmp_path / "killed"
    into.mkdir()
    (into / "Foo 2.md").write_bytes(b"mine\n")
    assert run_cli(tmp_path, notion_server, into, "write:5:after").returncode == -9
    (into / "Foo 4.md").write_bytes(b"made meanwhile\n")

    def crash(*args: Any) -> None:
        raise SimulatedCrash("after the rewrite, before its state")

    with monkeypatch.context() as m:
        m.setattr(syncbridge.migrate_relink, "_save_vault_side", crash)
        with pytest.raises(SimulatedCrash):
            migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into))
    capsys.readouterr()
    rewritten = (into / "Index.md").read_bytes()
    assert b"[[Foo 5|Foo]]" in rewritten
    code, data = migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK and data["created"] == 0, data
    assert (into / "Index.md").read_bytes() == rewritten
    assert (into / "Foo 4.md").read_bytes() == b"made meanwhile\n"
    code, data = migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK and data["warnings"] == [], data


@pytest.mark.parametrize("kill_at", ["write:5:after", "write:6:before"])
@pytest.mark.parametrize("edited", [False, True])
def test_a_dry_run_after_the_kill_lists_the_link_rewrites_and_writes_nothing(
    tmp_path: Path,
    notion_server: NotionFakeServer,
    notion: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kill_at: str,
    edited: bool,
) -> None:
    """Killed after ``Index`` was written, ``Foo 4.md`` made by the user: ``--dry-run``
    lists each link the run would rewrite (note, link, old → new target), in the JSON
    and the text report, or, for an ``Index`` edited since, each link it would leave;
    the vault, the state file (its journal) and Notion are left as they were. The run
    after it does what the dry run said."""
    monkeypatch.setenv(TOKEN_ENV, notion_server.token)
    _notion_made_pages(tmp_path, notion, notion_server, capsys)
    into = tmp_path / "killed"
    into.mkdir()
    (into / "Foo 2.md").write_bytes(b"mine\n")
    assert run_cli(tmp_path, notion_server, into, kill_at).returncode == -9
    (into / "Foo 4.md").write_bytes(b"made meanwhile\n")
    index = into / "Index.md"
    if edited:
        index.write_text(index.read_text("utf-8") + "\nMy edit.\n", encoding="utf-8")
    before = tree_files(into)  # the notes and .syncbridge/: the state file, its journal
    reset_counts(notion_server)
    code, dry = migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into), "--dry-run")
    assert code == ExitCode.OK, dry
    assert changed_paths(before, tree_files(into)) == []
    assert not writes(request_counts(notion_server))
    about = [w for w in dry["warnings"] if w["id"] == "Index.md"]
    if not edited:
        assert [
            (w["kind"], w["link"], w["new"], w["old_target"], w["new_target"]) for w in about
        ] == [
            ("relink", "[[Foo 4|Foo]]", "[[Foo 5|Foo]]", "Foo 4.md", "Foo 5.md"),
            (
                "relink",
                "[[Foo 4|the second one]]",
                "[[Foo 5|the second one]]",
                "Foo 4.md",
                "Foo 5.md",
            ),
        ], dry["warnings"]
    else:
        assert [w["kind"] for w in about] == ["link", "link"], dry["warnings"]
        assert "change the link to [[Foo 5|Foo]]" in about[0]["message"]
    assert (
        main(
            [
                "migrate",
                "--from",
                "notion",
                "--into",
                str(into),
                "--dry-run",
                "--config",
                str(tmp_path / "syncbridge.toml"),
            ]
        )
        == ExitCode.OK
    )
    text = capsys.readouterr()[0]
    shown = (
        "[[Foo 4|Foo]] → [[Foo 5|Foo]] would be rewritten"
        if not edited
        else "change the link to [[Foo 5|Foo]]"
    )
    assert "Index.md: line " in text and shown in text, text
    assert changed_paths(before, tree_files(into)) == []
    code, done = migrate_cli(tmp_path, capsys, "--from", "notion", "--into", str(into))
    assert code == ExitCode.OK, done
    ran = [w["kind"] for w in done["warnings"] if w["id"] == "Index.md"]
    assert ran == (["link", "link"] if edited else ["relink"]), done["warnings"]
    assert (b"[[Foo 5|Foo]]" in index.read_bytes()) is not edited
