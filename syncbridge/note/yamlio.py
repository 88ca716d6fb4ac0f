"""Reading frontmatter YAML safely, fast, and with the same values as ruamel's round trip.

Two readers, one meaning:

* :func:`load_values` is the fast reader used for indexing and for ``note[key]``: PyYAML's
  C parser (libyaml) with **YAML 1.2 core resolvers copied from ruamel.yaml** (so ``yes``
  stays a string and ``0755`` is 755, as in Obsidian and in ruamel's round-trip mode) and
  safe constructors only. It is about 15x faster than ruamel's round-trip loader.
* :func:`compose_rt` is ruamel.yaml's round-trip composer, used only when a note is edited:
  its node marks give the exact character span of every top-level key.

Both refuse what cannot be edited safely, with a :class:`~syncbridge.errors.FrontmatterError`
naming the line: duplicate keys, explicit tags other than the YAML core ones (no Python
object is ever constructed from a tag), alias "bombs" whose expansion exceeds
:data:`MAX_EXPANDED_NODES`, nesting deeper than :data:`MAX_DEPTH`, and text ruamel rejects
(tabs in plain scalars, for instance: when the text holds a tab, a BOM or a NEL/LS/PS
line break, values are read with ruamel's loader so both readers always agree).

Why not python-frontmatter here: it loads with PyYAML's YAML 1.1 resolvers (``yes`` →
``True``, ``0755`` → 493) and cannot give byte spans; see ``docs/design.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from typing import Any, ClassVar

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError as RuamelMarkedError
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.nodes import MappingNode as RtMappingNode
from ruamel.yaml.nodes import Node as RtNode
from ruamel.yaml.nodes import SequenceNode as RtSequenceNode

from syncbridge.errors import FrontmatterError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "compose_rt",
    "load_values",
    "rt_yaml",
]

MAX_EXPANDED_NODES = 100_000
"""Upper bound on the number of nodes a frontmatter may expand to through aliases."""

MAX_DEPTH = 64
"""Upper bound on collection nesting (deeper input would exhaust the C parser's stack)."""

_CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge", "value")
)

