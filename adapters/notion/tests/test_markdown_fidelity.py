"""Converter fidelity, rule by rule: spellings found in real notes (the corpus benchmark's
largest buckets of differing notes) that come back as written, and shapes that must read
back as the blocks they were written from (found by explore runs)."""

from __future__ import annotations

from typing import Any

from syncbridge_notion import blocks_to_markdown, markdown_to_blocks
from syncbridge_notion.markdown import comparable


def roundtrip(src: str) -> str:
    return blocks_to_markdown(markdown_to_blocks(src))


def reads_back(src: str) -> str:
    """The Markdown written for ``src``'s blocks, after checking it reads back as them."""
    blocks = markdown_to_blocks(src)
    written = blocks_to_markdown(blocks)
    assert [comparable(b) for b in markdown_to_blocks(written)] == [
        comparable(b) for b in blocks], written
    assert blocks_to_markdown(markdown_to_blocks(written)) == written
    return written


def test_a_lazy_line_with_a_tab_in_a_carried_quote_stays_a_paragraph_line() -> None:
    # The setext heading is carried verbatim; its lazy middle line "\t- f" was written
    # "> \t- f", where the tab stands for two columns: a list item inside the quote.
    written = reads_back("> a\n\t- f\n> ===\n")
    assert written == "> a\n>     - f\n> ===\n"


def test_a_quote_whose_first_block_is_carried_holds_it_as_its_text() -> None:
    # A lazy "===" under a lazy line: the writer cannot write it lazily again; the quote's
    # text is the carried text either way, and it reads back as the same quote.
    blocks = markdown_to_blocks("> b\n\t- f\n===\n> ===\n")
    assert [b["type"] for b in blocks] == ["quote"]
    body: dict[str, Any] = blocks[0]["quote"]
    assert "children" not in body
    assert "".join(i["text"]["content"] for i in body["rich_text"]) == "b\n    - f\n===\n==="
    reads_back("> b\n\t- f\n===\n> ===\n")
    assert roundtrip("> <div>\n>\n> y\n") == "> <div>\n>\n> y\n"


def test_an_items_own_lines_line_up_under_its_text_with_spaces() -> None:
    # Written with a tab, "\t1. b" + "\n\t\tc" reached a column past the text's, and the
    # column past it read back as a space in the text: the item was written with spaces.
    for src in ("1. a\n\t1. b\n\t   c\n", "- a\n\t- b\n\t  c\n", "- [ ] a\n\t- [x] b\n\t  c\n"):
        assert reads_back(src) == src
