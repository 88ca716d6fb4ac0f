"""The HTTP side of the fake: routing, auth, rate limiting, faults, stats and admin endpoints.

:class:`NotionFakeServer` binds 127.0.0.1 only and serves Notion's REST paths under
``/v1/`` plus ``/__fake__/`` admin paths (no auth):

- ``GET /__fake__/stats``: requests by endpoint, 429s served, faults injected, errors.
- ``GET|POST /__fake__/config``: ``{"rate_limit": {"enabled", "rate", "burst"},
  "faults": [...], "seed": int, "reset_stats": bool}`` (see :mod:`.faults`).
- ``GET /__fake__/info``: url, token and root page id.
- ``POST /__fake__/unsupported_blocks``: ``{"parent_id", "block_type", "after"?}`` seeds a
  block the API cannot expose (see :meth:`~.store.NotionStore.add_unsupported_block`);
  answers the block as ``GET /v1/blocks/{id}`` would under 2025-09-03.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import api_databases as db
from . import api_pages as pg
from .api_common import ApiRequest
from .clock import Clock, SystemClock
from .errors import NotionAPIError, bad_request_url, invalid_json
from .faults import STATUS_FAULTS, FaultPlan, FaultRule
from .ratelimit import RateLimitConfig, TokenBucket
from .store import NotionStore
from .validation import check_payload_size, normalize_id
from .versions import check_request_body, parse_version, shape_response

__all__ = ["NotionFakeServer"]

JSON = dict[str, Any]
Handler = Callable[[NotionStore, ApiRequest], JSON]
_ID = r"(?P<id>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    label: str
    writes: bool


def _route(method: str, path: str, handler: Handler, writes: bool = False) -> Route:
    label = path.replace(_ID, "{id}").replace("(?P<property_id>[^/]+)", "{property_id}")
    return Route(method, re.compile(f"^{path}$"), handler, f"{method} {label}", writes)


ROUTES = (
    _route("GET", "/v1/users/me", db.users_me),
    _route("GET", "/v1/users", db.list_users),
    _route("GET", f"/v1/users/{_ID}", db.get_user),
    _route("POST", "/v1/databases", db.create_database, True),
    _route("GET", f"/v1/databases/{_ID}", db.get_database),
    _route("PATCH", f"/v1/databases/{_ID}", db.update_database, True),
    _route("POST", "/v1/data_sources", db.create_data_source, True),
    _route("GET", f"/v1/data_sources/{_ID}", db.get_data_source),
    _route("PATCH", f"/v1/data_sources/{_ID}", db.update_data_source, True),
    _route("POST", f"/v1/data_sources/{_ID}/query", db.query_data_source),
    _route("POST", "/v1/pages", pg.create_page, True),
    _route("GET", f"/v1/pages/{_ID}", pg.get_page),
    _route("PATCH", f"/v1/pages/{_ID}", pg.update_page, True),
    _route("POST", f"/v1/pages/{_ID}/move", pg.move_page, True),
    _route("GET", f"/v1/pages/{_ID}/properties/(?P<property_id>[^/]+)", pg.get_property_item),
    _route("GET", f"/v1/blocks/{_ID}/children", pg.list_children),
    _route("PATCH", f"/v1/blocks/{_ID}/children", pg.append_children, True),
    _route("GET", f"/v1/blocks/{_ID}", pg.get_block),
    _route("PATCH", f"/v1/blocks/{_ID}", pg.update_block, True),
    _route("DELETE", f"/v1/blocks/{_ID}", pg.delete_block, True),
    _route("POST", "/v1/search", db.search),
)


class FakeStats:
    """Counters for ``/__fake__/stats``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        """Requests the store carried out, per route (answered or dropped after)."""
        self.errors: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0
        self.writes_applied = 0

    def count(self, counter: str, key: str = "") -> None:
        with self._lock:
            if counter == "rate_limited":
                self.rate_limited += 1
            elif counter == "writes_applied":
                self.writes_applied += 1
            else:
                getattr(self, counter)[key] += 1

    def to_json(self) -> JSON:
        with self._lock:
            return {
                "requests_total": sum(self.requests.values()),
                "requests": dict(self.requests),
                "applied": dict(self.applied),
                "rate_limited": self.rate_limited,
                "faults": dict(self.faults),
                "errors": dict(self.errors),
                "writes_applied": self.writes_applied,
            }


