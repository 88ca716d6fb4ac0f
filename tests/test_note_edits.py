"""Minimal-diff edits: only the edited key's span changes; everything else keeps its bytes."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from syncbridge import Note
from syncbridge.errors import EditError, NoteError
from syncbridge.note.splice import comparable, key_spans
from tests.torture import TORTURE


def _same_kind(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + " (edited)" if "\n" not in value else value + "added line\n"
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(hours=1)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, list):
        return [*value, rng.choice(["[[New Link]]", "new item", 7])]
    if isinstance(value, dict):
        return {**value, "added": "x"}
    return "filled"


def _other_kind(value: Any, rng: random.Random) -> Any:
    if isinstance(value, list):
        return "was a list"
    if isinstance(value, str):
        return rng.choice([42, ["[[A]]", "[[B]]"], None, True])
    return rng.choice(["text", ["x", "y"], "[[Link]]"])


_SPANS: dict[str, dict[str, Any]] = {}


def _check_edit(
    before: str,
    after: str,
    before_values: dict[str, Any],
    key: str,
    new: Any,
    *,
    deleted: bool = False,
) -> None:
    if before not in _SPANS:
        _SPANS.clear()
        _SPANS[before] = {s.key: s for s in key_spans(before)}
    spans = _SPANS[before]
    if key in spans:
        span = spans[key]
        start = before.rfind("\n", 0, span.start) + 1 if deleted else span.start
        end = span.end
        if deleted and not span.ends_line:
            eol = before.find("\n", end)
            end = len(before) if eol < 0 else eol + 1
        assert after.startswith(before[:start]), f"bytes before {key!r} changed"
        assert after.endswith(before[end:]), f"bytes after {key!r} changed"
        if not deleted:
            assert len(after) >= len(before[:start]) + len(before[end:])
    else:  # added after the last key: only insertions
        assert len(after) > len(before)
        prefix = next(
            i for i, (a, b) in enumerate(zip(after, before + "\0", strict=False)) if a != b
        )
        assert after.endswith(before[prefix:])
    values = Note.from_text("---\n" + after + "---\n").fields
    expected = dict(before_values)
    if deleted:
        del expected[key]
    else:
        expected[key] = new
    assert comparable(values) == comparable(expected)


def _edit_note(data: bytes, rng: random.Random, path: str) -> int:
    note = Note.from_bytes(data, path=path)
    try:
        fields = note.fields
    except NoteError:
        return 0  # unreadable frontmatter: covered by the refusal tests
    if not note.has_frontmatter or not fields:
        return 0
    keys = [k for k in fields if isinstance(k, str)]
    edits = 0
    for key in rng.sample(keys, min(3, len(keys))):
        for make in (_same_kind, _other_kind):
            note = Note.from_bytes(data, path=path)
            before = note.frontmatter_text or ""
            new = make(fields[key], rng)
            try:
                note[key] = new
            except EditError as exc:
                assert "anchor" in str(exc)  # the only edit refused on readable notes
                assert note.to_bytes() == data
                continue
            _check_edit(before, note.frontmatter_text or "", fields, key, new)
            edits += 1
    note = Note.from_bytes(data, path=path)
    note["syncbridge_added"] = ["[[Added]]", "two"]
    _check_edit(
        note_fm(data), note.frontmatter_text or "", fields, "syncbridge_added", ["[[Added]]", "two"]
    )
    note = Note.from_bytes(data, path=path)
    victim = rng.choice(keys)
    try:
        del note[victim]
    except EditError:
        # Deleting the last key before a "..." end marker would leave invalid YAML: refused.
        assert "\n...\n" in note_fm(data) and note.to_bytes() == data
        return edits + 1
    _check_edit(note_fm(data), note.frontmatter_text or "", fields, victim, None, deleted=True)
    assert note.body == Note.from_bytes(data).body
    return edits + 2


def note_fm(data: bytes) -> str:
    return Note.from_bytes(data).frontmatter_text or ""


def test_corpus_edits_touch_only_their_key(corpus: list[Path]) -> None:
    rng = random.Random(20261128)
    edited_notes = 0
    for path in corpus:
        if _edit_note(path.read_bytes(), rng, str(path)):
            edited_notes += 1
    assert edited_notes > 900


@pytest.mark.parametrize("name", sorted(TORTURE))
def test_torture_edits(name: str) -> None:
    _edit_note(TORTURE[name], random.Random(1), name)


def test_seed_style_edits_keep_formatting() -> None:
    data = TORTURE["seed-like"]
    note = Note.from_bytes(data)
    note["status"] = "🟨 in progress"
    note["related"] = ["[[Earned Security]]"]
    note["core_fears"] = ["Being Forgotten", "Rejection"]
    note["notes"] = "Changed.\n\n"
    text = note.text
    assert "status: 🟨 in progress\n" in text
    assert 'related: ["[[Earned Security]]"]\n' in text
    assert "core_fears: [Being Forgotten, Rejection]\n" in text
    assert "notes: |+\n  Changed.\n\n" in text
    assert 'definition: ""\n' in text
    assert text.endswith("---\n\n## 🧠 Proposes\n---\nText.\n")


def test_block_list_keeps_obsidian_indentation() -> None:
    note = Note.from_bytes(TORTURE["indented block list"])
    note["related"] = ["[[A]]", "[[B]]", "[[C]]"]
    assert note.text == '---\nrelated:\n  - "[[A]]"\n  - "[[B]]"\n  - "[[C]]"\n---\n'
    both = Note.from_bytes(TORTURE["both list styles"])
    both["a"] = ["x", "w"]
    assert both.text.startswith("---\na:\n- x\n- w\nb:\n  - y\n")


def test_new_list_follows_document_style() -> None:
    note = Note.from_bytes(b"---\nfirst:\n  - a\n---\n")
    note["second"] = ["b"]
    assert note.text == "---\nfirst:\n  - a\nsecond:\n  - b\n---\n"
    flow = Note.from_bytes(b"---\nfirst: [a]\n---\n")
    flow["second"] = ["b"]
    assert flow.text == "---\nfirst: [a]\nsecond: [b]\n---\n"


def test_crlf_edits_stay_crlf() -> None:
    note = Note.from_bytes(TORTURE["crlf"])
    note["list"] = ["x", "y"]
    note["b"] = "two"
    assert (
        note.to_bytes()
        == b"---\r\na: 1\r\nlist:\r\n  - x\r\n  - y\r\nb: two\r\n---\r\nbody\r\nline 2\r\n"
    )


def test_inline_comment_and_trailing_space_survive() -> None:
    note = Note.from_bytes(b"---\ntitle: x  # keep\nempty: \nn: 1\n---\n")
    note["title"] = "y"
    note["empty"] = None
    assert note.text == "---\ntitle: y  # keep\nempty: \nn: 1\n---\n"
    note["empty"] = "filled"
    assert note.text == "---\ntitle: y  # keep\nempty: filled\nn: 1\n---\n"


def test_delete_keeps_comment_above_next_key() -> None:
    note = Note.from_bytes(b"---\na: 1\n# about b\nb: 2\n---\n")
    del note["a"]
    assert note.text == "---\n# about b\nb: 2\n---\n"


def test_add_to_note_without_frontmatter() -> None:
    note = Note.from_bytes(b"Body only\r\nline\r\n")
    note["id"] = 1751752568955
    assert note.to_bytes() == b"---\r\nid: 1751752568955\r\n---\r\nBody only\r\nline\r\n"


def test_unchanged_assignment_keeps_bytes() -> None:
    data = TORTURE["odd spacing"]
    note = Note.from_bytes(data)
    note["a"] = "x"
    assert note.to_bytes() == data and not note.changed


def test_keep_chomped_last_key_edit() -> None:
    note = Note.from_bytes(TORTURE["keep-chomped block scalar last"])
    note["a"] = "new\n\n"
    assert note["a"] == "new\n\n"
    assert note.text == "---\nb: 1\na: |+\n  new\n\n---\nbody\n"
    note["b"] = 2
    assert note["a"] == "new\n\n"


def test_mapping_api() -> None:
    note = Note.from_bytes(b"---\na: 1\nmedia: []\n---\nbody\n")
    assert "media" in note
    del note["media"]
    assert "media" not in note
    note["new_field"] = 1
    assert list(note) == ["a", "new_field"]
    assert len(note) == 2
    with pytest.raises(KeyError):
        del note["missing"]
    copy = note["a"]
    assert copy == 1


def test_python_frontmatter_interop() -> None:
    note = Note.from_bytes(TORTURE["seed-like"])
    post = note.to_post()
    assert post["status"] == "🟩 complete"
    assert post.content == note.body
    back = Note.from_post(post)
    assert back.fields == note.fields
    assert back.body == note.body
