"""Minimal-diff edits of frontmatter text: set, add and delete one top-level key.

An edit replaces only the character span of the key it touches, found with ruamel's
round-trip composer (``key.start_mark.index`` to ``value.end_mark.index``); every other
character of the frontmatter is kept as it is. The new ``key: value`` text is rendered by
ruamel in the style the old value had:

* strings keep their quoting (``"…"``, ``'…'``, plain) or block style (``|``, ``|+``, ``>``);
  wikilinks are always double-quoted, as Obsidian requires;
* lists keep flow (``[a, b]``) or block style, with the block indentation found on disk
  (``  - `` as Obsidian writes it, or ``- ``); new lists follow the document's other lists;
* the file's line ending (``\\r\\n``) is used for the new lines;
* ``key: `` with a trailing space (Obsidian's null) keeps its space when set to null again.

Every edit is checked by re-parsing: the edited key must read back as the new value and
every other key as before, or :class:`~syncbridge.errors.EditError` is raised and nothing
changes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from syncbridge.errors import EditError
from syncbridge.note.yamlio import compose_rt, load_values, rt_yaml

__all__ = ["KeySpan", "comparable", "delete_key", "key_spans", "set_key"]

_SENTINEL = "zz_syncbridge_sentinel_zz"


@dataclass(frozen=True)
class KeySpan:
    """Where a top-level key lives in the frontmatter text.

    ``start``: index of the key's first character. ``end``: index just after its value,
    or — for values that end a line (block lists, block scalars, nulls) — the start of the
    line after its last content line (trailing blank and comment lines are not part of it,
    except the content blank lines of a ``|+`` / ``>+`` scalar).
    """

    key: str
    start: int
    key_end: int
    end: int
    node: Node
    ends_line: bool


def _keeps_trailing_lines(text: str, node: Node) -> bool:
    if not isinstance(node, ScalarNode) or node.style not in ("|", ">"):
        return False
    idx = node.start_mark.index
    eol = text.find("\n", idx)
    header = text[idx : eol if eol >= 0 else len(text)]
    return "+" in header


def _last_leaf(node: Node) -> Node:
    while isinstance(node, SequenceNode | MappingNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node


def _trim_trailing_lines(text: str, start: int, end: int, value_node: Node) -> int:
    """Hand back the blank and comment lines at the end of ``text[start:end]`` that are not
    content: a line that looks like a comment inside a block scalar is content, and so are
    the trailing blank lines of a ``|+`` / ``>+`` scalar."""
    leaf = _last_leaf(value_node)
    content_end = leaf.end_mark.index  # block scalars: includes their trailing blank lines
    if isinstance(leaf, ScalarNode) and leaf.style is None and leaf.value == "":
        content_end = start  # an empty value's marks sit at the next token, past comments
    keep = _keeps_trailing_lines(text, leaf)
    lines = text[start:end].splitlines(keepends=True)
    while len(lines) > 1:
        last = lines[-1]
        inside = end - len(last) < content_end
        if (not last.strip() and not (keep and inside)) or (
            last.lstrip().startswith("#") and not inside
        ):
            end -= len(lines.pop())
        else:
            break
    return end


def key_spans(text: str, *, path: str | None = None, line_offset: int = 1) -> list[KeySpan]:
    """Spans of every top-level key, in order. FrontmatterError if the text cannot be
    edited safely (invalid YAML, duplicate keys, not a block mapping)."""
    root = compose_rt(text, path=path, line_offset=line_offset)
    if root is None:
        return []
    if not isinstance(root, MappingNode):
        raise EditError(
            "frontmatter is not a mapping of keys to values; syncbridge will not edit it",
            path=path,
            line=line_offset + 1,
        )
    if root.flow_style:
        raise EditError(
            "frontmatter is a single flow mapping ({...}); syncbridge will not edit it",
            path=path,
            line=line_offset + 1,
        )
    spans: list[KeySpan] = []
    seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, ScalarNode):
            raise EditError(
                "a complex (non-scalar) key cannot be edited",
                path=path,
                line=key_node.start_mark.line + 1 + line_offset,
            )
        key = str(key_node.value)
        line = key_node.start_mark.line + 1 + line_offset
        if key in seen:
            raise EditError(
                f"duplicate key {key!r} (lines {seen[key]} and {line}); remove one, then sync",
                path=path,
                line=line,
            )
        seen[key] = line
        start = key_node.start_mark.index
        end = value_node.end_mark.index
        if value_node.start_mark.index < key_node.end_mark.index:
            # An alias (*name): the composer hands back the anchored node, marks and all.
            alias = text.find("*" + str(value_node.anchor), key_node.end_mark.index)
            if alias < 0:
                raise EditError(f"cannot locate the alias value of {key!r}", path=path, line=line)
            spans.append(
                KeySpan(
                    key,
                    start,
                    key_node.end_mark.index,
                    alias + 1 + len(str(value_node.anchor)),
                    value_node,
                    False,
                )
            )
            continue
        ends_line = text[end - 1 : end] == "\n" if end > 0 else False
        if ends_line:
            end = _trim_trailing_lines(text, start, end, value_node)
        spans.append(KeySpan(key, start, key_node.end_mark.index, end, value_node, ends_line))
    return spans


# --- rendering -----------------------------------------------------------------------------


def _is_link(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("[[", "![[")) and value.endswith("]]")


def _block_seq_style(text: str, spans: list[KeySpan]) -> tuple[int, int] | None:
    """(dash column, item column) of the first block sequence in the document, if any."""
    for span in spans:
        node = span.node
        if isinstance(node, SequenceNode) and not node.flow_style and node.value:
            col = node.value[0].start_mark.column
            dash = text.rfind("-", 0, node.value[0].start_mark.index)
            line_start = text.rfind("\n", 0, dash) + 1
            return dash - line_start, col
    return None


def _has_flow_lists(spans: list[KeySpan]) -> bool:
    return any(isinstance(s.node, SequenceNode) and s.node.flow_style for s in spans)


# Characters YAML can only write as double-quoted escapes: non-printables, CR, and the
# Unicode line breaks (NEL, LS, PS) that YAML 1.1 readers such as libyaml break lines on.
_NEEDS_ESCAPES = re.compile(
    r"[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _style_scalar(value: Any, old: Node | None) -> Any:
    if not isinstance(value, str):
        return value
    if _NEEDS_ESCAPES.search(value):
        return DoubleQuotedScalarString(value)  # raw in any other style, it would not read back
    if _is_link(value):
        return DoubleQuotedScalarString(value)
    style = old.style if isinstance(old, ScalarNode) else None
    if style == '"':
        return DoubleQuotedScalarString(value)
    if style == "'":
        return SingleQuotedScalarString(value)
    if style == "|":
        return LiteralScalarString(value)
    if style == ">":
        return FoldedScalarString(value)
    if value == "":
        return DoubleQuotedScalarString(value)  # Obsidian and Metadata Menu write ""
    return value


def _style_item(value: Any, old_items: list[Node]) -> Any:
    if isinstance(value, str):
        quoted = [n.style for n in old_items if isinstance(n, ScalarNode)]
        if (
            _NEEDS_ESCAPES.search(value)
            or _is_link(value)
            or (quoted and all(s == '"' for s in quoted))
        ):
            return DoubleQuotedScalarString(value)
        if quoted and all(s == "'" for s in quoted):
            return SingleQuotedScalarString(value)
        return value
    return _to_rt(value, None)


def _to_rt(value: Any, old: Node | None) -> Any:
    """Wrap a plain Python value in ruamel types that render in the old value's style."""
    if isinstance(value, list | tuple):
        old_items = list(old.value) if isinstance(old, SequenceNode) else []
        seq = CommentedSeq([_style_item(v, old_items) for v in value])
        if isinstance(old, SequenceNode) and old.flow_style:
            seq.fa.set_flow_style()
        else:
            seq.fa.set_block_style()
        return seq
    if isinstance(value, dict):
        old_map = dict((k.value, v) for k, v in old.value) if isinstance(old, MappingNode) else {}
        cmap = CommentedMap((k, _to_rt(v, old_map.get(k))) for k, v in value.items())
        if isinstance(old, MappingNode) and old.flow_style:
            cmap.fa.set_flow_style()
        return cmap
    if isinstance(value, set | frozenset) or not isinstance(
        value, str | int | float | bool | dt.date | type(None)
    ):
        raise TypeError(f"cannot write a {type(value).__name__} into frontmatter: {value!r}")
    return _style_scalar(value, old)


