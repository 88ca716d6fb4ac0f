"""The two API versions the fake speaks, chosen per request by the ``Notion-Version`` header.

- ``2025-09-03`` (notion-client 3.1.0's default): responses carry both ``in_trash`` and its
  deprecated alias ``archived``; requests may use either, and append takes ``after`` or
  ``position``.
- ``2026-03-11`` (Notion's upgrade guide): ``archived`` is gone from requests and responses,
  only ``in_trash`` remains; append takes ``position`` and no longer ``after``.

Everything else is the same in both, so the endpoints render the 2025-09-03 shape and
:func:`shape_response` removes what 2026-03-11 dropped, at the HTTP boundary. Other header
values are refused: Notion serves older versions with older semantics (``databases/query``,
no data sources) that the fake does not model, and a silent fallback would hide a typo.
"""

from __future__ import annotations

from typing import Any

from .errors import NotionAPIError, body_error, show

__all__ = [
    "SUPPORTED_VERSIONS",
    "VERSION_2025_09_03",
    "VERSION_2026_03_11",
    "check_request_body",
    "parse_version",
    "shape_response",
]

VERSION_2025_09_03 = "2025-09-03"
VERSION_2026_03_11 = "2026-03-11"
SUPPORTED_VERSIONS = (VERSION_2025_09_03, VERSION_2026_03_11)

_TRASHABLE_OBJECTS = frozenset({"page", "block", "database", "data_source"})


def parse_version(header: str | None) -> str:
    """The version a request asked for; raises Notion's ``missing_version`` when the header
    is absent and a 400 ``validation_error`` for a version the fake does not serve."""
    if not header:
        raise NotionAPIError(
            400,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be "
            "defined, instead was `undefined`.",
        )
    if header not in SUPPORTED_VERSIONS:
        choices = " or ".join(f"`{v}`" for v in SUPPORTED_VERSIONS)
        raise NotionAPIError(
            400,
            "validation_error",
            f"Notion-Version header failed validation: Notion-Version header should be "
            f"{choices}, instead was `{show(header)}`. (This local fake serves only these.)",
        )
    return header


def check_request_body(version: str, body: dict[str, Any]) -> None:
    """Refuse request keys the version removed: ``archived`` on every endpoint under
    2026-03-11 (use ``in_trash``). ``after`` is checked by the append endpoint itself."""
    if version == VERSION_2026_03_11 and "archived" in body:
        raise body_error("body.archived", "should be not present", body["archived"])


def shape_response(version: str, payload: Any) -> Any:
    """``payload`` as ``version`` shows it: under 2026-03-11, no ``archived`` key on pages,
    blocks, databases and data sources (at any depth, e.g. in ``results``). Changes the
    dicts in place and returns ``payload``."""
    if version != VERSION_2026_03_11:
        return payload
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("object") in _TRASHABLE_OBJECTS:
                item.pop("archived", None)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return payload
