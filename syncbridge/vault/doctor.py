"""``syncbridge doctor``: what in a vault syncbridge cannot read, edit or type, before a sync.

Read-only: it never writes a note. Findings are grouped by severity:

* ``error``: a note syncbridge will skip (unreadable frontmatter, invalid UTF-8, frontmatter
  it refuses to edit, no permission to read it or its folder, a name that is not UTF-8), a
  file that would not round-trip byte for byte, two notes sharing an id;
* ``warning``: a value that does not fit its class (a Select value not in its list, a date
  not in its format ...), problems in fileClass definitions, a fileClass no definition note
  describes (a typo?), and symbolic links (not followed, so not synced);
* ``info``: links that resolve to no note.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from syncbridge.engine.identity import duplicate_id_message, duplicate_ids, key_of
from syncbridge.errors import NoteError
from syncbridge.note.note import Note
from syncbridge.note.splice import key_spans
from syncbridge.schema.validate import validate_note
from syncbridge.vault.adapter import CONFLICT_COPY, canonical_fields
from syncbridge.vault.fsio import read_snapshot
from syncbridge.vault.vault import Vault
from syncbridge.wikilinks import LinkResolver, links_in_value

__all__ = ["DoctorReport", "Finding", "diagnose"]


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning" | "info"
    kind: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{self.severity}: {where}: {self.message}"


@dataclass
class DoctorReport:
    notes: int = 0
    entries: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def ok(self) -> bool:
        """True when nothing would be skipped or lost (warnings allowed)."""
        return self.count("error") == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "notes": self.notes,
            "entries": self.entries,
            "classes": self.classes,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "info": self.count("info"),
            "findings": [asdict(f) for f in self.findings],
        }


def diagnose(
    vault: Vault,
    *,
    id_field: str = "id",
    check_edits: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> DoctorReport:
    """Examine every note of ``vault`` (already scanned). Reads files; writes nothing.

    ``check_edits`` also composes every frontmatter with ruamel (about 3 ms a note) to
    find notes whose frontmatter syncbridge would refuse to edit.
    """
    report = DoctorReport(notes=len(vault))
    schema = vault.schema
    report.findings.extend(
        Finding("warning", "schema", schema.fileclass_folder or ".", p) for p in schema.problems
    )
    report.findings.extend(
        Finding("error", "settings", m.split(" ", 1)[0], m.split(" ", 1)[1])
        for m in schema.unreadable_settings
    )
    blocked = set()
    for path, problem in sorted(vault.scan_problems().items()):
        # what the scan could not index; a link is only a warning (ignore it to silence it)
        severity = "warning" if problem.kind == "symlink" else "error"
        report.findings.append(Finding(severity, problem.kind, path, problem.message))
        blocked.add(path)
    entries = vault.entries()
    aliases: dict[str, list[str]] = {}
    for path, entry in entries.items():
        value = entry.fields.get("aliases")
        if isinstance(value, str):
            aliases[path] = [value]
        elif isinstance(value, list):
            aliases[path] = [str(v) for v in value if v is not None]
    resolver = LinkResolver([*entries.keys(), *_attachments(vault)], aliases)
    keys: dict[str, str | None] = {}
    classes: dict[str, int] = defaultdict(int)
    paths = sorted(entries)
    for i, path in enumerate(paths):
        entry = entries[path]
        if progress is not None:
            progress(i + 1, len(paths))
        if entry.error is not None:
            if entry.error_line is None and any(
                path == b or (b.endswith("/") and (b == "./" or path.startswith(b)))
                for b in blocked
            ):
                continue  # under an unreadable folder: reported once, above
            report.findings.append(
                Finding(
                    "error",
                    "unreadable",
                    path,
                    f"{entry.error} — syncbridge will skip this note until it is fixed",
                    entry.error_line,
                )
            )
            continue
        _check_file(vault, path, check_edits, report)
        if not schema.is_entry(path):
            continue
        report.entries += 1
        cls_name = schema.class_of(path, entry.fields)
        classes[cls_name] += 1
        cls = schema.classes.get(cls_name)
        if (
            classes[cls_name] == 1
            and cls is not None
            and schema.fileclass_folder
            and cls.source == "inferred"
            and cls_name != schema.default_class
            and cls_name != schema.global_class
        ):
            report.findings.append(
                Finding(
                    "warning",
                    "undefined-class",
                    path,
                    f"fileClass {cls_name!r} has no definition note in {schema.fileclass_folder}/ "
                    "(a typo?); its notes sync as a class of their own, typed by their values",
                )
            )
        if cls is not None:
            for issue in validate_note(cls, entry.fields):
                report.findings.append(
                    Finding(
                        "warning",
                        "invalid-value",
                        path,
                        f"{issue} (class {cls_name}; the value is kept as it is)",
                    )
                )
        if id_field in entry.fields and not CONFLICT_COPY.search(path):
            # the very identity sync uses: the canonical value, typed by the class
            spec = {id_field: cls.fields[id_field]} if cls and id_field in cls.fields else {}
            keys[path] = key_of(
                canonical_fields(spec, {id_field: entry.fields[id_field]}), id_field
            )
        for link in links_in_value(entry.fields):
            if link.target and resolver.resolve(link.target, path) is None:
                report.findings.append(
                    Finding(
                        "info",
                        "unresolved-link",
                        path,
                        f"[[{link.target}]] in the frontmatter matches no note",
                    )
                )
    for key, holders in duplicate_ids(keys).items():
        # one rule with sync (engine.identity): every note sharing an id is skipped
        for holder in holders:
            others = [h for h in holders if h != holder]
            report.findings.append(
                Finding(
                    "error", "duplicate-id", holder, duplicate_id_message(id_field, key, others)
                )
            )
    report.classes = dict(sorted(classes.items()))
    return report


def _attachments(vault: Vault) -> list[str]:
    """Vault-relative paths of the non-note files links may point to (images, PDFs ...)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(vault.root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, vault.root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.extend(prefix + f for f in files if not f.endswith(".md"))
    return found


def _check_file(vault: Vault, path: str, check_edits: bool, report: DoctorReport) -> None:
    try:
        snap = read_snapshot(vault.abspath(path))
        note = Note.from_bytes(snap.data, path=path)
    except NoteError as exc:
        report.findings.append(Finding("error", "unreadable", path, exc.reason, exc.line))
        return
    except OSError as exc:
        report.findings.append(Finding("error", "unreadable", path, str(exc)))
        return
    if note.text.encode("utf-8") != snap.data:
        report.findings.append(
            Finding(
                "error",
                "round-trip",
                path,
                "this file would not be written back byte for byte; please report it",
            )
        )
    if check_edits and note.frontmatter_text is not None:
        try:
            key_spans(note.frontmatter_text, path=path)
        except NoteError as exc:
            report.findings.append(
                Finding(
                    "error",
                    "not-editable",
                    path,
                    f"{exc.reason} — syncbridge can read this note but will not edit it",
                    exc.line,
                )
            )
