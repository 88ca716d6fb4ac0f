"""``syncbridge doctor`` and ``syncbridge schema`` through the real console entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncbridge.cli import build_parser, main
from tests.conftest import EXAMPLE_VAULT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncbridge", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, root)
    return root


def test_doctor_on_example_vault_is_clean(vault: Path) -> None:
    result = run("doctor", str(vault), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == 0
    assert report["entries"] >= 20
    assert set(report["classes"]) >= {"attachment_theory", "wound", "emotion", "healing_pathway"}


def test_doctor_reports_problems_and_changes_nothing(vault: Path) -> None:
    bad = vault / "Psyche" / "Broken.md"
    bad.write_bytes(b"---\nfileClass: wound\nid: 1\nid: 2\n---\nbody\n")
    dup = vault / "Psyche" / "Twin.md"
    secure = (vault / "Psyche/Attachment/Secure Attachment.md").read_bytes()
    dup.write_bytes(secure)
    wrong = vault / "Psyche" / "Wrong.md"
    wrong.write_bytes("---\nfileClass: wound\nstatus: 🟪 purple\nintensity: lots\n---\n".encode())
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    result = run("doctor", str(vault))
    assert result.returncode == 1
    out = result.stdout
    assert "error: Psyche/Broken.md:4: " in out and "duplicate key 'id'" in out
    assert "Psyche/Twin.md" in out and "also used by Psyche/Attachment/Secure Attachment.md" in out
    assert "warning: Psyche/Wrong.md: status" in out
    assert "intensity" in out
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before


def test_doctor_warns_once_about_a_fileclass_nothing_defines(vault: Path) -> None:
    for name in ("Typo.md", "Typo 2.md"):
        (vault / "Psyche" / name).write_bytes(b"---\nfileClass: wuond\n---\nbody\n")
    result = run("doctor", str(vault), "--json")
    report = json.loads(result.stdout)
    found = [f for f in report["findings"] if f["kind"] == "undefined-class"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "fileClass 'wuond' has no definition note in Classes/ (a typo?)" in found[0]["message"]
    assert result.returncode == 0  # a warning: the notes still sync
    assert not [
        f
        for f in json.loads(run("doctor", str(EXAMPLE_VAULT), "--json").stdout)["findings"]
        if f["kind"] == "undefined-class"
    ]


def test_doctor_flags_notes_it_will_not_edit(vault: Path) -> None:
    (vault / "Flow.md").write_bytes(b"---\n{a: 1, b: 2}\n---\n")
    result = run("doctor", str(vault), "--json")
    findings = json.loads(result.stdout)["findings"]
    assert any(f["kind"] == "not-editable" and f["path"] == "Flow.md" for f in findings)
    assert result.returncode == 1


def test_schema_text_and_json(vault: Path) -> None:
    text = run("schema", str(vault), "--class", "attachment_theory")
    assert text.returncode == 0
    assert "attachment_theory" in text.stdout and "DateTime" in text.stdout
    data = json.loads(run("schema", str(vault), "--json").stdout)
    assert "wound" in json.dumps(data)
    js = json.loads(run("schema", str(vault), "--class", "wound", "--json-schema").stdout)
    assert "properties" in js and "intensity" in js["properties"]
    missing = run("schema", str(vault), "--class", "nope")
    assert missing.returncode == 2 and "known:" in missing.stderr


def test_missing_vault_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", str(tmp_path / "nope")])
    assert code == 1
    assert "not a folder" in capsys.readouterr().err


def _commands() -> list[str]:
    """Every subcommand the parser knows, found through argparse's subparsers action."""
    import argparse

    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert "syncbridge " + command.split()[0] in result.stdout