def render_key(
    key_text: str,
    value: Any,
    *,
    old: Node | None,
    text: str,
    spans: list[KeySpan],
    newline: str,
    null_space: bool,
) -> str:
    """Render ``key_text: value`` (ending with ``newline``) in the style described above."""
    y = rt_yaml()
    rt_value = _to_rt(value, old)
    if isinstance(rt_value, CommentedSeq) and not isinstance(old, SequenceNode):
        # A new list: follow the document's other lists (flow if it only has flow lists).
        block = _block_seq_style(text, spans)
        if block is None and _has_flow_lists(spans):
            rt_value.fa.set_flow_style()
    if isinstance(rt_value, CommentedSeq) and not rt_value.fa.flow_style():
        block = None
        if isinstance(old, SequenceNode) and old.value:
            block = _block_seq_style(text, [KeySpan(key_text, 0, 0, 0, old, True)])
        block = block or _block_seq_style(text, spans) or (2, 4)
        dash, item = block
        y.indent(mapping=2, sequence=max(item, dash + 2), offset=dash)
    buf = io.StringIO()
    y.dump(CommentedMap([("k", rt_value), (_SENTINEL, 0)]), buf)
    out = buf.getvalue()
    out = out[: out.rindex(_SENTINEL)]
    assert out.startswith("k:")
    rendered = key_text + out[1:]
    if value is None and null_space and rendered.endswith(":\n"):
        rendered = rendered[:-1] + " \n"
    if newline != "\n":
        rendered = rendered.replace("\n", newline)
    return rendered


