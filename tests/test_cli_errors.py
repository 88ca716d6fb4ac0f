"""The exit-code table is defined once (``syncbridge.cli.ExitCode``) and documented from
there; every failure is one line, an error object with ``--json``, and its own code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from syncbridge.cli import EXIT_MEANINGS, ExitCode, build_parser, exit_codes_text, main

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_is_the_exit_code_table() -> None:
    text = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", text, re.M))
    assert {int(k): v for k, v in rows.items()} == {
        int(code): meaning for code, meaning in EXIT_MEANINGS.items()
    }
    assert set(EXIT_MEANINGS) == set(ExitCode)


@pytest.mark.parametrize("command", [[], ["sync"], ["repair"]])
def test_help_prints_the_exit_code_table(command: list[str]) -> None:
    parser = build_parser()
    if command:
        sub = next(a for a in parser._actions if a.dest == "command")
        parser = sub.choices[command[0]]  # type: ignore[attr-defined]
    text = parser.format_help()
    assert exit_codes_text().strip() in text


def test_a_bug_is_exit_70_with_its_traceback_and_a_json_error(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syncbridge.engine as engine

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("something we did not expect")

    monkeypatch.setattr(engine, "run_sync", broken)
    code = main(["sync", "--json", "--config", str(project / "syncbridge.toml")])
    out, err = capsys.readouterr()
    assert code == ExitCode.INTERNAL == 70
    assert "Traceback" in err and "internal error (a bug in syncbridge" in err
    error = json.loads(out)["error"]
    assert error["code"] == 70 and error["kind"] == "internal"


def test_a_configuration_error_with_json_is_an_error_object(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "syncbridge.toml"
    config.write_text(
        '[vault]\npath = "missing"\n\n[[targets]]\nname = "x"\nadapter = "sqlite"\npath = "x.db"\n',
        encoding="utf-8",
    )
    code = main(["sync", "--json", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert json.loads(out)["error"]["kind"] == "configuration"
    assert len(err.strip().splitlines()) == 1
