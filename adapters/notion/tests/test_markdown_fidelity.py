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
        comparable(b) for b in blocks
    ], written
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


def test_a_line_break_at_a_code_spans_edge_is_a_space_in_the_code() -> None:
    # "`r" + break + "`": the text ended with a line break, which a quote wrote as a
    # blank ">" line, read back as an empty paragraph (explore run)
    assert reads_back("> `r\n`\n") == "> `r `\n"
    assert reads_back("`\n`\n") == "` `\n"
    assert reads_back("x `a\nb` y\n") == "x `a\nb` y\n"


def test_a_paragraph_starting_with_a_hard_break_keeps_it() -> None:
    # "\" alone on the first line: a paragraph whose text starts with a line break,
    # written with an empty first line (a blank line) and read back without it
    assert reads_back("\\\na\n") == "\\\na\n"
    assert reads_back("\\\n| - | - |\n") == "\\\n| - | - |\n"


def test_an_empty_line_inside_escaped_text_is_a_hard_break() -> None:
    # "j*", then "\" alone: the text holds an empty line; escaped, it was written as a
    # backslash and a blank line, which ends the paragraph
    assert reads_back("j*\n\\\na\n") == "j\\*\n\\\na\n"


def test_blank_lines_of_a_nested_quote_count_once() -> None:
    # "> >" is blank for both quotes; the outer quote counted it again after the inner
    assert reads_back("> > d\n> > \n") == "> > d\n> >\n"
    assert reads_back("> a\n>\n> > b\n> >\n>\n> c\n") == "> a\n>\n> > b\n> >\n>\n> c\n"
    # "> >" inside a comment block is its text, not a blank line after it
    assert reads_back("> %%\n> > \n") == "> %%\n> > \n"
    # blank ">" lines after an unclosed comment or fence are still blank lines after it
    assert reads_back("> %%\n> x\n>\n>\n") == "> %%\n> x\n>\n>\n"
    assert reads_back("> ```\n> x\n>\n>\n") == "> ```\n> x\n>\n>\n"


def test_formatting_around_a_link_stays_around_it() -> None:
    # corpus (6 notes): "**[x](url)**" came back "[**x**](url)", and "**a [b](url)**" as
    # "**a** [**b**](url)"; Notion's annotations are the same either way
    for src in (
        "- **[Catppuccin](https://catppuccin.com/)** - The theme\n",
        "**Visit our [shop](https://shop.example.com/)** to browse\n",
        "flour (***[AERATE FLOUR](https://www.youtube.com/watch?v=x)***)\n",
        "*[Links to an external site.](https://example.com/p.pdf)*[https://example.com](https://example.com)\n",
        "**[a](https://a.example) and [b](https://b.example)**\n",
    ):
        assert reads_back(src) == src
    assert reads_back("_[x](https://a.example)_\n") == "*[x](https://a.example)*\n"
    # formatting on part of the label only stays inside it
    assert reads_back("[**x** y](https://a.example)\n") == "[**x** y](https://a.example)\n"


def test_formatting_around_a_link_inside_a_word_goes_inside_the_label() -> None:
    # "a**[x](url)**b" is not bold (the "**" after "a" and before "[" opens nothing): the
    # label holds the formatting where the delimiters around it would not read back
    link = {"url": "https://a.example"}
    blocks = [
        {
            "type": "paragraph",
            "paragraph": {
                "rich_text": [
                    {"type": "text", "text": {"content": "a"}},
                    {
                        "type": "text",
                        "text": {"content": "x", "link": link},
                        "annotations": {"bold": True},
                    },
                    {"type": "text", "text": {"content": "b"}},
                ]
            },
        }
    ]
    written = blocks_to_markdown(blocks)
    assert written == "a[**x**](https://a.example)b\n"
    assert [comparable(b) for b in markdown_to_blocks(written)] == [comparable(blocks[0])]


