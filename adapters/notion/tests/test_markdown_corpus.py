"""The converter on real notes (``../shared/corpus``, skipped when absent): no word lost,
every request within Notion's limits, the Markdown it writes reads back as the same
blocks, and spans that cover each note.

CI runs a bounded slice (every 8th note); ``SYNCBRIDGE_FULL_CORPUS=1`` runs them all.
``benchmarks/notion_converter.py`` measures the same corpus for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from syncbridge_notion import blocks_to_markdown, markdown_to_blocks
from syncbridge_notion.markdown import (
    check_blocks,
    comparable,
    convert_markdown,
    split_for_requests,
)

from syncbridge.errors import SyncbridgeError
from syncbridge.note.split import decode, split_text

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
STEP = 1 if os.environ.get("SYNCBRIDGE_FULL_CORPUS") == "1" else 8
_WORD_RE = re.compile(r"[^\W_]+")
_LIST_NUMBER_RE = re.compile(r"^[ \t>]*\d{1,9}[.)](?=[ \t]|$)", re.M)
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def bodies() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted(CORPUS.rglob("*.md"))[::STEP]:
        if path.parent == CORPUS:
            continue  # the corpus README
        try:
            out.append((str(path.relative_to(CORPUS)), split_text(decode(path.read_bytes())).body))
        except (SyncbridgeError, UnicodeDecodeError):
            continue  # notes syncbridge cannot read are not the converter's business
    return out


def lost(source: str, output: str) -> Counter[str]:
    def words(text: str) -> Counter[str]:
        text = _LIST_NUMBER_RE.sub(" ", text)
        found = Counter(_WORD_RE.findall(text))
        found.update(c for c in text if not c.isspace() and c not in _ASCII_PUNCT)
        return found

    return words(source) - words(output)


NOTES = bodies()


@pytest.mark.skipif(not NOTES, reason=f"the shared corpus is absent ({CORPUS})")
@pytest.mark.parametrize("name", [name for name, _ in NOTES] or ["none"])
def test_corpus_note(name: str) -> None:
    body = dict(NOTES)[name]
    conversion = convert_markdown(body)
    for batch in split_for_requests(conversion.blocks):
        assert check_blocks(batch.children) == [], name
    written = blocks_to_markdown(conversion.blocks)
    assert not lost(body, written), name
    again = markdown_to_blocks(written)
    assert [comparable(b) for b in again] == [comparable(b) for b in conversion.blocks], name
    position = 0
    for span in conversion.spans:
        assert body[position : span.start].strip() == ""
        position = span.end
    assert body[position:].strip() == ""
