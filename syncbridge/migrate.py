"""One-shot migration of a whole vault into a target: ``syncbridge migrate --to TARGET``.

A migration is the engine's initial sync in one direction, with a check first and a report
after. Nothing here writes records itself: :meth:`syncbridge.bridge.Bridge` runs
:func:`syncbridge.engine.run_sync`, so the target's collections come from the vault schema
(``Adapter.ensure_collection``), every note goes through the adapter's create path, and
every write is journaled in the state first. That journal is what makes a migration
resumable: a rerun after Ctrl-C or SIGKILL recovers the interrupted writes (a record
created but not yet recorded is found and linked, not created again) and continues with
the notes not sent yet. The links it leaves in the state are those of a sync, so a later
``syncbridge sync`` or ``watch`` continues from there.

One direction only: before sending anything, :func:`migrate_to` plans the run without
writing (a dry run) and stops (:class:`~syncbridge.errors.SafetyStop`, nothing written)
when that plan would write into the vault or delete anything on the target; that happens
when the target already holds records no note is linked to. ``syncbridge sync`` is the
command for that case.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncbridge.errors import SafetyStop, SyncbridgeError
from syncbridge.wikilinks import LinkResolver, links_in_value

if TYPE_CHECKING:
    from syncbridge.adapter import Adapter
    from syncbridge.bridge import Bridge, ProgressFn
    from syncbridge.engine import SyncReport
    from syncbridge.vault import Vault
    from syncbridge.vault.adapter import VaultAdapter

__all__ = ["MigrationReport", "migrate_to", "save_report"]


@dataclass
class MigrationReport:
    """What a migration did (or, under ``dry_run``, would do).

    ``created``: records the run created on the target. ``classes``: class name → notes
    of that class the run sent (planned before sending; would send, in a dry run).
    ``already``: notes linked by an earlier (interrupted) run and left as they are.
    ``not_transferred``: ``{"id", "reason"}`` per note that is not on the target after the
    run. ``warnings``: ``{"id", "message"}`` of things sent but worth a look (a link
    that resolves to no note), with its ``class`` and ``kind`` (``link``, ``name``,
    ``value``, ...). ``recovered``: interrupted writes of an earlier run finished by this
    one. ``saved_to``: the report file (not in a dry run).

    ``direction``: ``"to"`` (vault → target, :func:`migrate_to`) or ``"from"`` (target →
    the vault ``vault``, :func:`syncbridge.migrate_from.migrate_from`; then ``created``
    counts notes, ``fileclasses`` the fileClass notes written, ``kept_out`` the notes of
    the vault the target does not hold, left out of the run).
    """

    target: str
    adapter: str
    dry_run: bool = False
    direction: str = "to"
    vault: str | None = None
    fileclasses: list[str] = field(default_factory=list)
    kept_out: int = 0
    notes: int = 0
    created: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    already: int = 0
    recovered: int = 0
    not_transferred: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    saved_to: str | None = None

    @property
    def ok(self) -> bool:
        """Every note is (or would be) on the target."""
        return not self.not_transferred

    def problems_per_class(self) -> dict[str, dict[str, int]]:
        """Class → problem kind → count, over the warnings and the notes not transferred
        (kind ``not_transferred``; a note of no known class counts under ``""``)."""
        out: dict[str, Counter[str]] = {}
        for w in self.warnings:
            out.setdefault(w.get("class", ""), Counter())[w.get("kind", "warning")] += 1
        for item in self.not_transferred:
            out.setdefault(item.get("class", ""), Counter())["not_transferred"] += 1
        return {cls: dict(sorted(c.items())) for cls, c in sorted(out.items())}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the shape of ``syncbridge migrate --json``)."""
        return {
            "target": self.target,
            "adapter": self.adapter,
            "direction": self.direction,
            "vault": self.vault,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "notes": self.notes,
            "created": self.created,
            "classes": dict(sorted(self.classes.items())),
            "already": self.already,
            "recovered": self.recovered,
            "not_transferred": list(self.not_transferred),
            "warnings": list(self.warnings),
            "problems_per_class": self.problems_per_class(),
            "fileclasses": list(self.fileclasses),
            "kept_out": self.kept_out,
            "elapsed_s": round(self.elapsed_s, 3),
            "report": self.saved_to,
        }

    def render(self) -> str:
        """The report as text (printed, and saved as the report file)."""
        verb = "would create" if self.dry_run else "created"
        head = (
            f"migration of the vault to {self.target} ({self.adapter})"
            if self.direction == "to"
            else f"migration of {self.target} ({self.adapter}) into the vault {self.vault}"
        )
        lines = [
            head
            + (
                " - dry run, nothing sent"
                if self.dry_run and self.direction == "to"
                else " - dry run, nothing written"
                if self.dry_run
                else ""
            ),
            f"  {'notes' if self.direction == 'to' else 'records'}:    {self.notes}",
            f"  {verb}: {self.created}"
            + (f" ({self.already} already there from an earlier run)" if self.already else ""),
        ]
        for cls, n in sorted(self.classes.items()):
            lines.append(f"    {cls or '(no class)'}: {n}")
        if self.fileclasses:
            lines.append(
                f"  fileClass notes {'to write' if self.dry_run else 'written'}: "
                + ", ".join(self.fileclasses)
            )
        if self.kept_out:
            lines.append(
                f"  {self.kept_out} note(s) of the vault not on the target: left "
                "as they are, not sent"
            )
        if self.recovered:
            lines.append(f"  recovered {self.recovered} interrupted write(s) of an earlier run")
        if not self.dry_run:
            lines.append(f"  time:     {self.elapsed_s:.1f} s")
        lines.append(f"  not transferred: {len(self.not_transferred)}")
        for item in self.not_transferred:
            lines.append(f"    {item['id']}: {item['reason']}")
        lines.append(f"  warnings: {len(self.warnings)}")
        for item in self.warnings:
            lines.append(f"    {item['id']}: {item['message']}")
        per_class = self.problems_per_class()
        if per_class:
            lines.append("  problems per class:")
            for cls, counts in per_class.items():
                what = ", ".join(f"{kind} {n}" for kind, n in counts.items())
                lines.append(f"    {cls or '(no class)'}: {what}")
        return "\n".join(lines) + "\n"


