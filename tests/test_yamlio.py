"""The fast reader agrees with ruamel's round-trip loader, on the corpus and on edge cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from syncbridge import Note
from syncbridge.errors import FrontmatterError
from syncbridge.note.splice import comparable
from syncbridge.note.yamlio import load_values, plain, rt_yaml


def _rt(text: str) -> Any:
    return plain(rt_yaml().load(text))


def test_fast_reader_equals_round_trip_values_on_the_corpus(corpus: list[Path]) -> None:
    compared = 0
    disagreements = []
    for path in corpus:
        note = Note.from_bytes(path.read_bytes(), path=str(path))
        text = note.frontmatter_text
        if text is None:
            continue
        try:
            fast = load_values(text)
        except FrontmatterError as exc:
            # Refused on purpose: {{template}} placeholders that YAML reads as mapping keys.
            if "unhashable" not in str(exc):
                disagreements.append(f"{path}: {exc}")
            continue
        compared += 1
        if comparable(fast) != comparable(_rt(text)):
            disagreements.append(str(path))
    assert disagreements == []
    assert compared > 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes", "yes"),
        ("a: no", "no"),
        ("a: on", "on"),
        ("a: y", "y"),
        ("a: True", True),
        ("a: FALSE", False),
        ("a: 0755", 755),
        ("a: 0o755", 0o755),
        ("a: 0x1F", 31),
        ("a: 0b101", 5),
        ("a: 1_000", 1000),
        ("a: +1", 1),
        ("a: -3", -3),
        ("a: 1.50", 1.5),
        ("a: 1e3", 1000.0),
        ("a: .5", 0.5),
        ("a: -.inf", float("-inf")),
        ("a: ~", None),
        ("a: null", None),
        ("a: Null", None),
        ("a:", None),
        ("a: ", None),
        ("a: 2025-07-05", dt.date(2025, 7, 5)),
        ("a: 2025-07-05 16:56", "2025-07-05 16:56"),
        ("a: 2025-07-05T16:56:00", dt.datetime(2025, 7, 5, 16, 56)),
        ("a: 2016-08-24T00:00:00Z", dt.datetime(2016, 8, 24, tzinfo=dt.UTC)),
        ('a: "[[Note]]"', "[[Note]]"),
        ("a: [[Note]]", [["Note"]]),
        ("a: 🟩 complete", "🟩 complete"),
        ("a: =", "="),
    ],
)
def test_yaml_12_scalars_match_ruamel(text: str, expected: Any) -> None:
    fast = load_values(text)["a"]
    assert fast == expected
    assert type(fast) is type(expected)
    assert comparable(_rt(text)["a"]) == comparable(expected)


def test_nan_agrees() -> None:
    assert comparable(load_values("a: .nan")) == comparable(_rt("a: .nan"))


def test_merge_keys_agree() -> None:
    text = "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"
    assert load_values(text) == _rt(text) == {"base": {"x": 1, "y": 2}, "child": {"x": 1, "y": 3}}


def test_duplicate_key_inside_nested_map_is_refused() -> None:
    with pytest.raises(FrontmatterError, match="duplicate key 'x'"):
        load_values("outer:\n  x: 1\n  x: 2\n")


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("date: 2024-02-30\n", 2, "a date"),
        ("title: x\ndue: 2024-13-01\n", 3, "a date"),
        ("a: 0x_\n", 2, "an integer"),
        ("tags:\n  - x\n  - 2024-02-30\n", 4, "a date"),
    ],
)
def test_a_value_that_reads_as_a_date_or_number_but_is_none_is_refused_with_its_line(
    text: str, line: int, what: str
) -> None:
    # PyYAML and ruamel raise ValueError for these; a note holding one must be refused like
    # any invalid frontmatter (named, with its line), never crash a scan.
    with pytest.raises(FrontmatterError) as info:
        load_values(text, path="Notes/n.md")
    assert info.value.line == line and info.value.path == "Notes/n.md"
    assert what in str(info.value) and "quote it" in str(info.value)


def test_an_invalid_date_behind_an_alias_or_read_by_ruamel_is_refused_too() -> None:
    for text in ("a: &x 2024-02-30\nb: *x\n", "a: 2024-02-30\nb: \ufeffx\n"):
        with pytest.raises(FrontmatterError, match="day is out of range"):
            load_values(text, path="n.md")
