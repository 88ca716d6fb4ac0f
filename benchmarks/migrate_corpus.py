"""Issue 12's acceptance on the whole corpus: every vault of ``../shared/corpus`` migrated
to the local Notion server and back into an empty vault (same config and state), and a
migration SIGKILLed at 20 random moments against an uninterrupted one.

Runs the ``slow`` tests of ``adapters/notion/tests/test_notion_migrate_corpus.py`` (and
the CI ones) with ``SYNCBRIDGE_SLOW=1``, collects the figures each test records, and
writes the ``migrate-corpus`` section of docs/benchmarks.md. Run once; it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "adapters" / "notion" / "tests" / "test_notion_migrate_corpus.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures_file = Path(tmp) / "figures.jsonl"
        env = {
            **os.environ,
            "SYNCBRIDGE_SLOW": "1",
            "SYNCBRIDGE_MIGRATE_FIGURES": str(figures_file),
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS)],
            cwd=TESTS.parent.parent,
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        print(result.stdout[-3000:], result.stderr[-2000:], flush=True)
        figures = (
            [json.loads(line) for line in figures_file.read_text("utf-8").splitlines()]
            if figures_file.exists()
            else []
        )
    trips = [f for f in figures if f["kind"] == "roundtrip"]
    kills = [f for f in figures if f["kind"] == "kills"]
    rows = []
    exceptions: list[str] = []
    for f in sorted(trips, key=lambda f: f["vault"]):
        sent = f["compared"]
        computed = [e for e in f["fields_exceptions"] if e["cause"].startswith("computed")]
        formats = [e for e in f["fields_exceptions"] if e["cause"].startswith("same value")]
        other = [e for e in f["fields_exceptions"] if e not in computed and e not in formats]
        rows.append(
            f"| {f['vault']} | {f['notes']} | {len(f['not_sent'])} | {f['back']} | "
            f"{f['body_identical']} / {sent} ({100 * f['body_identical'] / max(sent, 1):.1f}%) | "
            f"{len(other)} | {len(formats)} | {len(computed)} | {len(f['renamed'])} |"
        )
        exceptions += [f"- `{f['vault']}/{d['id']}`: body {d['cause']}" for d in f["body_diffs"]]
        exceptions += [
            f"- `{f['vault']}/{e['id']}` `{e['field']}`: {e['cause']}" for e in [*other, *formats]
        ]
        exceptions += [f"- `{f['vault']}/{r['id']}`: {r['cause']}" for r in f["renamed"]]
        exceptions += [
            f"- `{f['vault']}/{n}`: not sent (the forward report says why)" for n in f["not_sent"]
        ]
    total = sum(f["compared"] for f in trips)
    same = sum(f["body_identical"] for f in trips)
    lines = [
        "## Migration there and back, and SIGKILLs (`benchmarks/migrate_corpus.py`)",
        "",
        f"{machine()}. Each corpus vault (a copy in a temporary folder) migrated with "
        "`syncbridge migrate --to notion` into the local Notion server, then with "
        "`syncbridge migrate --from notion --into EMPTY` back, with the same config and "
        "state (the Notion adapter's cache: the block-to-source map), through "
        "notion-client over HTTP; every field value (canonical) and every body compared.",
        "",
        "| vault | notes | not sent | notes back | bodies byte-identical | field values "
        "differing | same value, other form | computed fields not read back | renamed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"All vaults: bodies byte-identical for {same} of {total} notes sent "
        f"({100 * same / max(total, 1):.2f}%; goal 99%). Field values are compared as the "
        "original vault types them (its fileClass notes, `types.json`, inference), the "
        "copy's frontmatter read through the same types. Computed fields (Metadata Menu "
        "Lookup, Formula) go vault → target only and Metadata Menu recomputes them. A note "
        "whose name holds characters no portable file name can (`?`, `:`) comes back under "
        "a sanitized name (`renamed`), which the reverse migration's report warns about.",
        "",
        "Every exception, with its cause:" if exceptions else "No exception.",
        "",
        *exceptions[:150],
        *([f"- … and {len(exceptions) - 150} more"] if len(exceptions) > 150 else []),
        "",
    ]
    for k in kills:
        lines.append(
            f"SIGKILL: the migration of `{k['vault']}` ({k['pages']} pages) killed at "
            f"{k['kills']} random moments ({k['hit']} inside a running process; an "
            f"uninterrupted run took {k['clean_s']} s at 30 requests/s, a run with nothing "
            f"to do {k['noop_s']} s) and resumed each time: final Notion state "
            f"{'equal to' if k['equal'] else 'DIFFERENT from'} an uninterrupted run's, "
            f"{k['duplicates']} duplicate pages."
        )
    lines.append("")
    lines.append(f"pytest exit status: {result.returncode}.")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("migrate-corpus", text)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