def migrate_to(
    bridge: Bridge,
    target: str,
    *,
    dry_run: bool = False,
    progress: ProgressFn | None = None,
    report_dir: Path | None = None,
) -> MigrationReport:
    """Send every note of the vault to ``target`` (one direction), or under ``dry_run``
    say what would be sent and every problem found, sending nothing.

    Side effects (not under ``dry_run``): the target's collections and records, the state
    store (links, journal), and the report file ``migrate-TARGET-STAMP.txt`` (mode 0600)
    in ``report_dir`` (default: the state file's folder). The vault is only read.
    Raises :class:`SafetyStop` before any write when the run would write into the vault or
    delete on the target; ``ConfigError`` for an unknown target; what
    :meth:`Bridge.sync` raises (``SyncLocked``, ``RemoteUnavailable``).
    """
    started = time.monotonic()
    t = bridge.config.target(target)
    vault = bridge.vault(progress=progress, dry_run=dry_run)
    report = MigrationReport(target=t.name, adapter=t.section.adapter, dry_run=dry_run)
    with contextlib.ExitStack() as stack:
        if dry_run:
            # the checks after the plan read both sides too (Adapter.check, the
            # listing): within the dry run, so that nothing is written anywhere
            stack.enter_context(vault.dry_run())
            stack.enter_context(bridge.remote(t.name).dry_run())
        state = stack.enter_context(bridge.state_scope(writes=not dry_run))
        pending = bool(state.pending_journal(t.name))
        linked_before = len(state.links(t.name))
        if not dry_run:
            # the check below is a dry run, which finishes nothing an interrupted run left
            # to the adapter (a Notion move, a second pass): the real run finishes it
            # first, so that the check sees the target as the run will
            bridge.remote(t.name).refresh()
        preview = bridge.run(t.name, state, dry_run=True)
        if preview.safety_stop:
            raise SafetyStop(preview.safety_stop)
        _check_one_direction(preview, t.name, allow_vault_creates=pending)
        report.already = linked_before
        report.warnings.extend(_unresolved_links(vault))
        if dry_run:
            _fill(report, preview, preview)
            report.not_transferred.extend(_rejected(bridge.remote(t.name), vault, preview))
            rejected = {item["id"] for item in report.not_transferred}
            report.classes = dict(Counter(_classes_sent(preview, rejected)))
            report.created = sum(report.classes.values())
        else:
            done = bridge.run(t.name, state, progress=progress)
            if done.safety_stop:
                raise SafetyStop(done.safety_stop)
            _fill(report, preview, done)
        report.notes = sum(1 for _ in vault.list())
    report.elapsed_s = time.monotonic() - started
    if not dry_run:
        folder = report_dir or bridge.config.state_path.parent
        report.saved_to = str(save_report(report, folder))
    return report


