"""The ``syncbridge`` command line. Only this package turns errors into exit codes.

Each command lives in a module of this package that exposes ``register(subparsers)``;
``main`` wires them up. Exit codes: 0 ok, 1 problems found / some notes could not be synced,
2 usage or configuration error, 3 a safety stop, 4 a transient failure.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
from collections.abc import Iterator, Sequence

from syncbridge.errors import ConfigError, FatalError, RetryableError, SafetyStop, SyncbridgeError

__all__ = ["main"]

# Modules of this package that register commands, in --help order.
COMMAND_MODULES = ("vault_cmds", "sync_cmds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncbridge",
        description="Lossless, bidirectional sync between an Obsidian vault and external tools.",
        epilog="Run 'syncbridge COMMAND --help' for a command's options and examples.",
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
    except SafetyStop as exc:
        print(f"syncbridge: stopped: {exc}", file=sys.stderr)
        return 3
    except ConfigError as exc:
        print(f"syncbridge: configuration error: {exc}", file=sys.stderr)
        return 2
    except FatalError as exc:
        print(f"syncbridge: error: {exc}", file=sys.stderr)
        return 2
    except RetryableError as exc:
        wait = getattr(exc, "retry_after_s", None)
        when = f"in {wait:g} s or later" if wait else "later"
        print(f"syncbridge: temporary failure, try again {when}: {exc}", file=sys.stderr)
        return 4
    except SyncbridgeError as exc:
        print(f"syncbridge: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("syncbridge: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
