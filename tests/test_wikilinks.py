"""Wikilink parsing (bodies and frontmatter values) and Obsidian-style resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncbridge import wikilinks
from syncbridge.wikilinks import (
    LinkResolver,
    WikiLink,
    find_links,
    format_link,
    iter_value_links,
    links_in_value,
    resolve_links,
)


def test_public_surface() -> None:
    assert sorted(wikilinks.__all__) == [
        "LinkResolver",
        "MarkdownLink",
        "ResolvedLink",
        "WikiLink",
        "find_links",
        "find_markdown_links",
        "format_link",
        "iter_value_links",
        "links_in_value",
        "relink_value",
        "resolve_links",
        "searchable_ranges",
    ]


def test_relink_value_points_links_at_the_note_a_title_got() -> None:
    targets = {"A/B: c": "A B c", "Fear": "Fear 2"}
    value = [
        "[[A/B: c]]",
        "[[A/B: c#Part|shown]]",
        "see [[Fear]] and ![[Fear#^x]]",
        "[[Other]]",
        {"k": "[[Fear]]"},
        3,
    ]
    assert wikilinks.relink_value(value, targets) == [
        "[[A B c|A/B: c]]",
        "[[A B c#Part|shown]]",
        "see [[Fear 2|Fear]] and ![[Fear 2#^x]]",
        "[[Other]]",
        {"k": "[[Fear 2|Fear]]"},
        3,
    ]
    assert wikilinks.relink_value("[[Other]]", targets) == "[[Other]]"


@pytest.mark.parametrize(
    ("text", "target", "heading", "block", "alias", "embed"),
    [
        ("[[Note]]", "Note", None, None, None, False),
        ("[[Note|Shown]]", "Note", None, None, "Shown", False),
        ("[[Note#Heading]]", "Note", "Heading", None, None, False),
        ("[[Note#H1#H2]]", "Note", "H1#H2", None, None, False),
        ("[[Note#^abc123]]", "Note", None, "abc123", None, False),
        ("[[#Heading]]", "", "Heading", None, None, False),
        ("[[#^blk]]", "", None, "blk", None, False),
        ("![[embed]]", "embed", None, None, None, True),
        ("![[image.png|100]]", "image.png", None, None, "100", True),
        ("![[image.png|100x200]]", "image.png", None, None, "100x200", True),
        ("[[Folder/Sub Note#Part|a|b]]", "Folder/Sub Note", "Part", None, "a|b", False),
        ("[[Note\\|in table]]", "Note", None, None, "in table", False),
        ("[[Abandonment Wound]]", "Abandonment Wound", None, None, None, False),
        ("[[🌱 Growth]]", "🌱 Growth", None, None, None, False),
    ],
)
def test_parse_forms(
    text: str, target: str, heading: str | None, block: str | None, alias: str | None, embed: bool
) -> None:
    (link,) = find_links(text)
    assert link == WikiLink(target, heading, block, alias, embed, 0, len(text))


def test_offsets_point_at_the_link_including_the_bang() -> None:
    text = "See [[A]] and ![[b.png|50]], then [[C#x|y]].\n"
    links = find_links(text)
    assert [text[link.start : link.end] for link in links] == [
        "[[A]]",
        "![[b.png|50]]",
        "[[C#x|y]]",
    ]


def test_offsets_are_code_points_not_bytes() -> None:
    text = "ünïcødé 🌱 [[Ziel]]"
    (link,) = find_links(text)
    assert text[link.start : link.end] == "[[Ziel]]"


@pytest.mark.parametrize("text", ["[[]]", "[[ ]]", "[[|x]]", "[[#]]", "[[a\nb]]", "[ [a]]", "[[a]"])
def test_not_links(text: str) -> None:
    assert find_links(text) == []


def test_fenced_code_blocks_are_skipped() -> None:
    text = (
        "Before [[A]]\n"
        "```python\n"
        "x = '[[NotA]]'\n"
        "```\n"
        "Middle [[B]]\n"
        "~~~~\n"
        "[[NotB]]\n"
        "~~~\n"  # shorter fence does not close
        "[[NotC]]\n"
        "~~~~~\n"
        "After [[C]]\r\n"
    )
    assert [link.target for link in find_links(text)] == ["A", "B", "C"]


def test_unclosed_fence_runs_to_end() -> None:
    assert [link.target for link in find_links("[[A]]\n```\n[[B]]\n")] == ["A"]


def test_fences_in_callouts_and_lists() -> None:
    text = (
        "> [!note]\n> ```\n> [[Hidden]]\n> ```\n- item\n  ```\n  [[Also hidden]]\n  ```\n[[Shown]]"
    )
    assert [link.target for link in find_links(text)] == ["Shown"]


def test_inline_code_is_skipped() -> None:
    text = "Use `[[NotA]]` or ``a ` [[NotB]]`` but [[A]] and \\`[[B]]\\` count"
    assert [link.target for link in find_links(text)] == ["A", "B"]


def test_unmatched_backtick_is_literal() -> None:
    assert [link.target for link in find_links("a ` [[A]] and ``` inline [[B]]")] == ["A", "B"]


def test_code_span_does_not_cross_paragraphs() -> None:
    text = "one ` tick\n\n[[A]] and ` here"
    assert [link.target for link in find_links(text)] == ["A"]


def test_crlf_bodies() -> None:
    text = "[[A]]\r\n```\r\n[[NotA]]\r\n```\r\n` tick\r\n\r\n[[B]] `"
    assert [link.target for link in find_links(text)] == ["A", "B"]


def test_only_newlines_end_lines() -> None:
    # U+2028 and form feed are not Markdown line endings: no fence starts here
    assert [link.target for link in find_links("x\u2028```\n[[A]]\n")] == ["A"]
    assert [link.target for link in find_links("x\x0c~~~\n[[B]]\n")] == ["B"]


def test_skip_code_false_finds_everything() -> None:
    assert len(find_links("`[[A]]`\n```\n[[B]]\n```\n", skip_code=False)) == 2


def test_links_in_frontmatter_values() -> None:
    value = {
        "linked_wounds": ["[[Abandonment Wound]]", "[[Shame|shame]]", 3, None],
        "nested": {"deep": ["x", {"k": "![[pic.png]]"}]},
        "plain": "not a link",
    }
    assert [link.target for link in links_in_value(value)] == [
        "Abandonment Wound",
        "Shame",
        "pic.png",
    ]
    paths = [path for path, _ in iter_value_links(value)]
    assert paths == [("linked_wounds", 0), ("linked_wounds", 1), ("nested", "deep", 1, "k")]


def test_frontmatter_strings_have_no_code_spans() -> None:
    assert [link.target for link in links_in_value("`[[A]]`")] == ["A"]


def test_links_in_value_of_scalars() -> None:
    assert links_in_value(12) == []
    assert links_in_value(None) == []
    (link,) = links_in_value("[[Secure Attachment]]")
    assert (link.start, link.end) == (0, 21)


def test_format_link_round_trips() -> None:
    for text in ["[[Note]]", "![[img.png|100]]", "[[N#H|a]]", "[[N#^b]]", "[[#H]]"]:
        (link,) = find_links(text)
        rendered = format_link(
            link.target,
            heading=link.heading,
            block=link.block,
            alias=link.alias,
            embed=link.embed,
        )
        assert rendered == text
    with pytest.raises(ValueError):
        format_link("a|b")
    with pytest.raises(ValueError):
        format_link("")


link_part = st.text(
    alphabet=st.characters(exclude_characters="[]|#\n^\\", exclude_categories=["Cs"]),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() != "")


@given(
    target=link_part,
    heading=st.none() | link_part,
    alias=st.none() | link_part,
    embed=st.booleans(),
    before=st.text(alphabet="ab \n", max_size=10),
)
def test_format_then_find_property(
    target: str, heading: str | None, alias: str | None, embed: bool, before: str
) -> None:
    text = before + format_link(target, heading=heading, alias=alias, embed=embed) + " tail"
    (link,) = find_links(text, skip_code=False)
    assert (link.target, link.heading, link.alias, link.embed) == (target, heading, alias, embed)
    assert text[link.start : link.end].startswith("!" if embed else "[[")


# --- resolution ----------------------------------------------------------------------

VAULT = [
    "Index.md",
    "Psyche/Secure Attachment.md",
    "Psyche/Wounds/Abandonment Wound.md",
    "Psyche/Wounds/Shame.md",
    "Archive/Shame.md",
    "Shame.md",
    "Other/Deep/Shame.md",
    "Healing/Earned Security.md",
    "Healing/Sub/Earned Security.md",
    "attachments/diagram.png",
    "Emotions/Émotion.md",
    "Board.canvas",
]
ALIASES = {"Psyche/Secure Attachment.md": ["Secure Base", "SA"], "Index.md": ["Home"]}


@pytest.fixture
def resolver() -> LinkResolver:
    return LinkResolver(VAULT, ALIASES)


def test_exact_path_with_or_without_md(resolver: LinkResolver) -> None:
    assert resolver.resolve("Psyche/Secure Attachment") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("Psyche/Secure Attachment.md") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("/Psyche/Secure Attachment") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("psyche/secure ATTACHMENT") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("attachments/diagram.png") == "attachments/diagram.png"


def test_exact_path_beats_basename(resolver: LinkResolver) -> None:
    # "Archive/Shame" is a full path even though four notes are called Shame.
    assert resolver.resolve("Archive/Shame", "Psyche/Wounds/Shame.md") == "Archive/Shame.md"


def test_relative_path_from_source_folder(resolver: LinkResolver) -> None:
    src = "Psyche/Wounds/Shame.md"
    assert resolver.resolve("./Abandonment Wound", src) == "Psyche/Wounds/Abandonment Wound.md"
    assert resolver.resolve("../Secure Attachment", src) == "Psyche/Secure Attachment.md"
    assert resolver.resolve("../../Index", src) == "Index.md"
    assert resolver.resolve("Wounds/Abandonment Wound", "Psyche/Secure Attachment.md") == (
        "Psyche/Wounds/Abandonment Wound.md"
    )
    # escaping the vault or no source: unresolved, not guessed
    assert resolver.resolve("../../../Index", src) is None
    assert resolver.resolve("./Abandonment Wound") is None


def test_unique_basename(resolver: LinkResolver) -> None:
    assert resolver.resolve("Abandonment Wound", "Index.md") == "Psyche/Wounds/Abandonment Wound.md"
    assert resolver.resolve("diagram.png") == "attachments/diagram.png"
    assert resolver.resolve("Board.canvas") == "Board.canvas"
    assert resolver.resolve("Board") is None  # non-Markdown files need their extension
    assert resolver.is_ambiguous("Abandonment Wound") is False


def test_path_suffix(resolver: LinkResolver) -> None:
    assert resolver.resolve("Wounds/Shame") == "Psyche/Wounds/Shame.md"
    assert resolver.resolve("Sub/Earned Security") == "Healing/Sub/Earned Security.md"
    assert resolver.resolve("ounds/Shame") is None  # suffixes match whole folder names


def test_ambiguous_basename_tie_break(resolver: LinkResolver) -> None:
    # "Shame" is also the exact vault path of the root note, and step 2 (exact path) wins.
    assert resolver.resolve("Shame", "Index.md") == "Shame.md"
    assert resolver.candidates("Shame", "Index.md")[0] == "Shame.md"
    # Without a root file: same folder first, then fewest folders, then shorter path.
    r = LinkResolver([p for p in VAULT if p != "Shame.md"])
    assert r.resolve("Shame", "Psyche/Wounds/Abandonment Wound.md") == "Psyche/Wounds/Shame.md"
    assert r.resolve("Shame", "Archive/Notes.md") == "Archive/Shame.md"
    assert r.resolve("Shame", "Index.md") == "Archive/Shame.md"  # 1 folder, shorter than Psyche/..
    assert r.candidates("Shame", "Index.md") == [
        "Archive/Shame.md",
        "Other/Deep/Shame.md",  # same depth as Psyche/Wounds/, shorter
        "Psyche/Wounds/Shame.md",
    ]
    assert r.is_ambiguous("Shame")
    assert r.resolve("Earned Security", "Index.md") == "Healing/Earned Security.md"
    assert r.resolve("Earned Security", "Healing/Sub/x.md") == "Healing/Sub/Earned Security.md"


def test_case_and_unicode_normalization_insensitive() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Emotions/Émotion.md")
    r = LinkResolver([nfd])
    assert r.resolve("émotion") == nfd
    assert r.resolve(unicodedata.normalize("NFC", "Emotions/ÉMOTION")) == nfd


def test_exact_case_wins_when_two_files_differ_only_in_case() -> None:
    r = LinkResolver(["Note.md", "note.md"])
    assert r.resolve("note") == "note.md"
    assert r.resolve("Note") == "Note.md"


def test_aliases_are_last_resort(resolver: LinkResolver) -> None:
    assert resolver.resolve("Secure Base") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("secure base") == "Psyche/Secure Attachment.md"
    assert resolver.resolve("home") == "Index.md"
    r = LinkResolver(["Home.md", "Index.md"], {"Index.md": ["Home"]})
    assert r.resolve("Home") == "Home.md"  # a real file beats an alias


def test_empty_target_is_the_source(resolver: LinkResolver) -> None:
    (link,) = find_links("[[#Heading]]")
    assert resolver.resolve(link.target, "Index.md") == "Index.md"
    assert resolver.resolve(link.target) is None


def test_whitespace_is_trimmed_for_lookup(resolver: LinkResolver) -> None:
    assert resolver.resolve(" Index ") == "Index.md"


def test_unresolved_links_are_reported_not_dropped(resolver: LinkResolver) -> None:
    body = "[[Index]] [[Missing Note]] ![[diagram.png]] [[#Top]]"
    result = resolve_links(resolver, find_links(body), "Psyche/Secure Attachment.md")
    assert [(r.link.target, r.path) for r in result] == [
        ("Index", "Index.md"),
        ("Missing Note", None),
        ("diagram.png", "attachments/diagram.png"),
        ("", "Psyche/Secure Attachment.md"),
    ]
    assert [r.link.target for r in result if not r.resolved] == ["Missing Note"]


def test_resolver_over_a_real_vault(tmp_path: Path) -> None:
    """Paths as a vault scan produces them, with frontmatter aliases read from real files."""
    notes = {
        "Psyche/Secure Attachment.md": "---\naliases: [Secure Base]\n---\nSee [[Earned Security]]",
        "Healing/Earned Security.md": "---\nhealing: ['[[Secure Base]]']\n---\n`[[Ignored]]`",
        "Lonely.md": "[[Nowhere]]",
    }
    for rel, text in notes.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    paths = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md"))
    resolver = LinkResolver(paths, {"Psyche/Secure Attachment.md": ["Secure Base"]})
    found = {
        rel: [
            r.path for r in resolve_links(resolver, find_links((tmp_path / rel).read_text()), rel)
        ]
        for rel in paths
    }
    assert found == {
        "Healing/Earned Security.md": ["Psyche/Secure Attachment.md"],
        "Lonely.md": [None],
        "Psyche/Secure Attachment.md": ["Healing/Earned Security.md"],
    }


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus")
def test_corpus_links_are_well_formed_and_every_one_is_reported() -> None:
    """Every link found in the 1,173 real notes points at ``[[`` in the text, and each
    comes back from resolve_links, resolved or not."""
    notes = 0
    for vault in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        files = [p for p in vault.rglob("*") if p.is_file()]
        resolver = LinkResolver(p.relative_to(vault).as_posix() for p in files)
        for path in files:
            if path.suffix != ".md":
                continue
            notes += 1
            text = path.read_text("utf-8", errors="replace")
            links = find_links(text)
            for link in links:
                assert text[link.start : link.end].lstrip("!").startswith("[[")
                assert text[link.start : link.end].endswith("]]")
            rel = path.relative_to(vault).as_posix()
            assert len(resolve_links(resolver, links, rel)) == len(links)
    assert notes > 1000


def test_pathological_backticks_stay_fast() -> None:
    # single backticks pair up into code spans: every other link is inside one
    text = "a ` b [[x]] " * 20_000 + "\n" + "x ``` not closed " * 5_000 + "[[y]]"
    links = find_links(text)
    assert len(links) == 10_001
