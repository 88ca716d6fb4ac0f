"""``syncbridge sync``, ``syncbridge status`` and ``syncbridge conflicts list|show|restore``.

Thin: open the configuration as a :class:`syncbridge.bridge.Bridge` (the library entry
point, which owns the vault, the state store and the adapters), call it, print. Errors
propagate to :func:`syncbridge.cli.main`, which maps them to exit codes; a safety stop in
one target does not keep the other targets from syncing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import syncbridge.bridge
from syncbridge.adapter import MISSING
from syncbridge.bridge import Bridge, conflict_to_dict
from syncbridge.cli import ExitCode, exit_codes_text
from syncbridge.cli.progress import ProgressBar
from syncbridge.config import Target

if TYPE_CHECKING:
    from syncbridge.engine import SyncReport
    from syncbridge.state import ConflictEntry

__all__ = ["register"]

# -- opening things ------------------------------------------------------------------------


def _bridge(args: argparse.Namespace) -> Bridge:
    return syncbridge.bridge.open(args.config)


def _counts_line(counts: dict[str, int]) -> str:
    keys = ("created", "updated", "deleted", "conflicts")
    parts = [f"{counts[k]} {k}" for k in keys if counts[k]]
    return ", ".join(parts) if parts else "no changes"


def _side_line(counts: dict[str, int]) -> str:
    line = _counts_line(counts)
    return f"{line} ({counts['unchanged']} unchanged)" if counts["unchanged"] else line


def _print_report(report: SyncReport, target: Target, out: IO[str]) -> None:
    data = report.to_dict()
    verb = "would sync" if report.dry_run else "synced"
    out.write(f"{target.name} ({target.section.adapter}): {verb}\n")
    if report.safety_stop:
        out.write(f"  STOPPED, nothing written: {report.safety_stop}\n")
        return
    for side in ("vault", "remote"):
        out.write(f"  {side + ':':<8}{_side_line(data[side])}\n")
    if report.recovered:
        out.write(f"  recovered {report.recovered} interrupted action(s) from the last run\n")
    links = report.links
    if links.notes:
        would = "would rewrite" if report.dry_run else "rewrote"
        out.write(
            f"  links:  {would} {links.links} link(s) to renamed notes in {links.notes} note(s)\n"
        )
    if links.pending:
        out.write(
            f"  links:  {links.pending} note(s) changed while their links were being "
            "rewritten; the next sync rewrites them over the new version\n"
        )
    for b in links.broken:
        out.write(f"  broken link: {b.path}:{b.line}: {b.link} (to {b.target}): {b.reason}\n")
    for problem in report.errors:
        out.write(f"  error: {problem.id}: {problem.message}\n")
    for problem in report.skipped:
        out.write(f"  skipped: {problem.id}: {problem.message}\n")
    for notice in report.notices:
        out.write(f"  note: {notice.id}: {notice.message}\n")


def _cmd_sync(args: argparse.Namespace) -> int:
    bar = ProgressBar(sys.stderr, enabled=not args.json)
    with _bridge(args) as bridge:
        targets = bridge.targets(args.target)
        try:
            synced = bridge.sync(
                args.target,
                dry_run=args.dry_run,
                force_delete=args.force_delete,
                restored=getattr(args, "restored", None) or "stop",
                progress=bar.callback(),
            )
        finally:
            bar.close()
        config = bridge.config
    if isinstance(synced, dict):
        reports = [(t, synced[t.name]) for t in targets]
    else:
        reports = [(targets[0], synced)]
    stops = [r.safety_stop for _, r in reports if r.safety_stop]
    code = _exit_code(reports)
    if args.json:
        payload: dict[str, Any] = {
            "config": str(config.path),
            "dry_run": bool(args.dry_run),
            "targets": {},
        }
        for target, report in reports:
            entry = report.to_dict()
            if args.dry_run and report.plan is not None:
                entry["plan"] = report.plan.render().splitlines() + report.links.render()
            payload["targets"][target.name] = entry
        payload["ok"] = code == ExitCode.OK  # the exit code's word, never another one
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for target, report in reports:
            if args.dry_run and report.plan is not None:
                sys.stdout.write(f"# plan for {target.name}\n{report.plan.render()}\n")
                for line in report.links.render():
                    sys.stdout.write(line + "\n")
            _print_report(report, target, sys.stdout)
    if stops and args.json:
        sys.stderr.write(f"syncbridge: stopped: {stops[0]}\n")
    return code


def _exit_code(reports: list[tuple[Target, SyncReport]]) -> ExitCode:
    """``STOPPED`` when a target's safety stop held, ``PROBLEMS`` when an entry could not be
    synced until the user fixes it, else ``OK``."""
    if any(r.safety_stop for _, r in reports):
        return ExitCode.STOPPED
    return ExitCode.PROBLEMS if any(r.blocked for _, r in reports) else ExitCode.OK


run_sync_command = _cmd_sync
"""``syncbridge sync`` with parsed ``args`` (``repair`` ends with one)."""


# -- status --------------------------------------------------------------------------------


def _cmd_status(args: argparse.Namespace) -> int:
    from syncbridge.cli.watch_cmds import daemon_status, print_daemon_status

    bar = ProgressBar(sys.stderr, enabled=not args.json)
    with _bridge(args) as bridge:
        try:
            statuses = bridge.status(args.target, progress=bar.callback())
        finally:
            bar.close()
        config = bridge.config
    daemon = daemon_status(config)
    rows: dict[str, Any] = {name: st.to_dict() for name, st in statuses.items()}
    if args.json:
        payload = {
            "config": str(config.path),
            "state": str(config.state_path),
            "daemon": daemon,
            "targets": rows,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return 0
    out = sys.stdout
    out.write(f"config: {config.path}\nvault:  {config.vault_path}\n")
    out.write(f"state:  {config.state_path}\n")
    print_daemon_status(daemon, out)
    for name, row in rows.items():
        out.write(f"{name} ({row['adapter']}): {row['linked']} linked entries, ")
        out.write(f"{row['open_conflicts']} open conflicts\n")
        for side in ("vault", "remote"):
            pending = _counts_line(row["pending"][side])
            pending = "up to date" if pending == "no changes" else f"would be {pending}"
            out.write(f"  {side + ':':<8}{pending}\n")
        if row["safety_stop"]:
            out.write(f"  a sync would stop: {row['safety_stop']}\n")
    return 0


# -- conflicts -----------------------------------------------------------------------------


def _value(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)


def _when(c: ConflictEntry) -> str:
    return c.created_at.strftime("%Y-%m-%d %H:%M") if c.created_at else "?"


def _cmd_conflicts_list(args: argparse.Namespace) -> int:
    with _bridge(args) as bridge:
        entries = bridge.conflicts(args.target, include_restored=args.all)
    if args.json:
        sys.stdout.write(json.dumps([conflict_to_dict(c) for c in entries], indent=2) + "\n")
        return 0
    if not entries:
        sys.stdout.write("no conflicts\n")
        return 0
    sys.stdout.write(
        f"{'ID':>4}  {'WHEN (UTC)':<16}  {'TARGET':<10}  {'WINNER':<7}  NOTE / FIELD\n"
    )
    for c in entries:
        state_mark = " (restored)" if c.restored_at else ""
        sys.stdout.write(
            f"{c.id:>4}  {_when(c):<16}  {c.target:<10.10}  {c.winner or 'manual':<7}  "
            f"{c.vault_id or c.remote_id} / {c.field}{state_mark}\n"
        )
    sys.stdout.write("show one with: syncbridge conflicts show ID\n")
    return 0


def _cmd_conflicts_show(args: argparse.Namespace) -> int:
    with _bridge(args) as bridge:
        c = bridge.conflict(args.id)
    if args.json:
        sys.stdout.write(json.dumps(conflict_to_dict(c), ensure_ascii=False, indent=2) + "\n")
        return 0
    winner = c.winner or "nobody yet (manual strategy)"
    lines = [
        f"conflict {c.id} on target {c.target}, {_when(c)} UTC",
        f"note:    {c.vault_id or '(none)'}  (remote id {c.remote_id or '(none)'})",
        f"field:   {c.field}",
        f"vault:   {_value(c.vault_value)}",
        f"remote:  {_value(c.remote_value)}",
        f"winner:  {winner}, decided by {c.decided_by}",
        f"kept:    {_value(c.loser_value)}",
    ]
    if c.copy_id:
        lines.append(f"copy:    {c.copy_id}")
    if c.restored_at:
        lines.append(f"restored {c.restored_at:%Y-%m-%d %H:%M} UTC")
    else:
        lines.append(f"put the kept value back with: syncbridge conflicts restore {c.id}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _cmd_conflicts_restore(args: argparse.Namespace) -> int:
    with _bridge(args) as bridge:
        restored = bridge.restore(args.id)
    sys.stdout.write(
        f"restored {_value(restored.loser_value)} into {restored.field} of "
        f"{restored.vault_id or restored.remote_id}; run 'syncbridge sync' to carry it "
        "to the other side\n"
    )
    return 0


# -- parser --------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, target: bool = True) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="config file (default: ./syncbridge.toml); relative paths in it are "
        "resolved against its folder",
    )
    if target:
        parser.add_argument(
            "--target", metavar="NAME", help="only this [[targets]] entry (default: all enabled)"
        )


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps one-line descriptions; keeps multi-line text (the examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return _HelpFormatter(prog, max_help_position=32)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sync``, ``status`` and ``conflicts`` to the ``syncbridge`` parser."""
    sync = subparsers.add_parser(
        "sync",
        help="sync the vault with every target, both ways",
        description="Sync the vault with the configured targets in both directions, merging "
        "per field. Conflicts are decided by last_modified (configurable) and the losing "
        "value is kept in the conflict log. A note renamed because its record was retitled "
        "takes its links along: every link to it in other notes is rewritten, as Obsidian "
        "does (vault.update_links). A target that looks put back from an older "
        "copy stops the run before any write (choose with --take-target or --push-vault); "
        "a state file put back from an older copy is set aside and the two sides paired "
        "again. Exit status 1 also covers notes sharing an id and notes that cannot be "
        "told apart from others (both skipped, named).",
        epilog="examples:\n"
        "  syncbridge sync --config syncbridge.toml\n"
        "  syncbridge sync --dry-run              # print the plan per note and field\n"
        "  syncbridge sync --target local --json  # counts per side as one JSON object\n"
        "  syncbridge sync --target local --take-target   # after restoring the database\n"
        "\n" + exit_codes_text(),
        formatter_class=_formatter,
    )
    _common(sync)
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change, per note and field, and the diff of each note whose "
        "links would be rewritten; write and send nothing anywhere (work an interrupted "
        "run left, such as a Notion page move, is listed, not finished)",
    )
    sync.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: per target, counts of created, updated, deleted, "
        "conflicts and unchanged entries on each side (vault, remote)",
    )
    sync.add_argument(
        "--force-delete",
        action="store_true",
        help="allow a run that deletes more than sync.max_delete_fraction of the linked "
        "entries, or that finds a side empty",
    )
    restored = sync.add_mutually_exclusive_group()
    restored.add_argument(
        "--take-target",
        dest="restored",
        action="store_const",
        const="take_target",
        help="when the target looks restored from an older copy: take it as it is (notes "
        "get its values; every vault value it overwrites is kept in the conflict log)",
    )
    restored.add_argument(
        "--push-vault",
        dest="restored",
        action="store_const",
        const="push_vault",
        help="when the target looks restored from an older copy: write the vault's state "
        "back into it (every value overwritten there is kept in the conflict log)",
    )
    sync.set_defaults(func=_cmd_sync)

    status = subparsers.add_parser(
        "status",
        help="show what a sync would change, per target",
        description="Show, per target, the linked entries, open conflicts and what a sync "
        "would change on each side. Writes nothing.",
        epilog="examples:\n  syncbridge status\n  syncbridge status --target local --json\n",
        formatter_class=_formatter,
    )
    _common(status)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=_cmd_status)

    conflicts = subparsers.add_parser(
        "conflicts",
        help="list, show and restore the values that lost a conflict",
        description="Every value that lost a conflict is kept in the conflict log; list "
        "them, show one, or put one back.",
        epilog="examples:\n"
        "  syncbridge conflicts list\n"
        "  syncbridge conflicts show 3\n"
        "  syncbridge conflicts restore 3 && syncbridge sync\n",
        formatter_class=_formatter,
    )
    actions = conflicts.add_subparsers(dest="conflicts_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="list open conflicts",
        description="List the conflicts not restored yet (with --all, every one).",
        epilog="example:\n  syncbridge conflicts list --target local --all\n",
        formatter_class=_formatter,
    )
    _common(listing)
    listing.add_argument("--all", action="store_true", help="include restored conflicts")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=_cmd_conflicts_list)
    show = actions.add_parser(
        "show",
        help="show both values of one conflict",
        description="Show both values of a conflict, who won and why, and the value kept.",
        epilog="example:\n  syncbridge conflicts show 3\n",
        formatter_class=_formatter,
    )
    _common(show, target=False)
    show.add_argument("id", type=int, metavar="ID", help="conflict id from 'conflicts list'")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    show.set_defaults(func=_cmd_conflicts_show)
    restore = actions.add_parser(
        "restore",
        help="put the losing value back into the note",
        description="Write the losing value of a conflict back into the note (or the remote "
        "record when the note is gone); the next sync carries it to the other side.",
        epilog="example:\n  syncbridge conflicts restore 3 && syncbridge sync\n",
        formatter_class=_formatter,
    )
    _common(restore, target=False)
    restore.add_argument("id", type=int, metavar="ID", help="conflict id from 'conflicts list'")
    restore.set_defaults(func=_cmd_conflicts_restore)
