"""Byte-exact round trips: the torture set and every note of the real-world corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from syncbridge import Note
from syncbridge.errors import EncodingError, FrontmatterError, NoteError
from syncbridge.note.split import frontmatter_of, split_text
from tests.test_note_properties import PROPERTY
from tests.torture import TORTURE, UNSAFE


@pytest.mark.parametrize("name", sorted(TORTURE))
def test_torture_round_trip(name: str) -> None:
    data = TORTURE[name]
    note = Note.from_bytes(data, path=f"{name}.md")
    assert note.to_bytes() == data
    assert note.text.encode() == data  # the pieces put back together, not a cached copy


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_unsafe_notes_round_trip_and_refuse_edits(name: str) -> None:
    data = UNSAFE[name]
    note = Note.from_bytes(data, path="bad.md")
    assert note.to_bytes() == data
    with pytest.raises(NoteError) as info:
        note["new"] = 1
    assert "bad.md" in str(info.value)
    assert note.to_bytes() == data


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_unsafe_notes_name_file_and_line(name: str) -> None:
    note = Note.from_bytes(UNSAFE[name], path="Folder/bad.md")
    with pytest.raises(FrontmatterError) as info:
        dict(note)
    err = info.value
    assert err.path == "Folder/bad.md"
    assert err.line is not None and err.line >= 2
    assert str(err).startswith(f"Folder/bad.md:{err.line}: ")


def test_unsafe_messages_say_what_is_wrong() -> None:
    def message(name: str) -> str:
        with pytest.raises(FrontmatterError) as info:
            dict(Note.from_bytes(UNSAFE[name], path="n.md"))
        return str(info.value)

    assert "duplicate key 'a'" in message("duplicate keys")
    assert "tab" in message("tab in plain value")
    assert "not allowed" in message("python tag")
    assert "alias bomb" in message("alias bomb")
    assert "nested" in message("deep nesting")
    assert "n.md:4:" in message("duplicate keys")


def test_python_tags_construct_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = f"---\na: !!python/object/apply:os.system ['touch {marker}']\n---\n".encode()
    with pytest.raises(FrontmatterError):
        dict(Note.from_bytes(data))
    assert not marker.exists()


def test_invalid_utf8_names_the_line() -> None:
    with pytest.raises(EncodingError) as info:
        Note.from_bytes(b"---\na: 1\n---\nline\nbad \xff byte\n", path="x.md")
    assert info.value.line == 5
    assert "UTF-8" in str(info.value)


def test_unclosed_frontmatter_is_body() -> None:
    note = Note.from_bytes(TORTURE["unclosed frontmatter is body"])
    assert not note.has_frontmatter
    assert len(note) == 0
    assert note.body == TORTURE["unclosed frontmatter is body"].decode()


def test_parts() -> None:
    note = Note.from_bytes(TORTURE["dashes in body"])
    assert note["a"] == 1
    assert note.body == "\n## Heading\n---\ntext\n---\nmore\n"
    bom = Note.from_bytes(TORTURE["bom"])
    assert bom["a"] == 1 and bom.body == "body\n"
    assert Note.from_bytes(TORTURE["empty frontmatter"]).fields == {}


def test_yaml_12_values() -> None:
    note = Note.from_bytes(TORTURE["yaml 1.2 scalars"])
    assert note.fields == {"a": "yes", "b": 755, "c": 493, "d": 31, "e": 1000, "f": 1, "g": True}
    dates = Note.from_bytes(TORTURE["dates"])
    assert isinstance(dates["dt"], str)  # Metadata Menu's "YYYY-MM-DD HH:mm" is a string in YAML
    assert str(dates["d"]) == "2025-07-05"


def test_corpus_round_trip_is_byte_exact(corpus: list[Path]) -> None:
    failures = []
    for path in corpus:
        data = path.read_bytes()
        note = Note.from_bytes(data, path=str(path))
        if note.to_bytes() != data or note.text.encode() != data:
            failures.append(path)
    assert failures == []
    assert len(corpus) >= 1000


_SPLIT_PIECES = st.sampled_from(
    [
        "---",
        "---\n",
        "---\r\n",
        "\ufeff",
        "a: 1\n",
        "\n",
        "\r\n",
        "----\n",
        " ---\n",
        "x",
        "---\r",
        "--- \n",
        "body\n",
    ]
)


@PROPERTY
@given(st.lists(_SPLIT_PIECES, max_size=8))
@example(["\ufeff", "---\n", "---"])
def test_the_scan_finds_the_frontmatter_the_note_splits_off(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert frontmatter_of(text) == split_text(text).frontmatter


def test_the_scan_finds_the_frontmatter_of_every_torture_and_corpus_note(
    corpus: list[Path],
) -> None:
    texts = [data.decode("utf-8", "replace") for data in [*TORTURE.values(), *UNSAFE.values()]]
    texts += [path.read_bytes().decode("utf-8", "replace") for path in corpus]
    for text in texts:
        assert frontmatter_of(text) == split_text(text).frontmatter
