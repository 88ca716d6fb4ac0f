"""``syncbridge migrate --to TARGET``: the one-shot migration of a whole vault.

Thin: :func:`syncbridge.migrate.migrate_to` over the :class:`~syncbridge.bridge.Bridge`
does the work (the engine's initial sync in one direction, journaled, so a rerun resumes);
this prints its report and maps it to an exit status.
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
from syncbridge.errors import ConfigError
from syncbridge.migrate import migrate_to

__all__ = ["register"]


def _cmd_migrate(args: argparse.Namespace) -> int:
    if args.source is not None or args.into is not None:
        raise ConfigError(
            "migrate --from TARGET --into VAULT (target to vault) is not implemented yet; "
            "use 'syncbridge sync' into an empty vault for now"
        )
    if args.to is None:
        raise ConfigError("migrate needs --to TARGET (a [[targets]] name of the config)")
    bar = ProgressBar(sys.stderr, enabled=not args.json, eta=True)
    with syncbridge.bridge.open(args.config) as bridge:
        try:
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
        if not report.dry_run and report.ok:
            sys.stdout.write(
                f"done; from now on 'syncbridge sync --target {report.target}' (or 'watch') "
                "keeps both sides in step\n"
            )
    return ExitCode.OK if report.ok else ExitCode.PROBLEMS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate`` to the ``syncbridge`` parser."""
    p = subparsers.add_parser(
        "migrate",
        help="send a whole vault to a target once (resumable), with a report",
        description="Send every note of the vault to one target: the target's collections "
        "are made from the vault's classes (for Notion: a database per fileClass), every "
        "note is created with its fields and body, and the links are recorded in the state, "
        "so 'syncbridge sync' and 'watch' continue from there. The vault is only read. "
        "Interrupted (Ctrl-C, a crash, SIGKILL), the same command continues where it "
        "stopped and creates nothing twice. One note that cannot be sent does not stop the "
        "others: the report lists it with its reason and the exit status is 1. The report "
        "is printed and saved beside the state file (mode 0600). A target that already "
        "holds records no note is linked to stops the migration before anything is sent.",
        epilog="examples:\n"
        "  syncbridge migrate --config syncbridge.toml --to notion --dry-run\n"
        "  syncbridge migrate --config syncbridge.toml --to notion\n"
        "  syncbridge migrate --to local --json      # the report as one JSON object\n"
        "  syncbridge migrate --to notion            # again after an interruption: resumes\n"
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
        "--from", dest="source", metavar="TARGET",
        help="(not implemented yet) migrate a target into a vault",
    )
    p.add_argument("--into", metavar="VAULT", help="(not implemented yet) with --from")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing: print what would be created (counts per class) and every "
        "problem found (notes that cannot be sent, links to no note)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument(
        "--report-dir",
        metavar="DIR",
        type=Path,
        help="folder for the saved report (default: the state file's folder)",
    )
    p.set_defaults(func=_cmd_migrate)
