"""Shared by the benchmark scripts: write one named section of ``docs/benchmarks.md``.

Each script owns the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` and
replaces only that, so scripts can run in any order without clobbering each other.
"""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `benchmarks/`; each section names the script that "
    "wrote it, the machine and the date. Re-run a script to refresh its section.\n"
)


def machine() -> str:
    """One line describing where the figures were measured."""
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) section ``name`` of docs/benchmarks.md with ``markdown``."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else HEADER
    block = f"<!-- BEGIN {name} -->\n{markdown.rstrip()}\n<!-- END {name} -->"
    pattern = re.compile(
        rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.write_text(text, encoding="utf-8")
