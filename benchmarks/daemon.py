"""Daemon benchmark: ``syncbridge watch`` on a 10,000-note vault synced into SQLite.

Measured on the daemon as a real process (``python -m syncbridge watch``), with the default
timing (``debounce_ms = 1000``, ``poll_interval_s = 30``):

* latency from a saved edit to the target showing it: a note's body is rewritten (as an
  editor saves it), then SQLite is polled every 10 ms until the row holds the new text;
  repeated ``--edits`` times, a different note each time, the median and the worst reported.
  The goal is ``debounce + 1 s``;
* idle CPU and memory: after the edits, the daemon is left watching the vault for
  ``--idle`` seconds (its target polled twice a minute meanwhile); CPU time from
  ``/proc/PID/stat`` over that window as a share of one core (goal: under 1 %), resident
  memory from ``/proc/PID/status``.

The vault is built in a temporary folder from copies of ``../shared/corpus`` notes, as in
``benchmarks/sync_sqlite.py``. Figures go to the ``daemon`` section of ``docs/benchmarks.md``.
Linux only (``/proc``).

Run: ``python benchmarks/daemon.py [--notes N] [--edits N] [--idle S] [--no-report]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import machine, write_section  # noqa: E402
from sync_sqlite import build_vault  # noqa: E402

BASELINE = (
    "Before the incremental pass (every sync rescanned the whole vault and rebuilt the "
    "schema when any note changed; 2026-12-01 22:38 UTC, load average 10.4): median "
    "8.25 s (worst 10.51 s), 1.19 s of CPU per edit, so about 2.19 s on an idle core."
)
"""The full-scan figures this benchmark measured before the incremental pass (kept for
comparison; they are not measured again)."""

DEBOUNCE_MS = 1000
POLL_INTERVAL_S = 30.0
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _events(log: Path, name: str) -> list[dict[str, object]]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines() if log.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == name:
            out.append(record)
    return out


def _wait(condition: object, what: str, timeout_s: float = 600.0, every_s: float = 0.01) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every_s)


def _row_has(db: Path, marker: str) -> bool:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM _meta")]
        return any(
            conn.execute(f'SELECT 1 FROM "{t}" WHERE instr(body, ?) LIMIT 1', (marker,)).fetchone()
            for t in tables
        )
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measured")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="syncbridge-bench-daemon-") as tmp:
        root = Path(tmp)
        _, described = build_vault(root / "vault", args.notes)
        (root / "vault" / ".obsidian").mkdir(exist_ok=True)
        config = root / "syncbridge.toml"
        config.write_text(
            '[vault]\npath = "vault"\n\n'
            f"[daemon]\ndebounce_ms = {DEBOUNCE_MS}\npoll_interval_s = {POLL_INTERVAL_S}\n\n"
            '[[targets]]\nname = "bench"\nadapter = "sqlite"\npath = "bench.db"\n',
            encoding="utf-8",
        )
        log = root / "watch.log"
        db = root / "bench.db"
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncbridge",
                "watch",
                "--config",
                str(config),
                "--log-format",
                "json",
                "--log-file",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait(lambda: _events(log, "synced"), "the initial sync")
            initial_s = time.perf_counter() - started
            mode = _events(log, "watching")[0].get("mode")
            time.sleep(3)
            notes = sorted((root / "vault").rglob("note-*.md"))
            latencies = []
            sync_cpu: list[float] = []
            for k in range(args.edits):
                note = notes[(k * 977) % len(notes)]
                marker = f"daemon-bench-{k}-{time.time_ns()}"
                data = note.read_text(encoding="utf-8")
                cpu_before = _cpu_s(proc.pid)
                saved = time.perf_counter()
                note.write_text(data.rstrip("\n") + f"\n\n{marker}\n", encoding="utf-8")
                _wait(lambda m=marker: _row_has(db, m), f"edit {k} in SQLite", 60)
                latencies.append(time.perf_counter() - saved)
                sync_cpu.append(_cpu_s(proc.pid) - cpu_before)
                time.sleep(1.5)
            time.sleep(5)  # let the last sync and the index cache settle
            cpu0, t0 = _cpu_s(proc.pid), time.perf_counter()
            time.sleep(args.idle)
            cpu1, t1 = _cpu_s(proc.pid), time.perf_counter()
            rss = _rss_mb(proc.pid)
            synced = _events(log, "synced")
            syncs = len(synced)
            incremental = sum(1 for r in synced[1:] if r.get("scan") == "incremental")
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise SystemExit(f"the daemon exited with {proc.returncode}: {err.decode()}")

    load = os.getloadavg()
    idle_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    median = statistics.median(latencies)
    goal = DEBOUNCE_MS / 1000 + 1
    lines = [
        "## Daemon (`benchmarks/daemon.py`)",
        "",
        f"`syncbridge watch` as a real process on {args.notes:,} notes ({described}) synced "
        f"into SQLite; debounce {DEBOUNCE_MS} ms, poll interval {POLL_INTERVAL_S:.0f} s, "
        f"{mode} file events. {machine()}; load average during the run {load[1]:.1f} "
        f"(1-minute {load[0]:.1f}): the machine is shared, figures scale with it.",
        "",
        "| | measured | goal |",
        "|---|---|---|",
        f"| saved edit → row in SQLite, median of {len(latencies)} | {median:.2f} s "
        f"(worst {max(latencies):.2f} s) | within debounce + 1 s = {goal:.1f} s |",
        f"| idle CPU watching the vault, {t1 - t0:.0f} s | {idle_pct:.2f} % of one core "
        f"({cpu1 - cpu0:.2f} s CPU) | under 1 % |",
        f"| idle resident memory | {rss:.0f} MB | |",
        f"| saved edit → row, minus the debounce (one sync, wall clock) | "
        f"{median - DEBOUNCE_MS / 1000:.2f} s | |",
        f"| CPU the daemon spent per edit (one sync), median | "
        f"{statistics.median(sync_cpu):.2f} s | |",
        f"| so on an otherwise idle core: debounce + that CPU | "
        f"{DEBOUNCE_MS / 1000 + statistics.median(sync_cpu):.2f} s (estimate) | {goal:.1f} s |",
        f"| daemon start to first sync done (scan + initial sync) | {initial_s:.1f} s | |",
        "",
        "The latency is the debounce plus one sync: the incremental pass (`scan: "
        f"incremental` in the log: {incremental} of the {syncs - 1} syncs after the initial "
        "one) rescans only the note the file events named and keeps the schema (no "
        "note's values changed), then plans over the whole index and listing as a full "
        "sync does, and writes one row; what is left of the CPU is mostly that planning "
        f"({args.notes:,} entries) and the listings of both sides. One sync per edit "
        f"({syncs - 1} after the initial one for {len(latencies)} edits: nothing echoed). "
        "Idle, the daemon sleeps until the next poll or vault check (every 2 s, a `stat`); "
        "a poll is one `PRAGMA data_version`, so an unchanged target costs no sync; a "
        "full rescan (every 300 s, `full_scan_interval_s`) is in the idle figure when it "
        "fell in the window.",
        "",
        BASELINE,
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_report:
        write_section("daemon", text)


if __name__ == "__main__":
    main()
