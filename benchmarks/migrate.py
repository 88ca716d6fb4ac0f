"""``syncbridge migrate --to notion``: requests per note and wall time against the local
Notion server, counted by the server.

Generates a vault (``--notes``, default 1,000: a heading, a paragraph with a wikilink, a
list, five fields), runs the CLI's migrate in process against the fake Notion server twice:
without a rate limit (requests only) and with Notion's (3 requests/s, bursts of 10, 429 +
Retry-After past it; the adapter paces itself to 3/s), and writes the ``migrate`` section
of docs/benchmarks.md. Run once; it is not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from syncbridge_notion_fake import NotionFakeServer, RateLimitConfig

from syncbridge.cli import main as cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section
from notion_sync import make_vault

ENV = "SYNCBRIDGE_BENCH_NOTION_TOKEN"


def one_migration(root: Path, server: NotionFakeServer, rps: float) -> tuple[dict, dict, float]:
    (root / "syncbridge.toml").write_text(
        '[vault]\npath = "vault"\n\n[[targets]]\nname = "notion"\nadapter = "notion"\n'
        f'parent_page = "{server.root_page_id}"\ntoken_env = "{ENV}"\n'
        f'base_url = "{server.url}"\nrequests_per_s = {rps}\n',
        encoding="utf-8",
    )
    os.environ[ENV] = server.token
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = cli(
            ["migrate", "--to", "notion", "--json", "--config", str(root / "syncbridge.toml")]
        )
    elapsed = time.perf_counter() - start
    report = json.loads(out.getvalue())
    if code != 0:
        raise SystemExit(f"migrate failed ({code}): {report}")
    data = httpx.get(f"{server.url}/__fake__/stats").json()
    return report, data, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--no-rate-limit-run", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    rows = []
    by_endpoint: list[str] = []
    verdict = "not measured"
    runs = [("no rate limit", None, 1000.0)]
    if not args.no_rate_limit_run:
        runs.append(("3 requests/s", RateLimitConfig(enabled=True, rate=3.0, burst=10), 3.0))
    for label, rate, rps in runs:
        with tempfile.TemporaryDirectory() as tmp, NotionFakeServer(rate_limit=rate) as server:
            root = Path(tmp)
            make_vault(root / "vault", args.notes)
            report, stats, elapsed = one_migration(root, server, rps)
            total = int(stats["requests_total"])
            ideal = total / 3
            off = "" if rate is None else f"{100 * (elapsed / ideal - 1):+.1f}%"
            rows.append(
                f"| {label} | {report['created']} | {total} | {total / report['created']:.2f} | "
                f"{int(stats['rate_limited'])} | {elapsed:.1f} s | {ideal:.1f} s | {off} |"
            )
            if rate is not None:
                verdict = "met" if abs(elapsed / ideal - 1) <= 0.10 else "not met"
            by_endpoint.append(
                f"{label}: " + ", ".join(f"`{k}` {v}" for k, v in sorted(stats["requests"].items()))
            )
            print(label, json.dumps(stats["requests"]), f"{elapsed:.1f}s", flush=True)
    lines = [
        "## Migration into Notion (`benchmarks/migrate.py`)",
        "",
        f"`syncbridge migrate --to notion` of {args.notes} generated notes (the vault of "
        "`benchmarks/notion_sync.py`) into the local Notion server, requests counted by the "
        f"server. {machine()}.",
        "",
        "| rate limit | pages created | requests | requests per note | 429s served | "
        "wall time | requests ÷ 3/s | wall time vs requests ÷ 3 |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "One `POST /v1/pages` per note (properties and body in one request), plus the setup "
        "(the database and its schema) and the listings before and after. Wall time is the "
        "whole in-process command (scan, plan, state, report) at 3 requests/s with bursts "
        f"of 10. Goal (issue 12): within 10% of requests ÷ 3 seconds: {verdict}.",
        "",
        "Requests by endpoint:",
        "",
        *[f"- {line}" for line in by_endpoint],
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("migrate", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
