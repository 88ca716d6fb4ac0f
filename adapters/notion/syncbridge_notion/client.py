"""The one place that calls ``notion-client``: requests, pagination, pacing, error mapping.

Every request goes through :meth:`NotionAPI.call`, which paces it (:mod:`.pacing`),
retries what is safe to retry, and translates notion-client's and httpx's errors into
syncbridge's (``raise ... from``), with messages that say what to do and never contain
the token. notion-client's own retries are off: one pacer sees (and counts) every
attempt, and also retries 529 ``service_overload`` and dropped connections, which
notion-client 3.1.0 does not.

Requests are sent with ``Client.request`` and bodies built here, because notion-client's
endpoint helpers silently drop keyword arguments they do not know. Only what both API
versions 2025-09-03 and 2026-03-11 accept is sent: ``in_trash`` (never ``archived``),
``position`` (never ``after``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from notion_client import APIResponseError, Client
from notion_client.errors import (
    HTTPResponseError,
    InvalidPathParameterError,
    RequestTimeoutError,
    UnknownHTTPResponseError,
)

from syncbridge.errors import (
    FatalError,
    Interrupted,
    RecordError,
    RemoteUnavailable,
    SyncbridgeError,
)
from syncbridge_notion.config import NotionConfig
from syncbridge_notion.pacing import (
    AmbiguousWrite,
    Clock,
    Failure,
    NotionRateLimiter,
    RequestPacer,
    RetriesExhausted,
    WaitInterrupted,
)

__all__ = ["NotionAPI", "NotionAuthError", "NotionNotShared", "read_token"]

log = logging.getLogger(__name__)

JSON = dict[str, Any]

_TRANSIENT_STATUS = {409, 500, 502, 503, 504, 529}


class NotionAuthError(FatalError):
    """Notion rejected the token (401) or the integration lacks a capability (403)."""


class NotionNotShared(FatalError):
    """The parent page (or a database under it) is not shared with the integration."""


def read_token(config: NotionConfig) -> str:
    """The integration token: ``$<token_env>``, else (``keyring = true``) the keyring
    entry service ``syncbridge``, user ``<token_env>``. :class:`NotionAuthError` when
    neither has it, saying how to set it. The token is returned, never logged."""
    token = os.environ.get(config.token_env, "").strip()
    if token:
        return token
    if config.keyring:
        try:
            import keyring  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise NotionAuthError(
                "keyring = true needs the keyring extra: pip install 'syncbridge-notion[keyring]'"
            ) from exc
        stored = keyring.get_password("syncbridge", config.token_env)
        if stored:
            return str(stored).strip()
    where = f"the environment variable {config.token_env}"
    if config.keyring:
        where += f" or the keyring (service 'syncbridge', user {config.token_env!r})"
    raise NotionAuthError(
        f"no Notion token in {where}: create an internal integration at "
        f"https://www.notion.so/profile/integrations, copy its secret and run "
        f"'export {config.token_env}=<secret>'"
    )


def _retry_after(headers: httpx.Headers | None) -> float | None:
    if headers is None:
        return None
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def classify(exc: BaseException) -> Failure | None:
    """How :class:`.RequestPacer` treats an exception raised by a request."""
    if isinstance(exc, APIResponseError):
        if exc.status == 429:
            return Failure("rate_limited", "HTTP 429 rate_limited", _retry_after(exc.headers))
        if exc.status in _TRANSIENT_STATUS:
            code = getattr(exc.code, "value", exc.code)
            return Failure(
                "transient", f"HTTP {exc.status} {code}", _retry_after(exc.headers), True
            )
        return Failure("fatal", f"HTTP {exc.status} {exc.code}")
    if isinstance(exc, UnknownHTTPResponseError):
        if exc.status in _TRANSIENT_STATUS or exc.status >= 500:
            return Failure("transient", f"HTTP {exc.status}", _retry_after(exc.headers), True)
        if exc.status == 429:
            return Failure("rate_limited", "HTTP 429", _retry_after(exc.headers))
        return Failure("fatal", f"HTTP {exc.status}")
    if isinstance(exc, RequestTimeoutError | httpx.TimeoutException):
        return Failure("transient", "the request timed out")
    if isinstance(exc, httpx.TransportError):
        return Failure("transient", f"connection failed ({type(exc).__name__})")
    return None


class NotionAPI:
    """A paced, retrying Notion REST client for one target (one token, one base URL).

    ``clock`` and ``rng`` are injectable for tests; ``stop`` ends every wait at once when
    set (:class:`.NotionRateLimiter`). :attr:`requests` counts every HTTP attempt. Side
    effects: HTTP requests, nothing else.
    """

    def __init__(
        self,
        config: NotionConfig,
        token: str,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self._token = token
        options: dict[str, Any] = {
            "auth": token,
            "timeout_ms": int(config.timeout_s * 1000),
            "notion_version": config.notion_version,
            "retry": False,
            "logger": logging.getLogger(f"{__name__}.http"),
            "log_level": logging.CRITICAL,
        }
        if config.base_url:
            options["base_url"] = config.base_url
        self._client = Client(**options)
        limiter = NotionRateLimiter(config.requests_per_s, config.burst, clock, stop)
        self.pacer = RequestPacer(
            limiter,
            classify,
            max_retries=config.max_retries,
            max_s=config.max_backoff_s,
            rng=rng,
        )

    @property
    def requests(self) -> int:
        return self.pacer.requests

    def close(self) -> None:
        self._client.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "<token>") if self._token else text

    # -- the one request path --------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        safe: bool,
        what: str,
        not_found: Callable[[], SyncbridgeError] | None = None,
    ) -> JSON:
        """One request, paced and retried (``safe``: repeating it is harmless).

        Raises :class:`.AmbiguousWrite` for an unsafe request that failed without an
        answer; :class:`Interrupted` when the stop cut a wait before it short (not sent;
        an unsafe one was applied by none of its attempts: only 429s are retried);
        :class:`RemoteUnavailable` when retries run out; ``not_found()`` (default
        :class:`RecordError`) for 404; :class:`NotionAuthError` for 401/403;
        :class:`RecordError` for other 4xx (Notion's message names the problem).
        """

        def send() -> JSON:
            result = self._client.request(
                path=path,
                method=method,
                query=dict(query) if query else None,
                body=dict(body) if body is not None else None,
            )
            return result if isinstance(result, dict) else {}

        try:
            return self.pacer.run(what, send, safe=safe)
        except AmbiguousWrite:
            raise
        except WaitInterrupted as exc:
            raise Interrupted(f"Notion: {what}: not sent, syncbridge is stopping") from exc
        except RetriesExhausted as exc:
            raise RemoteUnavailable(self._scrub(f"Notion: {exc}; try again later")) from exc
        except APIResponseError as exc:
            raise self._translate(exc, what, not_found) from exc
        except HTTPResponseError as exc:
            raise RemoteUnavailable(
                self._scrub(f"Notion: {what}: unexpected answer HTTP {exc.status}")
            ) from exc
        except InvalidPathParameterError as exc:
            raise RecordError(f"Notion: {what}: invalid id in the request path") from exc

    def _translate(
        self,
        exc: APIResponseError,
        what: str,
        not_found: Callable[[], SyncbridgeError] | None,
    ) -> SyncbridgeError:
        message = self._scrub(str(exc))
        if exc.status == 401:
            return NotionAuthError(
                f"Notion rejected the token in ${self.config.token_env} (401 unauthorized): "
                "copy the integration's secret again from "
                "https://www.notion.so/profile/integrations and export it"
            )
        if exc.status == 403:
            return NotionAuthError(
                f"Notion: {what}: the integration lacks a capability (403 "
                f"restricted_resource: {message}); enable 'Read content', 'Update content' "
                "and 'Insert content' in the integration's settings"
            )
        if exc.status == 404:
            if not_found is not None:
                return not_found()
            return RecordError(f"Notion: {what}: not found (or not shared with the integration)")
        code = getattr(exc.code, "value", exc.code)
        return RecordError(f"Notion: {what}: {code}: {message}")

    # -- pagination --------------------------------------------------------------------------

    def paginate(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        what: str,
        not_found: Callable[[], SyncbridgeError] | None = None,
    ) -> Iterator[JSON]:
        """Every result of a paginated list endpoint, page by page (100 per request).

        A query that hit Notion's 10,000-result cap raises :class:`RemoteUnavailable`
        rather than returning a silently short list (a short list would look like
        deletions).
        """
        cursor: str | None = None
        while True:
            if method == "GET":
                params = dict(query or {})
                params["page_size"] = 100
                if cursor:
                    params["start_cursor"] = cursor
                page = self.call(
                    "GET", path, query=params, safe=True, what=what, not_found=not_found
                )
            else:
                payload = dict(body or {})
                payload["page_size"] = 100
                if cursor:
                    payload["start_cursor"] = cursor
                page = self.call(
                    method,
                    path,
                    body=payload,
                    query=query,
                    safe=True,
                    what=what,
                    not_found=not_found,
                )
            yield from page.get("results", [])
            status = page.get("request_status")
            if isinstance(status, dict) and status.get("type") == "incomplete":
                raise RemoteUnavailable(
                    f"Notion: {what}: the listing stopped at Notion's result limit "
                    f"({status.get('incomplete_reason')}); nothing was synced from it"
                )
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                return

    # -- endpoints ---------------------------------------------------------------------------

    def me(self) -> JSON:
        return self.call("GET", "users/me", safe=True, what="checking the token")

    def page(self, page_id: str, *, not_found: Callable[[], SyncbridgeError] | None = None) -> JSON:
        return self.call(
            "GET", f"pages/{page_id}", safe=True, what=f"page {page_id}", not_found=not_found
        )

    def create_page(self, body: Mapping[str, Any], what: str) -> JSON:
        """POST /pages: not safe to repeat (the caller handles :class:`.AmbiguousWrite`)."""
        return self.call("POST", "pages", body=body, safe=False, what=what)

    def update_page(self, page_id: str, body: Mapping[str, Any]) -> JSON:
        """PATCH /pages/{id}: setting values (or in_trash) is safe to repeat."""
        return self.call("PATCH", f"pages/{page_id}", body=body, safe=True, what=f"page {page_id}")

    def move_page(self, page_id: str, data_source_id: str, what: str) -> JSON:
        """POST /pages/{id}/move into a data source: the page keeps its id, blocks and
        child pages. Safe to repeat (moving to the parent it has is a no-op)."""
        body = {"parent": {"type": "data_source_id", "data_source_id": data_source_id}}
        return self.call("POST", f"pages/{page_id}/move", body=body, safe=True, what=what)

    def property_items(self, page_id: str, property_id: str) -> Iterator[JSON]:
        """Every item of a paginated page property (relations over 25 items). Property
        ids come URL-encoded from Notion (``"aX%3AN"``) and go into the path as they are,
        as Notion's own SDKs send them (encoding them again names another property)."""
        return self.paginate(
            "GET",
            f"pages/{page_id}/properties/{quote(property_id, safe='%')}",
            what=f"page {page_id} property {property_id}",
        )

    def query(self, data_source_id: str, body: Mapping[str, Any], what: str) -> Iterator[JSON]:
        return self.paginate("POST", f"data_sources/{data_source_id}/query", body=body, what=what)

    def database(self, database_id: str) -> JSON:
        return self.call(
            "GET", f"databases/{database_id}", safe=True, what=f"database {database_id}"
        )

    def create_database(self, body: Mapping[str, Any], what: str) -> JSON:
        return self.call("POST", "databases", body=body, safe=False, what=what)

    def data_source(self, data_source_id: str) -> JSON:
        return self.call(
            "GET", f"data_sources/{data_source_id}", safe=True, what=f"data source {data_source_id}"
        )

    def update_data_source(self, data_source_id: str, body: Mapping[str, Any]) -> JSON:
        """PATCH /data_sources/{id}: adding the same properties again is harmless."""
        return self.call(
            "PATCH",
            f"data_sources/{data_source_id}",
            body=body,
            safe=True,
            what=f"data source {data_source_id}",
        )

    def children(self, block_id: str) -> Iterator[JSON]:
        return self.paginate("GET", f"blocks/{block_id}/children", what=f"blocks of {block_id}")

    def append_children(
        self, block_id: str, children: list[JSON], after: str | None, what: str
    ) -> JSON:
        """PATCH /blocks/{id}/children with ``position`` (start, or after a block): not
        safe to repeat (a retry appends twice)."""
        position: JSON = (
            {"type": "after_block", "after_block": {"id": after}} if after else {"type": "start"}
        )
        body = {"children": children, "position": position}
        return self.call("PATCH", f"blocks/{block_id}/children", body=body, safe=False, what=what)

    def update_block(self, block_id: str, body: Mapping[str, Any]) -> JSON:
        return self.call(
            "PATCH", f"blocks/{block_id}", body=body, safe=True, what=f"block {block_id}"
        )

    def delete_block(self, block_id: str) -> JSON:
        """DELETE /blocks/{id} (moves it to the trash): safe to repeat."""
        return self.call("DELETE", f"blocks/{block_id}", safe=True, what=f"block {block_id}")
