"""The reverse migration: a whole target into a vault, ``syncbridge migrate --from TARGET
--into VAULT``.

Like :func:`syncbridge.migrate.migrate_to`, it is the engine's first sync in one direction
with a check before and a report after; nothing here writes a note itself except the
Metadata Menu fileClass definitions. The steps:

1. **The vault.** ``VAULT`` is the config's vault, or another folder (created if missing,
   may hold notes already). Another folder gets its own state file,
   ``VAULT/.syncbridge/state.db`` (a dot-folder: never scanned), so the config's own
   vault and its links are left alone; the target's settings (and the Notion adapter's
   cache, which gives unchanged bodies back byte for byte) are the config's.
2. **Classes.** For every class of the target's records the vault does not define (all of
   them in a vault without Metadata Menu classes), one fileClass note is written
   (:mod:`syncbridge.schema.fileclass_files`) into Metadata Menu's class folder
   (``Classes/`` and the plugin's ``data.json`` when the vault has no settings), each
   created only if no file has its name: a user's file is never replaced. The vault is
   rescanned, so the notes are typed by them.
3. **Check.** The run is planned without writing. Names are checked (a title that makes
   no valid file name, two titles that make the same name, a name taken by an existing
   note: the note gets a numbered name, and each is a warning) and links (a link value
   that resolves to no note of the vault as it will be). Notes of the vault that the
   target does not hold are kept out of the run (never sent); if the plan would change
   or delete a note that exists, or write anything to the target, the migration stops
   before any write (:class:`~syncbridge.errors.SafetyStop`).
4. **Create.** Every record becomes a note through the vault adapter's create path:
   named from its title (or the vault path the remote kept, when it is free and fits the
   title), in its class folder (``[vault] class_folders``), frontmatter in the class's
   field order in Obsidian's styles, the body as the adapter converted it, each create
   compare-and-swap against an absent file and journaled in the state first, so a rerun
   after SIGKILL finds and links what was created and creates nothing twice. A planned
   name taken between a kill and the rerun: the links to it in the notes written before
   follow the note (:mod:`syncbridge.migrate_relink`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from syncbridge.adapter import Adapter, Record
from syncbridge.errors import ConfigError, SafetyStop, SkipError, UnsafePath
from syncbridge.migrate import MigrationReport, save_report
from syncbridge.migrate_relink import (
    MigrationNotes,
    finish_relinked,
    preview_relinks,
    relink_moved,
    remember_moves,
)
from syncbridge.schema.fileclass_files import classes_from_records, fileclass_text
from syncbridge.schema.metadata_menu import SETTINGS_PATH, read_settings
from syncbridge.schema.model import ClassSchema, FieldKind
from syncbridge.vault.filenames import safe_filename, safe_join
from syncbridge.vault.fsio import ABSENT, write_atomic
from syncbridge.wikilinks import LinkResolver, links_in_value

if TYPE_CHECKING:
    from syncbridge.bridge import ProgressFn
    from syncbridge.config import Config
    from syncbridge.engine import SyncReport
    from syncbridge.engine.report import Notice
    from syncbridge.vault.adapter import VaultAdapter

__all__ = ["DEFAULT_CLASS_FOLDER", "config_for_vault", "migrate_from"]

DEFAULT_CLASS_FOLDER = "Classes"
"""Where fileClass notes go in a vault without Metadata Menu settings."""

READ_CHUNK = 100
"""Records read per ``read_many`` call when the classes are taken from the records."""

NAMES_CURSOR = "migrate-from-names"
"""The state's record (a cursor of the target) of the note names a migration planned:
``{remote id: vault path}`` as JSON, saved before the first note is created."""


def config_for_vault(config: Config, vault: Path) -> Config:
    """``config`` for the vault folder ``vault``: the same config when it is the config's
    vault, else a copy whose vault is ``vault`` and whose state file is
    ``vault/.syncbridge/state.db`` (targets, sync settings and adapter caches unchanged).
    Pure."""
    folder = vault.expanduser().absolute()
    if folder.resolve() == config.vault_path.resolve():
        return config
    return dataclasses.replace(
        config,
        vault=config.vault.model_copy(update={"path": folder}),
        state=config.state.model_copy(update={"path": folder / ".syncbridge" / "state.db"}),
    )


def migrate_from(
    config: Config,
    target: str,
    into: Path,
    *,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    report_dir: Path | None = None,
) -> MigrationReport:
    """Create a note in the vault ``into`` for every record of ``target`` (see the module
    docstring), or under ``dry_run`` say what would be created and every problem found,
    writing nothing.

    Side effects (not under ``dry_run``): creates ``into`` if missing, the fileClass notes
    (and Metadata Menu's ``data.json`` when absent), the notes, the state file of that
    vault, and the report file (mode 0600) in ``report_dir`` (default: that state file's
    folder). The target is only read. Raises :class:`ConfigError` for an unknown target
    or an ``into`` that is a file; :class:`SafetyStop` before any write when the run
    would change a note that exists or write to the target; what
    :meth:`~syncbridge.bridge.Bridge.run` raises (``SyncLocked``, ``RemoteUnavailable``).
    """
    import syncbridge.bridge

    started = time.monotonic()
    t = config.target(target)
    into = into.expanduser().absolute()
    if into.exists() and not into.is_dir():
        raise ConfigError(f"--into {into}: is a file; give the vault folder")
    with contextlib.ExitStack() as stack:
        root = into
        if not into.exists():
            if dry_run:  # an empty stand-in: the dry run writes nothing, not even a folder
                root = Path(
                    stack.enter_context(
                        tempfile.TemporaryDirectory(prefix="syncbridge-dry-run-vault-")
                    )
                )
            else:
                into.mkdir(parents=True)
        vault_config = config_for_vault(config, root)
        if root is not into:
            vault_config = dataclasses.replace(
                vault_config,
                state=vault_config.state.model_copy(
                    update={"path": into / ".syncbridge" / "state.db"}
                ),
            )
        bridge = stack.enter_context(syncbridge.bridge.open(vault_config))
        report = MigrationReport(
            target=t.name,
            adapter=t.section.adapter,
            dry_run=dry_run,
            direction="from",
            vault=str(into),
        )
        vault = bridge.vault(progress=progress, dry_run=dry_run)
        remote = bridge.remote(t.name)
        # the records are read, then the run is planned and run: one listing of the
        # target serves all three (it is only read; an edit made in it meanwhile is the
        # next sync's, as one made just after the listing would be)
        stack.enter_context(remote.reuse_listing())
        if not dry_run:
            # the names a run before gave the notes (made, or planned): bodies are read
            # with links to those notes
            with bridge.state_scope(writes=True) as state:
                remote.note_paths(
                    {
                        **_journaled_names(state.cursor(t.name, NAMES_CURSOR)),
                        **{k.remote_id: k.vault_id for k in state.links(t.name).values()},
                    }
                )
        if dry_run:
            # every read below (the records, the declared classes, the plans) within
            # the dry run of both sides: nothing is written anywhere, not even a cache
            stack.enter_context(vault.dry_run())
            stack.enter_context(remote.dry_run())
        records = _remote_records(remote, dry_run=dry_run)
        declared = remote.declared_classes()  # None: the classes come from the records
        written = _fileclasses(vault, records, vault_config, dry_run=dry_run, declared=declared)
        report.warnings.extend(
            {"id": path, "class": "", "kind": "fileclass", "message": why}
            for path, why in written
            if why
        )
        report.fileclasses = [path for path, why in written if not why]
        with bridge.state_scope(writes=not dry_run) as state:
            # notes an interrupted run rewrote (links to a name taken meanwhile): the
            # state takes them as the migration's own first (a dry run: in its copy)
            finish_relinked(vault, state, t.name)
            start = MigrationNotes.at_start(state, t.name)
            pending = bool(state.pending_journal(t.name))
            report.already = len(state.links(t.name))
            preview = bridge.run(t.name, state, dry_run=True)
            keep_out = _check_into_vault(preview, t.name, resuming=pending)
            if keep_out:
                preview = bridge.run(t.name, state, dry_run=True, keep_out=keep_out)
                _check_into_vault(preview, t.name, resuming=pending, kept=keep_out)
            report.kept_out = len(keep_out)
            linked = {link.remote_id: link.vault_id for link in state.links(t.name).values()}
            journaled = _journaled_names(state.cursor(t.name, NAMES_CURSOR))
            names = _plan_names(vault, preview, records, linked, journaled)
            report.warnings.extend(names.warnings)
            creating = [i for i, _ in _creates_by_id(preview) if i is not None]
            if dry_run:
                _fill_from(report, preview, preview)
                # the link rewrites the run would make after it (a name taken since a kill)
                report.warnings.extend(
                    preview_relinks(
                        vault, state, t.name, journaled, names.by_id, creating, _pairs(preview)
                    )
                )
            else:
                # the names first, in the state: a rerun after a kill gives the notes
                # not made yet the names the notes made already link to
                state.set_cursor(t.name, NAMES_CURSOR, json.dumps(names.by_id, sort_keys=True))
                remember_moves(state, t.name, journaled, names.by_id, creating)
                remote.note_paths(names.by_id)
                hints = set(names.by_id.values()) - set(linked.values())
                with vault.planned(names.paths, names.links, hints=hints):
                    done = bridge.run(t.name, state, progress=progress, keep_out=keep_out)
                if done.safety_stop:
                    raise SafetyStop(done.safety_stop)
                _fill_from(report, preview, done)
                report.warnings.extend(relink_moved(vault, state, t.name, start))
        report.notes = len(records)
    report.elapsed_s = time.monotonic() - started
    if not dry_run:
        report.saved_to = str(save_report(report, report_dir or vault_config.state_path.parent))
    return report


def _remote_records(remote: Adapter, *, dry_run: bool) -> list[Record]:
    """Every record of ``remote``, read in chunks (an adapter keeps what it read for the
    run: the Notion adapter serves the engine's reads from memory). A record gone between
    list and read is left out. ``dry_run``: read inside :meth:`Adapter.dry_run`, so the
    adapter's refresh finishes nothing (the dry run's notices say what it would)."""
    with remote.dry_run() if dry_run else contextlib.nullcontext():
        return _read_all(remote)


def _read_all(remote: Adapter) -> list[Record]:
    """:func:`_remote_records`' reads: refresh, list, then ``read_many`` in chunks."""
    remote.refresh()
    ids = [ref.id for ref in remote.list()]
    out: list[Record] = []
    for start in range(0, len(ids), READ_CHUNK):
        chunk = ids[start : start + READ_CHUNK]
        try:
            out.extend(remote.read_many(chunk))
        except SkipError:
            for record_id in chunk:
                with contextlib.suppress(SkipError):
                    out.append(remote.read(record_id))
    return out


def _fileclasses(
    vault: VaultAdapter,
    records: Sequence[Record],
    config: Config,
    *,
    dry_run: bool,
    declared: Mapping[str, ClassSchema] | None = None,
) -> list[tuple[str, str]]:
    """Write a fileClass note per class of ``records`` (and of ``declared``, the remote's
    own schema when it has one: its types and options win over values) the vault does
    not define (all of them in a vault without classes): ``(path, "")`` per note written
    (or that would be), ``(path, why)`` per note not written (a file is there). The
    default class gets none (notes without a class key are of it); a class the vault
    defines keeps its own definition. A link field whose remote names the class it
    points at suggests that class's notes in Metadata Menu (``dvQueryString``). Rescans
    the vault after writing."""
    schema = vault.vault.schema
    defined = {n for n, c in schema.classes.items() if c.source == "metadata-menu"}
    skip = {schema.class_key}
    if config.sync.id_field:
        skip.add(config.sync.id_field)
    found = classes_from_records(records, skip=skip, declared=declared)
    classes = {
        name: _link_queries(cls, schema.class_key)
        for name, cls in found.items()
        if name != schema.default_class and name not in defined
    }
    if not classes:
        return []
    root = vault.vault.root
    settings = read_settings(root)
    if settings is not None and settings.class_files_path is None:
        return [
            (
                SETTINGS_PATH,
                "Metadata Menu has no class folder set (classFilesPath): "
                "no fileClass note was written; set one and rerun",
            )
        ]
    folder = DEFAULT_CLASS_FOLDER if settings is None else str(settings.class_files_path)
    try:
        # The folder comes from the vault's plugin settings: "../x" or an absolute path
        # there must not make us write outside the vault.
        safe_join(root, f"{folder}/probe.md")
    except UnsafePath as exc:
        return [
            (
                SETTINGS_PATH,
                f"Metadata Menu's class folder (classFilesPath {folder!r}) is not a folder "
                f"inside the vault ({exc}): no fileClass note was written; set it to a "
                "folder inside the vault and rerun",
            )
        ]
    out: list[tuple[str, str]] = []
    if settings is None and not dry_run:
        data = {"classFilesPath": folder + "/", "fileClassAlias": schema.class_key}
        with contextlib.suppress(FileExistsError, OSError):
            write_atomic(
                root / SETTINGS_PATH, (json.dumps(data, indent=2) + "\n").encode(), expected=ABSENT
            )
    for name, cls in sorted(classes.items()):
        rel = f"{folder}/{safe_filename(name)}"
        if safe_join(root, rel).exists():
            out.append((rel, f"{rel} exists already: class {name!r} was not written"))
            continue
        out.append((rel, ""))
        if not dry_run:
            write_atomic(safe_join(root, rel), fileclass_text(cls).encode(), expected=ABSENT)
    if not dry_run:
        vault.refresh()
    return out


def _link_queries(cls: ClassSchema, class_key: str) -> ClassSchema:
    """``cls`` with each link field that names its class (``options["class"]``, from
    :meth:`Adapter.declared_classes`) given Metadata Menu's ``dvQueryString`` for that
    class's notes (those whose ``class_key`` is that class, as migrated notes say)."""
    fields = {}
    for name, spec in cls.fields.items():
        target = spec.options.get("class")
        if spec.kind in (FieldKind.LINK, FieldKind.LINKS) and isinstance(target, str):
            query = (
                f"dv.pages().where(p => p[{json.dumps(class_key)}] == "
                f"{json.dumps(target, ensure_ascii=False)})"
            )
            spec = dataclasses.replace(spec, options={"dvQueryString": query})
        fields[name] = spec
    return dataclasses.replace(cls, fields=fields)


def _check_into_vault(
    preview: SyncReport, target: str, *, resuming: bool, kept: Sequence[str] = ()
) -> list[str]:
    """The vault notes to keep out of the run (new in the vault: never sent to the
    target); :class:`SafetyStop` when the plan would change a note that exists, delete
    one, or write to the target in any other way. ``resuming``: an interrupted run's
    creates pair with their records (the run links them first), so pairs pass, unless
    the pair would change the note (a file someone made at its name meanwhile)."""
    if preview.safety_stop:
        raise SafetyStop(preview.safety_stop)
    plan = preview.plan
    if plan is None:
        return []
    keep: list[str] = []
    blocked: list[str] = []
    for action in plan.actions:
        for w in action.writes:
            if w.side == "vault" and w.op == "create":
                continue  # a record becomes a note: what a migration into a vault does
            if resuming and action.kind == "pair" and (w.side, w.op) != ("vault", "update"):
                # the interrupted run's create, linked first; a pair that would change the
                # note is not that (a file made at its name meanwhile): it stops as below
                continue
            if (
                w.side == "remote"
                and w.op == "create"
                and action.kind == "create"
                and action.vault is not None
                and action.vault.id is not None
                and action.vault.id not in kept
            ):
                keep.append(action.vault.id)  # a note the target lacks: left out, not sent
                continue
            what = {
                "vault": "change" if w.op == "update" else w.op,
                "remote": f"{w.op} on the target",
            }[w.side]
            blocked.append(f"{action.label} ({what}: {action.why})")
    if blocked:
        shown = "; ".join(blocked[:5]) + (
            f"; and {len(blocked) - 5} more" if len(blocked) > 5 else ""
        )
        raise SafetyStop(
            f"a migration from {target} only creates notes, but this one would also touch "
            f"{len(blocked)} note(s) that exist: {shown}. Nothing was written. Move them "
            "aside, or run 'syncbridge sync --dry-run' to see a two-way sync instead"
        )
    return sorted(set(keep))


def _creates(preview: SyncReport) -> list[Record]:
    """The records the plan creates as notes, in plan order."""
    return [record for _, record in _creates_by_id(preview)]


def _creates_by_id(preview: SyncReport) -> list[tuple[str | None, Record]]:
    """(remote id, record) of each note the plan creates, in plan order."""
    if preview.plan is None:
        return []
    out: list[tuple[str | None, Record]] = []
    for action in preview.plan.actions:
        remote_id = action.remote.id if action.remote is not None else None
        for w in action.writes:
            if w.side == "vault" and w.op == "create" and w.record is not None:
                out.append((remote_id, w.record))
    return out


def _pairs(preview: SyncReport) -> dict[str, tuple[str, bool]]:
    """Vault path → (remote id, whether it agrees: no write planned) of each note the plan
    pairs with a record (an interrupted run's create, not recorded yet)."""
    if preview.plan is None:
        return {}
    return {
        action.vault.id: (action.remote.id, not action.writes)
        for action in preview.plan.actions
        if action.kind == "pair"
        and action.vault is not None
        and action.remote is not None
        and action.vault.id is not None
        and action.remote.id is not None
    }


def _journaled_names(text: str | None) -> dict[str, str]:
    """The names an earlier run planned (:data:`NAMES_CURSOR`); ``{}`` when none or
    unreadable (the names are then planned afresh)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str) and v.endswith(".md")}


@dataclasses.dataclass
class _Names:
    """The names a migration gives its notes (:func:`_plan_names`), for the titles held
    by one record whose note gets another name: title → planned note path, and link
    target as the remote writes it → the vault link target of that note; a warning per
    problem."""

    paths: dict[str, str]
    links: dict[str, str]
    warnings: list[dict[str, str]]
    by_id: dict[str, str] = dataclasses.field(default_factory=dict)
    """Remote id → vault path of every record's note: planned, or made by a run before."""


def _plan_names(
    vault: VaultAdapter,
    preview: SyncReport,
    records: Sequence[Record],
    linked: Mapping[str, str],
    journaled: Mapping[str, str] | None = None,
) -> _Names:
    """Plan every note's name and the links to notes whose name is not their title.

    A title no file name can hold (``A/B: c``) or taken (by a note that exists or
    another record: numbered) names its note otherwise; a warning says which. Links to
    such a title (a link ``[[A/B: c]]`` in a field) are written to the note it got
    (``[[A B c|A/B: c]]``: :meth:`VaultAdapter.planned`), unless the link resolves to a
    note already or the title is held by more than one record (Obsidian could not tell
    which); a warning remains for each link that resolves to no note. ``linked``: remote
    id → vault path of the records a run created before (their notes exist);
    ``journaled``: remote id → the path an interrupted run planned, kept while free (the
    notes it made may link to it)."""
    out = _Names({}, {}, [])
    planned: list[str] = []
    by_title: dict[str, list[str]] = {}
    for record in records:
        if record.id is not None and record.id in linked:
            by_title.setdefault(record.title or "Untitled", []).append(linked[record.id])
            out.by_id[record.id] = linked[record.id]
    earlier = journaled or {}
    for remote_id, record in _creates_by_id(preview):
        kept = earlier.get(remote_id) if remote_id is not None else None
        if kept is not None and (
            kept.casefold() in {p.casefold() for p in planned} or not vault.is_free(kept)
        ):
            kept = None
        path = kept or vault.path_for(record, taken=[*planned, *earlier.values()])
        planned.append(path)
        if remote_id is not None:
            out.by_id[remote_id] = path
        title = record.title or "Untitled"
        by_title.setdefault(title, []).append(path)
        stem = PurePosixPath(path).stem
        if stem == title:
            continue
        clean = PurePosixPath(safe_filename(title)).stem
        if stem == clean:
            message = (
                f"title {title!r} holds characters a file name cannot: the note is "
                f"{path}; links [[{title}]] in fields are written to it"
            )
        else:
            message = (
                f"title {title!r} names a note that exists or another record's: this one is {path}"
            )
        out.warnings.append(
            {"id": path, "class": record.class_name, "kind": "name", "message": message}
        )
    resolver = LinkResolver([*vault.vault.paths(), *planned])
    for title, paths in by_title.items():
        if len(paths) != 1 or PurePosixPath(paths[0]).stem == title:
            continue
        out.paths[title] = paths[0]
        if resolver.resolve(title) is not None:
            continue
        stem = PurePosixPath(paths[0]).stem
        out.links[title] = stem if resolver.resolve(stem) == paths[0] else paths[0][:-3]
    for record, path in zip(_creates(preview), planned, strict=True):
        for key, value in record.fields.items():
            for link in links_in_value(value):
                target = out.links.get(link.target, link.target)
                if link.target and resolver.resolve(target, path) is None:
                    out.warnings.append(
                        {
                            "id": path,
                            "class": record.class_name,
                            "kind": "link",
                            "message": f"{key}: [[{link.target}]] resolves to no note",
                        }
                    )
    return out


def _fill_from(report: MigrationReport, preview: SyncReport, run: SyncReport) -> None:
    """Counts per class from the fully planned ``preview``, what failed from ``run``."""
    failed = {e.id for e in [*run.errors, *run.skipped]}
    classes: Counter[str] = Counter(r.class_name for r in _creates(preview) if r.id not in failed)
    report.classes = dict(classes)
    report.created = run.vault.created if not run.dry_run else sum(classes.values())
    report.recovered = run.recovered
    for e in [*run.errors, *run.skipped]:
        if e.message.startswith("filtered out: kept out of this run"):
            continue
        report.not_transferred.append({"id": e.id, "reason": e.message})
    report.warnings.extend(_notices(run.notices))


def _notices(notices: Sequence[Notice]) -> Iterator[dict[str, str]]:
    for n in notices:
        yield {"id": n.id or "?", "class": "", "kind": "notice", "message": n.message}
