"""The vault as one side of a sync: the adapter contract over :class:`~syncbridge.vault.Vault`.

Conventions (the engine relies on them):

* ``Record.id`` is the vault-relative POSIX path (it changes when a note is renamed);
  ``Record.version`` the SHA-256 of the file bytes; ``Record.title`` the file stem.
* ``Record.fields`` holds the canonical value of **every** frontmatter field, typed through
  the schema (a Metadata Menu DateTime ``2025-07-05 16:56`` is ``"2025-07-05T16:56"``).
* ``Record.modified`` is the ``last_modified`` field read in the configured time zone, else
  the file's mtime; ``Record.extra["mtime"]`` is always the file's mtime (tz-aware).
* ``update`` edits only the fields whose value changed, each as a minimal splice, keeps a
  value's on-disk form when its canonical value is unchanged, and is compare-and-swap on the
  version: a note changed since it was listed raises ``StaleVersion`` and is left alone.
* Notes whose frontmatter cannot be read are not listed; :meth:`VaultAdapter.unreadable`
  names them so the engine treats them as present-but-skipped, never as deleted. So are
  notes caught mid-save that never settled, and notes just found emptied (0 bytes where
  the index knew content): held for the run that first sees them (``Vault.held``), so a
  half-saved file is never pushed as "every field cleared"; the next run takes the
  emptiness as an edit.
* Conflict copies (``Title (conflict 2026-11-28 1432).md``) are never listed.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from syncbridge.adapter import (
    MISSING,
    Adapter,
    AdapterConfig,
    Capabilities,
    Record,
    RecordRef,
    canonical,
)
from syncbridge.errors import (
    NoteError,
    RecordError,
    SkipError,
    StaleVersion,
    SyncbridgeError,
    UnsafePath,
    WriteConflict,
)
from syncbridge.note.note import Note
from syncbridge.relink import LinkStyle, NoteRelink, RelinkPlanner, apply_relink
from syncbridge.schema import FieldSpec, parse_vault_datetime, to_canonical, to_yaml_value
from syncbridge.schema.model import ClassSchema, FieldKind
from syncbridge.vault.filenames import name_key, safe_filename
from syncbridge.vault.fsio import ABSENT, read_snapshot
from syncbridge.vault.vault import IndexEntry, Vault
from syncbridge.wikilinks import relink_value

if TYPE_CHECKING:
    from syncbridge.engine.relink import RelinkOutcome

__all__ = ["CONFLICT_COPY", "VaultAdapter", "VaultAdapterConfig", "canonical_fields"]

CONFLICT_COPY = re.compile(r" \(conflict \d{4}-\d{2}-\d{2} \d{4}(?: \d+)?\)(?: \d+)?\.md$")
"""File names of conflict copies, which are never synced. A second copy of one note in the
same minute gets a number after the parenthesis (``safe_filename``'s collision suffix)."""
_CONFLICT_PART = re.compile(r" \(conflict ([^)]*)\)")


class VaultAdapterConfig(AdapterConfig):
    """The ``[vault]`` table (validated by ``syncbridge.config``)."""

    path: str
    timezone: str | None = None


# Kinds whose canonical value of a plain str is that str, and list kinds whose canonical
# value of a list of plain strs is an equal list (see schema.values.to_canonical).
_STR_AS_IS = frozenset({FieldKind.TEXT, FieldKind.LINK})
_LIST_KINDS = frozenset({FieldKind.LIST, FieldKind.LINKS})


def canonical_fields(specs: Mapping[str, FieldSpec], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical values of a note's ``fields`` (as the index read them), typed by the
    class's ``specs`` (:func:`~syncbridge.schema.to_canonical`); keys become strings."""
    out: dict[str, Any] = {}
    for key, raw in fields.items():
        name = key if type(key) is str else str(key)
        spec = specs.get(name)
        raw_type = type(raw)
        if spec is None:
            value = raw
        elif raw_type is str and spec.kind in _STR_AS_IS:
            out[name] = raw  # what to_canonical returns for it, without the calls
            continue
        elif (
            raw_type is list and spec.kind in _LIST_KINDS and all(type(item) is str for item in raw)
        ):
            out[name] = list(raw)  # the same: a list of plain strings stays as it is
            continue
        else:
            value = to_canonical(spec, raw)
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            out[name] = value  # canonical already (plain builtins, not subclasses)
            continue
        try:
            out[name] = canonical(value)
        except TypeError:
            out[name] = str(value)
    return out


class VaultAdapter(Adapter):
    """An Obsidian vault. ``timezone`` (IANA name, ``None`` = this machine's) is the zone
    of naive date-times such as ``last_modified: 2025-07-05 16:56``."""

    name: ClassVar[str] = "vault"
    config_model: ClassVar[type[AdapterConfig]] = VaultAdapterConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        supports_trash=True,
        timestamp_precision=dt.timedelta(minutes=1),
        # POSIX has no "replace only if unchanged": the last check runs right before the
        # rename, a window of microseconds (syncbridge.vault.fsio). Trashing is atomic.
        atomic_writes=False,
    )

    def __init__(
        self,
        vault: Vault,
        *,
        timezone: str | None = None,
        last_modified_field: str = "last_modified",
        class_folders: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            VaultAdapterConfig(path=str(vault.root), timezone=timezone), base_dir=vault.root
        )
        self.vault = vault
        self.timezone = timezone
        self.last_modified_field = last_modified_field
        self.class_folders = {k: v.strip("/") for k, v in (class_folders or {}).items()}
        """Class → folder of the notes :meth:`create` makes (``[vault] class_folders``)."""
        # The schema of the last list(): the RecordRefs it left in the index entries
        # (IndexEntry.listed) hold for that schema only. Reads reuse their classes.
        self._listed_schema: object = None
        self._scope: frozenset[str] | None = None  # see scoped()
        self._planned: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})  # planned()
        self._hints: frozenset[str] = frozenset()  # planned()

    # --- helpers -------------------------------------------------------------------------

    def _spec(self, class_name: str, key: str) -> FieldSpec | None:
        cls = self.vault.schema.classes.get(class_name)
        return None if cls is None else cls.fields.get(key)

    def _class_of(self, path: str, fields: Mapping[str, Any]) -> str:
        return self.vault.schema.class_of(path, fields)

    def _listed(self, entry: IndexEntry) -> bool:
        return (
            entry.ok
            and entry.emptied_in != self.vault.run_id
            and self.vault.schema.is_entry(entry.path)
            and not CONFLICT_COPY.search(entry.path)
        )

    def _mtime(self, entry: IndexEntry) -> dt.datetime:
        return dt.datetime.fromtimestamp(entry.mtime_ns / 1e9, tz=dt.UTC)

    def _modified(
        self, class_name: str, fields: Mapping[str, Any], mtime: dt.datetime
    ) -> dt.datetime:
        raw = fields.get(self.last_modified_field)
        if raw is None:
            return mtime
        try:
            return parse_vault_datetime(
                self._spec(class_name, self.last_modified_field), raw, self.timezone
            )
        except (ValueError, TypeError):
            return mtime

    def _canonical_fields(self, class_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        cls = self.vault.schema.classes.get(class_name)
        return canonical_fields(cls.fields if cls is not None else {}, fields)

    # --- the contract --------------------------------------------------------------------

    def ensure_collection(self, cls: ClassSchema) -> None:
        """Nothing to do: a vault holds notes of every class."""

    def refresh(self) -> None:
        """Rescan the vault (the engine calls this before listing): only the paths of
        :meth:`scoped` while in it, else in full."""
        self.vault.rescan(paths=self._scope)

    @contextlib.contextmanager
    def dry_run(self) -> Iterator[None]:
        """A dry run (see :meth:`Adapter.dry_run`): the vault's scans write nothing
        either, not even the index cache (:meth:`Vault.dry_run`)."""
        with super().dry_run(), self.vault.dry_run():
            yield

    @contextlib.contextmanager
    def scoped(self, paths: Collection[str] | None) -> Iterator[None]:
        """Within: :meth:`refresh` rescans only ``paths``, the notes known to be the only
        ones changed since the last scan (``None``: in full; see :meth:`Vault.rescan`,
        whose rules they are read under)."""
        before, self._scope = self._scope, None if paths is None else frozenset(paths)
        try:
            yield
        finally:
            self._scope = before

    @contextlib.contextmanager
    def planned(
        self, paths: Mapping[str, str], links: Mapping[str, str], *, hints: Collection[str] = ()
    ) -> Iterator[None]:
        """Within: :meth:`create` puts a note made from a record titled ``t`` of ``paths``
        at ``paths[t]`` when that path is still free (the name a dry run planned, so
        that links can be written to it whatever order the notes are created in), and
        writes each wikilink of its field values whose target is a key of ``links`` (a
        note name as the remote writes it, e.g. a title no file name can hold) to
        ``links[target]`` (the vault link target of the note that title got), the name
        written before kept as the alias: ``[[A/B]]`` becomes ``[[A B|A/B]]``. A record
        whose path hint (``extra["path"]``) is one of ``hints`` (paths planned for
        records the remote was told about, :meth:`Adapter.note_paths`) gets that path
        while it is free, whatever its title: the links to it were written to it.
        ``syncbridge migrate --from`` uses it (:mod:`syncbridge.migrate_from`)."""
        before = self._planned, self._hints
        self._planned, self._hints = (dict(paths), dict(links)), frozenset(hints)
        try:
            yield
        finally:
            self._planned, self._hints = before

    def list(self) -> Iterator[RecordRef]:
        schema = self.vault.schema
        same_schema = self._listed_schema is schema
        self._listed_schema = schema
        for entry in self.vault.entries().values():
            if not self._listed(entry):
                continue
            known = entry.listed
            if known is not None and same_schema and known.version == entry.sha256:
                # The same bytes and mtime (else the index dropped it) under the same
                # schema: what the last list found (class and modified time are functions
                # of the values, parsed from the bytes, and of the mtime).
                yield known
                continue
            # decoded only if it names a key asked for, and not kept (IndexEntry.values)
            fields = entry.lazy_fields()
            class_name = self._class_of(entry.path, fields)
            modified = self._modified(class_name, fields, self._mtime(entry))
            entry.listed = RecordRef(entry.path, entry.sha256, modified, class_name)
            yield entry.listed

    def unreadable(self) -> dict[str, str]:
        """Entries present on disk that cannot be read (broken frontmatter, no permission),
        and what the scan could not index (unreadable folders, names that are not UTF-8,
        symbolic links): path → message."""
        out = {
            e.path: f"{e.path}:{e.error_line}: {e.error}"
            if e.error_line
            else f"{e.path}: {e.error}"
            for e in self.vault.errors()
            if self.vault.schema.is_entry(e.path)
        }
        for path, why in self.vault.held().items():
            if self.vault.schema.is_entry(path) and not CONFLICT_COPY.search(path):
                out[path] = f"{path}: {why}"
        for path, problem in self.vault.scan_problems().items():
            out.setdefault(path, f"{path}: {problem.message}")
        return out

    def read_many(self, ids: Sequence[str]) -> builtins.list[Record]:
        return [self._read(i) for i in ids]

    def _read(self, path: str) -> Record:
        try:
            note, snap = self.vault.read(path)
            entry = self.vault.entries().get(path)
            # The index parsed these very bytes already (same hash): reuse its values.
            from_index = entry is not None and entry.sha256 == snap.sha256 and entry.ok
            fields = entry.fields if entry is not None and from_index else note.fields
        except FileNotFoundError:
            raise RecordError(f"{path}: the note no longer exists") from None
        except SyncbridgeError as exc:
            raise RecordError(str(exc)) from exc
        mtime = dt.datetime.fromtimestamp(snap.mtime_ns / 1e9, tz=dt.UTC)
        # What list() found for these very values (the index's, of the same bytes) under
        # the same schema (and, for the time, the same mtime), else anew.
        known = entry.listed if entry is not None else None
        if (
            known is not None
            and from_index
            and known.version == snap.sha256
            and self._listed_schema is self.vault.schema
        ):
            assert entry is not None
            class_name = known.class_name
            if entry.mtime_ns == snap.mtime_ns:  # the mtime it was listed with
                modified = known.modified
            else:
                modified = self._modified(class_name, fields, mtime)
        else:
            class_name = self._class_of(path, fields)
            modified = self._modified(class_name, fields, mtime)
        return Record(
            class_name=class_name,
            fields=self._canonical_fields(class_name, fields),
            body=note.body,
            id=path,
            version=snap.sha256,
            modified=modified,
            title=_stem(path),
            extra={"mtime": mtime, "path": path},
        )

    def _apply(self, note: Note, record: Record, *, delete_missing: bool) -> None:
        old = note.fields
        # Record fields are named by str(key); a note's key YAML reads as something else
        # (``false:``, ``123:``, ``2025-01-01:``) keeps its own key and spelling.
        originals: dict[str, Any] = {str(k): k for k in old if type(k) is not str}
        originals.update((k, k) for k in old if type(k) is str)
        for name, value in record.fields.items():
            key = originals.get(name, name)
            spec = self._spec(record.class_name, name)
            previous = old.get(key, MISSING)
            if spec is not None:
                new = to_yaml_value(spec, value, previous, tz=self.timezone)
            elif previous is not MISSING and _canonical_or_none(previous) == value:
                new = previous
            else:
                new = value
            if previous is MISSING or new is not previous:
                note[key] = new
        if delete_missing:
            for key in old:
                if (key if type(key) is str else str(key)) not in record.fields:
                    del note[key]
        note.body = record.body

    def _folder_for(self, class_name: str) -> str:
        """The folder (``""`` or ``"a/b/"``) a new note of ``class_name`` goes to: the
        configured class folder, else where most notes of this class live already, else
        its fileClass's first ``filesPaths`` folder, else the vault root."""
        configured = self.class_folders.get(class_name)
        if configured is not None:
            return configured + "/" if configured else ""
        folders: Counter[str] = Counter()
        for entry in self.vault.entries().values():
            if self._listed(entry) and self._class_of(entry.path, entry.fields) == class_name:
                folders[str(PurePosixPath(entry.path).parent)] += 1
        if not folders:
            cls = self.vault.schema.classes.get(class_name)
            mapped = [f.strip("/") for f in (cls.files_paths if cls else ()) if f.strip("/")]
            return mapped[0] + "/" if mapped else ""
        folder = folders.most_common(1)[0][0]
        return "" if folder == "." else folder + "/"

    def path_for(self, record: Record, *, taken: Collection[str] = ()) -> str:
        """The vault path :meth:`create` gives a note made from ``record``, the vault as
        it is now plus the paths ``taken`` (notes a dry run would create first): the
        remote's path hint when usable, else the class folder and the title as a safe,
        free file name. Reads the folder listing; writes nothing."""
        title = record.title or str(record.fields.get("title") or "") or "Untitled"
        folder = self._hinted_folder(record)
        return self._hinted_path(record, title, taken=taken) or self._note_path(
            folder if folder is not None else self._folder_for(record.class_name),
            title,
            taken=taken,
        )

    def _hinted_folder(self, record: Record) -> str | None:
        """The folder of the remote's path hint (``""`` or ``"a/b/"``) when it is inside
        the vault, no dot-folder and not a template or fileClass folder, and the class
        has no configured folder; ``None`` otherwise. A name the hint cannot keep (``?``
        in it) is then sanitized in that folder, not moved elsewhere."""
        hint = record.extra.get("path")
        if (
            not isinstance(hint, str)
            or not hint.endswith(".md")
            or record.class_name in self.class_folders
        ):
            return None
        parent = PurePosixPath(hint).parent
        if str(parent) == ".":
            return ""
        if any(
            p.startswith(".") or p in ("..", "/") for p in parent.parts
        ) or not self.vault.schema.is_entry(f"{parent}/x.md"):
            return None
        try:
            self.vault.abspath(f"{parent}/x.md")
        except UnsafePath:
            return None
        return f"{parent}/"

    def _hinted_path(
        self, record: Record, title: str, *, taken: Collection[str] = ()
    ) -> str | None:
        """The path the remote says the note had (``extra["path"]``: Notion keeps the
        vault path a page came from), when it is usable as it is: inside the vault, a
        portable ``.md`` name whose stem is the title, no dot-folder, an entry of the
        schema, free, and not the class's configured folder's business. ``None`` else."""
        hint = record.extra.get("path")
        if (
            not isinstance(hint, str)
            or not hint.endswith(".md")
            or record.class_name in self.class_folders
        ):
            return None
        pure = PurePosixPath(hint)
        if (
            pure.stem != title
            or any(p.startswith(".") for p in pure.parts)
            or safe_filename(pure.stem, link_safe=False) != pure.name
            or not self.vault.schema.is_entry(hint)
            or CONFLICT_COPY.search(hint)
        ):
            return None
        try:
            if self.vault.abspath(hint).exists():
                return None  # taken: never overwritten, a free name is picked instead
        except UnsafePath:
            return None
        existing = {name_key(p) for p in [*self.vault.paths(), *taken]}
        return None if name_key(hint) in existing else hint

    def _in_class_order(self, class_name: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``fields`` in the order of the class's definition (the class key first); a
        field it does not define (one only inferred from notes) stays right after the
        field it followed. Pure."""
        cls = self.vault.schema.classes.get(class_name)
        if cls is None:
            return dict(fields)
        defined = [n for n, spec in cls.fields.items() if spec.origin != "inferred"]
        order = {name: i for i, name in enumerate(defined)}
        order[self.vault.schema.class_key] = -2  # first, wherever the record had it
        keys: list[tuple[tuple[int, int], str]] = []
        anchor = -1
        for seq, key in enumerate(fields):
            if key in order:
                anchor = order[key]
                keys.append(((anchor, -1), key))
            else:
                keys.append(((anchor, seq), key))
        return {key: fields[key] for _, key in sorted(keys)}

    def _note_path(
        self, folder: str, title: str, *, replacing: str | None = None, taken: Collection[str] = ()
    ) -> str:
        """:meth:`_new_path` for a note that syncs: a title shaped like one of our conflict
        copies (``Grief (conflict 2026-01-01 0000)``, typed in the remote) loses those
        parentheses in its file name (``Grief conflict 2026-01-01 0000.md``), because such
        files are never synced and the entry would look deleted."""
        path = self._new_path(folder, title, replacing=replacing, taken=taken)
        if CONFLICT_COPY.search(path):
            path = self._new_path(
                folder, _CONFLICT_PART.sub(r" conflict \1", title), replacing=replacing, taken=taken
            )
        return path

    def _new_path(
        self, folder: str, title: str, *, replacing: str | None = None, taken: Collection[str] = ()
    ) -> str:
        """A free note path in ``folder`` for ``title``; ``replacing`` is the note being
        renamed, whose own name does not count as taken (a change of case is a rename)."""
        existing = {
            PurePosixPath(p).name
            for p in [*self.vault.paths(), *taken]
            if str(PurePosixPath(p).parent) == (folder.rstrip("/") or ".")
        }
        existing |= (
            {p.name for p in (self.vault.root / folder).glob("*.md")}
            if (self.vault.root / folder).is_dir()
            else set()
        )
        if replacing is not None:
            existing.discard(PurePosixPath(replacing).name)
        return folder + safe_filename(title, existing=existing)

    def as_created(self, record: Record) -> Record:
        """``record`` with its field links as :meth:`create` writes them within
        :meth:`planned` (to the notes' planned names); ``record`` itself otherwise."""
        links = self._planned[1]
        if not links:
            return record
        fields = {k: relink_value(v, links) for k, v in record.fields.items()}
        if fields == dict(record.fields):
            return record
        return dataclasses.replace(record, fields=fields)

    def create(self, record: Record) -> RecordRef:
        schema = self.vault.schema
        paths, links = self._planned
        hint = record.extra.get("path")
        path = (
            (self._free_planned(hint) if isinstance(hint, str) and hint in self._hints else None)
            or self._free_planned(paths.get(record.title or ""))
            or self.path_for(record)
        )
        note = Note.new(path=path)
        fields = dict(record.fields)
        if links:
            fields = {k: relink_value(v, links) for k, v in fields.items()}
        if (
            record.class_name != schema.default_class
            and schema.class_key not in fields
            and record.class_name in schema.classes
        ):
            fields = {schema.class_key: record.class_name, **fields}
        fields = self._in_class_order(record.class_name, fields)
        self._apply(note, Record(record.class_name, fields, record.body), delete_missing=False)
        snap = self.vault.create(path, note)
        return RecordRef(path, snap.sha256, self._read(path).modified or _now(), record.class_name)

    def is_free(self, path: str) -> bool:
        """Whether a note could be created at ``path``: inside the vault, no file there
        and no note of a name equal but for case. A stat call and the index."""
        return self._free_planned(path) is not None

    def _free_planned(self, path: str | None) -> str | None:
        """``path`` (planned by :meth:`planned`) when no note or file has it or a name
        equal but for case; else ``None``."""
        if path is None:
            return None
        try:
            if self.vault.abspath(path).exists():
                return None
        except UnsafePath:
            return None
        return None if name_key(path) in {name_key(p) for p in self.vault.paths()} else path

    def update(self, record: Record, *, expected_version: str) -> RecordRef:
        if record.id is None:
            raise RecordError("update needs a record id (the note's path)")
        path = record.id
        try:
            note, snap = self.vault.read(path)
        except FileNotFoundError:
            raise StaleVersion(
                f"{path}: the note was moved or deleted since it was read; "
                "the next sync will pick that up"
            ) from None
        if snap.sha256 != expected_version:
            raise StaleVersion(
                f"{path}: the note changed since syncbridge read it; it was "
                "left as it is and the next sync will merge the new version"
            )
        self._apply(note, record, delete_missing=True)
        if note.changed:
            try:
                snap = self.vault.write(path, note, expected=snap)
            except WriteConflict as exc:
                raise StaleVersion(str(exc)) from exc
        current = PurePosixPath(path)
        if record.title and record.title != current.stem:
            # Retitled on the other side: rename the note in its folder (the engine then
            # rewrites the links to it in other notes, see syncbridge.engine.relink).
            folder = "" if str(current.parent) == "." else str(current.parent) + "/"
            new_path = self._note_path(folder, record.title, replacing=path)
            if new_path != path:
                try:
                    self.vault.move(path, new_path, expected=snap)
                except WriteConflict as exc:
                    raise StaleVersion(str(exc)) from exc
                path = new_path
        fresh = self._read(path)
        assert fresh.version is not None and fresh.modified is not None
        return RecordRef(path, fresh.version, fresh.modified, fresh.class_name)

    def delete(self, record_id: str, *, expected_version: str) -> None:
        try:
            snap = read_snapshot(self.vault.abspath(record_id))
        except FileNotFoundError:
            return  # already gone: deleting is idempotent
        if snap.sha256 != expected_version:
            raise StaleVersion(
                f"{record_id}: the note changed since syncbridge read it; "
                "it was not moved to the trash"
            )
        try:
            self.vault.trash(record_id, expected=snap)
        except WriteConflict as exc:
            raise StaleVersion(str(exc)) from exc

    # --- link rewrites (syncbridge.engine.relink.LinkRewriter) -----------------------------

    def planned_move(self, record: Record) -> str | None:
        """Where :meth:`update` of ``record`` would rename its note (a new title), or None.
        Reads the folder's listing; the rename itself may still pick another free name."""
        path = record.id
        if path is None or not record.title:
            return None
        current = PurePosixPath(path)
        if record.title == current.stem:
            return None
        folder = "" if str(current.parent) == "." else str(current.parent) + "/"
        new_path = self._note_path(folder, record.title, replacing=path)
        return None if new_path == path else new_path

    def note_exists(self, path: str) -> bool:
        """Whether a note is at ``path`` now (a stat call)."""
        try:
            return self.vault.abspath(path).is_file()
        except UnsafePath:
            return False

    def plan_relinks(
        self,
        moves: Mapping[str, str],
        *,
        applied: bool,
        only: Collection[str] | None = None,
        also: Collection[str] = (),
    ) -> builtins.list[NoteRelink]:
        """The notes whose links change for ``moves`` (see
        :meth:`syncbridge.engine.relink.LinkRewriter.plan_relinks`). Reads every note that
        can hold such a link (a byte search first), with the vault's ``.obsidian/app.json``
        link style; unreadable or non-UTF-8 notes are left out. ``only``: the notes (their
        current paths) to look at; links are still resolved in the whole vault. ``also``:
        notes not written yet that the vault will hold after the moves (a dry run's
        planned notes), resolved as if they were there."""
        current = self.vault.paths()
        after_of = (lambda p: p) if applied else (lambda p: moves.get(p, p))
        aliases: dict[str, builtins.list[str]] = {}
        for p in current:
            entry = self.vault.entries().get(p)
            value = entry.fields.get("aliases") if entry is not None and entry.ok else None
            if isinstance(value, str):
                aliases[after_of(p)] = [value]
            elif isinstance(value, builtins.list):
                aliases[after_of(p)] = [a for a in value if isinstance(a, str)]
        planner = RelinkPlanner(
            [*(after_of(p) for p in current), *also],
            moves,
            style=LinkStyle.from_vault(self.vault.root),
            aliases_after=aliases,
        )
        out: builtins.list[NoteRelink] = []
        for p in current if only is None else [p for p in current if p in only]:
            try:
                snap = read_snapshot(self.vault.abspath(p))
            except (OSError, SyncbridgeError):
                continue  # gone or unreadable since the scan: nothing to rewrite there
            if not planner.might_link(snap.data):
                continue
            try:
                relink = planner.relink(after_of(p), snap.data, sha256=snap.sha256)
            except NoteError:
                continue  # not UTF-8: left alone (doctor reports it)
            if relink.changed or relink.broken:
                out.append(relink if applied else dataclasses.replace(relink, path=p))
        return out

    def apply_relink(
        self, path: str, before: str, after: str, mapping: Mapping[str, Mapping[str, str]]
    ) -> RelinkOutcome:
        """Replay a planned link rewrite on the note at ``path`` as it is now and write it
        with compare-and-swap (see :meth:`~syncbridge.engine.relink.LinkRewriter.apply_relink`)."""
        try:
            snap = read_snapshot(self.vault.abspath(path))
        except (OSError, SyncbridgeError):
            return "gone"
        if snap.sha256 == after:
            return "done"
        try:
            data = apply_relink(path, snap.data, mapping)
        except NoteError:
            return "gone"
        if data == snap.data:
            return "done"
        try:
            self.vault.write(path, Note.from_bytes(data, path=path), expected=snap)
        except WriteConflict:
            return "changed"
        except SkipError:
            return "gone"  # replaced by a symbolic link meanwhile: never written through
        return "written"

    def write_relinked(self, relink: NoteRelink) -> RelinkOutcome:
        """Write ``relink``'s new bytes to its note only while the note holds exactly the
        bytes it was planned from (``old_sha256``), with compare-and-swap: ``written``,
        ``changed`` (edited since: left as it is) or ``gone``. Unlike :meth:`apply_relink`
        nothing is replayed over an edit."""
        try:
            snap = read_snapshot(self.vault.abspath(relink.path))
        except (OSError, SyncbridgeError):
            return "gone"
        if snap.sha256 != relink.old_sha256:
            return "changed"
        try:
            self.vault.write(
                relink.path, Note.from_bytes(relink.data, path=relink.path), expected=snap
            )
        except WriteConflict:
            return "changed"
        except SkipError:
            return "gone"
        return "written"

    def write_conflict_copy(self, record: Record, label: str) -> str | None:
        """Write the losing version next to its note as ``Title (conflict LABEL).md``."""
        base = PurePosixPath(record.id or record.title or "Untitled.md")
        folder = "" if str(base.parent) == "." else str(base.parent) + "/"
        stem = base.stem if record.id else (record.title or "Untitled")
        path = self._new_path(folder, f"{stem} (conflict {label})")
        note = Note.new(path=path)
        self._apply(note, record, delete_missing=False)
        self.vault.write(path, note, expected=ABSENT)
        return path


"""What :meth:`VaultAdapter.list` found for a note: its SHA-256 (the index's values of
those bytes), class, mtime_ns, modified."""


def _stem(path: str) -> str:
    """``PurePosixPath(path).stem``, without building a path (called for every note read)."""
    name = path.rpartition("/")[2]
    if not name or name in (".", ".."):
        return PurePosixPath(path).stem
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _canonical_or_none(value: Any) -> Any:
    try:
        return canonical(value)
    except TypeError:
        return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