# --- the fast reader ---------------------------------------------------------------------

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Yaml12Loader(_BASE_LOADER):  # type: ignore[misc]
    """libyaml parser + YAML 1.2 core schema as ruamel.yaml resolves it."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}
    line_offset = 1  # file lines before the frontmatter text, for messages

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Hashable, Any]:
        # SafeConstructor.construct_mapping, refusing duplicate keys the way ruamel does.
        own = node.value
        has_merge = any(k.tag == "tag:yaml.org,2002:merge" for k, _ in own)
        if has_merge:
            self._check_duplicates([k for k, _ in own if k.tag != "tag:yaml.org,2002:merge"], node)
            self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        construct = self.construct_object
        for key_node, value_node in node.value:
            key = construct(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key (a {{template}} placeholder?)",
                    key_node.start_mark,
                )
            if key in mapping and not has_merge:
                self._check_duplicates([k for k, _ in node.value], node)
            mapping[key] = construct(value_node, deep=deep)
        return mapping

    def _check_duplicates(self, key_nodes: list[Any], node: Any) -> None:
        seen: dict[Any, Any] = {}
        for key_node in key_nodes:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first on line "
                    f"{seen[key].line + 1 + self.line_offset})",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark

    def construct_yaml_int(self, node: Any) -> int:
        text = self.construct_scalar(node).replace("_", "")
        sign = -1 if text[:1] == "-" else 1
        if text[:1] in "+-":
            text = text[1:]
        if text.startswith("0b"):
            return sign * int(text[2:], 2)
        if text.startswith("0x"):
            return sign * int(text[2:], 16)
        if text.startswith("0o"):
            return sign * int(text[2:], 8)
        return sign * int(text)  # YAML 1.2: "0755" is decimal 755

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # BaseResolver.resolve minus path resolvers (none are registered) and its list
        # concatenation: it runs once per node, so it is a hot path of the index.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return str(tag)
            return _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    def construct_tree(self, node: Any) -> Any:
        """Construct an alias-free document directly, without the generic state machine
        (about twice as fast; same values). Anything unusual takes the generic path."""
        cls = node.__class__
        tag = node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR_TAG:
                return node.value
            scalar = _SCALAR_CONSTRUCTORS.get(tag)
            if scalar is not None:
                try:
                    return scalar(self, node)
                except _SCALAR_ERRORS as exc:
                    raise _invalid_scalar(node, exc) from None
            return self.construct_object(node, deep=True)
        if cls is yaml.SequenceNode and tag == _SEQ_TAG:
            return [self.construct_tree(item) for item in node.value]
        if (
            cls is yaml.MappingNode
            and tag == _MAP_TAG
            and not any(k.tag == _MERGE_TAG for k, _ in node.value)
        ):
            mapping: dict[Hashable, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_tree(key_node)
                if not isinstance(key, Hashable):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "found an unhashable key (a {{template}} placeholder?)",
                        key_node.start_mark,
                    )
                if key in mapping:
                    self._check_duplicates([k for k, _ in node.value], node)
                mapping[key] = self.construct_tree(value_node)
            return mapping
        return self.construct_object(node, deep=True)

    def construct_undefined(self, node: Any) -> Any:
        raise yaml.constructor.ConstructorError(
            None, None, f"tag {node.tag!r} is not allowed in frontmatter", node.start_mark
        )


_SCALAR_ERRORS = (ValueError, IndexError, OverflowError)
"""What a scalar constructor raises for text its resolver matched but that is no value
(``2024-02-30``, ``0x_``): PyYAML and ruamel raise these instead of a YAML error."""


def _invalid_value(exc: Exception, path: str | None) -> FrontmatterError:
    """A scalar error where no node (so no line) is at hand: the alias and ruamel paths."""
    return FrontmatterError(
        f"invalid frontmatter value ({exc}); fix it, or quote it to keep it as text", path=path
    )


def _invalid_scalar(node: Any, exc: Exception) -> yaml.MarkedYAMLError:
    kind = node.tag.rsplit(":", 1)[-1]
    kind = {"timestamp": "a date", "int": "an integer", "float": "a number"}.get(kind, kind)
    return yaml.constructor.ConstructorError(
        None,
        None,
        f"{node.value!r} reads as {kind} but is not a valid one ({exc}); fix it, or quote "
        "it to keep it as text",
        node.start_mark,
    )


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _Yaml12Loader.construct_yaml_int)
_Yaml12Loader.add_constructor(None, _Yaml12Loader.construct_undefined)
_SCALAR_CONSTRUCTORS: dict[str, Any] = {
    "tag:yaml.org,2002:" + t: _Yaml12Loader.yaml_constructors["tag:yaml.org,2002:" + t]
    for t in ("int", "float", "bool", "null", "timestamp")
}
"""Scalar constructors that return their value directly (no generator, no recursion)."""

_RESOLVERS_12: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?: ~ |null|Null|NULL | )$", "~nN"),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
]
for _tag, _pattern, _first in _RESOLVERS_12:
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))
# Empty plain scalars resolve to null (PyYAML keys the empty string under None).
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


# Characters on which libyaml and ruamel read differently; notes holding them go to ruamel.
# Each is one of _FLAT_DECLINES too (load_values looks for those first; a test checks it).
_RUAMEL_READS = re.compile("[\t\x85\u2028\u2029\ufeff]")

# A document that is a block scalar (``|`` or ``>`` first, after blank and comment lines).
_TOP_BLOCK_SCALAR = re.compile(r"(?:[ ]*(?:#[^\n]*)?\n)*[ ]*[|>]")

# An alias token: "*name" where a YAML node can start. Only then can aliases expand.
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]")
# An anchor token "&name" (none in the 1,173 corpus notes' frontmatter).
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s,\[\]{}]")


def _line_of(mark: Any, line_offset: int) -> int | None:
    return None if mark is None else int(mark.line) + 1 + line_offset


def _check_nesting(text: str, path: str | None, line_offset: int) -> None:
    # A cheap pre-check, before any parser recurses: flow collections opened MAX_DEPTH deep.
    depth = 0
    deepest = 0
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    if deepest > MAX_DEPTH:
        raise FrontmatterError(
            f"collections nested more than {MAX_DEPTH} levels deep; syncbridge leaves this "
            "note untouched",
            path=path,
            line=line_offset + 1,
        )


def _expanded_size(node: Any, memo: dict[int, int], depth: int = 0) -> int:
    """Number of nodes ``node`` stands for once aliases are expanded (memoised by node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > MAX_DEPTH:
        raise _TooDeep(node)
    memo[key] = 1  # guards against recursive structures
    total = 1
    if isinstance(node.value, list):
        for item in node.value:
            if isinstance(item, tuple):
                total += _expanded_size(item[0], memo, depth + 1)
                total += _expanded_size(item[1], memo, depth + 1)
            else:
                total += _expanded_size(item, memo, depth + 1)
            if total > MAX_EXPANDED_NODES:
                break
    memo[key] = total
    return total


class _TooDeep(Exception):
    def __init__(self, node: Any) -> None:
        self.node = node


def _check_node_graph(root: Any, path: str | None, line_offset: int) -> None:
    try:
        size = _expanded_size(root, {})
    except _TooDeep as exc:
        raise FrontmatterError(
            f"collections nested more than {MAX_DEPTH} levels deep",
            path=path,
            line=_line_of(exc.node.start_mark, line_offset),
        ) from None
    if size > MAX_EXPANDED_NODES:
        raise FrontmatterError(
            f"aliases expand to more than {MAX_EXPANDED_NODES:,} values (a YAML alias bomb?); "
            "syncbridge leaves this note untouched",
            path=path,
            line=line_offset + 1,
        )


# --- the flat fast path --------------------------------------------------------------------
#
# Most frontmatter is what Obsidian's Properties editor writes: top-level ``key: value``
# lines, values plain or simply quoted, lists in block (``  - item``) or flow (``[a, b]``)
# form. For such text the values are read without a YAML parser, with the very resolvers
# and scalar constructors of the loader above, so they are the values libyaml gives: each
# plain scalar is resolved and built exactly as ``construct_tree`` would. Anything else
# (comments, nesting, multi-line or escaped scalars, anchors, tags, duplicate keys, odd keys
# or characters) declines, and the whole text goes to libyaml. Tests check the two agree on
# every corpus note and on generated and damaged text.
#
# Speed (the index reads every note's frontmatter: this is most of a cold scan): one regex
# call classifies every line of the text at once (a key line, a list item or a blank line;
# a line of any other shape makes the match count fall short of the line count, and the
# text declines); key texts already checked are looked up, not resolved again; and a plain
# scalar whose first character no resolver claims (most strings) is taken as it is, with no
# resolver run. About 2.5x faster than the line-by-line reader it replaced, and 4-5x faster
# than libyaml with PyYAML's constructors on the same text.

_PLAIN_FIRST_BAD = frozenset("-?:,[]{}#&*!|>'\"%@`")
"""Characters a plain scalar cannot start with (``-`` is allowed before a non-space)."""
_KEY = r"(?!\.\.\.|\.:)[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\[\]{}\n]*(?<!\s)"
"""A plain key: no indicator first, none of ``:#[]{}``, no space last, not ``.`` alone, not
``...`` first (a document end); greedy, so a line is matched without backtracking."""
_VALUE = r"[^\n]*[^ \n]"  # the rest of the line without its trailing spaces
_FLAT_LINE = re.compile(
    rf"^(?:({_KEY}):(?: +({_VALUE}))?|( *)(-)(?:( +)({_VALUE}))?|( +)({_KEY}):(?: +({_VALUE}))?)?"
    r" *\n",
    re.M,
)
"""One line of flat frontmatter: (key, its inline value) of a key line; (indent, "-", the
spaces after it, the value) of a list item; (indent, key, value) of an indented key line
(a field of a mapping: a list item's or a key's); all empty for a blank line (spaces
only)."""
_ITEM_KEY = re.compile(rf"({_KEY}):(?: +({_VALUE}))?")
"""A list item that opens a mapping (``- type: steam``): its first key and value."""
# Characters YAML does not allow (C0 but LF, DEL, C1, surrogates, U+FFFE/U+FFFF), tab, CR
# and what libyaml reads as a line break (LS, PS) or skips (BOM): the flat path declines.
_FLAT_DECLINES = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\r\u2028\u2029\ufeff]"
)
_FLOW_ITEM_BAD = re.compile(r"[\[\]{},'\"#:]")
_FLOW_QUOTED = re.compile(r"\"[^\"\\\[\]{},]*\"|'[^'\[\]{},]*'")
"""A quoted flow-list item the flat path reads (``["a b", 'c']``): no escapes, no doubled
quote, none of the characters a split on commas could cut or a flow context could
read otherwise."""
_CAREFUL_FIRST = _PLAIN_FIRST_BAD | frozenset(
    k for k, v in _Yaml12Loader.yaml_implicit_resolvers.items() if k and v
)
"""First characters of a value that needs more than "a plain string as it is": quotes,
indicators, and every first character a resolver is registered for (``t`` of ``true``, the
digits, ``~``, ``.``, ...)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FLAT_KEYS: dict[str, str] = {}
"""Key texts the flat path found to be plain string keys, each mapped to one shared string
(a vault's notes mostly repeat their field names). Cleared when it holds
:data:`_FLAT_KEYS_MAX` texts, so a vault of distinct keys cannot grow it without bound."""
_FLAT_KEYS_MAX = 20_000
_SCALAR_LOADER: Any = None


class _Decline(Exception):
    """The flat path cannot read this text for sure: use the full parser."""


_FIXED_SCALARS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
"""Every plain scalar the bool and null resolvers match, and the float resolver's NaN and
infinities (see _RESOLVERS_12), with the value its constructor gives."""
_NOT_FIXED = object()


def _resolvers_by_first() -> dict[str, tuple[re.Pattern[str], tuple[str, ...]]]:
    """First character → one pattern trying that character's resolvers in their order (a
    group per resolver), and the tags of those groups: one regex call resolves a scalar."""
    out: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {}
    for first, resolvers in _Yaml12Loader.yaml_implicit_resolvers.items():
        if not first or not resolvers:
            continue
        tags = tuple(str(tag) for tag, _ in resolvers)
        pattern = re.compile("|".join(f"((?:{regexp.pattern}))" for _, regexp in resolvers), re.X)
        if pattern.groups != len(tags):  # a resolver with a group of its own: keep it apart
            raise AssertionError(f"resolver patterns for {first!r} have capture groups")
        out[first] = (pattern, tags)
    return out


_RESOLVE_BY_FIRST = _resolvers_by_first()


def _flat_scalar(value: str) -> Any:
    # Yaml12Loader.resolve, then the tag's constructor, on a plain scalar. The most common
    # resolved forms are built directly: the same values as the constructors give.
    fixed = _FIXED_SCALARS.get(value, _NOT_FIXED)
    if fixed is not _NOT_FIXED:
        return fixed
    if value.isdigit() and value.isascii():  # what the int resolver's [0-9_]+ matches
        try:
            return int(value)  # YAML 1.2: "0755" is decimal 755
        except ValueError:
            raise _Decline from None  # over Python's digit limit: the full parser decides
    if len(value) == 10 and _DATE.fullmatch(value):
        try:
            return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            raise _Decline from None  # "2024-02-30": the full parser names the line
    resolvers = _RESOLVE_BY_FIRST.get(value[:1])
    if resolvers is None:
        return value
    matched = resolvers[0].match(value)
    if matched is None:
        return value  # "5 mins", "2025-07-05 16:56": no resolver's, a string
    tag = resolvers[1][matched.lastindex - 1]  # type: ignore[operator]
    construct = _SCALAR_CONSTRUCTORS.get(tag)
    if construct is None:
        raise _Decline  # "<<" (merge)
    global _SCALAR_LOADER
    if _SCALAR_LOADER is None:
        _SCALAR_LOADER = _Yaml12Loader("")
    try:
        return construct(_SCALAR_LOADER, yaml.ScalarNode(tag, value))
    except _SCALAR_ERRORS:
        raise _Decline from None  # the full parser names the line (or reads on)


def _flat_value(text: str, *, in_sequence: bool) -> Any:
    """The value of one line's scalar (or ``[a, b]`` outside a sequence item)."""
    first = text[0]
    if first not in _CAREFUL_FIRST:
        # A plain scalar no resolver claims: a string, unless it is not one plain scalar.
        if ": " in text or " #" in text or text[-1] == ":":
            raise _Decline
        return text
    if first == '"':
        if len(text) > 1 and text[-1] == '"' and '"' not in text[1:-1] and "\\" not in text:
            return text[1:-1]
        raise _Decline
    if first == "'":
        if len(text) > 1 and text[-1] == "'" and "'" not in text[1:-1]:
            return text[1:-1]
        raise _Decline
    if first == "[" and not in_sequence and text[-1] == "]":
        inner = text[1:-1].strip(" ")
        if not inner:
            return []
        items = []
        for item in inner.split(","):
            item = item.strip(" ")
            if item and item[0] in "\"'" and _FLOW_QUOTED.fullmatch(item):
                items.append(item[1:-1])
                continue
            if not item or item[0] in _PLAIN_FIRST_BAD or _FLOW_ITEM_BAD.search(item):
                raise _Decline
            items.append(_flat_scalar(item))
        return items
    if first in _PLAIN_FIRST_BAD and (first != "-" or len(text) == 1 or text[1] == " "):
        raise _Decline
    if ": " in text or " #" in text or text[-1] == ":" or text[:3] in ("---", "..."):
        raise _Decline
    return _flat_scalar(text)


