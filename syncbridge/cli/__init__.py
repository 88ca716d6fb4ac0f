"""The ``syncbridge`` command line. Only this package turns errors into exit codes.

Each command lives in a module of this package that exposes ``register(subparsers)``;
``main`` wires them up. The exit codes are :class:`ExitCode`, the one table of them (the
README and ``--help`` print it from here); every failure is one line on stderr naming the
file and what to do, and with ``--json`` also one error object on stdout::

    {"ok": false, "error": {"code": 5, "kind": "disk_full", "path": "...", "message": "..."}}
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import gc
import importlib
import json
import sqlite3
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from syncbridge.errors import (
    ConfigError,
    DamagedFile,
    FatalError,
    RetryableError,
    SafetyStop,
    StorageFailure,
    SyncbridgeError,
    SyncLocked,
    TargetRestored,
)

__all__ = ["EXIT_MEANINGS", "ExitCode", "main"]


class ExitCode(enum.IntEnum):
    """Exit status of every ``syncbridge`` command: the one table (``EXIT_MEANINGS`` says
    what each means; ``--help`` and the README print it from there)."""

    OK = 0
    PROBLEMS = 1
    USAGE = 2
    STOPPED = 3
    TEMPORARY = 4
    ENVIRONMENT = 5
    DAMAGED = 6
    INTERNAL = 70
    INTERRUPTED = 130


EXIT_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done; everything synced (doctor: every note can be synced)",
    ExitCode.PROBLEMS: "done, but some notes could not be synced or have problems (listed)",
    ExitCode.USAGE: "usage or configuration error; nothing was done",
    ExitCode.STOPPED: "a safety guard stopped before any write: a mass delete, an empty "
    "side, a target restored from an older copy",
    ExitCode.TEMPORARY: "another sync holds the lock, or the remote is unreachable: try "
    "again later",
    ExitCode.ENVIRONMENT: "the disk or file system refused: full, read-only, I/O error, no "
    "permission, a file-size limit",
    ExitCode.DAMAGED: "a state or database file is damaged, empty or left over: see "
    "'syncbridge doctor --config', 'syncbridge repair'",
    ExitCode.INTERNAL: "a bug in syncbridge (its traceback is printed): please report it",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_codes_text() -> str:
    """The exit-code table as lines for ``--help`` epilogs."""
    return "exit status:\n" + "".join(
        f"  {code.value:>3}  {EXIT_MEANINGS[code]}\n" for code in ExitCode
    )


def _describe(exc: BaseException) -> tuple[ExitCode, str, str]:
    """(exit code, kind for --json, the one line for stderr) of a failure."""
    if isinstance(exc, TargetRestored):
        return ExitCode.STOPPED, "restored_target", f"stopped: {exc}"
    if isinstance(exc, SafetyStop):
        return ExitCode.STOPPED, "safety_stop", f"stopped: {exc}"
    if isinstance(exc, ConfigError):
        return ExitCode.USAGE, "configuration", f"configuration error: {exc}"
    if isinstance(exc, StorageFailure):
        return ExitCode.ENVIRONMENT, exc.reason, f"error: {exc}"
    if isinstance(exc, DamagedFile):
        return ExitCode.DAMAGED, "damaged", f"error: {exc}"
    if isinstance(exc, FatalError):
        return ExitCode.USAGE, "error", f"error: {exc}"
    if isinstance(exc, SyncLocked):
        return ExitCode.TEMPORARY, "locked", f"temporary failure, try again: {exc}"
    if isinstance(exc, RetryableError):
        wait = getattr(exc, "retry_after_s", None)  # RemoteUnavailable: what the remote asked
        when = f" in {wait:g} s or later" if wait else ""
        return ExitCode.TEMPORARY, "unavailable", f"temporary failure, try again{when}: {exc}"
    if isinstance(exc, SyncbridgeError):
        return ExitCode.PROBLEMS, "error", str(exc)
    from syncbridge.storage import os_failure

    if isinstance(exc, OSError):
        failure = os_failure(exc, exc.filename, "")
        if failure is not None:
            return ExitCode.ENVIRONMENT, failure.reason, f"error: {failure}"
        return ExitCode.ENVIRONMENT, "os_error", f"error: {exc}"
    if isinstance(exc, sqlite3.Error):
        return ExitCode.ENVIRONMENT, "sqlite", f"error: SQLite: {exc}"
    return (
        ExitCode.INTERNAL,
        "internal",
        f"internal error (a bug in syncbridge; please report it with the traceback above): "
        f"{type(exc).__name__}: {exc}",
    )


def _fail(exc: BaseException, args: argparse.Namespace) -> int:
    """Print ``exc`` as one line on stderr (and an error object with ``--json``)."""
    code, kind, line = _describe(exc)
    if code == ExitCode.INTERNAL:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"syncbridge: {line}", file=sys.stderr)
    if getattr(args, "json", False):
        error: dict[str, Any] = {"code": int(code), "kind": kind, "message": line}
        path = getattr(exc, "path", None)
        if isinstance(path, str) or path is None:
            error["path"] = path
        else:
            error["path"] = str(path)
        sys.stdout.write(json.dumps({"ok": False, "error": error}, ensure_ascii=False) + "\n")
    return int(code)


# Modules of this package that register commands, in --help order.
COMMAND_MODULES = ("vault_cmds", "sync_cmds", "migrate_cmds", "watch_cmds", "repair_cmds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncbridge",
        description="Lossless, bidirectional sync between an Obsidian vault and external tools.",
        epilog="Run 'syncbridge COMMAND --help' for a command's options and examples.\n\n"
        + exit_codes_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"syncbridge.cli.{name}")
        except ModuleNotFoundError as exc:  # a command module not written yet
            if exc.name != f"syncbridge.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


# Cyclic-GC thresholds while a command runs. A sync holds one small object graph per note
# (10,000 notes: millions of objects) that lives until the command ends, and hardly makes
# reference cycles; at Python's default (700, 10, 10) the collector re-walks that graph
# thousands of times, about 6% of an initial sync (docs/benchmarks.md). mypy does the same.
BATCH_GC_THRESHOLDS = (50_000, 20, 20)


@contextlib.contextmanager
def batch_gc() -> Iterator[None]:
    """Collect cyclic garbage less often inside the block (see ``BATCH_GC_THRESHOLDS``);
    the previous thresholds are restored on the way out."""
    previous = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with batch_gc():
            code: int = args.func(args)
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return ExitCode.OK
    except KeyboardInterrupt:
        print("syncbridge: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # every failure: one line, its own exit code
        return _fail(exc, args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
