"""The sync state machine on the real parts: a vault of files ↔ the SQLite adapter.

Smaller than the memory machine (real files and a real database per example), same
invariants: after a complete sync the note and its row agree field by field, every edit
is in the result or in the conflict log, and the next sync writes nothing. Edits on the
SQLite side are plain SQL, as a user of DB Browser or ``sqlite3`` would make them.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from syncbridge.engine import SyncOptions, run_sync
from syncbridge.note.note import Note
from syncbridge.registry import load_adapter
from syncbridge.state import StateStore
from syncbridge.testing import FaultInjector, SimulatedCrash
from syncbridge.vault.adapter import VaultAdapter
from syncbridge.vault.vault import Vault

FIELDS = ("a", "b")
TOKEN = re.compile(r"t\d+x")
PICK = st.integers(min_value=0, max_value=10_000)


class RealSyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "vault" / ".obsidian").mkdir(parents=True)
        self.counter = 0
        self.dropped: set[str] = set()
        self.origin: dict[str, str] = {}
        self.options = SyncOptions(target="r", timezone="UTC", force_delete=True)
        self.state = StateStore.open(self.root / "state.db")
        cls = load_adapter("sqlite")
        self.remote = cls(cls.config_model(path="demo.db"), base_dir=self.root)

    def teardown(self) -> None:
        self.remote.close()
        self.state.close()
        self.tmp.cleanup()

    def token(self, side: str) -> str:
        self.counter += 1
        tok = f"t{self.counter}x"
        self.origin[tok] = side
        return tok

    # -- the two sides as a user sees them ------------------------------------------------

    def notes(self) -> list[Path]:
        return sorted(p for p in (self.root / "vault").rglob("*.md") if ".trash" not in p.parts)

    def rows(self) -> dict[str, dict[str, Any]]:
        if not (self.root / "demo.db").exists():
            return {}
        with sqlite3.connect(self.root / "demo.db") as conn:
            conn.row_factory = sqlite3.Row
            tables = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if r[0] == "note"
            ]
            if not tables:
                return {}
            cols = [r[1] for r in conn.execute("PRAGMA table_info(note)")]
            return {
                r["_id"]: {f: r[f] for f in FIELDS if f in cols}
                for r in conn.execute("SELECT * FROM note")
            }

    def vault_adapter(self) -> VaultAdapter:
        return VaultAdapter(Vault.open(self.root / "vault"), timezone="UTC")

    # -- user actions -----------------------------------------------------------------------

    @rule(n=st.integers(0, 2))
    def create_note(self, n: int) -> None:
        tok = self.token("vault")
        fields = "".join(f"{f}: {self.token('vault')}\n" for f in FIELDS[:n])
        text = f"---\n{fields}---\nbody {tok}\n" if fields else f"body {tok}\n"
        (self.root / "vault" / f"N{tok}.md").write_text(text, "utf-8")

    @rule(index=PICK, field=st.sampled_from(FIELDS))
    def edit_note(self, index: int, field: str) -> None:
        notes = self.notes()
        if not notes:
            return
        path = notes[index % len(notes)]
        note = Note.from_bytes(path.read_bytes())
        self.dropped.update(TOKEN.findall(str(note.get(field))))
        note[field] = self.token("vault")
        path.write_bytes(note.to_bytes())

    @rule(index=PICK)
    def delete_note(self, index: int) -> None:
        notes = self.notes()
        if notes:
            path = notes[index % len(notes)]
            self.dropped.update(TOKEN.findall(path.read_text("utf-8")))
            path.unlink()

    @rule(index=PICK, field=st.sampled_from(FIELDS))
    def edit_row(self, index: int, field: str) -> None:
        rows = self.rows()
        if not rows or field not in next(iter(rows.values())):
            return
        rid = sorted(rows)[index % len(rows)]
        self.dropped.update(TOKEN.findall(str(rows[rid][field])))
        with sqlite3.connect(self.root / "demo.db") as conn:
            conn.execute(f"UPDATE note SET {field} = ? WHERE _id = ?", (self.token("remote"), rid))

    @rule(write=st.integers(1, 3), point=st.sampled_from(["before", "after", "committed"]))
    def crashing_sync(self, write: int, point: str) -> None:
        with contextlib.suppress(SimulatedCrash):
            run_sync(
                self.vault_adapter(),
                self.remote,
                self.state,
                self.options,
                faults_at=FaultInjector(write, point),
            )

    @rule()
    def sync(self) -> None:
        before = self.live_tokens() - self.dropped
        agreed = self.base_tokens()
        report = run_sync(self.vault_adapter(), self.remote, self.state, self.options)
        assert report.errors == [], report.errors
        lost = (before - agreed) - self.live_tokens() - self.logged_tokens()
        assert not lost, f"edits lost: {sorted(lost)}"
        self.check_agreement()
        again = run_sync(self.vault_adapter(), self.remote, self.state, self.options)
        writes = sum(
            again.to_dict()[s][k] for s in ("vault", "remote") for k in ("created", "updated")
        )
        assert writes == 0, again.plan.render() if again.plan else again

    # -- invariants -------------------------------------------------------------------------

    def live_tokens(self) -> set[str]:
        found = {t for p in self.notes() for t in TOKEN.findall(p.read_text("utf-8"))}
        for row in self.rows().values():
            found.update(t for v in row.values() for t in TOKEN.findall(str(v)))
        return found

    def base_tokens(self) -> set[str]:
        links = self.state.links("r")
        found: set[str] = set()
        for snap in self.state.snapshots("r", links).values():
            found.update(
                TOKEN.findall(repr([snap.vault.fields, snap.vault.body, snap.remote.fields]))
            )
        return found

    def logged_tokens(self) -> set[str]:
        return {
            t
            for c in self.state.conflicts("r")
            for t in TOKEN.findall(repr([c.vault_value, c.remote_value]))
        }

    def check_agreement(self) -> None:
        links = self.state.links("r")
        rows = self.rows()
        notes = {str(p.relative_to(self.root / "vault")): p for p in self.notes()}
        assert len(links) == len(rows) == len(notes), (links, rows, notes)
        for link in links.values():
            note = Note.from_bytes(notes[link.vault_id].read_bytes())
            for f in FIELDS:
                assert note.get(f) == rows[link.remote_id].get(f), (link, f, dict(note))


RealSyncMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRealSyncMachine = RealSyncMachine.TestCase