def _flat_key(text: str) -> str:
    """``text`` as a plain string key (shared, see :data:`_FLAT_KEYS`), or _Decline."""
    key = _flat_scalar(text)
    if type(key) is not str or len(key) > 1000:
        raise _Decline  # a key YAML reads as a number, date, null ...; or an overlong one
    if len(_FLAT_KEYS) >= _FLAT_KEYS_MAX:
        _FLAT_KEYS.clear()
    _FLAT_KEYS[text] = text
    return text


def _load_flat(text: str, *, checked: bool = False) -> dict[str, Any] | None:
    """The values of flat frontmatter ``text`` (see above), or ``None`` to decline.

    Besides ``key: value`` lines and lists, one level of mappings is read, each of its
    fields a ``key: value`` line with an inline value, all at one indent: under a key
    (``parent:`` then ``  child: x``) and as list items (``- type: steam`` then
    ``  appid: '1'`` aligned with ``type``), the two shapes YAML tools write for nested
    properties. Anything deeper declines. ``checked``: the caller found no
    :data:`_FLAT_DECLINES` character in ``text``."""
    if not checked and _FLAT_DECLINES.search(text):
        return None
    if text[-1:] != "\n":
        text += "\n"
    lines = _FLAT_LINE.findall(text)
    if len(lines) != text.count("\n"):
        return None  # a line of another shape
    out: dict[str, Any] = {}
    keys = _FLAT_KEYS
    careful = _CAREFUL_FIRST
    listed: str | None = None  # the key with no inline value that items may follow
    items: list[Any] | None = None
    indent = ""
    fields: dict[str, Any] | None = None  # the mapping indented key lines add to
    fields_at = 0  # the column of that mapping's keys
    try:
        for key_text, raw, item_indent, dash, gap, item, sub_indent, sub_key, sub_raw in lines:
            if key_text:
                key = keys.get(key_text) or _flat_key(key_text)
                if key in out:
                    return None  # a duplicate: libyaml names both lines
                fields = None
                if raw:
                    # inline: the common case of _flat_value, a string no resolver claims
                    out[key] = (
                        raw
                        if raw[0] not in careful
                        and ": " not in raw
                        and " #" not in raw
                        and raw[-1] != ":"
                        else _flat_value(raw, in_sequence=False)
                    )
                    listed = None
                else:
                    out[key] = None  # null, unless list items or indented fields follow
                    listed, items = key, None
            elif dash:
                if listed is None:
                    return None  # an item after an inline value, or before any key
                if items is None:
                    items, indent = [], item_indent
                    out[listed] = items
                elif item_indent != indent:
                    return None
                fields = None
                if not item:
                    items.append(None)
                elif (
                    item[0] not in careful
                    and " #" not in item
                    and item[-1] != ":"
                    and ": " not in item
                ):
                    items.append(item)
                else:
                    opened = _ITEM_KEY.fullmatch(item)
                    if opened is None:
                        items.append(_flat_value(item, in_sequence=True))
                        continue
                    # "- key: value": a mapping whose keys are aligned with this first one
                    if not opened.group(2):
                        return None  # "- key:" (a null, or a nested block): libyaml's
                    fields = {}
                    fields_at = len(item_indent) + 1 + len(gap)
                    _add_field(fields, opened.group(1), opened.group(2))
                    items.append(fields)
            elif sub_key:
                if fields is None:
                    if listed is None or items is not None:
                        return None  # indented under an inline value, or amid list items
                    # "parent:" then "  child: x": a mapping under the key
                    fields, fields_at = {}, len(sub_indent)
                    out[listed] = fields
                    listed = None
                if len(sub_indent) != fields_at or not sub_raw:
                    return None  # another indent, or a nested block: libyaml's
                _add_field(fields, sub_key, sub_raw)
    except _Decline:
        return None
    return out or None


