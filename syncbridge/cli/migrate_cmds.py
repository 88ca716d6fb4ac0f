"""``syncbridge migrate --to TARGET`` / ``--from TARGET --into VAULT``: the one-shot
migration of a whole vault into a target, or of a target into a vault.

Thin: :func:`syncbridge.migrate.migrate_to` over the :class:`~syncbridge.bridge.Bridge`
and :func:`syncbridge.migrate_from.migrate_from` do the work (the engine's initial sync in
one direction, journaled, so a rerun resumes); this prints their report and maps it to an
exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import syncbridge.bridge
from syncbridge.cli import ExitCode, exit_codes_text
from syncbridge.cli.progress import ProgressBar
from syncbridge.cli.sync_cmds import _formatter
from syncbridge.config import find_config, load_config
from syncbridge.errors import ConfigError
from syncbridge.migrate import MigrationReport, migrate_to
from syncbridge.migrate_from import migrate_from

__all__ = ["register"]


def _cmd_migrate(args: argparse.Namespace) -> int:
    if args.to is not None and (args.source is not None or args.into is not None):
        raise ConfigError("migrate takes either --to TARGET or --from TARGET --into VAULT")
    if (args.source is None) != (args.into is None):
        raise ConfigError(
            "migrate --from TARGET needs --into VAULT (the vault folder), and --into needs --from"
        )
    if args.to is None and args.source is None:
        raise ConfigError(
            "migrate needs --to TARGET (a [[targets]] name of the config), "
            "or --from TARGET --into VAULT"
        )
    bar = ProgressBar(sys.stderr, enabled=not args.json, eta=True)
    report: MigrationReport
    try:
        if args.source is not None:
            config = load_config(args.config if args.config is not None else find_config())
            report = migrate_from(
                config,
                args.source,
                args.into,
                dry_run=args.dry_run,
                progress=bar.callback(),
                report_dir=args.report_dir,
            )
        else:
            with syncbridge.bridge.open(args.config) as bridge:
                report = migrate_to(
                    bridge,
                    args.to,
                    dry_run=args.dry_run,
                    progress=bar.callback(),
                    report_dir=args.report_dir,
                )
    finally:
        bar.close()
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(report.render())
        if report.saved_to:
            sys.stdout.write(f"report saved to {report.saved_to}\n")
        if not report.dry_run and report.ok and report.direction == "to":
            sys.stdout.write(
                f"done; from now on 'syncbridge sync --target {report.target}' (or 'watch') "
                "keeps both sides in step\n"
            )
        elif not report.dry_run and report.ok:
            sys.stdout.write(
                f"done; to keep {report.vault} in step with {report.target}, sync it with a "
                "config whose [vault] path is that folder (and, unless it is this config's "
                "vault, [state] path = '<vault>/.syncbridge/state.db')\n"
            )
    return ExitCode.OK if report.ok else ExitCode.PROBLEMS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate`` to the ``syncbridge`` parser."""
    p = subparsers.add_parser(
        "migrate",
        help="send a whole vault to a target once, or a target into a vault (resumable)",
        description="--to TARGET: send every note of the vault to one target: the target's "
        "collections "
        "are made from the vault's classes (for Notion: a database per fileClass), every "
        "note is created with its fields and body, and the links are recorded in the state, "
        "so 'syncbridge sync' and 'watch' continue from there. The vault is only read. "
        "Interrupted (Ctrl-C, a crash, SIGKILL), the same command continues where it "
        "stopped and creates nothing twice. One note that cannot be sent does not stop the "
        "others: the report lists it with its reason and the exit status is 1. The report "
        "is printed and saved beside the state file (mode 0600). A target that already "
        "holds records no note is linked to stops the migration before anything is sent.\n\n"
        "--from TARGET --into VAULT: the reverse, into an empty or existing vault folder: "
        "a note per record, named from its title (sanitized; a taken name gets a number, "
        "an existing note is never replaced), in its class folder ([vault] class_folders), "
        'frontmatter in the class\'s field order, relations as "[[links]]" (to the name '
        "the linked note got); Metadata Menu fileClass notes for the target's classes "
        "when the vault has none, typed by the target's own schema when it has one "
        "(Notion: property types, select options), else from the values. Notes of the "
        "vault the target lacks are left alone; a record that would change an existing "
        "note stops the migration before any write. A vault other than the config's gets "
        "its own state file, VAULT/.syncbridge/state.db.",
        epilog="examples:\n"
        "  syncbridge migrate --config syncbridge.toml --to notion --dry-run\n"
        "  syncbridge migrate --config syncbridge.toml --to notion\n"
        "  syncbridge migrate --to local --json      # the report as one JSON object\n"
        "  syncbridge migrate --to notion            # again after an interruption: resumes\n"
        "  syncbridge migrate --from notion --into ~/NewVault --dry-run\n"
        "  syncbridge migrate --from notion --into ~/NewVault\n"
        "\n" + exit_codes_text(),
        formatter_class=_formatter,
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="config file (default: ./syncbridge.toml); relative paths in it are "
        "resolved against its folder",
    )
    p.add_argument("--to", metavar="TARGET", help="the [[targets]] name to migrate into")
    p.add_argument(
        "--from",
        dest="source",
        metavar="TARGET",
        help="the [[targets]] name to migrate from, into the vault of --into",
    )
    p.add_argument(
        "--into",
        metavar="VAULT",
        type=Path,
        help="with --from: the vault folder (created if missing; may hold notes)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="write and send nothing (work an interrupted run left to the target is "
        "listed, not finished): print what would be created (counts per class) and "
        "every problem found, counted per class (notes that cannot be sent, values the "
        "target would reject, links to no note, names that collide)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--report-dir",
        metavar="DIR",
        type=Path,
        help="folder for the saved report (default: the state file's folder)",
    )
    p.set_defaults(func=_cmd_migrate)