def test_a_code_span_over_lines_stays_one_span() -> None:
    # corpus: a Meta Bind "`INPUT[...(\n    option(a),  \n    ...)]`" came back as one
    # code span per line
    src = "**Course:** `INPUT[inlineSelect(\n    option(Appetizer),  \n    title(Course))]` x\n"
    assert reads_back(src) == src
    items = markdown_to_blocks(src)[0]["paragraph"]["rich_text"]
    code = [i["text"]["content"] for i in items if (i.get("annotations") or {}).get("code")]
    assert code == ["INPUT[inlineSelect(\n    option(Appetizer),  \n    title(Course))]"]
    assert reads_back("- `a\n  b` c\n") == "- `a\n  b` c\n"
    assert reads_back("> x `a\n> b`\n") == "> x `a\n> b`\n"
    # a second line that would start a block where it is written: one span per line
    blocks = [
        {
            "type": "paragraph",
            "paragraph": {
                "rich_text": [
                    {"type": "text", "text": {"content": "a\n# b"}, "annotations": {"code": True}}
                ]
            },
        }
    ]
    written = blocks_to_markdown(blocks)
    assert written == "`a`\n`# b`\n"
    assert [comparable(b) for b in markdown_to_blocks(written)] == [comparable(blocks[0])]


def test_an_escaped_backslash_does_not_escape_the_rest_of_the_block() -> None:
    # corpus (2 notes): "\\" at a line's end in an unclosed "$$" (LaTeX rows in a list
    # item) reads as "\"; written as it is it was a hard break, so the whole block was
    # escaped ("\$\$"): only the backslash needs its escape back
    for src in ("x $$ y\nL\\\\\nz\n", "- x $$\n  L \\\\\n  z $a$ *b*\n", "a \\\\* b\n"):
        assert reads_back(src) == src


def test_a_carried_paragraph_on_a_numbered_or_to_do_marker_line_stays_there() -> None:
    # explore run: "1. 0." (an empty item holding the paragraph "0.") was written
    # "1.\n\t0.", a line that looks like a list marker, where "- 0." stayed "- 0."
    for src in ("1. 0.\n", "1. a\n2. 0.\n", "1. %%\n", "- [ ] 0.\n"):
        assert reads_back(src) == src


def test_the_space_of_an_escape_before_a_line_break_counts_once() -> None:
    # explore run: "\ " (a backslash and a space, no escape) at a line's end read as the
    # backslash and two spaces: the break took the space the escape already held
    (block,) = markdown_to_blocks("a \\ \\\nb\n")
    assert block["paragraph"]["rich_text"][0]["text"]["content"] == "a \\ \nb"
    (block,) = markdown_to_blocks("a \\  \nb\n")
    assert block["paragraph"]["rich_text"][0]["text"]["content"] == "a \\  \nb"
    assert reads_back("a \\ \\\n    b\n") == "a \\ \n    b\n"


def test_a_table_row_with_more_cells_than_its_header_is_carried_as_written() -> None:
    # explore run: "0 |" over "---" is a one-column table, and markdown-it drops the
    # cells past the header's: "[[Note|an alias]] 0" lost "an alias]] 0"
    for src in ("0 |\n---\n**[[Note|an alias]] 0**\n", "| a |\n| - |\n| b | c |\n"):
        (block,) = markdown_to_blocks(src)
        assert block["type"] == "paragraph"
        assert reads_back(src) == src
    (table,) = markdown_to_blocks("| a | b |\n| - | - |\n| c |\n")
    assert table["type"] == "table"  # fewer cells: padded, nothing lost