def _add_field(fields: dict[str, Any], key_text: str, raw: str) -> None:
    """Add ``key_text: raw`` (an inline value) to a nested mapping of the flat path."""
    key = _FLAT_KEYS.get(key_text) or _flat_key(key_text)
    if key in fields:
        raise _Decline  # a duplicate: libyaml names both lines
    fields[key] = _flat_value(raw, in_sequence=False)


def load_values(text: str, *, path: str | None = None, line_offset: int = 1) -> Any:
    """Parse frontmatter ``text`` into plain Python values (YAML 1.2, safe).

    ``line_offset`` is the number of file lines before ``text`` (1 for the opening ``---``),
    so error lines are file lines. Returns ``None`` for an empty document. Raises
    FrontmatterError for anything listed in the module docstring. No side effects.
    """
    declines = _FLAT_DECLINES.search(text)  # what _RUAMEL_READS finds, and more
    if (
        (declines and _RUAMEL_READS.search(text))
        or ("&" in text and _ANCHOR.search(text))
        or _TOP_BLOCK_SCALAR.match(text)
    ):
        # libyaml accepts some tabs ruamel rejects, breaks lines on NEL/LS/PS, skips a BOM
        # anywhere, ends anchor names at the first character outside [A-Za-z0-9_-] and
        # reads a "#" line of a top-level block scalar as a comment: read such (rare)
        # notes the way edits will.
        return _load_with_ruamel(text, path, line_offset)
    flat = None if declines else _load_flat(text, checked=True)
    if flat is not None:
        return flat
    return _load_libyaml(text, path, line_offset)


