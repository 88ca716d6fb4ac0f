"""The sync as a library call: one configured bridge between the vault and its targets.

>>> import syncbridge                                             # doctest: +SKIP
>>> with syncbridge.open("syncbridge.toml") as bridge:            # doctest: +SKIP
...     report = bridge.sync("local")          # one target: its SyncReport
...     reports = bridge.sync()                # every enabled target: name -> SyncReport
...     bridge.status()["local"].linked
...     [c.field for c in bridge.conflicts()]

A :class:`Bridge` owns what a run needs and keeps it between calls: the scanned vault (each
run rescans it, which reads only what changed), the state store and one open adapter per
target. The CLI (``syncbridge sync``, ``status``, ``conflicts``) and the daemon
(``syncbridge watch``) are thin layers over it; nothing else assembles adapters, state and
options. Close it (or use ``with``) to release the state file and the adapters.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from syncbridge.adapter import MISSING, Adapter
from syncbridge.config import Config, Target, find_config, load_config
from syncbridge.errors import ConfigError, SafetyStop

if TYPE_CHECKING:
    from syncbridge.engine import SyncReport
    from syncbridge.state import ConflictEntry, StateStore
    from syncbridge.vault.adapter import VaultAdapter

__all__ = ["Bridge", "ProgressFn", "TargetStatus", "conflict_to_dict", "open"]

RestoredChoice = Literal["stop", "take_target", "push_vault"]
"""What a sync does with a target that looks restored from an older copy."""

ProgressFn = Callable[[str, int, int], None]
"""``progress(label, done, total)``: ``label`` names the phase ("scanning vault",
"syncing local")."""


@dataclass(frozen=True)
class TargetStatus:
    """Where one target stands, without writing anything (:meth:`Bridge.status`).

    ``linked``: entries paired with a remote record; ``open_conflicts``: conflicts not
    restored; ``pending``: the dry-run report of what a sync would do now (its
    ``safety_stop`` says whether it would stop).
    """

    target: str
    adapter: str
    linked: int
    open_conflicts: int
    pending: SyncReport

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the shape of ``syncbridge status --json``)."""
        return {
            "adapter": self.adapter,
            "linked": self.linked,
            "open_conflicts": self.open_conflicts,
            "pending": {
                "vault": self.pending.vault.to_dict(),
                "remote": self.pending.remote.to_dict(),
            },
            "safety_stop": self.pending.safety_stop,
        }


