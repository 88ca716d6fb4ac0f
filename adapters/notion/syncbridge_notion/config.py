"""The keys of a ``[[targets]]`` table with ``adapter = "notion"``.

The token itself is never a key: it comes from the environment variable named by
``token_env`` (or, with the ``keyring`` extra and ``keyring = true``, the system keyring),
so it never sits in a config file, and it is read only when the adapter first talks to
Notion. :func:`parse_notion_id` accepts the forms users paste (a bare id, a dashed UUID,
a page URL).

>>> parse_notion_id("https://www.notion.so/team/My-Notes-0123456789abcdef0123456789abcdef?pvs=4")
'01234567-89ab-cdef-0123-456789abcdef'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from syncbridge.adapter import AdapterConfig
from syncbridge.errors import ConfigError

__all__ = ["API_VERSIONS", "NotionConfig", "parse_notion_id"]

API_VERSIONS = ("2025-09-03", "2026-03-11")
"""The ``Notion-Version`` values the adapter speaks; it only sends what both accept."""

_HEX32 = re.compile(r"([0-9a-fA-F]{32})(?![0-9a-fA-F])")
_DASHED = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_notion_id(text: str) -> str:
    """The dashed id in ``text``: an id with or without dashes, or a Notion URL whose last
    path segment ends in the id (``My-Page-<32 hex>``). Raises ``ValueError`` otherwise."""
    candidate = text.strip()
    dashed = _DASHED.search(candidate)
    if dashed is not None:
        raw = dashed.group(0).replace("-", "")
    else:
        path = candidate.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        found = _HEX32.findall(path.rsplit("/", 1)[-1])
        if not found:
            raise ValueError(
                f"{text!r} is not a Notion page id or URL (expected 32 hex digits, e.g. "
                "the end of the page's URL: ...-0123456789abcdef0123456789abcdef)"
            )
        raw = found[-1]
    raw = raw.lower()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


class NotionConfig(AdapterConfig):
    """Keys of a ``[[targets]]`` table with ``adapter = "notion"`` (unknown keys are errors)."""

    parent_page: str = Field(
        description="Id or URL of the page the databases live under (shared with the integration)."
    )
    token_env: str = Field(
        "NOTION_TOKEN",
        min_length=1,
        description="Environment variable holding the integration token.",
    )
    keyring: bool = Field(
        False,
        description="Also look the token up in the system keyring (service 'syncbridge', "
        "user = token_env) when the variable is unset; needs the 'keyring' extra.",
    )
    base_url: str | None = Field(
        None,
        description="API base URL without /v1 (the local server: http://127.0.0.1:8787); "
        "Notion's own when absent.",
    )
    notion_version: Literal["2025-09-03", "2026-03-11"] = Field(
        "2025-09-03", description="Notion-Version header sent with every request."
    )
    requests_per_s: float = Field(
        3.0, gt=0, le=10_000, description="Average request rate, our own pacing (Notion: 3)."
    )
    burst: int = Field(
        3, ge=1, le=100, description="Requests that may go out back to back before pacing."
    )
    full_listing_every: int = Field(
        10,
        ge=1,
        description="Every Nth run lists every page (finds trashed and vanished pages); "
        "the others only query pages edited since the last run.",
    )
    timeout_s: float = Field(30.0, gt=0, description="Timeout of one HTTP request, seconds.")
    create_grace_s: float = Field(
        180.0,
        gt=0,
        description="How long a create that got no answer may still land before it is "
        "sent again (it is looked up by its key first), seconds.",
    )
    max_retries: int = Field(
        6, ge=0, le=20, description="Retries of a request that is safe to repeat."
    )
    max_backoff_s: float = Field(
        60.0, gt=0, description="Longest wait between two retries, seconds."
    )
    title_property: str = Field("Name", min_length=1, description="Name of the title property.")
    id_property: str = Field(
        "syncbridge id",
        min_length=1,
        description="Property holding the note's id-field value (re-links, de-duplicates).",
    )
    path_property: str = Field(
        "Vault path", min_length=1, description="Property holding the note's vault path."
    )
    fallback_property: str = Field(
        "syncbridge values",
        min_length=1,
        description="Text property carrying values Notion cannot hold as they are.",
    )
    database_prefix: str = Field(
        "", description="Prefix of the title of every database this target creates."
    )
    cache_path: Path | None = Field(
        None,
        description="Local cache and journal of this target (relative to the config "
        "file's folder). Default: .syncbridge/notion-<parent page id>.db.",
    )
    timezone: str | None = Field(
        None,
        description="IANA zone of the vault's local date-times, sent as the date's "
        "time_zone (default: this machine's zone, sent as an offset).",
    )

    @property
    def parent_page_id(self) -> str:
        """``parent_page`` as a dashed id; ``ConfigError`` naming the key when it is none
        (checked when the target is used, so a config with a placeholder still loads)."""
        try:
            return parse_notion_id(self.parent_page)
        except ValueError as exc:
            raise ConfigError(f"parent_page: {exc}") from exc

    @field_validator("base_url")
    @classmethod
    def _base_url_has_no_v1(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip().rstrip("/")
        if not re.match(r"https?://", url):
            raise ValueError(f"{value!r} is not an http(s) URL")
        if url.endswith("/v1"):
            url = url[: -len("/v1")]  # notion-client adds /v1 itself
        return url
