"""The sync engine: plan (pure), then execute (journaled), over two adapters of one contract.

``run_sync(vault, remote, state, options)`` is what the CLI and the daemon call;
``plan_sync`` is the pure decision function behind it (and behind ``--dry-run``). The
semantics and the decision table are in ``docs/sync.md``. The crash-injection hooks the
executor calls are test support: :class:`syncbridge.testing.FaultInjector`.
"""

from syncbridge.engine.conflicts import get_conflict, list_conflicts, restore_conflict
from syncbridge.engine.execute import SideCounts, SyncReport, run_sync
from syncbridge.engine.merge import BODY, TITLE, EntryMerge, FieldChange, FieldConflict, merge_entry
from syncbridge.engine.options import Filters, Side, SyncOptions
from syncbridge.engine.plan import (
    BaseState,
    EntryAction,
    Plan,
    Write,
    plan_sync,
    records_to_read,
)
from syncbridge.engine.relink import LinkReport
from syncbridge.engine.report import EntryProblem, Notice

__all__ = [
    "BODY",
    "TITLE",
    "BaseState",
    "EntryAction",
    "EntryMerge",
    "EntryProblem",
    "FieldChange",
    "FieldConflict",
    "Filters",
    "LinkReport",
    "Notice",
    "Plan",
    "Side",
    "SideCounts",
    "SyncOptions",
    "SyncReport",
    "Write",
    "get_conflict",
    "list_conflicts",
    "merge_entry",
    "plan_sync",
    "records_to_read",
    "restore_conflict",
    "run_sync",
]
