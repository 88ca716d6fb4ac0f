"""The control API over real HTTP, checked against its OpenAPI document.

The daemon runs in a thread of the test process (``Daemon.run(signals=False)``), on a real
vault and SQLite file; requests go through ``http.client`` to 127.0.0.1. Every answer is
validated with jsonschema against the response the document declares for that path, method
and status, and the test fails if the document lists an operation no test called.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from daemon_support import db_rows, db_value, make_project, note_text, wait_until

import syncbridge
from syncbridge.daemon import Daemon
from syncbridge.daemon.control import openapi_document

# One worker runs this file, in order (pytest -n auto --dist loadfile): the last test
# checks what the others called.

DOC = openapi_document()
CALLED: set[tuple[str, str]] = set()


def _resolve(obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        node: Any = DOC
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


def check(method: str, template: str, status: int, body: Any, media: str) -> None:
    """Fail unless the document declares ``status`` for the operation and ``body``
    validates against its schema."""
    operation = DOC["paths"][template][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template}: {status} not documented"
    response = _resolve(responses[str(status)])
    content = response["content"]
    assert media in content, f"{method} {template} {status}: {media} not documented"
    schema = content[media]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": DOC["components"]}).validate(body)
    CALLED.add((method.lower(), template))


def check_event(event: dict[str, Any]) -> None:
    schema = {"$ref": "#/components/schemas/Event", "components": DOC["components"]}
    jsonschema.Draft202012Validator(schema).validate(event)


class Client:
    def __init__(self, control: Path) -> None:
        info = json.loads(control.read_text(encoding="utf-8"))
        self.port = int(info["port"])
        self.token = info["token"]

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "",
        host: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": host or f"127.0.0.1:{self.port}"}
        token = self.token if token == "" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode()
        media = (answer.getheader("Content-Type") or "").split(";")[0]
        conn.close()
        return answer.status, json.loads(text) if text else None, media

    def call(self, method: str, path: str, template: str, body: Any = None, **kw: Any) -> Any:
        status, data, media = self.request(method, path, body, **kw)
        check(method, template, status, data, media)
        return status, data


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Daemon, Client, Path]]:
    config = make_project(tmp_path, 3, control=True, poll_interval_s=0.5)
    # a conflict waiting for the daemon's first sync: n changed on both sides
    with syncbridge.open(config) as bridge:
        bridge.sync()
    (tmp_path / "vault" / "Notes" / "Note 00001.md").write_text(note_text(1, 5))
    with sqlite3.connect(tmp_path / "local.db") as conn:
        conn.execute("UPDATE note SET n = 6 WHERE title = 'Note 00001'")
    d = Daemon(config)
    thread = threading.Thread(target=d.run, kwargs={"signals": False})
    thread.start()
    control = tmp_path / ".syncbridge" / "control.json"
    try:
        wait_until(control.exists, "control.json")
        wait_until(
            lambda: d.status().get("targets", {}).get("local", {}).get("last_sync"),
            "the first sync",
        )
        yield d, Client(control), tmp_path
    finally:
        d.request_stop()
        thread.join(60)
        assert not thread.is_alive()
    assert not control.exists()  # removed when the daemon stops


def test_token_file_is_private_and_requests_need_the_token(daemon) -> None:  # type: ignore[no-untyped-def]
    d, client, root = daemon
    control = root / ".syncbridge" / "control.json"
    assert stat.S_IMODE(os.stat(control).st_mode) == 0o600
    assert len(client.token) >= 40
    for token in (None, "wrong", client.token + "x"):
        status, body, media = client.request("GET", "/status", token=token)
        assert status == 401 and "token" in body["error"]
        check("GET", "/status", status, body, media)
    status, body, media = client.request("POST", "/sync", {}, token=None)
    assert status == 401
    check("POST", "/sync", status, body, media)
    assert d.status()["targets"]["local"]["state"] == "ok"


def test_host_must_be_loopback(daemon) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = daemon
    for host in (
        "evil.example",
        f"evil.example:{client.port}",
        "127.0.0.1.evil.example",
        f"localhost:{client.port + 1}",
        "10.0.0.1",
    ):
        status, body, media = client.request("GET", "/conflicts", host=host)
        assert status == 403, host
        check("GET", "/conflicts", status, body, media)
    for host in (f"localhost:{client.port}", "127.0.0.1", f"[::1]:{client.port}"):
        assert client.request("GET", "/status", host=host)[0] == 200


def test_status_sync_and_unknown_targets(daemon) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = daemon
    _, status = client.call("GET", "/status", "/status")
    assert status["daemon"]["pid"] == os.getpid() and status["daemon"]["vault_present"]
    assert status["daemon"]["control_url"] == f"http://127.0.0.1:{client.port}"
    assert set(status["targets"]) == {"local"}
    code, body = client.call("POST", "/sync", "/sync", {"target": "local"})
    assert code == 202 and body == {"queued": ["local"]}
    code, body = client.call("POST", "/sync", "/sync")
    assert code == 202 and body == {"queued": ["local"]}
    code, body = client.call("POST", "/sync", "/sync", {"target": "nope"})
    assert code == 404 and "nope" in body["error"]
    code, body = client.call("POST", "/sync", "/sync", raw=b"[1, 2]")
    assert code == 400
    code, body = client.call("POST", "/sync", "/sync", {"target": 3})
    assert code == 400
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    conn.putrequest("POST", "/sync", skip_host=True)
    for key, value in (
        ("Host", f"127.0.0.1:{client.port}"),
        ("Content-Length", "-1"),
        ("Authorization", f"Bearer {client.token}"),
    ):
        conn.putheader(key, value)
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 400 and b"Content-Length" in answer.read()
    conn.close()
    assert client.request("GET", "/nothing")[0] == 404


def test_conflicts_list_show_restore(daemon) -> None:  # type: ignore[no-untyped-def]
    _, client, root = daemon
    _, listing = client.call("GET", "/conflicts", "/conflicts")
    (conflict,) = listing["conflicts"]
    assert conflict["field"] == "n" and conflict["note"] == "Notes/Note 00001.md"
    assert {conflict["vault_value"], conflict["remote_value"]} == {5, 6}
    cid = conflict["id"]
    _, one = client.call("GET", f"/conflicts/{cid}", "/conflicts/{id}")
    assert one == conflict
    code, body = client.call("GET", "/conflicts/9999", "/conflicts/{id}")
    assert code == 404 and "9999" in body["error"]
    loser = conflict["remote_value"] if conflict["winner"] == "vault" else conflict["vault_value"]
    code, restored = client.call("POST", f"/conflicts/{cid}/restore", "/conflicts/{id}/restore")
    assert code == 200 and restored["restored_at"] is not None
    note = root / "vault" / "Notes" / "Note 00001.md"
    wait_until(lambda: f"n: {loser}" in note.read_text(), "the restored value in the note")
    wait_until(lambda: db_value(root / "local.db", "Note 00001") == loser, "it in SQLite")
    code, body = client.call("POST", f"/conflicts/{cid}/restore", "/conflicts/{id}/restore")
    assert code == 409 and "already" in body["error"]
    code, body = client.call("POST", "/conflicts/9999/restore", "/conflicts/{id}/restore")
    assert code == 404
    _, listing = client.call("GET", "/conflicts", "/conflicts")
    assert listing["conflicts"] == []
    assert len(db_rows(root / "local.db")) == 3


def test_event_stream(daemon) -> None:  # type: ignore[no-untyped-def]
    _, client, root = daemon
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    conn.request(
        "GET",
        "/events",
        headers={"Host": f"127.0.0.1:{client.port}", "Authorization": f"Bearer {client.token}"},
    )
    answer = conn.getresponse()
    assert answer.status == 200
    assert answer.getheader("Content-Type", "").startswith("text/event-stream")
    CALLED.add(("get", "/events"))
    assert answer.readline() == b": syncbridge events\n"
    assert answer.readline() == b"\n"
    (root / "vault" / "Notes" / "Note 00002.md").write_text(note_text(2, 9))
    events: list[dict[str, Any]] = []
    name = None
    while not any(e["event"] == "sync_finished" and e["remote"]["updated"] for e in events):
        line = answer.readline().decode()
        if line.startswith("event: "):
            name = line[7:].strip()
        elif line.startswith("data: "):
            event = json.loads(line[6:])
            assert event["event"] == name
            check_event(event)
            events.append(event)
    kinds = [e["event"] for e in events]
    assert kinds.index("sync_started") < kinds.index("sync_finished")
    conn.close()
    status, body, media = client.request("GET", "/events", token=None)
    assert status == 401
    check("GET", "/events", status, body, media)


def test_every_documented_operation_was_called() -> None:
    """Runs after the tests above (file order): each operation of the document was
    exercised and its answers validated."""
    documented = {(m, p) for p, ops in DOC["paths"].items() for m in ops}
    if not CALLED:
        pytest.skip("run with the rest of this file")
    assert documented == CALLED


def test_off_unless_configured(tmp_path: Path) -> None:
    config = make_project(tmp_path, 1, control=False)
    d = Daemon(config)
    thread = threading.Thread(target=d.run, kwargs={"signals": False})
    thread.start()
    try:
        wait_until(
            lambda: d.status().get("targets", {}).get("local", {}).get("last_sync"),
            "the first sync",
        )
        assert d.status()["daemon"]["control_url"] is None
        assert not (tmp_path / ".syncbridge" / "control.json").exists()
    finally:
        d.request_stop()
        thread.join(60)


def test_event_stream_reports_a_conflict_and_an_error(tmp_path: Path) -> None:
    """Both sides edited while the target was locked: the retry after the lock is gone
    meets a true conflict. The stream carries the error (locked), then the conflict."""
    config = make_project(tmp_path, 2, control=True, busy_timeout_ms=100)
    d = Daemon(config)
    thread = threading.Thread(target=d.run, kwargs={"signals": False})
    thread.start()
    try:
        wait_until(
            lambda: d.status().get("targets", {}).get("local", {}).get("last_sync"),
            "the first sync",
        )
        client = Client(tmp_path / ".syncbridge" / "control.json")
        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
        conn.request(
            "GET",
            "/events",
            headers={"Host": f"127.0.0.1:{client.port}", "Authorization": f"Bearer {client.token}"},
        )
        stream = conn.getresponse()
        assert stream.status == 200
        db = sqlite3.connect(tmp_path / "local.db", isolation_level=None, timeout=30)
        db.execute("BEGIN EXCLUSIVE")
        (tmp_path / "vault" / "Notes" / "Note 00001.md").write_text(note_text(1, 7))
        events: list[dict[str, Any]] = []

        def read_until(kind: str) -> None:
            while not any(e["event"] == kind for e in events):
                line = stream.readline().decode()
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    check_event(event)
                    events.append(event)

        read_until("error")
        db.execute("UPDATE note SET n = 8 WHERE title = 'Note 00001'")
        db.execute("COMMIT")
        db.close()
        read_until("conflict")
        conflict = next(e for e in events if e["event"] == "conflict")
        assert conflict["target"] == "local" and conflict["count"] >= 1
        error = next(e for e in events if e["event"] == "error")
        assert "busy" in error["message"] or "locked" in error["message"]
        conn.close()
        assert d.status()["targets"]["local"]["open_conflicts"] == 1
    finally:
        d.request_stop()
        thread.join(60)


def test_daemon_without_its_vault_sleeps_between_checks(tmp_path: Path) -> None:
    """While the vault folder is gone, the loop wakes for its vault checks only (it used
    to spin on the overdue target poll, burning a core)."""
    config = make_project(tmp_path, 1, poll_interval_s=0.2)
    d = Daemon(config)
    thread = threading.Thread(target=d.run, kwargs={"signals": False})
    thread.start()
    try:
        wait_until(
            lambda: d.status().get("targets", {}).get("local", {}).get("last_sync"),
            "the first sync",
        )
        (tmp_path / "vault").rename(tmp_path / "away")
        wait_until(lambda: not d.status()["daemon"]["vault_present"], "the vault missing")
        checks, wakeups = d.vault_checks, d.wakeups
        wait_until(lambda: d.vault_checks >= checks + 3, "three vault checks")
        assert d.wakeups - wakeups <= 3 * (d.vault_checks - checks) + 2
        (tmp_path / "away").rename(tmp_path / "vault")
        wait_until(lambda: d.status()["daemon"]["vault_present"], "the vault back")
    finally:
        d.request_stop()
        thread.join(60)
