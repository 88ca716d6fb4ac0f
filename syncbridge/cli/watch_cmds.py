"""``syncbridge watch``: run the daemon in the foreground (what the service files run),
and what ``syncbridge status`` learns from a running daemon."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from syncbridge.config import Config, find_config

__all__ = ["daemon_status", "print_daemon_status", "register"]


def _cmd_watch(args: argparse.Namespace) -> int:
    # Until the daemon installs its own handlers (Daemon.run), SIGTERM ends the command
    # cleanly: nothing is in flight yet, and exit 0 is what a service manager expects.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    from syncbridge.daemon import Daemon
    from syncbridge.daemon.logs import configure_logging

    configure_logging(args.log_format, args.log_file)
    daemon = Daemon(args.config if args.config else find_config(), polling=args.polling)
    return daemon.run()


def daemon_status(config: Config, *, timeout_s: float = 5.0) -> dict[str, Any] | None:
    """The running daemon's status for ``config`` (``None`` when none runs): asked over
    the control API when it listens, else read from the status file it keeps."""
    from syncbridge.daemon.files import DaemonLock, daemon_files, read_json

    files = daemon_files(config.state_path)
    if not DaemonLock.held(files["lock"]):
        return None
    control = read_json(files["control"])
    if isinstance(control, dict) and control.get("url") and control.get("token"):
        request = urllib.request.Request(
            f"{control['url']}/status",
            headers={"Authorization": f"Bearer {control['token']}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                data = json.loads(answer.read())
                if isinstance(data, dict):
                    data["source"] = "control API"
                    return data
        except (OSError, ValueError, urllib.error.URLError):
            pass  # fall back to the file
    data = read_json(files["status"])
    if not isinstance(data, dict):
        data = {"daemon": {"running": True}, "targets": {}}
    data["source"] = "status file"
    return data


def print_daemon_status(status: dict[str, Any] | None, out: IO[str]) -> None:
    """Write the daemon part of ``syncbridge status``."""
    if status is None:
        out.write("daemon: not running (start it with: syncbridge watch)\n")
        return
    d = status.get("daemon", {})
    watching = d.get("watching", "?")
    out.write(
        f"daemon: running (pid {d.get('pid', '?')}, since {d.get('started_at', '?')}, "
        f"{watching} file events)\n"
    )
    if not d.get("vault_present", True):
        out.write("  the vault folder is gone: every target is paused\n")
    pending = d.get("pending_vault_changes", 0)
    if pending:
        out.write(f"  {pending} vault change(s) waiting for their debounce\n")
    for name, t in status.get("targets", {}).items():
        last = t.get("last_sync")
        when = f"last sync {last['at']}" if last else "not synced yet"
        state = t.get("state", "?")
        line = f"  {name}: {state}, {when}, {t.get('open_conflicts', 0)} open conflicts"
        if t.get("pending_local_changes"):
            line += ", local changes pending"
        out.write(line + "\n")
        if state != "ok":
            retry = t.get("retry_in_s")
            again = f" (next try in {retry:.0f} s)" if isinstance(retry, int | float) else ""
            out.write(f"    {t.get('reason')}{again}\n")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``watch`` to the ``syncbridge`` parser."""
    from syncbridge.cli.sync_cmds import _formatter

    watch = subparsers.add_parser(
        "watch",
        help="keep syncing in the background: vault events, target polls",
        description="Run the sync daemon in the foreground: vault changes are synced after "
        "[daemon] debounce_ms, each target is checked every poll_interval_s, a failing "
        "target backs off and a vanished vault or emptied target pauses. SIGINT/SIGTERM "
        "stop it cleanly (exit 0), SIGHUP reloads the config. One daemon per state: a second "
        "exits at once naming the first (exit 2). See docs/daemon.md for running it as a "
        "service, docs/control-api.md for its local API.",
        epilog="examples:\n"
        "  syncbridge watch --config ~/notes/syncbridge.toml\n"
        "  syncbridge watch --polling                       # network drive: no file events\n"
        "  syncbridge watch --log-format json --log-file ~/.local/state/syncbridge.log\n",
        formatter_class=_formatter,
    )
    watch.add_argument(
        "--config", metavar="FILE", type=Path, help="config file (default: ./syncbridge.toml)"
    )
    watch.add_argument(
        "--polling", action="store_true", help="watch the vault by polling instead of file events"
    )
    watch.add_argument(
        "--log-format",
        choices=("human", "json"),
        default="human",
        help="log lines for people (default) or one JSON object a line",
    )
    watch.add_argument(
        "--log-file",
        metavar="FILE",
        type=Path,
        help="log to FILE, rotated at 10 MB (5 kept); default: stderr",
    )
    watch.set_defaults(func=_cmd_watch)
