"""A two-class vault (projects and tasks linking both ways) synced into the local Notion
server through the real notion-client: the harness of the relation and class-change
tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notion_adapter_support import adapter_for
from syncbridge_notion import NotionAdapter
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.state import StateStore
from syncbridge.vault import Vault
from syncbridge.vault.adapter import VaultAdapter

TZ = "Europe/Paris"

MDM = {"classFilesPath": "Classes/", "fileClassAlias": "fileClass"}
PROJECT_CLASS = """---
fields:
  - name: tasks
    type: MultiFile
    options:
      dvQueryString: dv.pages('"Tasks"')
    display: asArray
    path: ""
    id: p1Task
  - name: lead_task
    type: File
    options:
      dvQueryString: dv.pages('"Tasks"')
    path: ""
    id: p2Lead
  - name: budget
    type: Number
    options: {}
    path: ""
    id: p3Budg
---
"""
TASK_CLASS = """---
fields:
  - name: project
    type: File
    options:
      dvQueryString: dv.pages('"Projects"')
    path: ""
    id: t1Proj
  - name: blocked_by
    type: MultiFile
    options:
      dvQueryString: dv.pages('"Tasks"')
    display: asArray
    path: ""
    id: t2Blck
  - name: estimate
    type: Number
    options: {}
    path: ""
    id: t3Estm
---
"""


def _note(fields: dict[str, Any], body: str) -> str:
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f'  - "{item}"' for item in value)
        elif isinstance(value, str) and value.startswith("[["):
            lines.append(f'{key}: "{value}"')
        else:
            lines.append(f"{key}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n" + body


def two_class_vault(root: Path) -> None:
    """Projects link to tasks, tasks link to their project and to other tasks; one
    project links to a note that does not exist (Ghost)."""
    (root / ".obsidian" / "plugins" / "metadata-menu").mkdir(parents=True)
    (root / ".obsidian" / "plugins" / "metadata-menu" / "data.json").write_text(
        json.dumps(MDM), encoding="utf-8"
    )
    (root / "Classes").mkdir()
    (root / "Classes" / "project.md").write_text(PROJECT_CLASS, encoding="utf-8")
    (root / "Classes" / "task.md").write_text(TASK_CLASS, encoding="utf-8")
    (root / "Projects").mkdir()
    (root / "Tasks").mkdir()
    files = {
        "Projects/Alpha.md": _note(
            {
                "fileClass": "project",
                "tasks": ["[[Write spec]]", "[[Tasks/Ship|Ship it]]", "[[Ghost]]"],
                "lead_task": "[[Write spec]]",
                "budget": 10,
            },
            "Alpha project.\n",
        ),
        "Projects/Beta.md": _note(
            {"fileClass": "project", "tasks": ["[[Ship]]"], "budget": 3}, "Beta.\n"
        ),
        "Tasks/Write spec.md": _note(
            {"fileClass": "task", "project": "[[Alpha]]", "blocked_by": [], "estimate": 2},
            "Spec it.\n",
        ),
        "Tasks/Ship.md": _note(
            {
                "fileClass": "task",
                "project": "[[Alpha]]",
                "blocked_by": ["[[Write spec]]"],
                "estimate": 5,
            },
            "Ship it.\n",
        ),
    }
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")


class Run:
    """A vault folder and a state file syncing into the server's root page."""

    def __init__(self, root: Path, server: NotionFakeServer, monkeypatch: Any) -> None:
        self.root = root
        self.server = server
        self.monkeypatch = monkeypatch
        self.state = StateStore.open(root / ".syncbridge" / "state.db")
        self.remote: NotionAdapter = self.open_remote()

    def open_remote(self) -> NotionAdapter:
        return adapter_for(self.server, self.root, self.monkeypatch, timezone=TZ)

    def sync(self) -> dict[str, Any]:
        self.remote.close()
        self.remote = self.open_remote()
        vault = VaultAdapter(Vault.open(self.root / "vault"), timezone=TZ)
        options = SyncOptions(target="notion", timezone=TZ)
        report = run_sync(vault, self.remote, self.state, options, schema=vault.vault.schema)
        assert report.errors == [], report.errors
        return report.to_dict()

    def close(self) -> None:
        self.remote.close()
        self.state.close()

    def page(self, title: str) -> dict[str, Any]:
        hits = [
            p
            for p in self.server.store.pages.values()
            if not p.get("in_trash") and self.server.store.page_title(p) == title
        ]
        assert len(hits) == 1, f"{len(hits)} pages titled {title!r}"
        return self.remote.api.page(hits[0]["id"])

    def related(self, title: str, prop: str) -> list[str]:
        """The titles of every page in ``title``'s relation ``prop`` (the property
        endpoint: complete past 25)."""
        page = self.page(title)
        if prop not in page["properties"]:
            return []  # no relation property (yet)
        prop_id = page["properties"][prop]["id"]
        ids = [i["relation"]["id"] for i in self.remote.api.property_items(page["id"], prop_id)]
        return [self.server.store.page_title(self.server.store.page(i)) for i in ids]

    def relation_target(self, class_name: str, prop: str) -> str:
        """The data source a class's relation property points at."""
        _, source, _ = self.remote.cache.layouts()[class_name]
        schema = self.remote.api.data_source(source)["properties"]
        return str(schema[prop]["relation"]["data_source_id"])

    def source_of(self, class_name: str) -> str:
        return str(self.remote.cache.layouts()[class_name][1])


def notes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}
