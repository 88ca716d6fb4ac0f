"""``syncbridge sync``, ``syncbridge status`` and ``syncbridge conflicts list|show|restore``.

Thin: load the config (:mod:`syncbridge.config`), open the vault, the state store and each
target's adapter, call the engine (:func:`syncbridge.engine.run_sync` and the conflict
functions), print. Errors propagate to :func:`syncbridge.cli.main`, which maps them to exit
codes; a safety stop in one target does not keep the other targets from syncing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from syncbridge.adapter import MISSING
from syncbridge.cli import ExitCode, exit_codes_text
from syncbridge.config import Config, Target, find_config, load_config
from syncbridge.errors import ConfigError, SafetyStop

if TYPE_CHECKING:
    from syncbridge.engine import SyncReport
    from syncbridge.state import ConflictEntry, StateStore
    from syncbridge.vault_adapter import VaultAdapter

__all__ = ["register"]

ProgressFn = Callable[[int, int], None]

# -- progress ------------------------------------------------------------------------------


class ProgressBar:
    """A one-line progress bar on ``stream`` (stderr), drawn only when it is a terminal.

    Redraws at most every 0.1 s and only once a run has lasted ``delay_s`` seconds, so short
    runs print nothing; :meth:`close` clears the line.
    """

    def __init__(self, stream: IO[str], *, enabled: bool, delay_s: float = 0.5) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.delay_s = delay_s
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.visible = False

    def callback(self, label: str) -> ProgressFn | None:
        """A ``progress(done, total)`` function drawing ``label``, or None when disabled."""
        if not self.enabled:
            return None

        def draw(done: int, total: int) -> None:
            now = time.monotonic()
            if now - self.started < self.delay_s or (now - self.drawn_at < 0.1 and done < total):
                return
            self.drawn_at = now
            width = 30
            filled = width * done // total if total else width
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r{label:<24.24} [{bar}] {done}/{total}")
            self.stream.flush()
            self.visible = True

        return draw

    def close(self) -> None:
        if self.visible:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()
            self.visible = False


# -- opening things ------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Config:
    return load_config(args.config if args.config else find_config())


def _targets(config: Config, name: str | None) -> list[Target]:
    if name is not None:
        return [config.target(name)]
    targets = [t for t in config.targets if t.section.enabled]
    if not targets:
        raise ConfigError(
            f"{config.path}: no enabled [[targets]]; add one (see config.example.toml)"
        )
    return targets


def _open_vault(config: Config, *, cache: bool, progress: ProgressFn | None) -> VaultAdapter:
    """Scan the vault and wrap it in the vault adapter, with the config's classes setup."""
    from syncbridge.vault import Vault
    from syncbridge.vault_adapter import VaultAdapter

    if not config.vault_path.is_dir():
        raise ConfigError(f"{config.path}: vault.path: {config.vault_path} is not a folder")
    cache_path = config.state_path.parent / "vault-index.json" if cache else None
    vault = Vault.open(
        config.vault_path,
        ignore=config.vault.ignore,
        cache_path=cache_path,
        progress=progress,
        default_class=config.sync.default_class,
        template_folders=config.vault.template_folders,
    )
    return VaultAdapter(
        vault,
        timezone=config.vault.timezone,
        last_modified_field=config.sync.last_modified_field,  # "": no such field
    )


@contextlib.contextmanager
def _state(config: Config, *, dry_run: bool) -> Iterator[StateStore]:
    """The state store; a dry run with no state file yet uses a throwaway one."""
    from syncbridge.state import StateStore

    if dry_run and not config.state_path.exists():
        with tempfile.TemporaryDirectory(prefix="syncbridge-dry-run-") as tmp:
            store = StateStore.open(Path(tmp) / "state.db")
            try:
                yield store
            finally:
                store.close()
        return
    store = StateStore.open(config.state_path)
    try:
        yield store
    finally:
        store.close()


# -- sync ----------------------------------------------------------------------------------


def _sync_one(
    config: Config,
    target: Target,
    vault: VaultAdapter,
    state: StateStore,
    args: argparse.Namespace,
    bar: ProgressBar,
) -> SyncReport:
    from syncbridge.engine import SyncReport, run_sync

    options = config.sync_options(target, dry_run=args.dry_run, force_delete=args.force_delete)
    restored = getattr(args, "restored", None)
    if restored:
        options = replace(options, restored=restored)
    with target.open() as remote:
        try:
            return run_sync(
                vault,
                remote,
                state,
                options,
                progress=bar.callback(f"syncing {target.name}"),
                schema=vault.vault.schema,
            )
        except SafetyStop as exc:
            return SyncReport(target=target.name, dry_run=args.dry_run, safety_stop=str(exc))
        finally:
            bar.close()


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
    for notice in report.notices:
        out.write(f"  note: {notice}\n")
    for item in report.errors:
        out.write(f"  error: {item.get('id', '?')}: {item.get('message', '')}\n")
    for item in report.skipped:
        out.write(f"  skipped: {item.get('id', '?')}: {item.get('message', '')}\n")
    for item in report.notices:
        out.write(f"  note: {item.get('id', '?')}: {item.get('message', '')}\n")


