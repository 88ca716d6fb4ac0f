"""Link-rewrite benchmark: a record retitled in SQLite, 1,000 of 10,000 notes linking to it.

The vault (built in a temporary folder, never in the repository): ``--notes`` generated
notes (default 10,000) in 20 folders, of which ``--linking`` (default 1,000) link to
``Hub/Target Note.md`` — in the frontmatter (a quoted link, a block list item) and in the
body (plain, alias, heading, embed, a vault path, a Markdown link with ``%20``), LF and
CRLF — the others linking elsewhere. After an initial sync into SQLite, the target's row is
retitled with SQL, and measured, each a ``syncbridge sync --json`` in this process with a
warm index cache:

* ``--dry-run`` (the plan and every linking note's diff);
* the sync itself: the rename, the rewrite of every link (plan + compare-and-swap writes),
  and the follow-up pass that carries the 1,000 rewritten notes to SQLite;
* the same rename with ``update_links = false`` (the cost of the rename alone, and of
  naming every broken link), on a fresh copy;
* the rewrite step alone, in process: ``plan_relinks`` over the vault (read, prefilter,
  rewrite), then the writes.

It checks that every rewritten note differs from its old bytes only inside link spans (by
replaying the recorded changes backwards) and that no other note changed. Figures go to
the ``link-rewrite`` section of ``docs/benchmarks.md``.

Run: ``python benchmarks/link_rewrite.py [--notes N] [--linking N] [--no-report]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import machine, write_section  # noqa: E402

from syncbridge.cli import main as cli_main  # noqa: E402
from syncbridge.vault.adapter import VaultAdapter  # noqa: E402
from syncbridge.vault.vault import Vault  # noqa: E402

TARGET = "Hub/Target Note.md"
RENAMED = "Hub/Renamed Target.md"
FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. "
)


def _note(i: int, links_target: bool) -> bytes:
    nl = "\r\n" if i % 5 == 0 else "\n"
    other = f"[[Note {(i * 7) % 500:05}]]"
    up = '"[[Target Note]]"' if links_target else f'"{other}"'
    lines = ["---", f"id: {100000 + i}", "status: draft", f"up: {up}", "related:", f'  - "{other}"']
    if links_target:
        lines.append('  - "[[Target Note#Roots|roots]]"')
    lines += ["---", f"# Note {i:05}", "", FILLER * 6, ""]
    if links_target:
        lines += [
            "See [[Target Note]], [[Target Note|the hub]] and [[Target Note#Roots]].",
            "![[Target Note]] and [[Hub/Target Note]].",
            "Markdown: [hub](Hub/Target%20Note.md).",
            "Code stays: `[[Target Note]]`.",
        ]
    lines += [f"Also {other}.", FILLER * 4, ""]
    return nl.join(lines).encode()


def build(root: Path, notes: int, linking: int) -> None:
    """Write the vault: ``notes`` notes, ``linking`` of them linking to the target."""
    (root / "Hub").mkdir(parents=True)
    (root / TARGET).write_text("---\nid: 1\n---\n# Target Note\n\n## Roots\nText.\n")
    step = max(1, (notes - 1) // linking)
    chosen = set(range(0, step * linking, step))
    for i in range(notes - 1):
        folder = root / f"Area {i % 20:02}"
        folder.mkdir(exist_ok=True)
        (folder / f"Note {i:05}.md").write_bytes(_note(i, i in chosen))


CPU: dict[str, float] = {}
"""Step → CPU seconds of this process (the wall time moves with the machine's load)."""


def _sync(config: Path, *extra: str, step: str = "") -> tuple[float, dict[str, Any]]:
    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        code = cli_main(["sync", "--config", str(config), "--json", *extra])
    seconds = time.perf_counter() - start
    CPU[step] = time.process_time() - cpu
    if code != 0:
        raise SystemExit(f"sync failed ({code}): {out.getvalue()[:2000]}")
    result: dict[str, Any] = json.loads(out.getvalue())["targets"]["local"]
    return seconds, result


def _retitle(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        n = conn.execute(
            "UPDATE note SET title = 'Renamed Target' WHERE title = 'Target Note'"
        ).rowcount
    assert n == 1


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*.md")
        if ".trash" not in p.parts
    }


def _project(d: Path, notes: int, linking: int, *, update_links: bool = True) -> Path:
    build(d / "vault", notes, linking)
    extra = "" if update_links else "update_links = false\n"
    config = d / "syncbridge.toml"
    config.write_text(
        f'[vault]\npath = "vault"\n{extra}\n[[targets]]\nname = "local"\n'
        'adapter = "sqlite"\npath = "demo.db"\n',
        encoding="utf-8",
    )
    return config


def _only_links_changed(before: dict[str, bytes], after: dict[str, bytes]) -> int:
    """Check every changed note against the links it holds now; return how many changed."""
    changed = 0
    for path, old in before.items():
        new = after.get(RENAMED if path == TARGET else path)
        assert new is not None, path
        if new == old:
            continue
        changed += 1
        text = new.decode()
        for name in ("Renamed Target", "Renamed%20Target"):
            text = text.replace(name, "Target Note" if "%" not in name else "Target%20Note")
        assert text.encode() == old, f"{path}: more than link characters changed"
    return changed


def run(notes: int, linking: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sb-links-") as tmp:
        d = Path(tmp) / "on"
        config = _project(d, notes, linking)
        initial, _ = _sync(config, step="initial")
        _retitle(d / "demo.db")
        before = _files(d / "vault")
        dry, preview = _sync(config, "--dry-run", step="dry_run")
        synced, report = _sync(config, step="sync")
        after = _files(d / "vault")
        changed = _only_links_changed(before, after)
        quiet, again = _sync(config, step="quiet")

        off_dir = Path(tmp) / "off"
        off_config = _project(off_dir, notes, linking, update_links=False)
        _sync(off_config)
        _retitle(off_dir / "demo.db")
        off, off_report = _sync(off_config, step="off")

        # The rewrite step alone, on a copy of the vault renamed with the rewrite off (the
        # state right after the move): plan it, then write it.
        shutil.copytree(off_dir / "vault", d / "vault2")
        adapter = VaultAdapter(Vault.open(d / "vault2"))
        start, cpu = time.perf_counter(), time.process_time()
        planned = adapter.plan_relinks({TARGET: RENAMED}, applied=True)
        plan_s = time.perf_counter() - start
        CPU["plan"] = time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        for relink in planned:
            adapter.apply_relink(
                relink.path,
                relink.old_sha256,
                hashlib.sha256(relink.data).hexdigest(),
                relink.mapping,
            )
        write_s = time.perf_counter() - start
        CPU["write"] = time.process_time() - cpu
    return {
        "notes": notes,
        "linking": linking,
        "initial_s": initial,
        "dry_run_s": dry,
        "preview_notes": preview["links"]["notes"],
        "sync_s": synced,
        "rewritten_notes": report["links"]["notes"],
        "rewritten_links": report["links"]["links"],
        "remote_updated": report["remote"]["updated"],
        "changed_files": changed,
        "quiet_s": quiet,
        "quiet_writes": sum(
            again[s][k] for s in ("vault", "remote") for k in ("created", "updated", "deleted")
        ),
        "off_s": off,
        "off_broken": len(off_report["links"]["broken"]),
        "plan_s": plan_s,
        "planned_notes": len(planned),
        "write_s": write_s,
        "cpu_s": dict(CPU),
    }


def report(r: dict[str, Any]) -> str:
    cpu = r["cpu_s"]
    rows = [
        (
            "initial sync (for scale)",
            r["initial_s"],
            cpu["initial"],
            f"{r['notes']:,} rows created",
        ),
        (
            "`sync --dry-run`",
            r["dry_run_s"],
            cpu["dry_run"],
            f"{r['preview_notes']:,} notes listed with their diffs",
        ),
        (
            "`sync`",
            r["sync_s"],
            cpu["sync"],
            f"the rename, {r['rewritten_links']:,} links rewritten in {r['rewritten_notes']:,}"
            f" notes, {r['remote_updated']:,} rows updated by the follow-up pass",
        ),
        (
            "`sync` again",
            r["quiet_s"],
            cpu["quiet"],
            f"{r['quiet_writes']} writes (both sides agree)",
        ),
        (
            "`sync` with `update_links = false`",
            r["off_s"],
            cpu["off"],
            f"the rename only; {r['off_broken']:,} broken links named",
        ),
        (
            "rewrite step alone: plan",
            r["plan_s"],
            cpu["plan"],
            f"every note read and prefiltered, {r['planned_notes']:,} rewritten in memory",
        ),
        (
            "rewrite step alone: writes",
            r["write_s"],
            cpu["write"],
            f"{r['planned_notes']:,} compare-and-swap atomic writes (each fsynced)",
        ),
    ]
    table = "\n".join(
        f"| {step} | {seconds:.2f} s | {busy:.2f} s | {what} |"
        for step, seconds, busy, what in rows
    )
    return f"""## Link rewrite after a rename (`benchmarks/link_rewrite.py`)

{machine()}. A {r["notes"]:,}-note generated vault, {r["linking"]:,} notes linking to one note
(frontmatter and body, 8 links each: plain, alias, heading, embed, vault path, Markdown
`%20`, LF and CRLF); its SQLite row retitled with SQL, then synced.

| step | wall time | CPU time | what happened |
|---|---:|---:|---|
{table}

Checked: {r["changed_files"]:,} files changed (the linking notes), each only inside its link
spans; every other file kept its bytes, and the renamed note its content. The machine is
shared by several jobs (load average {r["load"]:.1f} on {r["cpus"]} CPUs when this ran), so
wall times move between runs; CPU time is this process's own work (waits for fsync and
for the other jobs are not in it).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--linking", type=int, default=1_000)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    result = run(args.notes, args.linking)
    result["load"] = os.getloadavg()[0]
    result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=2))
    if not args.no_report:
        write_section("link-rewrite", report(result))


if __name__ == "__main__":
    main()
