"""Block requests and block objects: validation of ``children`` trees and response shapes.

A request's ``children`` become :class:`BlockSpec` trees; the store gives them ids and
timestamps. Limits enforced here: 100 children per array, three block levels per request
(:data:`MAX_NESTING_LEVELS`), 1,000 block elements per request, and the rich-text limits of
:mod:`.richtext`. Blocks of type ``unsupported`` (what the API shows for blocks it cannot
expose) exist only when seeded (:meth:`~.store.NotionStore.add_unsupported_block`) and are
read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import body_error, validation_error
from .richtext import COLORS, parse_rich_text
from .validation import (
    MAX_BLOCKS_PER_REQUEST,
    MAX_CHILDREN_PER_REQUEST,
    MAX_EQUATION_LENGTH,
    expect_bool,
    expect_list,
    expect_object,
    expect_string,
    expect_url,
)

__all__ = [
    "BLOCK_TYPES",
    "MAX_NESTING_LEVELS",
    "UNSUPPORTED",
    "BlockSpec",
    "merge_block_update",
    "parse_children",
]

MAX_NESTING_LEVELS = 3
"""Block levels in one request: a top-level block's children may have children, but a
block on the third level may not (every real error path found counts it so:
``body.children[1].numbered_list_item.children[0].numbered_list_item.children[0]
.numbered_list_item.children should be not present``). Notion's docs call it "two levels of
nesting", counting the levels below the top."""
UNSUPPORTED = "unsupported"

CODE_LANGUAGES = frozenset(
    [
        "abap",
        "abc",
        "agda",
        "arduino",
        "assembly",
        "bash",
        "basic",
        "bnf",
        "c",
        "c#",
        "c++",
        "clojure",
        "coffeescript",
        "coq",
        "css",
        "dart",
        "dhall",
        "diff",
        "docker",
        "ebnf",
        "elixir",
        "elm",
        "erlang",
        "f#",
        "flow",
        "fortran",
        "gherkin",
        "glsl",
        "go",
        "graphql",
        "groovy",
        "haskell",
        "hcl",
        "html",
        "idris",
        "java",
        "javascript",
        "json",
        "julia",
        "kotlin",
        "latex",
        "less",
        "lisp",
        "livescript",
        "lua",
        "makefile",
        "markdown",
        "markup",
        "matlab",
        "mathematica",
        "mermaid",
        "nix",
        "objective-c",
        "ocaml",
        "pascal",
        "perl",
        "php",
        "powershell",
        "prolog",
        "protobuf",
        "purescript",
        "python",
        "r",
        "racket",
        "reason",
        "ruby",
        "rust",
        "sass",
        "scala",
        "scheme",
        "scss",
        "shell",
        "smalltalk",
        "solidity",
        "sql",
        "swift",
        "toml",
        "typescript",
        "verilog",
        "vhdl",
        "webassembly",
        "xml",
        "yaml",
    ]
) | {
    "ascii art",
    "llvm ir",
    "notion formula",
    "plain text",
    "vb.net",
    "visual basic",
    "java/c/c++/c#",
}

_TEXT_BLOCKS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "quote",
    "toggle",
    "to_do",
    "callout",
)
_MEDIA_BLOCKS = ("image", "video", "file", "pdf", "audio")
BLOCK_TYPES = frozenset(
    (
        *_TEXT_BLOCKS,
        *_MEDIA_BLOCKS,
        "code",
        "equation",
        "divider",
        "bookmark",
        "embed",
        "table",
        "table_row",
        "child_page",
        "child_database",
    )
)
_READ_ONLY = ("child_page", "child_database")


@dataclass
class BlockSpec:
    """A validated block from a request: its type, response-shaped content and children."""

    type: str
    content: dict[str, Any]
    children: list[BlockSpec] = field(default_factory=list)


def _color(path: str, value: Any) -> str:
    if value is None:
        return "default"
    if value not in COLORS:
        raise body_error(path, "should be a valid color", value)
    return str(value)


def _icon(path: str, value: Any) -> Any:
    if value is None:
        return None
    icon = expect_object(path, value)
    if icon.get("type", "emoji") == "emoji" and "emoji" in icon:
        return {"type": "emoji", "emoji": expect_string(f"{path}.emoji", icon["emoji"])}
    if "external" in icon:
        url = expect_url(
            f"{path}.external.url", expect_object(f"{path}.external", icon["external"]).get("url")
        )
        return {"type": "external", "external": {"url": url}}
    raise body_error(path, "should be an emoji or external icon", value)