def _cmd_sync(args: argparse.Namespace) -> int:
    config = _load(args)
    targets = _targets(config, args.target)
    bar = ProgressBar(sys.stderr, enabled=not args.json)
    reports: list[tuple[Target, SyncReport]] = []
    use_cache = not args.dry_run or config.state_path.parent.exists()
    vault = _open_vault(config, cache=use_cache, progress=bar.callback("scanning vault"))
    bar.close()
    with _state(config, dry_run=args.dry_run) as state:
        for target in targets:
            # run_sync rescans the vault first, so each target sees what the previous wrote.
            reports.append((target, _sync_one(config, target, vault, state, args, bar)))
    if args.json:
        payload: dict[str, Any] = {
            "config": str(config.path),
            "dry_run": bool(args.dry_run),
            "targets": {},
        }
        for target, report in reports:
            entry = report.to_dict()
            if args.dry_run and report.plan is not None:
                entry["plan"] = report.plan.render().splitlines()
            payload["targets"][target.name] = entry
        payload["ok"] = all(not r.errors and not r.safety_stop for _, r in reports)
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for target, report in reports:
            if args.dry_run and report.plan is not None:
                sys.stdout.write(f"# plan for {target.name}\n{report.plan.render()}\n")
            _print_report(report, target, sys.stdout)
    stops = [r.safety_stop for _, r in reports if r.safety_stop]
    if stops:
        if args.json:
            sys.stderr.write(f"syncbridge: stopped: {stops[0]}\n")
        return ExitCode.STOPPED
    return ExitCode.PROBLEMS if any(r.blocked for _, r in reports) else ExitCode.OK


run_sync_command = _cmd_sync
"""``syncbridge sync`` with parsed ``args`` (``repair`` ends with one)."""


# -- status --------------------------------------------------------------------------------


def _cmd_status(args: argparse.Namespace) -> int:
    config = _load(args)
    targets = _targets(config, args.target)
    args.dry_run, args.force_delete = True, False
    bar = ProgressBar(sys.stderr, enabled=not args.json)
    vault = _open_vault(
        config, cache=config.state_path.parent.exists(), progress=bar.callback("scanning vault")
    )
    bar.close()
    rows: dict[str, Any] = {}
    with _state(config, dry_run=True) as state:
        for target in targets:
            report = _sync_one(config, target, vault, state, args, bar)
            conflicts = [c for c in state.conflicts(target.name) if c.restored_at is None]
            rows[target.name] = {
                "adapter": target.section.adapter,
                "linked": len(state.links(target.name)),
                "open_conflicts": len(conflicts),
                "pending": {"vault": report.vault.to_dict(), "remote": report.remote.to_dict()},
                "safety_stop": report.safety_stop,
            }
    if args.json:
        payload = {"config": str(config.path), "state": str(config.state_path), "targets": rows}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return 0
    out = sys.stdout
    out.write(f"config: {config.path}\nvault:  {config.vault_path}\n")
    out.write(f"state:  {config.state_path}\n")
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


def _conflict_dict(c: ConflictEntry) -> dict[str, Any]:
    return {
        "id": c.id,
        "target": c.target,
        "note": c.vault_id,
        "remote_id": c.remote_id,
        "field": c.field,
        "vault_value": None if c.vault_value is MISSING else c.vault_value,
        "vault_absent": c.vault_value is MISSING,
        "remote_value": None if c.remote_value is MISSING else c.remote_value,
        "remote_absent": c.remote_value is MISSING,
        "winner": c.winner,
        "decided_by": c.decided_by,
        "created_at": c.created_at.isoformat() if c.created_at else None,
        "restored_at": c.restored_at.isoformat() if c.restored_at else None,
        "copy": c.copy_id,
    }


def _when(c: ConflictEntry) -> str:
    return c.created_at.strftime("%Y-%m-%d %H:%M") if c.created_at else "?"


def _cmd_conflicts_list(args: argparse.Namespace) -> int:
    from syncbridge.engine import list_conflicts

    config = _load(args)
    if args.target is not None:
        config.target(args.target)  # an unknown name is an error, not an empty list
    with _state(config, dry_run=True) as state:
        entries = list_conflicts(state, args.target)
    if not args.all:
        entries = [c for c in entries if c.restored_at is None]
    if args.json:
        sys.stdout.write(json.dumps([_conflict_dict(c) for c in entries], indent=2) + "\n")
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
    from syncbridge.engine import get_conflict

    config = _load(args)
    with _state(config, dry_run=True) as state:
        c = get_conflict(state, args.id)
    if args.json:
        sys.stdout.write(json.dumps(_conflict_dict(c), ensure_ascii=False, indent=2) + "\n")
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
    from syncbridge.engine import get_conflict, restore_conflict

    config = _load(args)
    with _state(config, dry_run=False) as state:
        entry = get_conflict(state, args.id)
        target = config.target(entry.target)
        vault = _open_vault(config, cache=True, progress=None)
        with target.open() as remote:
            restored = restore_conflict(state, args.id, vault, remote)
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
        "value is kept in the conflict log. A target that looks put back from an older "
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
        "--dry-run", action="store_true", help="print what would change; write nothing"
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
