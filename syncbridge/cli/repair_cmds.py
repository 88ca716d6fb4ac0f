"""``syncbridge repair``: rebuild a damaged, empty or unreadable state file.

The damaged file (with its ``-wal`` / ``-shm``) is moved aside as a backup, never deleted;
a new state is created, the conflict log's readable rows are carried over (no losing value
is forgotten), and a sync pairs the vault with every enabled target again as after a lost
state (by id, path and content: nothing is created twice).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from syncbridge.cli import ExitCode, exit_codes_text
from syncbridge.config import find_config, load_config
from syncbridge.state.check import check_state
from syncbridge.storage import os_failure

__all__ = ["register"]


def _move_aside(path: Path) -> Path:
    """Move the state file and its ``-wal`` / ``-shm`` to ``<name>.damaged-<UTC time>``
    (the same suffix on each, so they still belong together); return the new path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            try:
                os.replace(source, backup.with_name(backup.name + suffix))
            except OSError as exc:
                failure = os_failure(exc, source, "moving the damaged state aside")
                if failure is None:
                    raise
                raise failure from exc
    return backup


def _cmd_repair(args: argparse.Namespace) -> int:
    from syncbridge.cli.sync_cmds import run_sync_command

    config = load_config(args.config if args.config else find_config())
    path = config.state_path
    found = check_state(path)
    if found.ok and not args.force:
        what = "does not exist yet" if not found.exists else "is sound"
        sys.stdout.write(f"{path} {what}: nothing to repair (--force rebuilds it anyway)\n")
        return ExitCode.OK
    from syncbridge.state import StateStore

    out = sys.stderr if args.json else sys.stdout
    for problem in found.problems:
        out.write(f"found: {problem}\n")
    backup = _move_aside(path)
    with StateStore.open(path) as store:
        kept = store.salvage_conflicts(backup)
    out.write(
        f"the old state file is kept as {backup}; {kept} conflict log entries carried over\n"
        "pairing the vault with its targets again (by id, path and content):\n"
    )
    args.dry_run, args.force_delete, args.restored = False, False, None
    return run_sync_command(args)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``repair`` to the ``syncbridge`` parser."""
    from syncbridge.cli.sync_cmds import _common, _formatter

    repair = subparsers.add_parser(
        "repair",
        help="rebuild a damaged state file by pairing the vault with its targets again",
        description="Check the state file (as 'syncbridge doctor --config' does). If it is "
        "damaged, empty or unreadable: move it aside as a backup (never deleted), start a new "
        "one with the readable part of the conflict log, and sync every enabled target, "
        "pairing notes and records again by id, path and content as after a lost state "
        "(nothing is created twice; values that differ are merged as conflicts, the losing "
        "value kept).",
        epilog="examples:\n"
        "  syncbridge doctor --config syncbridge.toml   # says whether the state is damaged\n"
        "  syncbridge repair --config syncbridge.toml\n"
        "\n" + exit_codes_text(),
        formatter_class=_formatter,
    )
    _common(repair)
    repair.add_argument("--json", action="store_true", help="print the sync as one JSON object")
    repair.add_argument(
        "--force", action="store_true", help="rebuild the state even if it looks sound"
    )
    repair.set_defaults(func=_cmd_repair)
