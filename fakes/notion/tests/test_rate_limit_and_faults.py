"""Rate limiting (token bucket on an injected clock) and fault injection, seen from the
real notion-client: its retries, its timeouts and its duplicate-creating blind retries."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client, RetryOptions
from notion_client.errors import APIErrorCode, RequestTimeoutError, UnknownHTTPResponseError
from notion_fake_support import make_database, text
from syncbridge_notion_fake import (
    FaultRule,
    ManualClock,
    NotionFakeServer,
    RateLimitConfig,
    SteppingClock,
    TokenBucket,
)

HTTP = httpx.Client(timeout=10)  # one client: building one per request costs ~50 ms
FAST_RETRIES = RetryOptions(max_retries=3, initial_retry_delay_ms=1, max_retry_delay_ms=5)


def client_for(server: NotionFakeServer, **options: Any) -> Client:
    return Client(auth=server.token, base_url=server.url, **options)


def raw_get(server: NotionFakeServer, path: str = "/v1/users/me") -> httpx.Response:
    return HTTP.get(
        server.url + path,
        headers={"Authorization": f"Bearer {server.token}", "Notion-Version": "2025-09-03"},
    )


def stats(server: NotionFakeServer) -> dict[str, Any]:
    result: dict[str, Any] = HTTP.get(server.url + "/__fake__/stats").json()
    return result


# -- token bucket -------------------------------------------------------------------------


def test_bucket_allows_a_burst_then_asks_to_wait() -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimitConfig(enabled=True, rate=3.0, burst=10), clock)
    assert [bucket.take() for _ in range(10)] == [None] * 10
    assert bucket.take() == 1
    clock.advance(1 / 3)
    assert bucket.take() is None
    assert bucket.take() == 1


def test_bucket_refills_at_the_average_rate_and_caps_at_burst() -> None:
    clock = ManualClock()
    bucket = TokenBucket(RateLimitConfig(enabled=True, rate=3.0, burst=5), clock)
    for _ in range(5):
        bucket.take()
    clock.advance(10.0)  # would be 30 tokens without the cap
    assert sum(bucket.take() is None for _ in range(30)) == 5
    clock.advance(1.0)
    assert sum(bucket.take() is None for _ in range(30)) == 3  # 3 per second


def test_retry_after_is_whole_seconds_to_the_next_token() -> None:
    bucket = TokenBucket(RateLimitConfig(enabled=True, rate=0.4, burst=1), ManualClock())
    assert bucket.take() is None
    assert bucket.take() == 3  # 1 token at 0.4/s is 2.5 s away → 3


# -- rate limiting over HTTP ------------------------------------------------------------------


def test_thirty_fast_requests_get_429s_with_retry_after() -> None:
    limit = RateLimitConfig(enabled=True, rate=3.0, burst=10)
    with NotionFakeServer(clock=ManualClock(), rate_limit=limit) as server:
        replies = [raw_get(server) for _ in range(30)]
        counters = stats(server)
    statuses = [r.status_code for r in replies]
    assert statuses == [200] * 10 + [429] * 20
    limited = replies[-1]
    assert limited.headers["Retry-After"] == "1"
    body = limited.json()
    assert body["code"] == "rate_limited" and body["object"] == "error"
    assert body["message"] == "You have been rate limited. Please try again in a few minutes."
    assert body["additional_data"] == {"rate_limit_reason": "public_api_request_rate_limit"}
    assert counters["rate_limited"] == 20


def test_notion_client_retries_429_and_succeeds() -> None:
    # Each request reads the clock once and moves it 0.2 s: one request per 0.2 s, faster
    # than the 3/s average, so every request after the first is limited once, then retried.
    limit = RateLimitConfig(enabled=True, rate=3.0, burst=1)
    with NotionFakeServer(clock=SteppingClock(step=0.2), rate_limit=limit) as server:
        client = client_for(server, retry=FAST_RETRIES)
        names = [client.users.me()["name"] for _ in range(5)]
        counters = stats(server)
    assert names == ["syncbridge-notion-fake"] * 5
    assert counters["rate_limited"] == 4
    assert counters["requests"]["GET /v1/users/me"] == 9


def test_notion_client_without_retries_sees_rate_limited() -> None:
    limit = RateLimitConfig(enabled=True, rate=3.0, burst=1)
    with NotionFakeServer(clock=ManualClock(), rate_limit=limit) as server:
        client = client_for(server, retry=False)
        client.users.me()
        with pytest.raises(APIResponseError) as error:
            client.users.me()
    assert error.value.code == APIErrorCode.RateLimited
    assert error.value.headers["retry-after"] == "1"
    assert error.value.additional_data == {"rate_limit_reason": "public_api_request_rate_limit"}


def test_the_rate_limit_reason_names_the_limit_configured() -> None:
    """Notion has a per-connection and a per-workspace limit; 429 bodies say which one."""
    limit = RateLimitConfig(enabled=True, burst=1, reason="public_api_space_request_rate_limit")
    with NotionFakeServer(clock=ManualClock(), rate_limit=limit) as server:
        client = client_for(server, retry=False)
        client.users.me()
        with pytest.raises(APIResponseError) as error:
            client.search(query="")
    assert error.value.status == 429
    assert error.value.additional_data == {
        "rate_limit_reason": "public_api_space_request_rate_limit"
    }


def test_rate_limit_is_off_by_default_and_configurable_at_runtime() -> None:
    with NotionFakeServer(clock=ManualClock()) as server:
        assert all(raw_get(server).status_code == 200 for _ in range(50))
        reply = HTTP.post(
            server.url + "/__fake__/config", json={"rate_limit": {"enabled": True, "burst": 2}}
        )
        assert reply.json()["rate_limit"] == {
            "enabled": True,
            "rate": 3.0,
            "burst": 2,
            "reason": "public_api_request_rate_limit",
        }
        assert [raw_get(server).status_code for _ in range(3)] == [200, 200, 429]
        bad = HTTP.post(server.url + "/__fake__/config", json={"rate_limit": {"rate": 0}})
        assert bad.status_code == 400
        bad = HTTP.post(server.url + "/__fake__/config", json={"rate_limit": {"reason": ""}})
        assert bad.status_code == 400


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"), [(500, "internal_server_error"), (503, "service_unavailable")]
)
def test_get_is_retried_after_500_and_503(status: int, code: str) -> None:
    with NotionFakeServer(faults=[FaultRule("status", status=status, method="GET")]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        assert client.users.me()["type"] == "bot"
        counters = stats(server)
    assert counters["faults"] == {f"status_{status}": 1}
    assert counters["errors"] == {code: 1}
    assert counters["requests"]["GET /v1/users/me"] == 2


def test_post_is_not_retried_after_503_and_nothing_is_written() -> None:
    with NotionFakeServer(faults=[FaultRule("status", status=503, path="^/v1/pages$")]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(APIResponseError) as error:
            client.pages.create(
                parent={"page_id": server.root_page_id}, properties={"title": text("x")}
            )
        assert error.value.code == APIErrorCode.ServiceUnavailable
        assert client.search(query="x")["results"] == []
        assert stats(server)["writes_applied"] == 0


def test_409_conflict_is_not_retried() -> None:
    with NotionFakeServer(faults=[FaultRule("status", status=409, method="PATCH")]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(APIResponseError) as error:
            client.pages.update(server.root_page_id, properties={"title": text("x")})
        assert error.value.code == APIErrorCode.ConflictError
        assert stats(server)["writes_applied"] == 0


def test_a_429_fault_answers_one_chosen_request_as_the_rate_limit_does() -> None:
    faults = [FaultRule("status", status=429, method="POST", retry_after=120)]
    with NotionFakeServer(faults=faults) as server:
        client = client_for(server, retry=False)  # one answer seen, not retried
        with pytest.raises(APIResponseError) as error:
            client.pages.create(
                parent={"page_id": server.root_page_id}, properties={"title": text("x")}
            )
        assert error.value.code == APIErrorCode.RateLimited
        assert error.value.headers["retry-after"] == "120"
        assert stats(server)["writes_applied"] == 0
        assert raw_get(server).status_code == 200  # other requests are not held


def test_applied_counts_what_the_store_carried_out_not_every_request() -> None:
    """A request answered 503 is received but changes nothing; one dropped after its write
    was carried out. Tests count creates by ``applied``: retries' timing varies."""
    faults = [
        FaultRule("status", status=503, method="POST", times=1),
        FaultRule("drop_after", method="POST", times=1),
    ]
    with NotionFakeServer(faults=faults) as server:
        client = client_for(server, retry=FAST_RETRIES)
        parent = {"page_id": server.root_page_id}
        for _ in range(2):  # the 503, then the write whose answer is lost
            with pytest.raises(Exception):  # noqa: B017 (either way the client fails)
                client.pages.create(parent=parent, properties={"title": text("x")})
        client.pages.create(parent=parent, properties={"title": text("y")})
        got = stats(server)
        assert got["requests"]["POST /v1/pages"] == 3
        assert got["applied"]["POST /v1/pages"] == 2


