"""The token from the system keyring (the ``keyring`` extra, ``keyring = true``), through a
real keyring backend: ``keyrings.alt``'s plaintext file backend (in the test extras), in a
temporary data folder. It is the one backend that runs here (no desktop secret service, no
macOS Keychain in CI); the adapter calls the ``keyring`` library the same way for every
backend, and the library picks the backend from ``PYTHON_KEYRING_BACKEND``.

The CLI runs as a separate process (``python -m syncbridge sync``), so the keyring library
starts from that environment exactly as a user's shell would give it, and the token is
never in the environment variable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from notion_adapter_support import TOKEN_ENV, adapter_for
from syncbridge_notion.client import NotionAuthError, read_token
from syncbridge_notion_fake import NotionFakeServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "vault"
BACKEND = "keyrings.alt.file.PlaintextKeyring"

keyring = pytest.importorskip("keyring", reason="the keyring extra is in the test extras")
pytest.importorskip("keyrings.alt", reason="keyrings.alt is in the test extras")


def _keyring_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose keyring is a plaintext file under ``tmp_path`` (not the
    user's), with no token in the variable."""
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env["PYTHON_KEYRING_BACKEND"] = BACKEND
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return env


def _store_token(env: dict[str, str], token: str) -> None:
    """``keyring set`` as a user would run it (the library's own command line)."""
    subprocess.run(
        [sys.executable, "-m", "keyring", "set", "syncbridge", TOKEN_ENV],
        input=token + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _project(root: Path, server: NotionFakeServer, *, use_keyring: bool) -> Path:
    shutil.copytree(EXAMPLE, root / "vault")
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\ntimezone = "UTC"\n\n'
        '[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{server.root_page_id}"\ntoken_env = "{TOKEN_ENV}"\n'
        f'base_url = "{server.url}"\nrequests_per_s = 1000.0\nburst = 100\n'
        f"keyring = {'true' if use_keyring else 'false'}\n",
        encoding="utf-8",
    )
    return root / "syncbridge.toml"


def _sync(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncbridge", "sync", "--json", "--config", str(config)],
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )


def test_the_cli_syncs_with_the_token_from_a_real_keyring(
    tmp_path: Path, notion_server: NotionFakeServer
) -> None:
    env = _keyring_env(tmp_path)
    _store_token(env, notion_server.token)
    stored = tmp_path / "data" / "python_keyring" / "keyring_pass.cfg"
    assert stored.is_file()  # the backend really wrote its file
    config = _project(tmp_path / "project", notion_server, use_keyring=True)
    result = _sync(config, env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["targets"]["notion"]
    assert report["remote"]["created"] > 10, report
    # the token is in no output and no file syncbridge wrote
    assert notion_server.token not in result.stdout + result.stderr
    for path in (tmp_path / "project").rglob("*"):
        if path.is_file():
            assert notion_server.token.encode() not in path.read_bytes(), path


def test_without_the_keyring_setting_the_keyring_is_not_read(
    tmp_path: Path, notion_server: NotionFakeServer
) -> None:
    env = _keyring_env(tmp_path)
    _store_token(env, notion_server.token)
    config = _project(tmp_path / "project", notion_server, use_keyring=False)
    result = _sync(config, env)
    assert result.returncode != 0
    assert f"no Notion token in the environment variable {TOKEN_ENV}:" in result.stderr
    assert "keyring" not in result.stderr
    assert notion_server.token not in result.stdout + result.stderr


def test_an_empty_keyring_says_where_the_token_was_looked_for(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "empty.cfg")  # type: ignore[misc]
    monkeypatch.setattr(keyring, "get_password", backend.get_password)
    remote = adapter_for(notion_server, tmp_path, monkeypatch, keyring=True)
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(
        NotionAuthError,
        match=rf"the environment variable {TOKEN_ENV} or the "
        rf"keyring \(service 'syncbridge', user '{TOKEN_ENV}'\)",
    ):
        read_token(remote.notion_config)
    backend.set_password("syncbridge", TOKEN_ENV, " " + notion_server.token + "\n")
    assert read_token(remote.notion_config) == notion_server.token  # trimmed
    assert remote.api.me()["type"] == "bot"  # and it is the one sent
    remote.close()


def test_keyring_true_without_the_extra_says_what_to_install(
    tmp_path: Path, notion_server: NotionFakeServer, monkeypatch: Any
) -> None:
    remote = adapter_for(notion_server, tmp_path, monkeypatch, keyring=True)
    monkeypatch.delenv(TOKEN_ENV)
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if not installed
    with pytest.raises(NotionAuthError, match=r"pip install 'syncbridge-notion\[keyring\]'"):
        read_token(remote.notion_config)
    remote.close()