def _check_one_direction(preview: SyncReport, target: str, *, allow_vault_creates: bool) -> None:
    """Stop when the planned run would do more than create and update on the target."""
    plan = preview.plan
    if plan is None:
        return
    vault_writes = [
        w for w in plan.writes("vault") if not (allow_vault_creates and w.op == "create")
    ]
    deletes = [w for w in plan.writes("remote") if w.op == "delete"]
    if vault_writes or deletes:
        what = []
        if vault_writes:
            what.append(f"write {len(vault_writes)} note(s) in the vault")
        if deletes:
            what.append(f"delete {len(deletes)} record(s) on the target")
        raise SafetyStop(
            f"a migration only sends notes to {target}, but this one would also "
            f"{' and '.join(what)}: the target holds records no note is linked to (or the "
            "state is from another vault). Nothing was sent. Migrate into an empty "
            "target, or run 'syncbridge sync --dry-run' to see a two-way sync instead"
        )


def _fill(report: MigrationReport, preview: SyncReport, run: SyncReport) -> None:
    """Counts per class (from the fully planned ``preview``: a real run of many new notes
    plans them a chunk at a time) and the notes not transferred, from ``run``."""
    failed = {e.id for e in [*run.errors, *run.skipped]}
    classes: Counter[str] = Counter()
    if preview.plan is not None:
        for w in preview.plan.writes("remote"):
            if w.op == "create" and w.record is not None and w.record.id not in failed:
                classes[w.record.class_name or ""] += 1
    report.classes = dict(classes)
    report.created = run.remote.created if not run.dry_run else sum(classes.values())
    report.recovered = run.recovered
    class_of = _classes_by_label(preview)
    for e in [*run.errors, *run.skipped]:
        report.not_transferred.append(
            {"id": e.id, "class": class_of.get(e.id, ""), "reason": e.message}
        )
    for n in run.notices:
        report.warnings.append(
            {"id": n.id or "?", "class": "", "kind": "notice", "message": n.message}
        )


def _classes_by_label(preview: SyncReport) -> dict[str, str]:
    """Entry label (the note's path) → its class, for every action of the plan."""
    out: dict[str, str] = {}
    if preview.plan is None:
        return out
    for action in preview.plan.actions:
        record = action.vault if action.vault is not None else action.remote
        if record is not None:
            out[action.label] = record.class_name
    return out


def _classes_sent(preview: SyncReport, failed: set[str]) -> list[str]:
    """The class of every note the plan creates on the target, less ``failed`` ids."""
    if preview.plan is None:
        return []
    return [
        w.record.class_name or ""
        for a in preview.plan.actions
        for w in a.writes
        if w.side == "remote"
        and w.op == "create"
        and w.record is not None
        and a.label not in failed
    ]


def _rejected(remote: Adapter, vault: VaultAdapter, preview: SyncReport) -> list[dict[str, str]]:
    """Notes the plan creates whose values the target would refuse
    (:meth:`Adapter.check`), each with its reason and class; nothing is sent."""
    out: list[dict[str, str]] = []
    if preview.plan is None:
        return out
    classes = vault.vault.schema.classes
    for action in preview.plan.actions:
        for w in action.writes:
            if w.side != "remote" or w.op != "create" or w.record is None:
                continue
            for problem in remote.check(w.record, classes.get(w.record.class_name)):
                out.append(
                    {
                        "id": action.label,
                        "class": w.record.class_name,
                        "reason": f"the target would refuse it: {problem}",
                    }
                )
    return out


def _unresolved_links(vault: VaultAdapter) -> list[dict[str, str]]:
    """A warning per frontmatter link that resolves to no file of the vault: on the target
    it stays text (no relation can point at a note that does not exist)."""
    v = vault.vault
    resolver = LinkResolver(v.paths())
    out: list[dict[str, str]] = []
    for note in v.notes():
        path = note.path or ""
        try:
            fields = dict(note)
        except SyncbridgeError:  # unreadable frontmatter: the sync reports the note
            continue
        for key, value in fields.items():
            for link in links_in_value(value):
                if link.target and resolver.resolve(link.target, path or None) is None:
                    out.append(
                        {
                            "id": path,
                            "class": _class_of(v, path, fields),
                            "kind": "link",
                            "message": f"{key}: [[{link.target}]] resolves to no note; it is "
                            "sent as text, not as a relation",
                        }
                    )
    return out


def save_report(report: MigrationReport, folder: Path) -> Path:
    """Write the report (text, then the JSON form) as a new file of mode 0600 in
    ``folder`` (created if missing), ``migrate-TARGET-STAMP.txt`` (``-N`` when taken);
    sets ``report.saved_to``."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"migrate-{report.target}-{stamp}.txt"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"migrate-{report.target}-{stamp}-{n}.txt"
    report.saved_to = str(path)
    text = report.render() + "\n" + json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def _class_of(vault: Vault, path: str, fields: dict[str, Any]) -> str:
    return vault.schema.class_of(path, fields)