def test_504_is_a_gateway_timeout_not_retried() -> None:
    with NotionFakeServer(faults=[FaultRule("status", status=504)]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(APIResponseError) as error:
            client.users.me()
        assert error.value.code == APIErrorCode.GatewayTimeout
        assert stats(server)["requests_total"] == 1


def test_529_service_overload_is_unknown_to_notion_client_3_1() -> None:
    rule = FaultRule("status", status=529, retry_after=2)
    with NotionFakeServer(faults=[rule]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(UnknownHTTPResponseError) as error:
            client.users.me()
        assert error.value.status == 529
        assert error.value.headers["retry-after"] == "2"
        assert '"code": "service_overload"' in error.value.body
        assert stats(server)["requests_total"] == 1  # not retried


def test_502_is_an_html_gateway_page() -> None:
    with NotionFakeServer(faults=[FaultRule("status", status=502)]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(UnknownHTTPResponseError) as error:
            client.users.me()
        assert error.value.status == 502 and "<html>" in error.value.body
        assert client.users.me()["type"] == "bot"  # only once


def test_skip_and_times_choose_which_requests_fail() -> None:
    rule = FaultRule("status", status=500, skip=1, times=2)
    with NotionFakeServer(faults=[rule]) as server:
        assert [raw_get(server).status_code for _ in range(5)] == [200, 500, 500, 200, 200]


def test_probability_is_reproducible_with_a_seed() -> None:
    def run() -> list[int]:
        rule = FaultRule("status", status=500, times=None, probability=0.5)
        with NotionFakeServer(faults=[rule], seed=7) as server:
            return [raw_get(server).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 0 < first.count(500) < 20


def _wait_for_writes(server: NotionFakeServer, count: int) -> None:
    """Block until the server has applied ``count`` writes (the slow fault sleeps first)."""
    done = threading.Event()
    for _ in range(500):
        if stats(server)["writes_applied"] >= count:
            done.set()
            break
        done.wait(0.01)
    assert done.is_set()


def test_slow_response_times_out_the_client_but_the_write_lands() -> None:
    rule = FaultRule("slow", delay_s=0.5, path="^/v1/pages$")
    with NotionFakeServer(faults=[rule]) as server:
        client = client_for(server, timeout_ms=100, retry=False)
        with pytest.raises(RequestTimeoutError):
            client.pages.create(
                parent={"page_id": server.root_page_id}, properties={"title": text("late")}
            )
        _wait_for_writes(server, 1)
        assert len(client.search(query="late")["results"]) == 1
        assert stats(server)["faults"] == {"slow": 1}


def test_connection_dropped_before_the_write_applies_nothing() -> None:
    with NotionFakeServer(faults=[FaultRule("drop_before", method="POST")]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        with pytest.raises(httpx.RemoteProtocolError):
            client.pages.create(
                parent={"page_id": server.root_page_id}, properties={"title": text("never")}
            )
        assert client.search(query="never")["results"] == []


def test_connection_dropped_after_the_write_makes_blind_retries_duplicate() -> None:
    with NotionFakeServer(faults=[FaultRule("drop_after", path="^/v1/pages$")]) as server:
        client = client_for(server, retry=FAST_RETRIES)
        _, source = make_database(client, server, {"Name": {"title": {}}})
        create = {
            "parent": {"data_source_id": source},
            "properties": {"Name": {"title": text("twice")}},
        }
        with pytest.raises(httpx.RemoteProtocolError):
            client.pages.create(**create)
        client.pages.create(**create)  # the blind retry
        titles = [
            p["properties"]["Name"]["title"][0]["plain_text"]
            for p in client.data_sources.query(source)["results"]
        ]
        assert titles == ["twice", "twice"]
        assert stats(server)["faults"] == {"drop_after": 1}


def test_faults_are_configurable_over_http() -> None:
    with NotionFakeServer() as server:
        reply = HTTP.post(
            server.url + "/__fake__/config",
            json={"faults": [{"kind": "status", "status": 503, "times": 1}], "reset_stats": True},
        )
        assert reply.status_code == 200 and reply.json()["faults"][0]["status"] == 503
        assert raw_get(server).status_code == 503
        assert raw_get(server).status_code == 200
        bad = HTTP.post(
            server.url + "/__fake__/config", json={"faults": [{"kind": "status", "status": 418}]}
        )
        assert bad.status_code == 400
        unknown = HTTP.post(server.url + "/__fake__/config", json={"faults": [{"kind": "explode"}]})
        assert unknown.status_code == 400
