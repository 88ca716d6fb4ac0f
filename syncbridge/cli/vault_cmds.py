"""``syncbridge doctor`` and ``syncbridge schema``: read-only looks at a vault."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from syncbridge.cli import ExitCode
from syncbridge.cli.progress import ProgressBar
from syncbridge.vault.doctor import diagnose
from syncbridge.vault.vault import Vault

__all__ = ["register"]

DOCTOR_EPILOG = """\
examples:
  syncbridge doctor examples/vault
  syncbridge doctor ~/Notes --json | jq '.findings[] | select(.severity == "error")'
  syncbridge doctor ~/Notes --ignore 'Archive/**' --quick

  syncbridge doctor --config syncbridge.toml   # the config's vault, state file and targets

With --config (or without VAULT, using ./syncbridge.toml) the state file is checked too
(SQLite's check, and every row decoded as sync decodes it, checksums compared), and each
target is opened: a damaged file or a -wal/-shm left beside a moved database is named.

exit status: 0 when every note can be synced (warnings allowed), 1 when some notes would be
skipped, 2 for a usage error, 6 when the state or a target file is damaged (run
'syncbridge repair --config FILE' for the state). Nothing is ever written.
"""

SCHEMA_EPILOG = """\
examples:
  syncbridge schema examples/vault
  syncbridge schema examples/vault --class attachment_theory
  syncbridge schema examples/vault --json > schema.json
  syncbridge schema examples/vault --class wound --json-schema
"""


def register(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check a vault: unreadable notes, values that do not fit, duplicate ids",
        description="Check every note of VAULT the way sync will read it, and report what "
        "it would skip or could not type. Read-only.",
        epilog=DOCTOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.add_argument(
        "vault",
        metavar="VAULT",
        nargs="?",
        help="path of the Obsidian vault (default: the config's)",
    )
    doctor.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="also check this config's state file and targets",
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.add_argument(
        "--id-field",
        default="id",
        metavar="KEY",
        help="frontmatter key holding each note's id (default: id)",
    )
    doctor.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip notes whose vault-relative path matches GLOB (repeatable)",
    )
    doctor.add_argument(
        "--quick",
        action="store_true",
        help="skip the (slower) check that every frontmatter can be edited",
    )
    doctor.add_argument(
        "--all", action="store_true", help="also list info findings (unresolved links)"
    )
    doctor.set_defaults(func=run_doctor)

    schema = sub.add_parser(
        "schema",
        help="print the schema derived from Metadata Menu, types.json and the notes",
        description="Print the classes and typed fields syncbridge derives for VAULT from "
        "Metadata Menu fileClasses, .obsidian/types.json and inference.",
        epilog=SCHEMA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("vault", metavar="VAULT", help="path of the Obsidian vault")
    schema.add_argument("--class", dest="class_name", metavar="NAME", help="only this class")
    out = schema.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the schema as JSON")
    out.add_argument(
        "--json-schema",
        action="store_true",
        help="print the JSON Schema of one class (needs --class)",
    )
    schema.set_defaults(func=run_schema)


def _open(path: str, ignore: list[str], quiet: bool) -> Vault:
    bar = ProgressBar(sys.stderr, enabled=not quiet)
    try:
        return Vault.open(path, ignore=ignore, progress=bar.phase("Scanning"))
    finally:
        bar.close()


def _setup_findings(args: argparse.Namespace) -> tuple[str | None, list[str], list[str]]:
    """(the vault path, problems of the state file and targets, what is fine) when a
    config is given or VAULT is left out; ``(VAULT, [], [])`` otherwise."""
    from syncbridge.config import find_config, load_config
    from syncbridge.errors import SyncbridgeError
    from syncbridge.state.check import check_state

    if args.config is None and args.vault is not None:
        return args.vault, [], []
    config = load_config(args.config if args.config else find_config())
    problems: list[str] = []
    fine: list[str] = []
    state = check_state(config.state_path)
    if not state.exists and state.ok:
        fine.append(f"state: {config.state_path} does not exist yet (no sync has run)")
    elif state.ok:
        fine.append(
            f"state: {config.state_path}: sound ({state.links} links,"
            f" {state.conflicts} logged conflicts)"
        )
    else:
        problems += [f"state: {p}" for p in state.problems]
        problems.append(
            f"state: run 'syncbridge repair --config {config.path}' to rebuild it"
            " (the damaged file is kept as a backup)"
        )
    for target in config.targets:
        try:
            with target.open():
                pass
        except SyncbridgeError as exc:
            problems.append(f"target {target.name}: {exc}")
        else:
            fine.append(f"target {target.name} ({target.section.adapter}): opens")
    return args.vault or str(config.vault_path), problems, fine


def run_doctor(args: argparse.Namespace) -> int:
    vault_path, setup_problems, setup_fine = _setup_findings(args)
    assert vault_path is not None
    vault = _open(vault_path, args.ignore, args.json)
    bar = ProgressBar(sys.stderr, enabled=not args.json)
    try:
        report = diagnose(
            vault,
            id_field=args.id_field,
            check_edits=not args.quick,
            progress=bar.phase("Checking"),
        )
    finally:
        bar.close()
    if args.json:
        code = ExitCode.DAMAGED if setup_problems else (0 if report.ok else 1)
        data = {"ok": code == 0, **report.to_dict()}  # the exit code's word
        if setup_problems or setup_fine:
            data["setup"] = {"problems": setup_problems, "ok": setup_fine}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return code
    for line in setup_fine:
        print(line)
    for line in setup_problems:
        print(f"error: {line}")
    shown = [f for f in report.findings if args.all or f.severity != "info"]
    for finding in shown:
        print(finding)
    classes = ", ".join(f"{name} {n}" for name, n in report.classes.items()) or "none"
    print(f"{report.notes} notes, {report.entries} entries ({classes})")
    print(
        f"{report.count('error')} errors, {report.count('warning')} warnings, "
        f"{report.count('info')} unresolved links"
        + ("" if args.all or not report.count("info") else " (--all lists them)")
    )
    if setup_problems:
        print("The state file or a target is damaged: see the errors above.", file=sys.stderr)
        return ExitCode.DAMAGED
    if report.ok:
        print("Every note can be synced.")
        return 0
    print("Notes with errors will be skipped by sync until they are fixed.", file=sys.stderr)
    return 1


def run_schema(args: argparse.Namespace) -> int:
    from syncbridge.schema import VaultSchema
    from syncbridge.schema.pydantic_models import pydantic_model
    from syncbridge.schema.render import render_schema_text, schema_to_dict

    vault = _open(args.vault, [], args.json or args.json_schema)
    schema: VaultSchema = vault.schema
    if args.class_name is not None:
        if args.class_name not in schema.classes:
            known = ", ".join(sorted(schema.classes)) or "none"
            print(
                f"syncbridge: no class {args.class_name!r} in {args.vault} (known: {known})",
                file=sys.stderr,
            )
            return 2
        schema = VaultSchema(
            **{**schema.__dict__, "classes": {args.class_name: schema.classes[args.class_name]}}
        )
    if args.json_schema:
        if args.class_name is None:
            print("syncbridge: --json-schema needs --class NAME", file=sys.stderr)
            return 2
        model = pydantic_model(schema.classes[args.class_name])
        print(json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2))
    elif args.json:
        print(json.dumps(schema_to_dict(schema), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_schema_text(schema), end="")
    return 0