def build_content(
    kind: str,
    path: str,
    raw: dict[str, Any],
    titles: dict[str, str],
    existing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Response-shaped content of block type ``kind`` from request object ``raw``.

    With ``existing`` (an update), omitted fields keep their current values.
    """
    old = existing or {}

    def text(key: str = "rich_text") -> list[dict[str, Any]]:
        if key in raw:
            return parse_rich_text(f"{path}.{key}", raw[key], titles)
        if key in old:
            return list(old[key])
        if key == "rich_text" and existing is None:
            raise body_error(f"{path}.rich_text", "should be defined")
        return []

    if kind in _TEXT_BLOCKS:
        content: dict[str, Any] = {"rich_text": text()}
        if kind.startswith("heading_"):
            content["is_toggleable"] = expect_bool(
                f"{path}.is_toggleable", raw.get("is_toggleable", old.get("is_toggleable", False))
            )
        if kind == "to_do":
            content["checked"] = expect_bool(
                f"{path}.checked", raw.get("checked", old.get("checked", False))
            )
        if kind in ("paragraph", "callout"):
            content["icon"] = _icon(f"{path}.icon", raw.get("icon", old.get("icon")))
        content["color"] = _color(f"{path}.color", raw.get("color", old.get("color")))
        return content
    if kind == "code":
        language = raw.get("language", old.get("language", "plain text"))
        if language not in CODE_LANGUAGES:
            raise body_error(f"{path}.language", "should be a supported language", language)
        return {"caption": text("caption"), "rich_text": text(), "language": language}
    if kind == "equation":
        expression = raw.get("expression", old.get("expression"))
        return {"expression": expect_string(f"{path}.expression", expression, MAX_EQUATION_LENGTH)}
    if kind == "divider":
        return {}
    if kind in ("bookmark", "embed"):
        url = expect_url(f"{path}.url", raw.get("url", old.get("url")))
        return {"caption": text("caption"), "url": url}
    if kind in _MEDIA_BLOCKS:
        external = raw.get("external", (old.get("external") or None))
        ext = expect_object(f"{path}.external", external)
        url = expect_url(f"{path}.external.url", ext.get("url"))
        return {"caption": text("caption"), "type": "external", "external": {"url": url}}
    if kind == "table":
        width = raw.get("table_width", old.get("table_width"))
        if not isinstance(width, int) or isinstance(width, bool) or width < 1:
            raise body_error(f"{path}.table_width", "should be a number", width)
        return {
            "table_width": width,
            "has_column_header": expect_bool(
                f"{path}.has_column_header",
                raw.get("has_column_header", old.get("has_column_header", False)),
            ),
            "has_row_header": expect_bool(
                f"{path}.has_row_header",
                raw.get("has_row_header", old.get("has_row_header", False)),
            ),
        }
    if kind == "table_row":
        cells = expect_list(f"{path}.cells", raw.get("cells", old.get("cells")))
        return {
            "cells": [
                parse_rich_text(f"{path}.cells[{i}]", cell, titles) for i, cell in enumerate(cells)
            ]
        }
    raise body_error(f"{path}", "should be a supported block type", kind)


def _block_type(path: str, block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind is None:
        kind = next((key for key in block if key in BLOCK_TYPES), None)
    if not isinstance(kind, str) or kind not in BLOCK_TYPES or kind not in block:
        raise body_error(f"{path}.type", "should be a supported block type", kind)
    if kind in _READ_ONLY:
        raise validation_error(
            f"body failed validation: {path}.{kind} should be not present, instead was "
            f"an object. Create pages and databases with their own endpoints."
        )
    return kind


def parse_children(
    path: str,
    raw: Any,
    titles: dict[str, str],
    depth: int = 1,
    counter: list[int] | None = None,
) -> list[BlockSpec]:
    """Validate a request ``children`` array at ``path``, whose blocks are on level
    ``depth`` (1 for the request's own ``children``).

    Raises ``validation_error`` past 100 children per array, for children of a block on the
    last level (:data:`MAX_NESTING_LEVELS`) or at a block's root instead of inside its type
    object, past 1,000 blocks in the whole request, and for any invalid block content.
    """
    count = counter if counter is not None else [0]
    items = expect_list(path, raw, MAX_CHILDREN_PER_REQUEST)
    specs: list[BlockSpec] = []
    for index, entry in enumerate(items):
        where = f"{path}[{index}]"
        block = expect_object(where, entry)
        if "children" in block:
            raise body_error(f"{where}.children", "should be not present", block["children"])
        kind = _block_type(where, block)
        body = expect_object(f"{where}.{kind}", block[kind])
        count[0] += 1
        if count[0] > MAX_BLOCKS_PER_REQUEST:
            raise validation_error(
                f"body failed validation: the request should contain ≤ "
                f"`{MAX_BLOCKS_PER_REQUEST}` block elements, instead was more."
            )
        spec = BlockSpec(kind, build_content(kind, f"{where}.{kind}", body, titles))
        nested = body.get("children")
        if nested is not None:
            if depth >= MAX_NESTING_LEVELS:
                raise body_error(f"{where}.{kind}.children", "should be not present", nested)
            spec.children = parse_children(
                f"{where}.{kind}.children", nested, titles, depth + 1, count
            )
        if kind == "table":
            if not spec.children:
                raise body_error(f"{where}.table.children", "should be defined", nested)
            width = spec.content["table_width"]
            for row_index, row in enumerate(spec.children):
                if row.type != "table_row" or len(row.content["cells"]) != width:
                    raise validation_error(
                        f"body failed validation: {where}.table.children[{row_index}] should "
                        f"be a table_row with `{width}` cells."
                    )
        specs.append(spec)
    return specs


def merge_block_update(
    kind: str, current: dict[str, Any], body: dict[str, Any], titles: dict[str, str]
) -> dict[str, Any]:
    """Apply ``PATCH /blocks/{id}`` ``body`` to content of type ``kind``; new content."""
    for key in body:
        if key in BLOCK_TYPES and key != kind:
            raise validation_error(
                f"body failed validation: body.{key} should be not present, instead was an "
                f"object. The block is of type `{kind}`."
            )
    if kind not in body:
        return current
    if kind == UNSUPPORTED:
        raise validation_error(
            f"Block type `{current['block_type']}` is not supported via the API: a block of "
            "type `unsupported` cannot be updated."
        )
    raw = expect_object(f"body.{kind}", body[kind])
    if kind in _READ_ONLY:
        raise validation_error(f"body failed validation: body.{kind} should be not present.")
    return build_content(kind, f"body.{kind}", raw, titles, existing=current)
