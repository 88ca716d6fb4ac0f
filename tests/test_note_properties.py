"""Hypothesis properties of the note model: round trip, minimal edits, reader agreement.

Notes are generated as *text* the way Obsidian, Metadata Menu and people write frontmatter
(keys with spaces, emoji and CJK; plain, quoted and emoji strings; YAML 1.2 numbers; nulls
written as ``key: `` with a trailing space; dates and Metadata Menu's ``YYYY-MM-DD HH:mm``;
flow and block lists with ``- `` or ``  - ``; ``"[[links]]"``; ``|``, ``|+`` and ``>`` block
scalars; comments and blank lines between keys and inline), with an optional BOM, LF or CRLF
and an optional final newline, over bodies holding ``---`` lines, code fences and CJK text.
Each generated note carries the values its frontmatter must read as, so the generator and
the reader check each other.

Run a longer search with ``SYNCBRIDGE_PROPERTY_EXAMPLES=2000 pytest tests/test_note_properties.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from ruamel.yaml.error import YAMLError as RuamelError

from syncbridge import Note
from syncbridge.errors import EditError, EncodingError, FrontmatterError
from syncbridge.note.splice import key_spans
from syncbridge.note.yamlio import compose_rt, load_values, plain, rt_yaml
from tests.torture import UNSAFE

# Per-test settings, not a global profile: loading a profile here would change every other
# Hypothesis test of the session. SYNCBRIDGE_PROPERTY_EXAMPLES=2000 runs a longer search.
EXAMPLES = int(os.environ.get("SYNCBRIDGE_PROPERTY_EXAMPLES", "120"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- strict equality -------------------------------------------------------------------------


def strict(value: Any) -> Any:
    """``value`` as nested tuples tagged with their types: ``1``, ``1.0`` and ``True`` differ,
    NaN equals NaN, tuples count as lists."""
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, list | tuple):
        return ("list", tuple(strict(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((strict(k), strict(v)) for k, v in value.items()))
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    return (type(value).__name__, value)


# --- generating frontmatter text ---------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """One value as frontmatter text: ``inline`` goes after ``key:``, ``lines`` below it."""

    inline: str
    value: Any
    lines: tuple[str, ...] = ()
    commentable: bool = True  # an inline comment may follow it on the key's line


KEY_POOL = [
    "status",
    "tags",
    "aliases",
    "created",
    "id",
    "fileClass",
    "cssclasses",
    "Related Notes",
    "date modified",
    "日本語",
    "🔥 mood",
    "linked_wounds",
    "core_fears",
    "überschrift",
    "a",
    "x_1",
    "healing pathways",
    "🟩 done",
]
NEW_KEYS = [
    *KEY_POOL,
    "new field",
    "🆕",
    "with: colon",
    "#hash",
    "123",
    "true",
    "null",
    "- dash",
    "[bracket]",
    'quote"d',
    "  padded",
    "ключ",
]
WORDS = [
    "draft",
    "🟩 complete",
    "🟨 in progress",
    "日本語のノート",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "hello world",
    "a#b",
    "C++",
    "x-y",
    "café",
    "Being Forgotten",
    "😀",
    "path/to/note",
    "trailing.",
    "100%",
    "e.g.",
    "2025-07",
]
FLOW_WORDS = [w for w in WORDS if "#" not in w]
LINES = [
    "Grow.",
    "日本語の文です。",
    "key: not a key",
    "# not a comment",
    "- not a list",
    "---",
    "text with  two spaces",
    "🟩 emoji line",
    "...",
]

chars = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\u2028\u2029\ufeff\x85"
)
safe_text = st.text(chars, max_size=12)


def _dq(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _sq(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


plain_strings = (
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)
    .map(" ".join)
    .map(lambda s: Rendered(s, s))
)
quoted_strings = st.one_of(
    safe_text.map(lambda s: Rendered(_dq(s), s)),
    safe_text.map(lambda s: Rendered(_sq(s), s)),
    st.sampled_from(["2.14", "0042", "yes", "", "true", "[[Note]]"]).map(
        lambda s: Rendered(_dq(s), s)
    ),
)
links = st.sampled_from(
    ["[[Note]]", "[[Secure Attachment|secure]]", "![[img.png]]", "[[Folder/Deep Note#Heading]]"]
).flatmap(lambda s: st.sampled_from([Rendered(_dq(s), s), Rendered(_sq(s), s)]))
ints = st.one_of(
    st.integers(-(10**15), 10**15).map(lambda i: Rendered(str(i), i)),
    st.sampled_from(
        [
            ("0755", 755),
            ("0o17", 15),
            ("0x1F", 31),
            ("+1", 1),
            ("1_000", 1000),
            ("1751752568955", 1751752568955),
        ]
    ).map(lambda t: Rendered(*t)),
)
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Rendered(repr(f), f)),
    st.sampled_from(
        [
            (".inf", math.inf),
            ("-.inf", -math.inf),
            (".nan", math.nan),
            ("1.50", 1.5),
            (".5", 0.5),
            ("1e3", 1000.0),
        ]
    ).map(lambda t: Rendered(*t)),
)
bools = st.sampled_from(["true", "false", "True", "FALSE"]).map(
    lambda s: Rendered(s, s.lower() == "true")
)
nulls = st.sampled_from(["", " ", "~", "null", "Null"]).map(lambda s: Rendered(s, None))
dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
date_values = st.one_of(
    dates.map(lambda d: Rendered(d.isoformat(), d)),
    st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1))
    .map(lambda d: d.replace(second=0, microsecond=0))
    .flatmap(
        lambda d: st.sampled_from(
            [
                Rendered(d.strftime("%Y-%m-%d %H:%M"), d.strftime("%Y-%m-%d %H:%M")),  # a str
                Rendered(d.strftime("%Y-%m-%dT%H:%M:%S"), d),
                Rendered(d.strftime("%Y-%m-%d %H:%M:%S"), d),
            ]
        )
    ),
)
scalars = st.one_of(plain_strings, quoted_strings, links, ints, floats, bools, date_values)

flow_items = st.one_of(
    st.sampled_from(FLOW_WORDS).map(lambda s: Rendered(s, s)),
    links.filter(lambda r: r.inline.startswith('"')),
    ints,
    bools,
    safe_text.map(lambda s: Rendered(_dq(s), s)),
)


@st.composite
def flow_lists(draw: st.DrawFn) -> Rendered:
    items = draw(st.lists(flow_items, max_size=4))
    sep, pad = draw(st.sampled_from([(", ", ""), (",", ""), (", ", " ")]))
    if not items:
        return Rendered(draw(st.sampled_from(["[]", "[ ]"])), [])
    return Rendered(
        "[" + pad + sep.join(i.inline for i in items) + pad + "]", [i.value for i in items]
    )


@st.composite
def block_lists(draw: st.DrawFn) -> Rendered:
    items = draw(st.lists(st.one_of(scalars, flow_lists()), min_size=1, max_size=4))
    indent = draw(st.sampled_from(["", "  "]))
    lines = tuple(
        f"{indent}- {i.inline}".rstrip() if i.inline.strip() else f"{indent}-" for i in items
    )
    return Rendered("", [i.value for i in items], lines)


@st.composite
def block_scalars(draw: st.DrawFn) -> Rendered:
    style = draw(st.sampled_from(["|", "|-", "|+", ">", ">-"]))
    indent = draw(st.sampled_from(["  ", "    "]))
    content = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=4))
    if style.startswith("|"):
        # Blank lines inside a literal scalar are content; never first (that would set the
        # indentation from a later line and is a different construct).
        content = content[:1] + [
            line for c in content[1:] for line in draw(st.sampled_from([[c], ["", c]]))
        ]
    trailing = draw(st.integers(0, 2))
    body = "\n".join(content)
    value = {
        "|": body + "\n",
        "|-": body,
        "|+": body + "\n" + "\n" * trailing,
        ">": " ".join(content) + "\n",
        ">-": " ".join(content),
    }[style]
    lines = tuple(indent + c if c else "" for c in content) + ("",) * trailing
    return Rendered(style, value, lines, commentable=False)


@st.composite
def nested_maps(draw: st.DrawFn) -> Rendered:
    keys = draw(
        st.lists(st.sampled_from(["sub", "name", "v", "🔑"]), min_size=1, max_size=3, unique=True)
    )
    values = [draw(st.one_of(plain_strings, ints, links)) for _ in keys]
    lines = tuple(f"  {k}: {v.inline}" for k, v in zip(keys, values, strict=True))
    return Rendered("", {k: v.value for k, v in zip(keys, values, strict=True)}, lines)


@st.composite
def list_of_maps(draw: st.DrawFn) -> Rendered:
    """A block list of small maps, as Metadata Menu writes ``fields:``."""
    indent = draw(st.sampled_from(["", "  "]))
    items = draw(st.lists(nested_maps(), min_size=1, max_size=3))
    lines: list[str] = []
    for item in items:
        for i, line in enumerate(item.lines):
            lines.append(indent + ("- " if i == 0 else "  ") + line.strip())
    return Rendered("", [i.value for i in items], tuple(lines))


multi_line_scalars = st.sampled_from(
    [
        ("this is a long", "  continued line", "this is a long continued line"),
        ('"first', '  second"', "first second"),
        ("'it''s", "  wrapped'", "it's wrapped"),
        ("[a,", "  b]", ["a", "b"]),
        ("{x: 1,", "  y: two}", {"x": 1, "y": "two"}),
    ]
).map(lambda t: Rendered(t[0], t[2], (t[1],), commentable=False))

other_styles = st.one_of(
    st.just(Rendered("{a: 1, b: two}", {"a": 1, "b": "two"})),
    st.just(Rendered("{}", {})),
    st.just(Rendered("[[Note]]", [["Note"]])),  # unquoted link: YAML reads a nested list
    st.just(Rendered("'[[Note]]'", "[[Note]]")),
    st.just(Rendered('"caf\\u00e9 \\"hi\\""', 'café "hi"')),
    st.just(Rendered("a#b", "a#b")),
)

rendered_values = st.one_of(
    scalars,
    scalars,
    nulls,
    flow_lists(),
    block_lists(),
    block_scalars(),
    nested_maps(),
    list_of_maps(),
    multi_line_scalars,
    other_styles,
)


@dataclass
class Frontmatter:
    lines: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    # Per key, the range of ``lines`` that are its own: the key line and its value's lines
    # (without trailing blank lines unless they are |+ content).
    own_lines: dict[str, tuple[int, int]] = field(default_factory=dict)


comment_lines = st.sampled_from(["# a comment", "", "   ", "#", "# 日本語 🟩", "#: colon"])


@st.composite
def frontmatters(draw: st.DrawFn, min_keys: int = 0) -> Frontmatter:
    keys = draw(st.lists(st.sampled_from(KEY_POOL), min_size=min_keys, max_size=7, unique=True))
    fm = Frontmatter()
    after_block_scalar = any_block_scalar = False
    for key in keys:
        for line in draw(st.lists(comment_lines, max_size=1)):
            # Blank lines after a block scalar would be part of a |+ scalar's content, and
            # spaces deeper than its indentation part of any block scalar's content. Lines of
            # spaces after a later key are left out too: deleting that key would make them
            # content, so the splice refuses it (see test_delete_refused_when_*).
            if line.strip() or not (after_block_scalar or (line and any_block_scalar)):
                fm.lines.append(line)
        value = draw(rendered_values)
        after_block_scalar = not value.commentable
        any_block_scalar |= after_block_scalar
        key_text = _dq(key) if draw(st.integers(0, 5)) == 0 else key
        if value.inline:
            line = f"{key_text}: {value.inline}"
            if value.commentable and value.inline.strip() and draw(st.integers(0, 4)) == 0:
                line += draw(st.sampled_from(["  # inline", " # 🟩"]))
        else:
            line = f"{key_text}:" + draw(st.sampled_from(["", " "]))
        first = len(fm.lines)
        fm.lines.append(line)
        fm.lines += value.lines
        fm.values[key] = value.value
        own = list(value.lines)
        while own and not own[-1] and not value.inline.startswith("|+"):
            own.pop()
        fm.own_lines[key] = (first, first + 1 + len(own))
    fm.lines += draw(
        st.lists(st.sampled_from(["# end comment", ""]), max_size=1).filter(
            lambda end: not (after_block_scalar and end == [""])
        )
    )
    return fm


body_lines = st.one_of(
    st.sampled_from(
        [
            "",
            "---",
            "```",
            "```python",
            "# Heading",
            "Some text.",
            "日本語の本文。",
            "key: value",
            "- item",
            "...",
            "--- ",
            "----",
            "😀 emoji",
            "> quote",
        ]
    ),
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\r\n"),
        max_size=20,
    ),
)


@dataclass(frozen=True)
class GeneratedNote:
    data: bytes
    values: dict[str, Any]
    newline: str
    has_frontmatter: bool
    fm: Frontmatter | None = None


@st.composite
def notes(draw: st.DrawFn, min_keys: int = 0, frontmatter: bool | None = None) -> GeneratedNote:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    body = newline.join(draw(st.lists(body_lines, max_size=6)))
    final_newline = draw(st.booleans())
    if body and final_newline:
        body += newline
    with_fm = draw(st.booleans()) if frontmatter is None else frontmatter
    if not with_fm:
        if body.startswith(("---\n", "---\r\n")):
            body = "Intro" + newline + body  # else the body's own "---" lines open a frontmatter
        return GeneratedNote((bom + body).encode(), {}, newline, False)
    fm = draw(frontmatters(min_keys))
    closing = "---" + (newline if body or final_newline else "")
    text = bom + "---" + newline + "".join(line + newline for line in fm.lines) + closing + body
    return GeneratedNote(text.encode(), fm.values, newline, True, fm)


# --- values to write -------------------------------------------------------------------------

written_strings = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=15),
    st.sampled_from(
        [
            "[[Note]]",
            "🟨 in progress",
            "",
            "yes",
            "123",
            "null",
            "a: b",
            "# x",
            "multi\nline\n",
            "keep\n\n",
            "trailing  ",
            " leading",
            "- item",
            "[x]",
            "2025-07-05",
            "2025-07-05 16:56",
            "~",
            "'quoted'",
            '"dq"',
            "日本語",
        ]
    ),
)
written_scalars = st.one_of(
    written_strings,
    st.integers(-(10**18), 10**18),
    st.floats(),
    st.booleans(),
    st.none(),
    dates,
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
)
written_values = st.recursive(
    written_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["sub", "name", "🔑", "with space"]), inner, max_size=3),
    ),
    max_leaves=6,
)


# --- helpers ---------------------------------------------------------------------------------


def _fm(note_: Note) -> str:
    return note_.frontmatter_text or ""


def _check_frame(before: Note, after: Note) -> None:
    """Everything outside the frontmatter text is untouched."""
    b, a = before._parts, after._parts
    assert (a.bom, a.opening, a.closing, a.body) == (b.bom, b.opening, b.closing, b.body)


def _check_newlines(text: str, newline: str) -> None:
    if newline == "\r\n":
        assert text.count("\n") == text.count("\r\n"), "a bare LF in a CRLF note"
    else:
        assert "\r" not in text, "a CR in an LF note"


def _reread(note_: Note) -> dict[str, Any]:
    return Note.from_bytes(note_.to_bytes(), path=note_.path).fields


# --- (a) round trip --------------------------------------------------------------------------


@PROPERTY
@given(notes())
@example(GeneratedNote(b"---\r\na: |+\r\n  x\r\n\r\n---", {"a": "x\n\n"}, "\r\n", True))
def test_generated_notes_round_trip_and_read_as_written(gen: GeneratedNote) -> None:
    parsed = Note.from_bytes(gen.data, path="gen.md")
    assert parsed.to_bytes() == gen.data
    assert parsed.text.encode() == gen.data
    assert parsed.has_frontmatter is gen.has_frontmatter
    assert strict(parsed.fields) == strict(gen.values)


@PROPERTY
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])))
def test_any_text_round_trips(text: str) -> None:
    data = text.encode()
    parsed = Note.from_bytes(data)
    assert parsed.to_bytes() == data
    assert parsed.text.encode() == data


@PROPERTY
@given(st.binary(max_size=64).map(lambda b: b"---\n" + b if b[:1] == b"a" else b))
def test_any_bytes_round_trip_or_are_refused_as_invalid_utf8(data: bytes) -> None:
    try:
        parsed = Note.from_bytes(data)
    except EncodingError:
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        return
    assert parsed.to_bytes() == data
    assert parsed.text.encode() == data


@PROPERTY
@given(
    st.text(
        st.sampled_from(["-", "\n", "\r", "\ufeff", "a", ":", " ", "#", "|", "[", "]"]), max_size=40
    )
)
def test_delimiter_soup_round_trips(text: str) -> None:
    for candidate in (text, "---\n" + text, "---\r\n" + text + "\n---\n" + text):
        data = candidate.encode()
        parsed = Note.from_bytes(data)
        assert parsed.text.encode() == data
        assert Note.from_text(candidate).text == candidate


# --- (b) set ---------------------------------------------------------------------------------


COMMENT_LIKE_CONTENT = GeneratedNote(
    b"---\ntags: x\naliases: |\n  Grow.\n  # not a comment\n---\n",
    {"tags": "x", "aliases": "Grow.\n# not a comment\n"},
    "\n",
    True,
    Frontmatter(
        ["tags: x", "aliases: |", "  Grow.", "  # not a comment"],
        {"tags": "x", "aliases": "Grow.\n# not a comment\n"},
        {"tags": (0, 1), "aliases": (1, 4)},
    ),
)


LITERAL = GeneratedNote(b"---\na: |\n  Grow.\nb: 1\n---\n", {"a": "Grow.\n", "b": 1}, "\n", True)
PLAIN_CRLF = GeneratedNote(
    b"---\r\na: x\r\nb: [y]\r\n---\r\n", {"a": "x", "b": ["y"]}, "\r\n", True
)


@PROPERTY
@given(notes(min_keys=1, frontmatter=True), st.integers(0, 50), written_values)
# Regressions: control characters, CR and NEL were written raw into a literal block, a plain
# scalar or a list item, where they cannot be read back (EditError "invalid YAML").
@example(LITERAL, 0, "\x1f")
@example(LITERAL, 0, "\r")
@example(PLAIN_CRLF, 0, "\x85")
@example(PLAIN_CRLF, 1, ["ok", "\x85", "\x00"])
@example(COMMENT_LIKE_CONTENT, 0, "new text")
def test_set_existing_key_changes_only_its_span(gen: GeneratedNote, index: int, value: Any) -> None:
    before = Note.from_bytes(gen.data, path="gen.md")
    key = sorted(gen.values)[index % len(gen.values)]
    spans = {s.key: s for s in key_spans(_fm(before))}
    after = Note.from_bytes(gen.data, path="gen.md")
    after[key] = value
    fm_before, fm_after = _fm(before), _fm(after)
    note(f"frontmatter after:\n{fm_after}")
    span = spans[key]
    assert fm_after.startswith(fm_before[: span.start])
    assert fm_after.endswith(fm_before[span.end :])
    _check_frame(before, after)
    _check_newlines(fm_after, gen.newline)
    expected = {**gen.values, key: value}
    assert strict(_reread(after)) == strict(expected)
    assert list(_reread(after)) == list(gen.values)


# --- (c) add ---------------------------------------------------------------------------------


@PROPERTY
@given(notes(), st.sampled_from(NEW_KEYS), written_values)
# Regression: a block scalar's last content line that looks like a comment was cut out of
# its key's span, so the new key went inside the scalar (EditError).
@example(COMMENT_LIKE_CONTENT, "created", None)
def test_add_key_only_inserts(gen: GeneratedNote, key: str, value: Any) -> None:
    if key in gen.values:
        return
    before = Note.from_bytes(gen.data, path="gen.md")
    after = Note.from_bytes(gen.data, path="gen.md")
    after[key] = value
    fm_before, fm_after = _fm(before), _fm(after)
    note(f"frontmatter after:\n{fm_after}")
    # One contiguous insertion, after the last key's lines.
    prefix = 0
    while prefix < len(fm_before) and fm_after[prefix] == fm_before[prefix]:
        prefix += 1
    assert fm_after.endswith(fm_before[prefix:])
    assert len(fm_after) > len(fm_before)
    spans = key_spans(fm_before) if fm_before else []
    if spans:
        assert prefix >= spans[-1].end
    # A note without frontmatter gets the line ending of its first line (LF if it has none).
    _check_newlines(fm_after, gen.newline if gen.has_frontmatter else before.newline)
    if before.has_frontmatter:
        _check_frame(before, after)
    else:
        assert after.body == before.body
        assert after.to_bytes().startswith(
            ("\ufeff" if gen.data[:3] == b"\xef\xbb\xbf" else "").encode() + b"---"
        )
    fields = _reread(after)
    assert list(fields)[-1] == key
    assert strict(fields) == strict({**gen.values, key: value})


# --- (d) delete ------------------------------------------------------------------------------


@PROPERTY
@given(notes(min_keys=1, frontmatter=True), st.integers(0, 50))
@example(COMMENT_LIKE_CONTENT, 0)
def test_delete_removes_only_its_lines(gen: GeneratedNote, index: int) -> None:
    before = Note.from_bytes(gen.data, path="gen.md")
    key = sorted(gen.values)[index % len(gen.values)]
    fm_before = _fm(before)
    span = next(s for s in key_spans(fm_before) if s.key == key)
    after = Note.from_bytes(gen.data, path="gen.md")
    try:
        del after[key]
    except EditError as exc:
        # Refused only when removing the key's lines would change another value (blank or
        # space-only lines that would join a block scalar above); nothing changed.
        assert "without changing other values" in str(exc)
        assert after.to_bytes() == gen.data
        assert gen.fm is not None
        first, last = gen.fm.own_lines[key]
        naive = "".join(line + "\n" for line in gen.fm.lines[:first] + gen.fm.lines[last:])
        assert strict(load_values(naive) or {}) != strict(
            {k: v for k, v in gen.values.items() if k != key}
        )
        return
    start = fm_before.rfind("\n", 0, span.start) + 1
    end = span.end
    if not span.ends_line:
        eol = fm_before.find("\n", end)
        end = len(fm_before) if eol < 0 else eol + 1
    assert _fm(after) == fm_before[:start] + fm_before[end:]
    if gen.fm is not None:  # the generator knows which lines are the key's own
        first, last = gen.fm.own_lines[key]
        kept = gen.fm.lines[:first] + gen.fm.lines[last:]
        assert _fm(after) == "".join(line + gen.newline for line in kept)
    _check_frame(before, after)
    expected = dict(gen.values)
    del expected[key]
    assert strict(_reread(after)) == strict(expected)


# --- (e) sequences of edits ------------------------------------------------------------------


class EditSequence(RuleBasedStateMachine):
    """Random set / add / delete edits; the note always re-reads as the model dict."""

    note_: Note
    model: dict[str, Any]
    gen: GeneratedNote

    @initialize(gen=notes())
    def start(self, gen: GeneratedNote) -> None:
        self.gen = gen
        self.note_ = Note.from_bytes(gen.data, path="seq.md")
        self.model = dict(gen.values)
        self.body = self.note_.body

    @rule(data=st.data(), value=written_values)
    def set_existing(self, data: st.DataObject, value: Any) -> None:
        if not self.model:
            return
        key = data.draw(st.sampled_from(sorted(self.model)), label="key")
        self.note_[key] = value
        self.model[key] = value

    @rule(key=st.sampled_from(NEW_KEYS), value=written_values)
    def add(self, key: str, value: Any) -> None:
        self.note_[key] = value
        self.model[key] = value

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if not self.model:
            return
        key = data.draw(st.sampled_from(sorted(self.model)), label="key")
        before = self.note_.to_bytes()
        try:
            del self.note_[key]
        except EditError as exc:
            # See test_delete_removes_only_its_lines: a justified refusal changes nothing.
            assert "without changing other values" in str(exc)
            assert self.note_.to_bytes() == before
            return
        del self.model[key]

    @invariant()
    def reads_as_model(self) -> None:
        fields = _reread(self.note_)
        assert strict(fields) == strict(self.model)
        assert strict(self.note_.fields) == strict(self.model)
        assert self.note_.body == self.body
        if self.note_.has_frontmatter:
            # A note created without frontmatter takes its first line's ending (else LF).
            newline = (
                self.gen.newline
                if self.gen.has_frontmatter
                else Note.from_bytes(self.gen.data).newline
            )
            _check_newlines(_fm(self.note_), newline)


EditSequence.TestCase.settings = settings(
    PROPERTY, max_examples=max(EXAMPLES // 3, 10), stateful_step_count=8
)
TestEditSequence = EditSequence.TestCase


# --- (f) the fast reader agrees with ruamel ----------------------------------------------------


def _ruamel_values(text: str) -> Any:
    return plain(rt_yaml().load(text))


@PROPERTY
@given(frontmatters())
def test_fast_reader_agrees_with_ruamel_round_trip(fm: Frontmatter) -> None:
    for newline in ("\n", "\r\n"):
        text = "".join(line + newline for line in fm.lines)
        fast = load_values(text)
        assert strict(fast or {}) == strict(_ruamel_values(text) or {})
        assert strict(fast or {}) == strict(fm.values)


# No "!": an empty value tagged with the non-specific "!" reads as "" in libyaml and None in
# ruamel (``a: !``); no note writes that, and routing every "!" to ruamel would be slow.
fuzz_inserts = st.sampled_from(
    [*" -:#[]{},'\"|>&*?%@`\n\t\\", "\u2028", "\x85", "\ufeff", "0", "a", "  ", "- ", ": "]
)


@PROPERTY
@given(
    frontmatters(), st.lists(st.tuples(st.integers(0, 10**6), fuzz_inserts), min_size=1, max_size=3)
)
# Regressions: a BOM or a Unicode line break (NEL, LS, PS) inside the frontmatter made the
# fast reader (libyaml, YAML 1.1 line breaks) and ruamel read different values.
@example(Frontmatter(["", "\ufeff"]), [(0, "\n")])
# Regression: anchor names with characters libyaml does not allow ("&R?x") were cut short
# by libyaml and read whole by ruamel, giving different keys and values.
@example(Frontmatter(["Related Notes: x"]), [(0, "&"), (2, "?")])
# Regression: libyaml read the "#" line of a top-level block scalar as a comment ("" where
# ruamel reads "#").
@example(Frontmatter([""]), [(0, "|"), (102026, "#")])
def test_readers_agree_whenever_both_accept(
    fm: Frontmatter, inserts: list[tuple[int, str]]
) -> None:
    """On damaged frontmatter the readers may refuse differently (libyaml accepts ``>#c``,
    which ruamel rejects; ruamel reads ``:`` as ``{None: None}``), but never disagree on
    values."""
    text = "".join(line + "\n" for line in fm.lines)
    for pos, insert in inserts:
        at = pos % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    note(repr(text))
    try:
        fast = load_values(text)
        slow = _ruamel_values(text)
    except (FrontmatterError, RuamelError):
        return
    assert strict(fast) == strict(slow)


def test_unicode_line_breaks_read_like_ruamel() -> None:
    # libyaml breaks lines on NEL/LS/PS inside plain scalars where ruamel does not.
    for text in ("a: x\x85y\n", "a:\n- x\u2028y\n", "\n\n\ufeff\n"):
        assert strict(load_values(text)) == strict(_ruamel_values(text))


def test_delete_refused_when_spaces_would_join_a_block_scalar() -> None:
    # Removing "b" would leave the line of three spaces right under the "|" scalar, where it
    # is content: the other value would change, so the edit is refused and nothing changes.
    data = b"---\na: |\n  Grow.\nb: x\n   \nc: 1\n---\n"
    note_ = Note.from_bytes(data)
    with pytest.raises(EditError, match="without changing other values"):
        del note_["b"]
    assert note_.to_bytes() == data
    assert note_.fields == {"a": "Grow.\n", "b": "x", "c": 1}


def test_duplicate_key_message_names_file_lines() -> None:
    # Both line numbers are file lines (the opening "---" is line 1); the first occurrence was
    # reported as a frontmatter-relative line.
    with pytest.raises(FrontmatterError) as info:
        Note.from_bytes(b"---\na: 1\nb: 2\na: 3\n---\n", path="n.md").fields  # noqa: B018
    assert str(info.value) == (
        "n.md:4: invalid frontmatter YAML: found duplicate key 'a' (first on line 2)"
    )


def test_edit_path_refuses_an_alias_bomb_before_walking_it() -> None:
    # compose_rt checked tags by walking the node graph with every alias expanded (10**8
    # nodes for this bomb) before checking its size; the size check must come first.
    with pytest.raises(FrontmatterError, match="alias bomb"):
        compose_rt(UNSAFE["alias bomb"][4:-4].decode())
    with pytest.raises(FrontmatterError, match="alias bomb"):
        load_values(UNSAFE["alias bomb"][4:-4].decode())


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"---\n1: x\nb: 2\n---\n", 1),
        (b"---\ntrue: x\nb: 2\n---\n", True),
        (b"---\n2025-01-01: x\nb: 2\n---\n", dt.date(2025, 1, 1)),
        (b"---\nnull: x\nb: 2\n---\n", None),
        (b"---\n'1': x\nb: 2\n---\n", "1"),
    ],
)
def test_keys_yaml_reads_as_non_strings_can_be_edited(data: bytes, key: Any) -> None:
    # Keys were matched by their text, so ``1:`` could not be set (a duplicate was added,
    # EditError) or deleted (KeyError) although ``1 in note``.
    note_ = Note.from_bytes(data)
    assert key in note_
    note_[key] = "new"
    assert note_[key] == "new"
    assert strict(_reread(note_)) == strict({**Note.from_bytes(data).fields, key: "new"})
    del note_[key]
    assert key not in _reread(note_)
    assert len(_reread(note_)) == 1


@PROPERTY
@given(notes())
# Regressions: fields were passed as keyword arguments, so a field named "content" raised
# TypeError, one named "handler" became the Post's YAML handler, and ``1:`` raised TypeError.
@example(
    GeneratedNote(
        b"---\ncontent: x\nhandler: y\n1: z\n---\nbody\n",
        {"content": "x", "handler": "y", 1: "z"},
        "\n",
        True,
    )
)
def test_post_interop_keeps_every_field(gen: GeneratedNote) -> None:
    note_ = Note.from_bytes(gen.data)
    post = note_.to_post()
    assert strict(post.metadata) == strict(gen.values)
    assert post.content == note_.body
    assert post.handler is None or not isinstance(post.handler, str)
    back = Note.from_post(post)
    assert strict(back.fields) == strict(gen.values)
    assert back.body == note_.body


def test_a_key_whose_value_is_an_alias_can_be_set() -> None:
    # "other: *b" refers to the anchor; it does not carry it. Setting it was refused with
    # "'other' carries the YAML anchor &b"; the anchored key itself stays refused.
    note_ = Note.from_bytes(b"---\nbase: &b x\nother: *b  # c\nz: 1\n---\n")
    note_["other"] = "y"
    assert note_.text == "---\nbase: &b x\nother: y  # c\nz: 1\n---\n"
    with pytest.raises(EditError, match="carries the YAML anchor &b"):
        note_["base"] = "w"