def text(content: str, **annotations: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if annotations:
        item["annotations"] = annotations
    return item


def block(
    kind: str, items: list[dict[str, Any]], kids: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"rich_text": items}
    if kind == "to_do":
        body["checked"] = False
    if kind == "callout":
        body["icon"] = {"type": "emoji", "emoji": "💡"}
    if kids:
        body["children"] = kids
    return {"object": "block", "type": kind, kind: body}


def written_from(blocks: list[dict[str, Any]]) -> str:
    """The Markdown written for Notion ``blocks``, after checking it reads back as them."""
    written = blocks_to_markdown(blocks)
    assert [comparable(b) for b in markdown_to_blocks(written)] == [
        comparable(b) for b in blocks
    ], written
    return written


def test_a_heading_ending_in_hashes_keeps_them() -> None:
    # explore run: heading text "Title #" was written "## Title #", whose " #" Markdown
    # reads as the closing sequence: the heading "Title"
    assert written_from([block("heading_2", [text("Title #")])]) == "## Title \\#\n"
    (heading,) = markdown_to_blocks("## Title \\#\n")
    assert heading["heading_2"]["rich_text"] == [text("Title #")]
    assert written_from([block("heading_1", [text("#")])]) == "# \\#\n"
    assert written_from([block("heading_3", [text("a ##")])]) == "### a \\##\n"
    assert written_from([block("heading_2", [text("x", bold=True), text(" #")])]) == (
        "## **x** \\#\n"
    )
    # a backslash typed there in Notion is text, not that escape
    assert written_from([block("heading_2", [text("a \\#")])]) == "## a \\\\#\n"
    # elsewhere "\#" is kept as written, as before (Obsidian: not a tag)
    for src in ("## a \\# b\n", "## a\\#\n", "a \\#\n"):
        assert roundtrip(src) == src
        assert "\\#" in "".join(t["text"]["content"] for t in _items(markdown_to_blocks(src)[0]))


def _items(block: dict[str, Any]) -> list[dict[str, Any]]:
    return list(block[block["type"]]["rich_text"])


def test_an_empty_nested_item_stays_an_item() -> None:
    # explore run: an empty item under an item's text was written "- x\n\t-", and the
    # bare "-" read as a setext underline ("x" a heading); an empty item cannot interrupt
    # the text above it, so a blank line comes first
    empty = block("bulleted_list_item", [])
    for parent in ("bulleted_list_item", "numbered_list_item", "to_do"):
        for child in ("bulleted_list_item", "numbered_list_item"):
            written_from([block(parent, [text("x")], [block(child, [])])])
    assert written_from([block("bulleted_list_item", [text("x")], [empty, empty])]) == (
        "- x\n\n\t-\n\t-\n"
    )
    # an empty to-do's "[ ]" is its line's text: nothing may follow it there
    for kids in ([empty], [block("bulleted_list_item", [text("a")])], [block("to_do", [])]):
        written_from([block("to_do", [], kids)])
        written_from([block("bulleted_list_item", [text("x")], [block("to_do", [], kids)])])
    # under a callout's title a blank line, which is then no empty paragraph
    for kind in ("callout", "toggle"):
        for title in ([text("x")], []):
            for kids in ([empty], [block("paragraph", []), empty]):
                written_from([block(kind, title, kids)])
    assert written_from([block("callout", [text("x")], [empty])]) == "> [!tip] x\n>\n> -\n"


def test_a_code_span_of_backticks_and_spaces_comes_back_exactly() -> None:
    # explore run: code " ` " was written "``  `  ``", read back as "  `  "; the padding
    # around text whose ends past its spaces are backticks is dropped, as CommonMark does
    for code in (" ` ", "` x `", " `", "  `` ", "`", " x` ", "  "):
        written = written_from(
            [block("paragraph", [text("a "), text(code, code=True), text(" b")])]
        )
        (paragraph,) = markdown_to_blocks(written)
        assert _items(paragraph)[1] == text(code, code=True), written
    assert written_from([block("paragraph", [text(" ` ", code=True)])]) == "``  `  ``\n"


def test_a_callout_title_typed_with_a_space_first_stays_its_title() -> None:
    # explore run: the title " 0" was written "> [!info]  0", and a marker followed by
    # two spaces is text ("[!info]  0" the callout's text, its icon the default); the
    # space is "&#32;" (test_markdown_edges)
    for kind in ("callout", "toggle"):
        written = written_from([block(kind, [text(" "), text("0")])])
        assert "  " not in written, written
    assert written_from([block("callout", [text("  x")])]) == "> [!tip] &#32; x\n"


def test_an_item_typed_with_a_space_first_keeps_its_children() -> None:
    # explore run: " a" was written "-  a", whose text starts a column further on, and
    # its child, indented one level, became its sibling's child
    empty = block("bulleted_list_item", [])
    for kind in ("bulleted_list_item", "numbered_list_item", "to_do"):
        item = block(kind, [text(" "), text("a")], [empty])
        written_from([block("bulleted_list_item", [], [empty, item])])
        written_from([block(kind, [text("     a")], [block("bulleted_list_item", [text("b")])])])
