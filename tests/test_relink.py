"""The pure link rewrite (syncbridge.relink): which links change, how they are written,
and that nothing else in a note changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncbridge.relink import LinkStyle, RelinkPlanner, apply_relink
from syncbridge.wikilinks import LinkResolver, find_links, find_markdown_links

EXAMPLES = int(os.environ.get("SYNCBRIDGE_PROPERTY_EXAMPLES", "120"))


def rewrite(
    text: str,
    paths: list[str],
    moves: dict[str, str],
    source: str = "x.md",
    style: LinkStyle | None = None,
) -> str:
    planner = RelinkPlanner(paths, moves, style=style)
    return planner.relink(source, text.encode()).data.decode()


PATHS = ["A/New.md", "x.md", "Sub/y.md"]
MOVE = {"A/Old.md": "A/New.md"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("[[Old]]", "[[New]]"),
        ("[[Old|alias]]", "[[New|alias]]"),
        ("[[Old#Heading|a]]", "[[New#Heading|a]]"),
        ("[[Old#^block]]", "[[New#^block]]"),
        ("![[Old]]", "![[New]]"),
        ("[[A/Old]]", "[[A/New]]"),
        ("[[/A/Old]]", "[[/A/New]]"),
        ("[[A/Old.md]]", "[[A/New.md]]"),
        ("[[old]]", "[[New]]"),  # resolved case-insensitively
        ("| [[Old\\|a]] |", "| [[New\\|a]] |"),
        ("[t](Old.md)", "[t](New.md)"),
        ('[t](A/Old.md#H "title")', '[t](A/New.md#H "title")'),
        ("![t](<A/Old.md>)", "![t](<A/New.md>)"),
    ],
)
def test_every_form_keeps_its_shape(before: str, after: str) -> None:
    assert rewrite(f"a {before} b\n", PATHS, MOVE) == f"a {after} b\n"


def test_relative_links_stay_relative_from_their_folder() -> None:
    text = "[[../A/Old]] [t](../A/Old.md)\n"
    assert rewrite(text, PATHS, MOVE, source="Sub/y.md") == "[[../A/New]] [t](../A/New.md)\n"


def test_code_fences_comments_and_urls_are_left_alone() -> None:
    text = (
        "`[[Old]]` %%[[Old]]%% [w](https://e.org/Old.md)\n%%\n[[Old]]\n%%\n"
        "```\n[[Old]]\n```\n~~~\n[x](Old.md)\n~~~\n"
    )
    assert rewrite(text, PATHS, MOVE) == text


def test_links_to_another_note_of_that_name_and_unresolved_links_stay() -> None:
    paths = ["A/New.md", "B/Old.md", "B/z.md", "x.md"]
    text = "[[B/Old]] [[Nowhere]] [[#Own heading]]\n"
    assert rewrite(text, paths, MOVE) == text
    # from B/, [[Old]] meant B/Old.md (same folder wins): it stays
    assert rewrite("[[Old]]\n", paths, MOVE, source="B/z.md") == "[[Old]]\n"


def test_alias_links_resolve_after_the_move_and_stay() -> None:
    planner = RelinkPlanner(PATHS, MOVE, aliases_after={"A/New.md": ["Nickname"]})
    assert planner.relink("x.md", b"[[Nickname]]\n").data == b"[[Nickname]]\n"


def test_a_name_made_ambiguous_gets_a_path_in_the_configured_format() -> None:
    paths = ["A/New.md", "Other/New.md", "Sub/y.md"]
    assert rewrite("[[Old|a]]\n", paths, MOVE, source="Sub/y.md") == "[[A/New|a]]\n"
    relative = LinkStyle("relative")
    assert (
        rewrite("[[Old|a]]\n", paths, MOVE, source="Sub/y.md", style=relative) == "[[../A/New|a]]\n"
    )
    absolute = LinkStyle("absolute")
    assert (
        rewrite(
            "[[Old]]\n",
            ["Deep/A/New.md", "New.md", "y.md"],
            {"Deep/A/Old.md": "Deep/A/New.md"},
            source="y.md",
            style=absolute,
        )
        == "[[Deep/A/New]]\n"
    )
    markdown = LinkStyle(use_markdown_links=True)
    assert (
        rewrite("[[Old#H|shown]] ![[Old]]\n", paths, MOVE, source="Sub/y.md", style=markdown)
        == "[shown](A/New.md#H) ![](A/New.md)\n"
    )


def test_a_link_the_new_name_would_capture_gets_a_path_to_keep_its_note() -> None:
    # [[New]] meant B/New.md; after A/Old.md becomes A/New.md it would resolve to the
    # note in the source's own folder, so it is given its path.
    paths = ["A/New.md", "A/src.md", "B/New.md"]
    assert rewrite("[[New]] [[Old]]\n", paths, MOVE, source="A/src.md") == "[[B/New]] [[New]]\n"


def test_markdown_links_are_percent_encoded_like_before() -> None:
    paths = ["A/Café Noir.md", "x.md"]
    moves = {"A/Old Name.md": "A/Café Noir.md"}
    assert rewrite("[a](A/Old%20Name.md)\n", paths, moves) == "[a](A/Café%20Noir.md)\n"
    # a link that had its non-ASCII letters encoded gets them encoded again
    assert rewrite("[a](A/Old%20Name.md)\n", paths, {"A/Old Name.md": "A/Café Noir.md"})
    paths2 = ["A/Été Noir.md", "x.md"]
    assert (
        rewrite("[a](A/%C3%89t%C3%A9%20Old.md)\n", paths2, {"A/Été Old.md": "A/Été Noir.md"})
        == "[a](A/%C3%89t%C3%A9%20Noir.md)\n"
    )
    assert rewrite("[a](<A/Old Name.md>)\n", paths, moves) == "[a](<A/Café Noir.md>)\n"


def test_a_name_a_wikilink_cannot_hold_becomes_a_markdown_link_in_the_body_only() -> None:
    paths = ["A/C# notes.md", "x.md"]
    moves = {"A/Old.md": "A/C# notes.md"}
    planner = RelinkPlanner(paths, moves)
    result = planner.relink("x.md", b'---\nup: "[[Old]]"\n---\n[[Old|al]]\n')
    assert result.data == b'---\nup: "[[Old]]"\n---\n[al](C%23%20notes.md)\n'
    assert [(b.link, b.line, b.target) for b in result.broken] == [("[[Old]]", 2, "A/C# notes.md")]


@pytest.mark.parametrize(
    ("frontmatter", "expected"),
    [
        ('up: "[[Old]]"\n', 'up: "[[Smith, Jo]]"\n'),
        ("up: '[[Old]]'\n", "up: '[[Smith, Jo]]'\n"),
        ("up: [[Old]]\n", 'up: "[[Smith, Jo]]"\n'),  # unquoted: YAML would split it
        ("l:\n  - [[Old]]  # c\n  - b\n", 'l:\n  - "[[Smith, Jo]]"  # c\n  - b\n'),
        ('l: ["[[Old]]", b]\n', 'l: ["[[Smith, Jo]]", b]\n'),
        ("l: [[[Old]], b]\n", 'l: ["[[Smith, Jo]]", b]\n'),
        ('t: "see [[Old|x]] and [[Old]]"\n', 't: "see [[Smith, Jo|x]] and [[Smith, Jo]]"\n'),
    ],
)
def test_frontmatter_links_read_back_as_the_rewritten_values(
    frontmatter: str, expected: str
) -> None:
    paths = ["A/Smith, Jo.md", "x.md"]
    moves = {"A/Old.md": "A/Smith, Jo.md"}
    text = f"---\nkeep: 1  # stays\n{frontmatter}z: [a, b]\n---\nbody\n"
    assert rewrite(text, paths, moves) == f"---\nkeep: 1  # stays\n{expected}z: [a, b]\n---\nbody\n"


def test_escapes_are_written_for_the_quotes_around_a_link() -> None:
    paths = ['A/It\'s "so".md', "x.md"]
    moves = {"A/Old.md": 'A/It\'s "so".md'}
    text = "---\nd: \"[[Old]]\"\ns: '[[Old]]'\n---\n"
    out = rewrite(text, paths, moves)
    assert out == '---\nd: "[[It\'s \\"so\\"]]"\ns: \'[[It\'\'s "so"]]\'\n---\n'


def test_unreadable_frontmatter_is_left_alone_and_its_links_reported() -> None:
    planner = RelinkPlanner(PATHS, MOVE)
    data = b'---\nup: "[[Old]]"\nup: dup\n---\n[[Old]]\n'
    result = planner.relink("x.md", data)
    assert result.data == b'---\nup: "[[Old]]"\nup: dup\n---\n[[New]]\n'
    assert [b.reason for b in result.broken] == ["the frontmatter cannot be edited safely"]


def test_crlf_and_bom_are_kept() -> None:
    data = '\ufeff---\r\nup: "[[Old]]"\r\n---\r\n[[Old]]\r\n'.encode()
    out = RelinkPlanner(PATHS, MOVE).relink("x.md", data).data
    assert out == '\ufeff---\r\nup: "[[New]]"\r\n---\r\n[[New]]\r\n'.encode()


def test_the_moved_note_rewrites_its_own_links_from_its_new_folder() -> None:
    moves = {"Old.md": "Deep/New.md"}
    paths = ["Deep/New.md", "Other.md", "Deep/Sib.md"]
    data = b"[[Old#Top]] [[./Other]] [[#Top]]\n"
    out = RelinkPlanner(paths, moves).relink("Deep/New.md", data).data
    assert out == b"[[New#Top]] [[../Other]] [[#Top]]\n"


def test_replaying_a_rewrite_keeps_an_edit_made_since() -> None:
    planner = RelinkPlanner(PATHS, MOVE)
    result = planner.relink("x.md", b'---\nup: "[[Old]]"\n---\nOne [[Old]].\n')
    edited = b'---\nup: "[[Old]]"\nnew: key\n---\nOne [[Old]]. Two [[Old]].\n'
    assert (
        apply_relink("x.md", edited, result.mapping)
        == b'---\nup: "[[New]]"\nnew: key\n---\nOne [[New]]. Two [[New]].\n'
    )
    assert apply_relink("x.md", result.data, result.mapping) == result.data  # idempotent


def test_might_link_is_a_safe_prefilter() -> None:
    planner = RelinkPlanner(PATHS, MOVE)
    assert not planner.might_link(b"no links at all")
    assert not planner.might_link(b"[[Something else]]")
    assert planner.might_link(b"[[OLD]]") and planner.might_link(b"[x](Old.md)")


def test_link_style_is_read_from_app_json(tmp_path: Path) -> None:
    assert LinkStyle.from_vault(tmp_path) == LinkStyle()
    (tmp_path / ".obsidian").mkdir()
    app = tmp_path / ".obsidian" / "app.json"
    app.write_text(json.dumps({"newLinkFormat": "relative", "useMarkdownLinks": True}))
    assert LinkStyle.from_vault(tmp_path) == LinkStyle("relative", True)
    app.write_text("{not json")
    assert LinkStyle.from_vault(tmp_path) == LinkStyle()
    app.write_text(json.dumps({"newLinkFormat": "weird"}))
    assert LinkStyle.from_vault(tmp_path) == LinkStyle()


def test_diff_lists_the_changed_lines() -> None:
    result = RelinkPlanner(PATHS, MOVE).relink("x.md", b"a\n[[Old]]\nb\n")
    assert result.diff() == ["@@ line 2", "-[[Old]]", "+[[New]]"]


# --- properties --------------------------------------------------------------------------

_filler = st.text(st.sampled_from(list("ab #|^[]()`%!-:\"'\n\r\t é")), max_size=12)
_links = st.sampled_from(
    [
        "[[Old]]",
        "[[Old|x]]",
        "[[Old#H]]",
        "![[Old]]",
        "[[A/Old]]",
        "[t](Old.md)",
        "[t](A/Old.md#H)",
        "[[Keep]]",
        "[[B/Old]]",
        "`[[Old]]`",
        "%%[[Old]]%%",
    ]
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(_filler, _links), max_size=8), _filler)
def test_only_link_characters_change_and_every_changed_link_resolves(
    parts: list[tuple[str, str]], tail: str
) -> None:
    paths = ["A/New.md", "B/Old.md", "Keep.md", "x.md"]
    text = "".join(f + link for f, link in parts) + tail
    planner = RelinkPlanner(paths, MOVE)
    result = planner.relink("x.md", text.encode())
    new = result.data.decode()
    # Outside the changed links, the text is the same: undo every change and compare.
    old_links = [(c.old, c.new) for c in result.changes]
    rebuilt = new
    for old, replacement in reversed(old_links):
        idx = rebuilt.rfind(replacement)
        assert idx >= 0
        rebuilt = rebuilt[:idx] + old + rebuilt[idx + len(replacement) :]
    assert rebuilt == text
    after = LinkResolver(paths)
    for c in result.changes:
        found = find_links(c.new) or find_markdown_links(c.new)
        assert found, c
        link = found[0]
        target = link.target if hasattr(link, "target") else link.path  # type: ignore[union-attr]
        assert after.resolve(target, "x.md") == "A/New.md", c
    # Applying it again changes nothing more.
    assert planner.relink("x.md", result.data).data == result.data
