"""Options of one sync run and the per-target filters that decide which notes are entries."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from syncbridge.adapter import Record

__all__ = ["ConflictStrategy", "Filters", "Side", "SyncOptions", "TieBreaker", "path_matches"]

Side = Literal["vault", "remote"]
ConflictStrategy = Literal["last_modified", "vault_wins", "remote_wins", "manual"]
TieBreaker = Literal["vault", "remote"]


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob: ``**`` spans folders, ``*`` and ``?`` stay within one name.

    A pattern ending in ``/`` matches everything under that folder (``Private/``).
    """
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def path_matches(path: str, pattern: str) -> bool:
    """Whether a vault-relative POSIX ``path`` matches the glob ``pattern``."""
    return _glob_regex(pattern).match(path) is not None


def _value_matches(value: Any, excluded: tuple[Any, ...]) -> bool:
    if isinstance(value, list):
        return any(item in excluded for item in value)
    return value in excluded


@dataclass(frozen=True)
class Filters:
    """Which vault notes a target receives.

    ``include`` / ``exclude``: path globs on the vault path (``Private/**``, ``*.draft.md``);
    an empty ``include`` admits every path. ``classes`` / ``exclude_classes``: class names.
    ``exclude_values``: field name → values that keep a note out (a list-valued field is
    out when any item is listed), e.g. ``{"visibility": ("🔒 private",)}``.

    A note filtered out is never created on the target; a linked note that becomes
    filtered out is frozen (neither side is written, the link is kept; see docs/sync.md).
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    exclude_classes: tuple[str, ...] = ()
    exclude_values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    exclude_paths: frozenset[str] = frozenset()
    """Exact vault paths kept out (no glob): one run's own, not a config key
    (:meth:`syncbridge.bridge.Bridge.run`'s ``keep_out``)."""
    vault_ignore: tuple[str, ...] = ()
    """The vault's own ``ignore`` patterns (``[vault] ignore``): a linked note the vault no
    longer lists because its path is ignored now is frozen like a filtered-out one (its
    record is kept), never taken for deleted."""

    def ignored_in_vault(self, path: str) -> str | None:
        """The ``vault_ignore`` pattern hiding vault path ``path`` (the note or one of its
        folders, matched as the vault's scan matches them), or None."""
        parts = path.split("/")
        names = ["/".join(parts[:i]) for i in range(1, len(parts))] + [path]
        for pattern in self.vault_ignore:
            for name in names:
                if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name + "/", pattern):
                    return pattern
        return None

    def reason_excluded(self, record: Record, *, path: str | None) -> str | None:
        """Why ``record`` (a vault note at ``path``) is not an entry of the target, or None."""
        if path is not None:
            if path in self.exclude_paths:
                return "kept out of this run"
            if self.include and not any(path_matches(path, p) for p in self.include):
                return "path not included"
            for pattern in self.exclude:
                if path_matches(path, pattern):
                    return f"path excluded by {pattern!r}"
        if self.classes and record.class_name not in self.classes:
            return f"class {record.class_name!r} not included"
        if record.class_name in self.exclude_classes:
            return f"class {record.class_name!r} excluded"
        for name, values in self.exclude_values.items():
            if name in record.fields and _value_matches(record.fields[name], tuple(values)):
                return f"{name} = {record.fields[name]!r} excluded"
        return None


@dataclass(frozen=True)
class SyncOptions:
    """How one target is synced: the vault with one remote (the target).

    ``id_field``: frontmatter key identifying a note across sides (``None``: paths and
    content only). ``last_modified_field``: the note's modification-time key, stamped when
    remote changes are written into a note that has it. ``timezone``: zoneinfo name of
    that field's local time (``None``: this machine's zone). ``conflict``: how true
    conflicts are decided; ``tie_breaker``: who wins equal times. ``max_delete_fraction``:
    share of linked entries one run may delete on a side before a :class:`SafetyStop`
    (``force_delete`` lifts it). ``dry_run``: plan only, write nothing.
    """

    target: str = "default"
    id_field: str | None = "id"
    last_modified_field: str | None = "last_modified"
    timezone: str | None = None
    conflict: ConflictStrategy = "last_modified"
    tie_breaker: TieBreaker = "vault"
    max_delete_fraction: float = 0.5
    force_delete: bool = False
    dry_run: bool = False
    filters: Filters = field(default_factory=Filters)
    vault_ids_are_paths: bool = True
    """The vault adapter's record ids are vault-relative paths (path filters apply)."""
    restored: Literal["stop", "take_target", "push_vault"] = "stop"
    """What to do when the target looks put back from an older copy
    (:mod:`syncbridge.engine.lineage`): ``stop`` before writing (the default),
    ``take_target`` (notes take its values; the vault values it overwrites are logged as
    conflicts) or ``push_vault`` (the vault's state is written back into it)."""
    computed_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Class → fields the vault computes (Metadata Menu Formula, Lookup): sent to the
    remote, never written into a note. ``run_sync`` fills it from the schema."""
    update_links: bool = True
    """When the sync renames a note, rewrite the links to it in other notes (as Obsidian's
    "Automatically update internal links" does); off: report them as broken instead."""

    def __post_init__(self) -> None:
        if self.conflict not in ("last_modified", "vault_wins", "remote_wins", "manual"):
            raise ValueError(f"unknown conflict strategy {self.conflict!r}")
        if self.tie_breaker not in ("vault", "remote"):
            raise ValueError(f"unknown tie_breaker {self.tie_breaker!r}")
        if self.restored not in ("stop", "take_target", "push_vault"):
            raise ValueError(f"unknown restored choice {self.restored!r}")
        if not 0.0 <= self.max_delete_fraction <= 1.0:
            raise ValueError("max_delete_fraction must be between 0 and 1")
