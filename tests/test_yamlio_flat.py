"""The flat fast path of ``load_values`` reads exactly what libyaml reads, or declines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

from syncbridge import Note
from syncbridge.errors import FrontmatterError
from syncbridge.note.yamlio import _load_flat, _load_libyaml, load_values, plain, rt_yaml
from tests.test_note_properties import PROPERTY, strict


def _libyaml(text: str) -> Any:
    return _load_libyaml(text, None, 1)


def _agrees(text: str) -> bool:
    """Whether the flat path declines ``text`` or reads what libyaml reads; True if read."""
    flat = _load_flat(text)
    try:
        full = _libyaml(text)
    except FrontmatterError:
        assert flat is None, f"the flat path accepted text libyaml refuses: {text!r}"
        return False
    if flat is None:
        return False
    assert strict(flat) == strict(full), text
    return True


def test_the_flat_path_agrees_with_libyaml_on_every_corpus_note(corpus: list[Path]) -> None:
    read = total = 0
    for path in corpus:
        text = Note.from_bytes(path.read_bytes(), path=str(path)).frontmatter_text
        if text is None or not text.strip():
            continue
        total += 1
        read += _agrees(text)
    # it is the path almost every note takes (lists of mappings and mappings under a key
    # included): else a cold scan falls back to libyaml's slower reading
    assert read > 0.95 * total, (read, total)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: Secure attachment\n", {"title": "Secure attachment"}),
        ("id: 1751752568955\nintensity: 7\n", {"id": 1751752568955, "intensity": 7}),
        ("last_modified: 2025-07-05 16:56\n", {"last_modified": "2025-07-05 16:56"}),
        ("date: 2025-07-05\n", {"date": dt.date(2025, 7, 5)}),
        ("at: 2025-07-05T16:56:00Z\n", {"at": dt.datetime(2025, 7, 5, 16, 56, tzinfo=dt.UTC)}),
        ("ok: yes\ndone: true\n", {"ok": "yes", "done": True}),
        ("n: 0755\nx: 0x1F\nf: 1.50\nneg: -3\n", {"n": 755, "x": 31, "f": 1.5, "neg": -3}),
        ("a:\nb: ~\nc: null\n", {"a": None, "b": None, "c": None}),
        ("link: \"[[Note]]\"\nq: 'it'\n", {"link": "[[Note]]", "q": "it"}),
        ("tags:\n  - a\n  - 2\n  -\n", {"tags": ["a", 2, None]}),
        ("tags:\n- a\n- b\nnext: 1\n", {"tags": ["a", "b"], "next": 1}),
        ("tags: [a, b, 3]\nempty: []\n", {"tags": ["a", "b", 3], "empty": []}),
        ("url: https://example.com/a#b\n", {"url": "https://example.com/a#b"}),
        (
            "status: 🟩 complete\nvisibility: 🔒 private\n",
            {"status": "🟩 complete", "visibility": "🔒 private"},
        ),
        ("my key: a, b\n", {"my key": "a, b"}),
        ("a: -x\n", {"a": "-x"}),
        ('tags: ["clipping", "web page"]\n', {"tags": ["clipping", "web page"]}),
        ("tags: ['a', \"b\", 3, c]\n", {"tags": ["a", "b", 3, "c"]}),
        (
            "parent:\n  child: x\n  n: 1\n\nnext: [a]\n",
            {"parent": {"child": "x", "n": 1}, "next": ["a"]},
        ),
        (
            "ids:\n  - type: steam\n    appid: '523780'\n  - plain\n  -   type: gog\n"
            "\n      at: 2024-10-10\n",
            {
                "ids": [
                    {"type": "steam", "appid": "523780"},
                    "plain",
                    {"type": "gog", "at": dt.date(2024, 10, 10)},
                ]
            },
        ),
        (
            "ids:\n- type: steam\n  tags: [a, b]\nname: Duck Game\n",
            {"ids": [{"type": "steam", "tags": ["a", "b"]}], "name": "Duck Game"},
        ),
        (
            "a: 2024-02-29\nb: 0042\nc: FALSE\nd: Null\n",
            {"a": dt.date(2024, 2, 29), "b": 42, "c": False, "d": None},
        ),
    ],
)
def test_flat_frontmatter_is_read_by_the_flat_path(text: str, expected: dict[str, Any]) -> None:
    assert strict(_load_flat(text)) == strict(expected)
    assert strict(load_values(text)) == strict(expected)
    assert strict(_libyaml(text)) == strict(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty: libyaml's None
        "# a comment\na: 1\n",
        "a: 1 # a comment\n",
        "parent:\n  child: x\n  - y\n",
        "parent:\n  child:\n    deeper: x\n",
        "parent:\n  child: x\n   other: y\n",
        "a: 1\n  child: x\n",
        "tags:\n  - a\n  child: x\n",
        "tags:\n  - a\n- b\n",
        "ids:\n  - type: steam\n   appid: 1\n",
        "ids:\n  - type: steam\n      appid: 1\n",
        "ids:\n  - type:\n",
        "ids:\n  - type: steam\n    type: gog\n",
        "ids:\n  - type: a: b\n",
        "ids:\n  - 1: x\n",
        "ids:\n  - type: steam\n    sub:\n      - x\n",
        "a: first line\n  continued\n",
        "a: b: c\n",
        'a: "with \\" escape"\n',
        "a: 'it''s'\n",
        "a: [x, [y]]\n",
        'a: ["x, y"]\n',
        'a: ["x\\"y"]\n',
        "a: ['it''s']\n",
        'a: ["x"y]\n',
        "a: 2024-02-30\n",
        "a: [x,\n  y]\n",
        "a: {x: 1}\n",
        "a: |\n  block\n",
        "a: &anchor 1\nb: *anchor\n",
        "a: !!str 1\n",
        "1: one\n",
        "true: yes\n",
        "a: 1\na: 2\n",
        "a:\tb\n",
        "a: b\r\n",
        "tags:\n  - a\n   - b\n",
        "tags:\n  - - nested\n",
        "tags:\n  - [x]\n",
        "tags:\n  - a\n    b\n",
        "'quoted key': 1\n",
        "? complex\n: key\n",
        "...: x\n",
        "a: ---\n",
        "<<: x\n",
        "a: <<\n",
        "a: x:\n",
        "{{title}}: x\n",
        # found by an adversarial review: Unicode spaces are content to YAML, not blanks
        "a: b\n\xa0\n",
        "a:\n\u3000\nb: c\n",
        "a:\n- x\n\xa0\n- y\n",
        "a: b\n  \u3000\n",
        # a value its resolver matches but no constructor can build: libyaml decides
        "date: 2024-02-30\n  more\n",
        "a: 0x_\n  more\n",
        "a: 2024-13-01\nb: [x\n",
        # line breaks (LS, PS) and a BOM libyaml reads differently
        "k: a\u2028\n",
        "k: [\u2029]\n",
        "\ufeffa: v\n",
        "k: v\n\ufeffk2: v\n",
    ],
)
def test_anything_else_declines_to_libyaml(text: str) -> None:
    assert _load_flat(text) is None
    _agrees(text)


LINES = st.sampled_from(
    [
        "title: A note",
        "id: 1751752568955",
        "n: 0755",
        "f: 1.5e3",
        "b: True",
        "c: yes",
        "d: 2025-07-05",
        "t: 2025-07-05T16:56:00",
        "lm: 2025-07-05 16:56",
        "e:",
        "e2: ~",
        'q: "[[Link]]"',
        "s: 'single'",
        "tags:",
        "  - a",
        "- b",
        "    - 7",
        "  -",
        "l: [a, 2]",
        "l2: []",
        "u: https://x.y/#z",
        "emoji: 🟩 complete",
        "neg: -3",
        "dash: -x",
        "",
        "  ",
        "a b: c, d",
        "k: v w",
        "x: [[Note]]",
        "y: {a: 1}",
        "z: a: b",
        "# c",
        "w: v # c",
        "  nested: 1",
        "...",
        "---",
        "k: 'a''b'",
        'k: "a\\tb"',
        "1: x",
        "bad: 2024-02-30",
        "hex: 0x_",
        "  more",
        "\xa0",
        "  \u3000",
        "parent:",
        "  child: x",
        "    child: y",
        "  - type: steam",
        "    appid: '1'",
        "- k: v",
        "  k2: 2",
        "  -   k: [a]",
        "      k3: 2024-01-01",
        "  k:",
        "  - k:",
        'lq: ["a b", c]',
        "lq2: ['x', \"y\", 3]",
        'lq3: ["", " s "]',
        "z0: 007",
        "z1: 12345",
        "d2: 2024-02-29",
        "d3: 1999-12-31",
        "nul: NULL",
        "f0: FALSE",
        "nan: .nan",
        "pinf: +.inf",
        "ninf: -.Inf",
        "nan2: .NaN",
        "m: 5 mins",
        "ts: 2025-12-15T17:38:29.447-08:00",
    ]
)
INSERTS = st.sampled_from(
    [
        *" -:#[]{},'\"|>&*?%@`!~.\n\t\\",
        "\r",
        "0",
        "a",
        "  ",
        "- ",
        ": ",
        " #",
        "\x01",
        "é",
        "\xa0",
        "\u3000",
        "\u2028",
        "\u2029",
        "\ufeff",
        "\u200b",
    ]
)


@PROPERTY
@given(
    st.lists(LINES, max_size=10), st.lists(st.tuples(st.integers(0, 10**6), INSERTS), max_size=3)
)
@example(["tags:", "  - a", "- b"], [])
@example(["title: A note"], [(7, "]")])
def test_the_flat_path_never_disagrees_with_libyaml(
    lines: list[str], inserts: list[tuple[int, str]]
) -> None:
    text = "".join(line + "\n" for line in lines)
    for pos, insert in inserts:
        at = pos % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    note(repr(text))
    _agrees(text)


# Shapes of nested properties (mappings under a key, lists of mappings), drawn mostly from
# ordinary keys and values so that most documents are read by the flat path, with the odd
# key, value, indent or inserted character that must make it decline.
KEYS = st.one_of(
    st.sampled_from(["a", "b", "type", "name", "my key", "é", "x.y"]),
    st.sampled_from(["true", "1", "null", "~", "<<", "..", ".a", "a'b", "on"]),
)
SCALARS = st.one_of(
    st.sampled_from(["steam", "1", "2024-10-10", "true", "[a, b]", "'q'", "a b", '"d"']),
    st.sampled_from(
        [
            "0755",
            "-3",
            "1.5",
            ".nan",
            "2024-02-30",
            "2024-10-10T12:00:00Z",
            "yes",
            "~",
            "''",
            '["a b", c]',
            "- x",
            "a: b",
            "a #b",
            "x:",
            "0x1F",
            "🟩 done",
            "!tag",
            "&a",
            "*a",
            "|",
            "{a: 1}",
            "[[Note]]",
            "a, b",
        ]
    ),
)


@st.composite
def nested_frontmatter(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["scalar", "list", "map", "blank"]))
        key = draw(KEYS)
        if kind == "scalar":
            lines.append(f"{key}: {draw(SCALARS)}")
        elif kind == "blank":
            lines.append("")
        elif kind == "map":
            lines.append(f"{key}:")
            indent = draw(st.sampled_from([" ", "  ", "    "]))
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"{indent}{draw(KEYS)}: {draw(SCALARS)}")
        else:
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["", "  ", "    "]))
            for _ in range(draw(st.integers(0, 3))):
                if draw(st.booleans()):
                    lines.append(f"{indent}- {draw(SCALARS)}")
                    continue
                gap = draw(st.sampled_from([" ", "  ", "   "]))
                lines.append(f"{indent}-{gap}{draw(KEYS)}: {draw(SCALARS)}")
                column = len(indent) + 1 + len(gap) + draw(st.sampled_from([0, 0, 0, 1, -1]))
                for _ in range(draw(st.integers(0, 3))):
                    lines.append(" " * column + f"{draw(KEYS)}: {draw(SCALARS)}")
    text = "".join(line + "\n" for line in lines)
    for pos, insert in draw(st.lists(st.tuples(st.integers(0, 10**6), INSERTS), max_size=1)):
        at = pos % (len(text) + 1)
        text = text[:at] + insert + text[at:]
    return text


@PROPERTY
@given(nested_frontmatter())
@example("ids:\n  - type: steam\n    appid: '1'\n  - x\nparent:\n  child: 2024-10-10\n")
def test_nested_shapes_are_read_as_libyaml_and_ruamel_read_them(text: str) -> None:
    note(repr(text))
    if _agrees(text):
        assert strict(_load_flat(text)) == strict(plain(rt_yaml().load(text)))


def test_every_character_read_with_ruamel_is_one_the_flat_path_declines() -> None:
    # load_values looks for ruamel's characters only in text where it found these
    from syncbridge.note.yamlio import _FLAT_DECLINES, _RUAMEL_READS

    ruamel = [chr(c) for c in range(0x110000) if _RUAMEL_READS.match(chr(c))]
    assert ruamel and all(_FLAT_DECLINES.match(c) for c in ruamel)