class Bridge:
    """The vault, the state store and the targets of one configuration.

    Build it with :func:`open`. Every method may scan the vault (the first call) and opens
    the state store and adapters it needs on first use; they stay open until
    :meth:`close`. Not thread-safe: call it from one thread at a time.
    """

    def __init__(self, config: Config, *, stop: threading.Event | None = None) -> None:
        """``stop``: an event that, once set, cuts short the targets' waits before a
        request (:meth:`~syncbridge.adapter.Adapter.stop_waiting_on`; the daemon's stop)."""
        self.config = config
        self._stop = stop
        self._vault: VaultAdapter | None = None
        self._state: StateStore | None = None
        self._remotes: dict[str, Adapter] = {}

    # -- what it holds ------------------------------------------------------------------

    def targets(self, name: str | None = None) -> list[Target]:
        """``[the target called name]``, or every enabled target (``ConfigError`` when
        the name is unknown or no target is enabled)."""
        if name is not None:
            return [self.config.target(name)]
        targets = [t for t in self.config.targets if t.section.enabled]
        if not targets:
            raise ConfigError(
                f"{self.config.path}: no enabled [[targets]]; add one (see config.example.toml)"
            )
        return targets

    def vault(
        self, *, progress: ProgressFn | None = None, cache: bool = True, dry_run: bool = False
    ) -> VaultAdapter:
        """The vault adapter; the first call scans the vault (``cache``: with the index
        cache beside the state file, which it writes; ``dry_run``: reads it, writes
        nothing: :meth:`syncbridge.vault.Vault.dry_run`). ``ConfigError`` when
        ``vault.path`` is not a folder."""
        if self._vault is None:
            self._vault = _open_vault(self.config, cache=cache, dry_run=dry_run, progress=progress)
        return self._vault

    def remote(self, name: str) -> Adapter:
        """The open adapter of target ``name`` (opened on first use, kept until close)."""
        adapter = self._remotes.get(name)
        if adapter is None:
            adapter = self._remotes[name] = self.config.target(name).open()
            if self._stop is not None:
                adapter.stop_waiting_on(self._stop)
        return adapter

    def state(self) -> StateStore:
        """The state store (created on first use, mode 0600)."""
        from syncbridge.state import StateStore

        if self._state is None:
            self._state = StateStore.open(self.config.state_path)
        return self._state

    @contextlib.contextmanager
    def state_scope(self, *, writes: bool) -> Iterator[StateStore]:
        """The state store for a stretch of calls of :meth:`run`: the bridge's own (created
        on first use) when ``writes`` or when it is open already; otherwise a throwaway
        one in a temporary folder, removed on exit, that is a copy of the state file when
        there is one (empty when there is none), so a dry run changes no byte of it and
        one before any sync leaves no file behind. Side effects: may create the state
        file (``writes``)."""
        from syncbridge.errors import SyncbridgeError
        from syncbridge.state import StateStore

        if writes or self._state is not None:
            yield self.state()
            return
        path = self.config.state_path
        with tempfile.TemporaryDirectory(prefix="syncbridge-dry-run-") as tmp:
            copy = Path(tmp) / "state.db"
            if path.exists():
                # read through a copy: opening the file in place makes SQLite's -wal and
                # -shm beside it, and closing it folds in a WAL a killed run left (or
                # migrates an older file): writes. The copy reads the same rows.
                _copy_sqlite(path, copy)
                try:
                    store = StateStore.open(copy)
                except SyncbridgeError:
                    yield self.state()  # damaged, newer ...: said of the file itself
                    return
                store.path = path  # what its messages name
            else:
                store = StateStore.open(copy)
            try:
                yield store
            finally:
                store.close()

    # -- sync -----------------------------------------------------------------------------

    @overload
    def sync(
        self,
        target: str,
        *,
        dry_run: bool = ...,
        force_delete: bool = ...,
        restored: RestoredChoice = ...,
        progress: ProgressFn | None = ...,
        changed: Collection[str] | None = ...,
    ) -> SyncReport: ...

    @overload
    def sync(
        self,
        target: None = ...,
        *,
        dry_run: bool = ...,
        force_delete: bool = ...,
        restored: RestoredChoice = ...,
        progress: ProgressFn | None = ...,
        changed: Collection[str] | None = ...,
    ) -> dict[str, SyncReport]: ...

    def sync(
        self,
        target: str | None = None,
        *,
        dry_run: bool = False,
        force_delete: bool = False,
        restored: RestoredChoice = "stop",
        progress: ProgressFn | None = None,
        changed: Collection[str] | None = None,
    ) -> SyncReport | dict[str, SyncReport]:
        """Sync the vault with ``target`` (its :class:`SyncReport`), or with every enabled
        target in config order (target name → report).

        Side effects: writes the vault, the targets and the state store (nothing under
        ``dry_run``: the reports' counts and ``plan`` say what would change). A safety stop
        (mass delete, an emptied side) writes nothing to that target and is reported in
        its report's ``safety_stop``; the other targets still sync. ``force_delete`` lifts
        the mass-delete guard; ``restored`` says what to do with a target that looks put
        back from an older copy (``"stop"``, ``"take_target"``, ``"push_vault"``: the CLI's
        ``--take-target`` / ``--push-vault``). Raises :class:`~syncbridge.errors.SyncLocked`
        when another run of the target holds its lock, ``RemoteUnavailable`` when a target
        cannot be reached, ``ConfigError`` for an unknown target.

        ``changed``: the vault paths that are the only ones that can have changed since the
        bridge last scanned the vault (the daemon's file events): the incremental pass,
        which rescans those notes alone (:meth:`syncbridge.vault.Vault.rescan` with
        ``paths``) and plans and executes as a full one does. ``None`` (the default, and
        the first call always): every note is looked at.
        """
        targets = self.targets(target)
        if self._vault is None:
            changed = None  # the first scan of this bridge reads the whole vault anyway
        self.vault(progress=progress, dry_run=dry_run)  # scanned once, before any target
        reports: dict[str, SyncReport] = {}
        with self.state_scope(writes=not dry_run) as state:
            for t in targets:
                # run_sync rescans the vault first, so each target sees what the previous wrote
                reports[t.name] = self.run(
                    t.name,
                    state,
                    dry_run=dry_run,
                    force_delete=force_delete,
                    restored=restored,
                    progress=progress,
                    changed=changed,
                )
        return reports[target] if target is not None else reports

    def run(
        self,
        target: str,
        state: StateStore,
        *,
        dry_run: bool = False,
        force_delete: bool = False,
        restored: RestoredChoice = "stop",
        progress: ProgressFn | None = None,
        keep_out: Collection[str] = (),
        changed: Collection[str] | None = None,
    ) -> SyncReport:
        """One engine run (:func:`syncbridge.engine.run_sync`) of ``target`` with ``state``
        (from :meth:`state_scope`): what :meth:`sync` does for each target, for callers
        that plan and then run with one state (``syncbridge migrate``).

        The vault is rescanned first (only the ``changed`` paths when given: see
        :meth:`sync`). ``keep_out``: vault paths kept out of this run only
        (never sent, never paired, as a target's ``exclude`` would). A safety stop writes
        nothing and is returned in the report's ``safety_stop``. Side effects and errors as
        :meth:`sync` (nothing written under ``dry_run``).
        """
        from syncbridge.engine import SyncReport, run_sync

        t = self.config.target(target)
        vault = self.vault(progress=progress, dry_run=dry_run)
        options = self.config.sync_options(t, dry_run=dry_run, force_delete=force_delete)
        if restored != "stop":
            options = replace(options, restored=restored)
        if keep_out:
            filters = replace(options.filters, exclude_paths=frozenset(keep_out))
            options = replace(options, filters=filters)
        label = f"syncing {t.name}"
        # Rescan before taking the schema: a schema built from the index of the last run
        # would be stale (a class a note just gained), and the run's own rescan would then
        # build it a second time. The run's rescan finds nothing more to read.
        with vault.scoped(changed), vault.dry_run() if dry_run else contextlib.nullcontext():
            vault.refresh()
            try:
                return run_sync(
                    vault,
                    self.remote(t.name),
                    state,
                    options,
                    progress=(lambda done, total: progress(label, done, total))
                    if progress
                    else None,
                    schema=vault.vault.schema,
                )
            except SafetyStop as exc:
                return SyncReport(target=t.name, dry_run=dry_run, safety_stop=str(exc))

    def begin_run(self) -> dict[str, str]:
        """End this sync run and start the next; returns what the ending run held (vault
        path → why). A note found emptied is held, skipped by every sync of the run that
        first saw it, in case a save was caught halfway (:meth:`Vault.held`), and taken as
        the user's edit from the next run on. A process is one run; a caller that lives
        across runs (the daemon, after each round of syncs) calls this between them. No
        I/O; nothing to do before the vault is scanned."""
        if self._vault is None:
            return {}
        vault = self._vault.vault
        held = vault.held()
        vault.begin_run()
        return held

    # -- status and conflicts -------------------------------------------------------------

    def status(
        self, target: str | None = None, *, progress: ProgressFn | None = None
    ) -> dict[str, TargetStatus]:
        """Per target (``target``, or every enabled one): links, open conflicts and what a
        sync would change now. Writes nothing (a dry run of each target)."""
        targets = self.targets(target)
        self.vault(progress=progress, dry_run=True)
        out: dict[str, TargetStatus] = {}
        with self.state_scope(writes=False) as state:
            for t in targets:
                report = self.run(t.name, state, dry_run=True, progress=progress)
                open_conflicts = [c for c in state.conflicts(t.name) if c.restored_at is None]
                out[t.name] = TargetStatus(
                    target=t.name,
                    adapter=t.section.adapter,
                    linked=len(state.links(t.name)),
                    open_conflicts=len(open_conflicts),
                    pending=report,
                )
        return out

    def conflicts(
        self, target: str | None = None, *, include_restored: bool = False
    ) -> list[ConflictEntry]:
        """The logged conflicts (of ``target``, or all), oldest first; restored ones only
        with ``include_restored``. ``ConfigError`` for an unknown target. Writes nothing."""
        from syncbridge.engine import list_conflicts

        if target is not None:
            self.config.target(target)  # an unknown name is an error, not an empty list
        with self.state_scope(writes=False) as state:
            entries = list_conflicts(state, target)
        return entries if include_restored else [c for c in entries if c.restored_at is None]

    def conflict(self, conflict_id: int) -> ConflictEntry:
        """One logged conflict; ``SyncbridgeError`` naming the id when there is none."""
        from syncbridge.engine import get_conflict

        with self.state_scope(writes=False) as state:
            return get_conflict(state, conflict_id)

    def restore(self, conflict_id: int) -> ConflictEntry:
        """Put the losing value of conflict ``conflict_id`` back into its note (or remote
        record when the note is gone) and mark it restored; the next sync carries it to
        the other side. Side effects: one adapter write, one state transaction. Raises as
        :func:`syncbridge.engine.restore_conflict` does."""
        from syncbridge.engine import get_conflict, restore_conflict

        state = self.state()
        entry = get_conflict(state, conflict_id)
        remote = self.remote(self.config.target(entry.target).name)
        return restore_conflict(state, conflict_id, self.vault(), remote)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the adapters and the state store. Idempotent; the bridge may be used
        again afterwards (it reopens what it needs, and scans the vault again)."""
        remotes, self._remotes = self._remotes, {}
        state, self._state = self._state, None
        self._vault = None
        try:
            for adapter in remotes.values():
                adapter.close()
        finally:
            if state is not None:
                state.close()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Bridge {self.config.path}>"


def open(config: Path | str | Config | None = None) -> Bridge:
    """A :class:`Bridge` for ``config``: a TOML file (relative paths in it resolve against
    its folder), an already loaded :class:`~syncbridge.config.Config`, or ``None`` for
    ``./syncbridge.toml``. Reads and validates the file and imports the adapters it names;
    nothing else happens until a method is called. ``ConfigError`` names the key at fault.
    """
    if isinstance(config, Config):
        return Bridge(config)
    return Bridge(load_config(find_config() if config is None else config))


def conflict_to_dict(c: ConflictEntry) -> dict[str, Any]:
    """JSON-ready form of one conflict (``syncbridge conflicts --json``, the control API):
    an absent value is ``null`` with ``*_absent: true``; times are ISO 8601 UTC."""
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


def _copy_sqlite(path: Path, copy: Path) -> None:
    """Copy the SQLite file ``path``, and the ``-wal`` or ``-journal`` file beside it if
    any (a killed run's committed rows), to ``copy``; only reads them. A symlinked file is
    followed: SQLite keeps the ``-wal`` beside the file the link points to."""
    path = path.resolve()
    shutil.copyfile(path, copy)
    for suffix in ("-wal", "-journal"):
        beside = path.with_name(path.name + suffix)
        if beside.exists():
            shutil.copyfile(beside, copy.with_name(copy.name + suffix))


def _open_vault(
    config: Config, *, cache: bool, dry_run: bool, progress: ProgressFn | None
) -> VaultAdapter:
    """Scan the vault and wrap it in the vault adapter, with the config's classes setup
    (``dry_run``: the scan reads the index cache and writes nothing)."""
    from syncbridge.vault.adapter import VaultAdapter
    from syncbridge.vault.vault import Vault

    if not config.vault_path.is_dir():
        raise ConfigError(f"{config.path}: vault.path: {config.vault_path} is not a folder")
    cache_path = config.state_path.parent / "vault-index.json" if cache else None
    vault = Vault.open(
        config.vault_path,
        ignore=config.vault.ignore,
        cache_path=cache_path,
        progress=(lambda done, total: progress("scanning vault", done, total))
        if progress
        else None,
        default_class=config.sync.default_class,
        template_folders=config.vault.template_folders,
        dry_run=dry_run,
    )
    return VaultAdapter(
        vault,
        timezone=config.vault.timezone,
        last_modified_field=config.sync.last_modified_field,  # "": no such field
        class_folders=config.vault.class_folders,
    )
