"""Request checks shared by every endpoint: Notion's documented size limits and type checks.

Each check raises :class:`~.errors.NotionAPIError` (400 ``validation_error``) with a message
in Notion's ``body failed validation: <path> ...`` form. Limits come from Notion's
request-limits page and recorded error messages (see the package README).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .errors import NotionAPIError, body_error, show, validation_error

__all__ = [
    "MAX_ARRAY_ITEMS",
    "MAX_BLOCKS_PER_REQUEST",
    "MAX_CHILDREN_PER_REQUEST",
    "MAX_EMAIL_LENGTH",
    "MAX_EQUATION_LENGTH",
    "MAX_PAGE_SIZE",
    "MAX_PAYLOAD_BYTES",
    "MAX_TEXT_LENGTH",
    "MAX_URL_LENGTH",
    "expect_bool",
    "expect_list",
    "expect_object",
    "expect_string",
    "normalize_id",
    "parse_page_size",
]

MAX_TEXT_LENGTH = 2000
"""Characters in one rich-text ``text.content`` (and ``text.link.url``)."""
MAX_URL_LENGTH = 2000
MAX_EQUATION_LENGTH = 1000
MAX_EMAIL_LENGTH = 200
"""Also the limit for ``phone_number``."""
MAX_ARRAY_ITEMS = 100
"""Rich-text arrays, multi_select, relation and people values."""
MAX_CHILDREN_PER_REQUEST = 100
MAX_BLOCKS_PER_REQUEST = 1000
"""Block elements in one request, all nesting levels counted."""
MAX_PAYLOAD_BYTES = 500_000
"""Request body size in bytes (Notion documents "500KB")."""
MAX_PAGE_SIZE = 100
MAX_SELECT_OPTION_LENGTH = 100

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def expect_object(path: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise body_error(path, "should be an object", value)
    return value


def expect_list(path: str, value: Any, max_items: int | None = MAX_ARRAY_ITEMS) -> list[Any]:
    """Check ``value`` is an array of at most ``max_items`` elements."""
    if not isinstance(value, list):
        raise body_error(path, "should be an array", value)
    if max_items is not None and len(value) > max_items:
        raise body_error(f"{path}.length", f"should be ≤ `{max_items}`", len(value))
    return value


def expect_string(path: str, value: Any, max_length: int | None = None) -> str:
    """Check ``value`` is a string of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise body_error(path, "should be a string", value)
    if max_length is not None and len(value) > max_length:
        raise body_error(f"{path}.length", f"should be ≤ `{max_length}`", len(value))
    return value


def expect_bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise body_error(path, "should be a boolean", value)
    return value


def expect_url(path: str, value: Any) -> str:
    """A URL string of at most :data:`MAX_URL_LENGTH` characters."""
    url = expect_string(path, value, MAX_URL_LENGTH)
    if not url:
        raise body_error(path, "should be a valid URL", value)
    return url


def normalize_id(raw: Any, path: str = "body.id") -> str | None:
    """Notion ids with or without dashes → dashed lower-case UUID; ``None`` if not an id."""
    if not isinstance(raw, str):
        return None
    compact = raw.replace("-", "")
    if not _HEX32.match(compact):
        return None
    return str(uuid.UUID(compact))


def require_id(raw: Any, path: str) -> str:
    """Like :func:`normalize_id` but raises Notion's uuid validation error."""
    parsed = normalize_id(raw, path)
    if parsed is None:
        raise body_error(path, "should be a valid uuid", raw)
    return parsed


def path_id(raw: str, name: str) -> str:
    """Validate an id taken from the URL path (``path.page_id`` etc.)."""
    parsed = normalize_id(raw)
    if parsed is None:
        raise validation_error(
            f"path failed validation: path.{name} should be a valid uuid, instead was "
            f"`{show(raw)}`."
        )
    return parsed


def parse_page_size(raw: Any, path: str) -> int:
    """``page_size``: an integer from 1 to 100, default 100."""
    if raw is None:
        return MAX_PAGE_SIZE
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise body_error(path, "should be a number", raw)
    if raw < 1 or raw > MAX_PAGE_SIZE:
        raise body_error(
            path, f"should be ≤ `{MAX_PAGE_SIZE}`" if raw > 1 else "should be ≥ `1`", raw
        )
    return raw


def check_payload_size(size: int) -> None:
    """Reject bodies over :data:`MAX_PAYLOAD_BYTES`."""
    if size > MAX_PAYLOAD_BYTES:
        raise NotionAPIError(
            400,
            "validation_error",
            f"body failed validation: request body size should be ≤ `{MAX_PAYLOAD_BYTES}` "
            f"bytes, instead was `{size}`.",
        )
