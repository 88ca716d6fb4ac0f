"""The daemon's control API: a small JSON API on 127.0.0.1 for Obsidian plugins and
``syncbridge status`` (described in ``docs/control-api.md`` and ``openapi.json`` beside this
module, which a test checks the server against).

Safety: it binds 127.0.0.1 only; every request needs ``Authorization: Bearer TOKEN`` (401
otherwise), the token being random per start and written with the URL to ``control.json``
(mode 0600) in the state folder, so only the user who runs the daemon can read it; and a
``Host`` header naming a loopback address (403 otherwise), so a web page that rebinds its
own domain to 127.0.0.1 (DNS rebinding) cannot reach it. It is off unless
``[daemon.control] enabled = true``. Standard library only (``http.server``, one thread
per request): a few requests a minute from one plugin need nothing more.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import queue
import re
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any

from syncbridge.bridge import Bridge, conflict_to_dict
from syncbridge.daemon.files import write_json_atomic
from syncbridge.errors import ConfigError, SyncbridgeError

if TYPE_CHECKING:
    from syncbridge.daemon.loop import Daemon

__all__ = ["LOOPBACK_HOSTS", "ControlServer", "openapi_document"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""``Host`` header values accepted (with or without the port)."""

KEEPALIVE_S = 15.0
"""Seconds between comment lines on an idle event stream (so proxies keep it open)."""

_CONFLICT = re.compile(r"^/conflicts/(\d{1,18})$")
_RESTORE = re.compile(r"^/conflicts/(\d{1,18})/restore$")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (``openapi.json`` in this package)."""
    text = resources.files("syncbridge.daemon").joinpath("openapi.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a client may take to send a request (or to read an event)
    server_version = "syncbridge"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are not worth a log line each

    # -- answers --------------------------------------------------------------------------

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="syncbridge"')
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message})

    def _allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        name = host
        if host.startswith("["):
            name = host[: host.find("]") + 1] if "]" in host else host
        elif ":" in host:
            name = host.rsplit(":", 1)[0]
        port = host[len(name) + 1 :] if len(host) > len(name) else ""
        if name not in LOOPBACK_HOSTS or (port and port != str(self.server.server_port)):
            self._error(HTTPStatus.FORBIDDEN, "Host must be 127.0.0.1, localhost or [::1]")
            return False
        given = self.headers.get("Authorization") or ""
        expected = f"Bearer {self.server.token}"
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            self._error(
                HTTPStatus.UNAUTHORIZED,
                "missing or wrong bearer token (see control.json in the state folder)",
            )
            return False
        return True

    def _body(self) -> dict[str, Any] | None:
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self._error(HTTPStatus.BAD_REQUEST, "Content-Length must be a number of bytes")
            return None
        length = int(declared)
        if length > 64 * 1024:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
            return None
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "the body is not JSON")
            return None
        if not isinstance(data, dict):
            self._error(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
            return None
        return data

    # -- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._allowed():
            return
        path = self.path.split("?", 1)[0]
        daemon = self.server.daemon
        if path == "/status":
            self._send(HTTPStatus.OK, daemon.status())
        elif path == "/conflicts":
            with Bridge(daemon.config) as bridge:
                entries = bridge.conflicts()
            self._send(HTTPStatus.OK, {"conflicts": [conflict_to_dict(c) for c in entries]})
        elif (match := _CONFLICT.match(path)) is not None:
            try:
                with Bridge(daemon.config) as bridge:
                    entry = bridge.conflict(int(match.group(1)))
            except SyncbridgeError as exc:
                self._error(HTTPStatus.NOT_FOUND, str(exc))
                return
            self._send(HTTPStatus.OK, conflict_to_dict(entry))
        elif path == "/events":
            self._stream()
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: GET {path}")

    def do_POST(self) -> None:
        if not self._allowed():
            return
        path = self.path.split("?", 1)[0]
        daemon = self.server.daemon
        body = self._body()
        if body is None:
            return
        if path == "/sync":
            target = body.get("target")
            if target is not None and not isinstance(target, str):
                self._error(HTTPStatus.BAD_REQUEST, "target must be a string")
                return
            try:
                queued = daemon.request_sync(target)
            except ConfigError as exc:
                self._error(HTTPStatus.NOT_FOUND, str(exc))
                return
            self._send(HTTPStatus.ACCEPTED, {"queued": queued})
        elif (match := _RESTORE.match(path)) is not None:
            conflict_id = int(match.group(1))
            try:
                entry = daemon.restore_conflict(conflict_id)
            except SyncbridgeError as exc:
                status = HTTPStatus.NOT_FOUND if "no conflict" in str(exc) else HTTPStatus.CONFLICT
                self._error(status, str(exc))
                return
            except (TimeoutError, RuntimeError) as exc:
                self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc) or "the daemon is busy")
                return
            daemon.request_sync(entry.target)  # carry the restored value across
            self._send(HTTPStatus.OK, conflict_to_dict(entry))
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path}")

    def _stream(self) -> None:
        events = self.server.daemon.events
        q = events.subscribe()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write(b": syncbridge events\n\n")
            self.wfile.flush()
            while not self.server.stopping.is_set():
                try:
                    event = q.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    continue
                if event is None:
                    break
                data = json.dumps(event, ensure_ascii=False)
                self.wfile.write(f"event: {event['event']}\ndata: {data}\n\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            events.unsubscribe(q)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, daemon: Daemon, port: int, token: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.daemon = daemon
        self.token = token
        self.stopping = threading.Event()


class ControlServer:
    """The control API of ``daemon`` on ``127.0.0.1:port`` (0: a free port), in a thread.

    :meth:`start` writes ``control.json`` (URL, port, token; mode 0600) into the state
    folder; :meth:`stop` removes it."""

    def __init__(self, daemon: Daemon, *, port: int = 0) -> None:
        self.daemon = daemon
        self.token = secrets.token_urlsafe(32)
        self.path = daemon.files["control"]
        self._server = _Server(daemon, port, self.token)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a background thread; write ``control.json``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            self.path, {"url": self.url, "port": self.port, "token": self.token, "pid": os.getpid()}
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="syncbridge-control", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end the event streams, remove ``control.json``. Idempotent."""
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