class _NaN:
    """Stands for float NaN in comparisons, where NaN must equal NaN."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NaN)

    __hash__ = object.__hash__


def comparable(value: Any) -> Any:
    """``value`` with tuples as lists and NaN made equal to NaN, for ``==`` checks."""
    if isinstance(value, float) and value != value:
        return _NaN()
    if isinstance(value, tuple | list):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return value


def _verify(
    new_text: str,
    old_values: dict[str, Any],
    key: str,
    expected: Any,
    *,
    deleted: bool,
    path: str | None,
    line_offset: int,
) -> None:
    try:
        new_values = load_values(new_text, path=path, line_offset=line_offset) or {}
    except Exception as exc:  # the rendered text must parse; anything else is our bug
        raise EditError(
            f"editing {key!r} would produce invalid YAML ({exc}); nothing changed", path=path
        ) from exc
    want = comparable(dict(old_values))
    if deleted:
        want.pop(key, None)
    else:
        want[key] = comparable(expected)
    if comparable(new_values) != want or list(new_values) != list(want):
        raise EditError(
            f"editing {key!r} could not be done without changing other values; nothing changed",
            path=path,
        )


def _newline_of(text: str, default: str) -> str:
    idx = text.find("\n")
    if idx < 0:
        return default
    return "\r\n" if idx > 0 and text[idx - 1] == "\r" else "\n"


def set_key(
    text: str,
    key: str,
    value: Any,
    *,
    path: str | None = None,
    line_offset: int = 1,
    newline: str = "\n",
) -> str:
    """Return ``text`` with top-level ``key`` set to ``value`` (added at the end if absent).

    Pure. Raises EditError / FrontmatterError when the edit cannot be made losslessly.
    """
    old_values = load_values(text, path=path, line_offset=line_offset) or {}
    if not isinstance(old_values, dict):
        raise EditError("frontmatter is not a mapping; syncbridge will not edit it", path=path)
    spans = key_spans(text, path=path, line_offset=line_offset)
    newline = _newline_of(text, newline)
    span = _span_of(text, spans, key)
    if span is None:
        rendered = render_key(
            _key_text(key),
            value,
            old=None,
            text=text,
            spans=spans,
            newline=newline,
            null_space=False,
        )
        # After the last key's lines: trailing comments and a "..." marker stay last.
        at = len(text)
        if spans:
            last = spans[-1]
            eol = last.end if last.ends_line else text.find("\n", last.end) + 1
            at = eol if eol > 0 else len(text)
        prefix = text[:at] if (at == 0 or text[at - 1] == "\n") else text[:at] + newline
        new_text = prefix + rendered + text[at:]
    else:
        is_alias = span.node.start_mark.index < span.key_end  # "key: *name" (see key_spans)
        if not is_alias and getattr(span.node, "anchor", None) is not None:
            raise EditError(
                f"{key!r} carries the YAML anchor &{span.node.anchor} that other keys may refer "
                "to; syncbridge will not rewrite it — edit it by hand",
                path=path,
                line=line_offset + text.count("\n", 0, span.start) + 1,
            )
        key_node_text = text[span.start : span.key_end]
        segment = text[span.start : span.end]
        null_space = (
            isinstance(span.node, ScalarNode)
            and span.node.value == ""
            and segment.rstrip("\r\n").endswith(": ")
        )
        rendered = render_key(
            key_node_text,
            value,
            old=span.node,
            text=text,
            spans=spans,
            newline=newline,
            null_space=null_space,
        )
        if not span.ends_line:
            # An inline value: keep the rest of its line (comment, trailing spaces, newline).
            rendered = rendered[: -len(newline)]
        new_text = text[: span.start] + rendered + text[span.end :]
    _verify(new_text, old_values, key, value, deleted=False, path=path, line_offset=line_offset)
    return new_text


def delete_key(text: str, key: str, *, path: str | None = None, line_offset: int = 1) -> str:
    """Return ``text`` without top-level ``key`` (its lines, inline comment included).

    Comment lines above the key and blank lines around it are kept. KeyError if absent.
    """
    old_values = load_values(text, path=path, line_offset=line_offset) or {}
    spans = key_spans(text, path=path, line_offset=line_offset)
    span = _span_of(text, spans, key)
    if span is None:
        raise KeyError(key)
    start = text.rfind("\n", 0, span.start) + 1
    end = span.end
    if not span.ends_line:
        eol = text.find("\n", end)
        end = len(text) if eol < 0 else eol + 1
    new_text = text[:start] + text[end:]
    _verify(new_text, old_values, key, None, deleted=True, path=path, line_offset=line_offset)
    return new_text


# First characters of the plain scalars YAML 1.2 may read as something other than a str.
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def _span_of(text: str, spans: list[KeySpan], key: Any) -> KeySpan | None:
    """The span of ``key`` as YAML reads it: ``1:`` is the int 1, ``'1':`` the str "1"."""
    for span in spans:
        found: Any = span.key
        if text[span.start] in _MAYBE_TYPED:  # a plain key such as 1, true, null, 2025-01-01
            read = load_values(text[span.start : span.key_end] + ": 0")
            if isinstance(read, dict) and len(read) == 1:
                found = next(iter(read))
        if type(found) is type(key) and found == key:
            return span
    return None


def _key_text(key: str) -> str:
    """How a new key is written: plain when YAML reads it back as the same string."""
    y = rt_yaml()
    buf = io.StringIO()
    y.dump(CommentedMap([(key, 0)]), buf)
    out = buf.getvalue()
    return out[: out.rindex(": 0")]
