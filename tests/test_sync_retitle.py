"""A record retitled in SQLite renames its note; both sides then agree and stay quiet."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from syncbridge.cli import main
from tests.conftest import EXAMPLE_VAULT


def _sync(config: Path, capsys: object) -> dict[str, object]:
    assert main(["sync", "--config", str(config), "--json"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    result: dict[str, object] = json.loads(out)["targets"]["local"]
    return result


def test_title_edited_in_sqlite_renames_the_note(tmp_path: Path, capsys: object) -> None:
    shutil.copytree(EXAMPLE_VAULT, tmp_path / "vault")
    config = tmp_path / "syncbridge.toml"
    config.write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "local"\n'
        'adapter = "sqlite"\npath = "demo.db"\n',
        encoding="utf-8",
    )
    _sync(config, capsys)
    old = tmp_path / "vault/Psyche/Attachment/Secure Attachment.md"
    data = old.read_bytes()
    with sqlite3.connect(tmp_path / "demo.db") as db:
        db.execute(
            "UPDATE attachment_theory SET title = 'Earned Security Base' "
            "WHERE title = 'Secure Attachment'"
        )
    report = _sync(config, capsys)
    new = tmp_path / "vault/Psyche/Attachment/Earned Security Base.md"
    assert new.exists() and not old.exists()
    # Only the last_modified stamp changed in the note's bytes.
    changed = [
        (a, b)
        for a, b in zip(data.splitlines(), new.read_bytes().splitlines(), strict=True)
        if a != b
    ]
    assert [a.split(b":")[0] for a, _ in changed] in ([], [b"last_modified"])
    assert report["vault"]["updated"] == 1  # type: ignore[index]
    # The five notes linking to it had their links rewritten, and reached SQLite in the
    # same run.
    assert report["links"]["notes"] == 5  # type: ignore[index]
    assert report["remote"]["updated"] == 5  # type: ignore[index]
    quiet = _sync(config, capsys)
    for side in ("vault", "remote"):
        counts = quiet[side]  # type: ignore[index]
        assert (counts["created"], counts["updated"], counts["deleted"]) == (0, 0, 0)
    with sqlite3.connect(tmp_path / "demo.db") as db:
        titles = {t for (t,) in db.execute("SELECT title FROM attachment_theory")}
    assert "Earned Security Base" in titles and "Secure Attachment" not in titles
