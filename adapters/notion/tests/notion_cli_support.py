"""The example vault with a config for the local Notion server, and ``syncbridge migrate``
on it through the CLI: in process (the JSON report), or as a process the tests may
SIGKILL at a write (``SYNCBRIDGE_TEST_KILL_AT``). The harness of the migration and
dry-run tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV
from syncbridge_notion_fake import NotionFakeServer

from syncbridge.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"


def make_project(root: Path, server: NotionFakeServer) -> Path:
    """A copy of the example vault in ``root/vault`` and ``root/syncbridge.toml`` with
    one target, ``notion``, on ``server``'s root page; ``root``."""
    shutil.copytree(EXAMPLE, root / "vault")
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{server.url}"\nrequests_per_s = 1000.0\nburst = 100\n',
        encoding="utf-8",
    )
    return root


def migrate_cli(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """``syncbridge migrate ARGS --json`` with ``root``'s config, in process: the exit
    status and the report."""
    code = main(["migrate", *args, "--json", "--config", str(root / "syncbridge.toml")])
    return code, json.loads(capsys.readouterr()[0])


def migrate_process(
    root: Path, server: NotionFakeServer, *args: str, kill_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``syncbridge migrate ARGS --json`` with ``root``'s config in a process of its own,
    SIGKILLed at ``kill_at`` (``write:N:POINT``) when given."""
    env = {k: v for k, v in os.environ.items() if k != "SYNCBRIDGE_TEST_KILL_AT"}
    env[TOKEN_ENV] = server.token
    if kill_at:
        env["SYNCBRIDGE_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "syncbridge",
            "migrate",
            *args,
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