class _Dropped(Exception):
    """Close the connection without an answer."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: NotionFakeServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:
        self.server.fake.handle(self)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        data = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class NotionFakeServer:
    """A local, stateful Notion API; start it, point ``notion_client.Client`` at :attr:`url`.

    ``persist`` names a JSON file loaded at start (if present) and rewritten after every
    applied write. Use as a context manager, or :meth:`start`/:meth:`stop`.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        persist: Path | None = None,
        rate_limit: RateLimitConfig | None = None,
        faults: list[FaultRule] | None = None,
        seed: int = 0,
        root_title: str = "syncbridge root",
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store = NotionStore(self.clock, token, root_title)
        self.persist = persist
        if persist is not None and persist.exists():
            self.store.load(persist)
        self.stats = FakeStats()
        self._config_lock = threading.Lock()
        self.bucket = TokenBucket(rate_limit or RateLimitConfig(), self.clock)
        self.faults = FaultPlan(faults, seed)
        self._http = _HTTPServer(("127.0.0.1", port), _RequestHandler)
        self._http.fake = self
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """The ``base_url`` for ``notion_client.Client`` (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.store.token

    @property
    def root_page_id(self) -> str:
        """A page shared with the integration, to create databases and pages under."""
        return self.store.root_page_id

    def start(self) -> NotionFakeServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name=f"notion-fake-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        self._http.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> NotionFakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration ------------------------------------------------------------------------

    def configure(
        self,
        *,
        rate_limit: RateLimitConfig | None = None,
        faults: list[FaultRule] | None = None,
        seed: int | None = None,
    ) -> None:
        """Replace the rate limit (refilling the bucket) and/or the fault rules."""
        with self._config_lock:
            if rate_limit is not None:
                self.bucket = TokenBucket(rate_limit or RateLimitConfig(), self.clock)
            if faults is not None or seed is not None:
                rules = self.faults.rules if faults is None else faults
                self.faults = FaultPlan(rules, seed or 0)

    def config_json(self) -> JSON:
        return {
            "rate_limit": asdict(self.bucket.config),
            "faults": [rule.to_json() for rule in self.faults.rules],
        }

    # -- request handling ---------------------------------------------------------------------

    def handle(self, http: _RequestHandler) -> None:
        request_id = str(uuid.uuid4())
        headers = {"x-notion-request-id": request_id}
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw_body = http.rfile.read(length) if length else b""
        if split.path.startswith("/__fake__/"):
            self._admin(http, split.path, raw_body)
            return
        route, params = self._match(http.command, split.path)
        self.stats.count("requests", route.label if route else f"{http.command} (unknown)")
        try:
            version = self._gate(http, headers)
            if route is None:
                raise bad_request_url()
            fault = self.faults.pick(http.command, split.path)
            if fault is not None:
                self._before(fault, http, headers)
            request = ApiRequest(params, parse_qs(split.query), self._body(raw_body), version)
            check_request_body(version, request.body)
            with self.store.lock:
                payload = shape_response(version, route.handler(self.store, request))
                self.stats.count("applied", route.label)
                if route.writes:
                    self.stats.count("writes_applied")
                    if self.persist is not None:
                        self.store.save(self.persist)
            if fault is not None and fault.kind == "drop_after":
                raise _Dropped
        except _Dropped:
            http.close_connection = True
            return
        except NotionAPIError as error:
            self.stats.count("errors", error.code)
            extra = dict(headers)
            if error.retry_after is not None:
                extra["Retry-After"] = str(error.retry_after)
            http.send_json(error.status, error.body(request_id), extra)
            return
        payload["request_id"] = request_id
        http.send_json(200, payload, headers)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in ROUTES:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None, {}

    def _gate(self, http: _RequestHandler, headers: dict[str, str]) -> str:
        """Auth, version header and rate limit, in that order; returns the API version."""
        if http.headers.get("Authorization") != f"Bearer {self.store.token}":
            raise NotionAPIError(401, "unauthorized", "API token is invalid.")
        version = parse_version(http.headers.get("Notion-Version"))
        if self.bucket.config.enabled:
            wait = self.bucket.take()
            if wait is not None:
                self.stats.count("rate_limited")
                raise NotionAPIError(
                    429,
                    "rate_limited",
                    "You have been rate limited. Please try again in a few minutes.",
                    {"rate_limit_reason": self.bucket.config.reason},
                    retry_after=wait,
                )
        return version

    def _before(self, fault: FaultRule, http: _RequestHandler, headers: dict[str, str]) -> None:
        """Act on a fault before the request is applied."""
        self.stats.count(
            "faults", f"status_{fault.status}" if fault.kind == "status" else fault.kind
        )
        if fault.kind == "drop_before":
            raise _Dropped
        if fault.kind == "slow":
            time.sleep(fault.delay_s)
        if fault.kind != "status":
            return
        if fault.status == 502:
            # the gateway closes the connection and says so (``Connection: close``), so
            # a client does not send its next request into the closing socket
            http.close_connection = True
            http.send_json(
                502,
                b"<html><head><title>502 Bad Gateway</title></head><body>"
                b"<center><h1>502 Bad Gateway</h1></center></body></html>",
                headers={"Connection": "close"},
                content_type="text/html",
            )
            raise _Dropped
        code, message = STATUS_FAULTS[fault.status]
        raise NotionAPIError(fault.status, code, message, retry_after=fault.retry_after)

    def _body(self, raw: bytes) -> JSON:
        check_payload_size(len(raw))
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise invalid_json() from exc
        if not isinstance(body, dict):
            raise invalid_json()
        return body

    def _admin(self, http: _RequestHandler, path: str, raw: bytes) -> None:
        if path == "/__fake__/stats" and http.command == "GET":
            http.send_json(200, self.stats.to_json())
        elif path == "/__fake__/info" and http.command == "GET":
            http.send_json(
                200, {"url": self.url, "token": self.token, "root_page_id": self.root_page_id}
            )
        elif path == "/__fake__/config" and http.command == "GET":
            http.send_json(200, self.config_json())
        elif path == "/__fake__/unsupported_blocks" and http.command == "POST":
            self._seed_unsupported(http, raw)
        elif path == "/__fake__/status_options" and http.command == "POST":
            self._seed_status_options(http, raw)
        elif path == "/__fake__/config" and http.command == "POST":
            try:
                self._apply_config(json.loads(raw or b"{}"))
            except (ValueError, TypeError) as exc:
                http.send_json(400, {"error": str(exc)})
                return
            http.send_json(200, self.config_json())
        else:
            http.send_json(404, {"error": f"no admin endpoint {http.command} {path}"})

    def _seed_unsupported(self, http: _RequestHandler, raw: bytes) -> None:
        try:
            spec = json.loads(raw or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            with self.store.lock:
                after = spec.get("after")
                block_id = self.store.add_unsupported_block(
                    normalize_id(spec.get("parent_id")) or str(spec.get("parent_id")),
                    spec.get("block_type", ""),
                    after=None if after is None else normalize_id(after) or str(after),
                )
                block = self.store.render_block(block_id)
                if self.persist is not None:
                    self.store.save(self.persist)
        except ValueError as exc:
            http.send_json(400, {"error": str(exc)})
            return
        http.send_json(200, block)

    def _seed_status_options(self, http: _RequestHandler, raw: bytes) -> None:
        try:
            spec = json.loads(raw or b"{}")
            if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list):
                raise ValueError('the body must be {"data_source_id", "property", "groups"}')
            groups = [
                (
                    str(group["name"]),
                    str(group.get("color", "default")),
                    [(str(o["name"]), str(o.get("color", "default"))) for o in group["options"]],
                )
                for group in spec["groups"]
            ]
            source = normalize_id(spec.get("data_source_id")) or str(spec.get("data_source_id"))
            with self.store.lock:
                config = self.store.set_status_options(source, str(spec.get("property")), groups)
                if self.persist is not None:
                    self.store.save(self.persist)
        except (ValueError, KeyError, TypeError) as exc:
            http.send_json(400, {"error": str(exc)})
            return
        http.send_json(200, config)

    def _apply_config(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise ValueError("config must be a JSON object")
        rate = None
        if "rate_limit" in raw:
            current = asdict(self.bucket.config)
            current.update(raw["rate_limit"])
            rate = RateLimitConfig(**current)
            TokenBucket(rate, self.clock)  # validates
        faults = None
        if "faults" in raw:
            faults = [FaultRule.from_json(rule) for rule in raw["faults"]]
        self.configure(rate_limit=rate, faults=faults, seed=raw.get("seed"))
        if raw.get("reset_stats"):
            self.stats.reset()
