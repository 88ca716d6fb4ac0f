"""Notion's error responses, raised inside the fake server and rendered by the HTTP layer.

Shape (from recorded traffic): ``{"object": "error", "status", "code", "message",
"request_id"}`` plus ``additional_data`` on some errors. Messages copy Notion's wording
where it is known (``body failed validation: body.x.length should be ≤ `100`, instead was
`101`.``).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "INTEGRATION_NAME",
    "NotionAPIError",
    "bad_request_url",
    "invalid_json",
    "not_found",
    "validation_error",
]

INTEGRATION_NAME = "syncbridge-notion-fake"


class NotionAPIError(Exception):
    """An error response: HTTP ``status``, Notion ``code`` and ``message``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        additional_data: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        """``retry_after`` (whole seconds) becomes a ``Retry-After`` header if set."""
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.message = message
        self.additional_data = additional_data

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON error object Notion sends."""
        payload: dict[str, Any] = {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }
        if self.additional_data is not None:
            payload["additional_data"] = self.additional_data
        payload["request_id"] = request_id
        return payload


SHOWN_CHARACTERS = 55
"""Notion quotes at most this many characters of a rejected value, then ``...`` (real
messages: ``instead was `[{"object":"block","type":"bulleted_list_item","bullete...`.``)."""


def show(value: Any) -> str:
    """Render a value the way Notion quotes it inside validation messages."""
    if value is None:
        return "null"
    shown = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(shown) > SHOWN_CHARACTERS:
        return shown[:SHOWN_CHARACTERS] + "..."
    return shown


def validation_error(message: str) -> NotionAPIError:
    """400 ``validation_error`` with ``message`` verbatim."""
    return NotionAPIError(400, "validation_error", message)


def body_error(path: str, expectation: str, actual: Any = ...) -> NotionAPIError:
    """``body failed validation: <path> <expectation>, instead was `<actual>`.``"""
    shown = "undefined" if actual is ... else show(actual)
    return validation_error(f"body failed validation: {path} {expectation}, instead was `{shown}`.")


def invalid_json() -> NotionAPIError:
    return NotionAPIError(400, "invalid_json", "Error parsing JSON body.")


def bad_request_url() -> NotionAPIError:
    return NotionAPIError(400, "invalid_request_url", "Invalid request URL.")


def not_found(kind: str, object_id: str, integration_id: str) -> NotionAPIError:
    """404 for ids that do not exist or are not shared with the integration."""
    return NotionAPIError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
        f'databases are shared with your integration "{INTEGRATION_NAME}".',
        {"integration_id": integration_id},
    )