def _load_libyaml(text: str, path: str | None, line_offset: int) -> Any:
    _check_nesting(text, path, line_offset)
    loader = _Yaml12Loader(text)
    loader.line_offset = line_offset
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text and _ALIAS.search(text):
            _check_node_graph(node, path, line_offset)
            return loader.construct_document(node)  # aliases share objects: generic path
        return loader.construct_tree(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise FrontmatterError(
            f"invalid frontmatter YAML: {problem}", path=path, line=_line_of(mark, line_offset)
        ) from None
    except yaml.YAMLError as exc:
        raise FrontmatterError(f"invalid frontmatter YAML: {exc}", path=path) from None
    except RecursionError:
        raise FrontmatterError(
            "frontmatter is nested too deeply", path=path, line=line_offset + 1
        ) from None
    except _SCALAR_ERRORS as exc:  # the generic path (aliases) builds scalars too
        raise _invalid_value(exc, path) from None
    finally:
        loader.dispose()


# --- the round-trip side -----------------------------------------------------------------


def rt_yaml() -> YAML:
    """A ruamel round-trip YAML configured to reproduce Obsidian-style text.

    ``preserve_quotes`` keeps ``""`` and ``'…'``; a huge ``width`` stops folding of long
    lines. Indentation is set per rendered value by the splice code.
    """
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1_000_000
    y.allow_unicode = True
    return y


def _rt_error(exc: RuamelError, path: str | None, line_offset: int) -> FrontmatterError:
    if isinstance(exc, RuamelMarkedError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "\t" in str(exc) or "tab" in str(problem):
            problem += " (tabs are not allowed here in YAML; replace them with spaces)"
        return FrontmatterError(
            f"invalid frontmatter YAML: {problem}", path=path, line=_line_of(mark, line_offset)
        )
    return FrontmatterError(f"invalid frontmatter YAML: {exc}", path=path)


def _check_rt_tags(node: RtNode, path: str | None, line_offset: int, depth: int = 0) -> None:
    tag = getattr(node.tag, "value", node.tag)
    if tag is not None and tag not in _CORE_TAGS and not str(tag).startswith("tag:yaml.org,2002:"):
        raise FrontmatterError(
            f"tag {tag!r} is not allowed in frontmatter",
            path=path,
            line=_line_of(node.start_mark, line_offset),
        )
    if depth > MAX_DEPTH:
        raise FrontmatterError(
            f"collections nested more than {MAX_DEPTH} levels deep",
            path=path,
            line=_line_of(node.start_mark, line_offset),
        )
    if isinstance(node, RtMappingNode):
        for k, v in node.value:
            _check_rt_tags(k, path, line_offset, depth + 1)
            _check_rt_tags(v, path, line_offset, depth + 1)
    elif isinstance(node, RtSequenceNode):
        for item in node.value:
            _check_rt_tags(item, path, line_offset, depth + 1)


def compose_rt(text: str, *, path: str | None = None, line_offset: int = 1) -> RtNode | None:
    """Compose ``text`` with ruamel's round-trip composer; node marks index into ``text``.

    Raises FrontmatterError (with the file line) for invalid YAML, non-core tags, alias
    bombs and excessive nesting. No side effects.
    """
    _check_nesting(text, path, line_offset)
    try:
        node: RtNode | None = rt_yaml().compose(text)
    except RuamelError as exc:
        raise _rt_error(exc, path, line_offset) from None
    except RecursionError:
        raise FrontmatterError("frontmatter is nested too deeply", path=path) from None
    if node is None:
        return None
    if "*" in text and _ALIAS.search(text):
        # First: the tag walk below follows aliases, so it must only see a bounded graph.
        _check_node_graph(node, path, line_offset)
    _check_rt_tags(node, path, line_offset)
    return node


def _load_with_ruamel(text: str, path: str | None, line_offset: int) -> Any:
    node = compose_rt(text, path=path, line_offset=line_offset)
    if node is None:
        return None
    try:
        data = rt_yaml().load(text)
    except RuamelError as exc:
        raise _rt_error(exc, path, line_offset) from None
    except _SCALAR_ERRORS as exc:
        raise _invalid_value(exc, path) from None
    return plain(data)


def plain(value: Any) -> Any:
    """Convert ruamel round-trip values (CommentedMap, ScalarInt, ...) to plain builtins."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, TaggedScalar) and value.value is not None:
        return str(value.value)  # "=" (the YAML "value" tag) is plain text in Obsidian
    if isinstance(value, dt.datetime):
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
        )
    return value
