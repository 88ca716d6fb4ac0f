"""Block text that starts or ends with whitespace, or starts with a character that would
start another block, comes back from Markdown exactly: Notion blocks → Markdown → blocks
gives the same type and the same text, character for character (not only what
:func:`~syncbridge_notion.markdown.comparable` compares)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from syncbridge_notion import blocks_to_markdown, markdown_to_blocks

KINDS = [
    "paragraph",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "heading_1",
    "heading_2",
    "heading_3",
    "quote",
    "callout",
    "toggle",
]
MARKER = {
    "paragraph": "",
    "bulleted_list_item": "- ",
    "numbered_list_item": "1. ",
    "to_do": "- [ ] ",
    "heading_1": "# ",
    "heading_2": "## ",
    "heading_3": "### ",
    "quote": "> ",
    "callout": "> [!tip] ",
    "toggle": "> [!note]- ",
}
"""What a block's written line starts with before its text."""

WHITESPACE = [
    "    four spaces first",
    "        eight spaces first",
    "\ttab first",
    "\t\ttwo tabs first",
    "  two spaces first",
    " one space first",
    " \t mixed first",
    "ends with two spaces  ",
    "ends with a tab\t",
    "  both ends  ",
    "\tboth\t",
    " ",
    "   ",
    "\t",
]
BLOCK_STARTS = [
    "# not a heading",
    "## not a heading #",
    "> not a quote",
    "- not an item",
    "* not an item",
    "+ not an item",
    "1. not an item",
    "1) not an item",
    "| not | a table |",
    "---",
    "***",
    "===",
    "```",
    "```python",
    "~~~",
    "$$",
    "%%",
    "[!tip] not a marker",
    "<div>",
]
SPACED_STARTS = [
    "    # spaces, then a hash",
    "  - spaces, then a dash",
    "\t> a tab, then a quote marker",
    "   1. spaces, then a number",
    "    ```",
    " ---",
    "\t| a | b |",
]
LITERAL_REFERENCES = [
    "&#32;typed as text",
    "typed as text&#32;",
    "&#9;",
    "\\&#32;backslash first",
    "backslash last\\&#32;",
    " &#32; around &#9;\t",
    "a \\",
    "\\ ",
]


def block(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"rich_text": items}
    if kind == "to_do":
        body["checked"] = False
    if kind == "callout":
        body["icon"] = {"type": "emoji", "emoji": "💡"}
    return {"object": "block", "type": kind, kind: body}


def text(content: str, **annotations: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if annotations:
        item["annotations"] = annotations
    return item


def shape(blocks: list[dict[str, Any]]) -> list[tuple[str, list[tuple[str, bool]]]]:
    """Each block's type and its text runs: content and whether bold, exactly."""
    out = []
    for b in blocks:
        items = b[b["type"]].get("rich_text") or []
        runs: list[tuple[str, bool]] = []
        for item in items:
            bold = bool((item.get("annotations") or {}).get("bold"))
            content = item["text"]["content"]
            if runs and runs[-1][1] == bold:
                runs[-1] = (runs[-1][0] + content, bold)
            else:
                runs.append((content, bold))
        out.append((b["type"], runs))
    return out


def round_trip(blocks: list[dict[str, Any]]) -> str:
    written = blocks_to_markdown(blocks)
    assert shape(markdown_to_blocks(written)) == shape(blocks), written
    assert blocks_to_markdown(markdown_to_blocks(written)) == written  # stable
    return written


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", WHITESPACE)
def test_text_with_whitespace_at_its_ends_comes_back_exactly(kind: str, content: str) -> None:
    written = round_trip([block(kind, [text(content)])])
    line = written.split("\n")[0]
    assert line.startswith(MARKER[kind]), written
    if content[0] not in " \t":
        return
    code = kind in ("paragraph", "quote") and re.match(r" {4}| {0,3}\t", content.rstrip())
    if code and line == MARKER[kind] + content:
        return  # the indented code block a note's is carried as, written as it is
    assert line[len(MARKER[kind]) :].startswith(("&#32;", "&#9;")), written  # not code


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", BLOCK_STARTS + SPACED_STARTS)
def test_text_that_looks_like_another_block_comes_back_exactly(kind: str, content: str) -> None:
    written = round_trip([block(kind, [text(content)])])
    assert written.startswith(MARKER[kind]), written


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", LITERAL_REFERENCES)
def test_references_and_backslashes_typed_as_text_stay_text(kind: str, content: str) -> None:
    round_trip([block(kind, [text(content)])])


@pytest.mark.parametrize("kind", KINDS)
def test_whitespace_next_to_formatting_stays_outside_it(kind: str) -> None:
    written = round_trip([block(kind, [text("  "), text("bold", bold=True), text("\t")])])
    assert "&#32; **bold**&#9;" in written, written


def test_an_item_with_spaces_first_keeps_its_children_and_siblings() -> None:
    child = block("bulleted_list_item", [text("child")])
    for kind in ("bulleted_list_item", "numbered_list_item", "to_do"):
        item = block(kind, [text("     a  ")])
        item[kind]["children"] = [child]
        blocks = [item, block(kind, [text("\tnext")])]
        written = blocks_to_markdown(blocks)
        back = markdown_to_blocks(written)
        assert shape(back) == shape(blocks), written
        assert shape(back[0][kind]["children"]) == shape([child]), written


def test_table_cells_keep_their_whitespace() -> None:
    cells = [[text(" a")], [text("b  ")]], [[text("\tc")], [text("d")]]
    rows = [{"object": "block", "type": "table_row", "table_row": {"cells": c}} for c in cells]
    table = {
        "object": "block",
        "type": "table",
        "table": {"table_width": 2, "has_column_header": True, "has_row_header": False},
    }
    table["table"]["children"] = rows
    written = blocks_to_markdown([table])
    back = markdown_to_blocks(written)[0]["table"]["children"]
    got = [
        ["".join(i["text"]["content"] for i in cell) for cell in r["table_row"]["cells"]]
        for r in back
    ]
    assert got == [[" a", "b  "], ["\tc", "d"]], written


@pytest.mark.parametrize(
    ("markdown", "first"),
    [
        ("&#32; two\n", "  two"),
        ("- &#9;tab\n", "\ttab"),
        ("> [!tip] &#32;x\n", " x"),
        ("# a &#32;\n", "a  "),
        ("\\&#32;x\n", "&#32;x"),
        ("x\\&#32;\n", "x&#32;"),
        ("a&#32;b &#9; c\n", "a&#32;b &#9; c"),  # inside the text: as written
        ("&amp; &#33;\n", "&amp; &#33;"),  # any other reference: as written
    ],
)
def test_notes_spelling_edge_whitespace_read_and_come_back_as_written(
    markdown: str, first: str
) -> None:
    blocks = markdown_to_blocks(markdown)
    assert shape(blocks)[0][1] == [(first, False)]
    assert blocks_to_markdown(blocks) == markdown


def test_a_notes_indented_code_block_still_comes_back_as_written() -> None:
    # carried as a paragraph of its lines: written as it is, not with "&#32;"
    for src in ("    code\n", "\tcode\n", "    a: 1\n    b: 2\n", "> x\n>\n>     code\n"):
        assert blocks_to_markdown(markdown_to_blocks(src)) == src
