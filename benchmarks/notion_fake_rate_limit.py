"""Benchmark: the fake Notion server's rate limiter, seen by a greedy and a polite client.

1. A client that ignores limits sends 30 requests as fast as it can: how many are answered
   ``429 rate_limited``, and with which ``Retry-After``.
2. The real ``notion-client`` 3.1.0, whose built-in retries honour ``Retry-After``, sends
   requests back to back: the rate it sustains once the burst allowance is spent.

Run: ``.venv/bin/python benchmarks/notion_fake_rate_limit.py [--requests N]``. Writes the
``notion-fake-rate-limit`` section of docs/benchmarks.md. Takes about 15 s (it waits for
real ``Retry-After`` seconds, as a client against Notion would).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from notion_client import Client, RetryOptions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section
from syncbridge_notion_fake import NotionFakeServer, RateLimitConfig

LIMIT = RateLimitConfig(enabled=True, rate=3.0, burst=10)


def greedy(server: NotionFakeServer, count: int) -> tuple[Counter[int], Counter[str]]:
    """``count`` requests as fast as possible, no retries; status and Retry-After counts."""
    statuses: Counter[int] = Counter()
    retry_after: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {server.token}", "Notion-Version": "2025-09-03"}
    with httpx.Client(base_url=server.url) as http:
        for _ in range(count):
            reply = http.get("/v1/users/me", headers=headers)
            statuses[reply.status_code] += 1
            if reply.status_code == 429:
                retry_after[reply.headers.get("Retry-After", "(missing)")] += 1
    return statuses, retry_after


def polite(server: NotionFakeServer, count: int) -> tuple[float, float, int]:
    """``count`` calls through notion-client with retries on; returns (overall requests/s,
    sustained requests/s after the burst, 429s the client absorbed)."""
    client = Client(
        auth=server.token,
        base_url=server.url,
        retry=RetryOptions(max_retries=20),
        log_level=logging.ERROR,
    )  # each absorbed 429 logs a warning
    done: list[float] = []
    start = time.perf_counter()
    for _ in range(count):
        client.users.me()
        done.append(time.perf_counter())
    client.close()
    overall = count / (done[-1] - start)
    after_burst = done[LIMIT.burst - 1 :]
    sustained = (len(after_burst) - 1) / (after_burst[-1] - after_burst[0])
    absorbed = int(httpx.get(server.url + "/__fake__/stats").json()["rate_limited"])
    return overall, sustained, absorbed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=40, help="calls made by the polite client (default 40)"
    )
    args = parser.parse_args()

    with NotionFakeServer(rate_limit=LIMIT) as server:
        statuses, retry_after = greedy(server, 30)
    with NotionFakeServer(rate_limit=LIMIT) as server:
        overall, sustained, absorbed = polite(server, args.requests)

    after = ", ".join(f"`{value}` s × {n}" for value, n in sorted(retry_after.items()))
    greedy_row = (
        f"| greedy (httpx, no retries) | 30 | {statuses[200]} | {statuses[429]} | {after} | – |"
    )
    polite_row = (
        f"| notion-client 3.1.0, retries honouring Retry-After | {args.requests} "
        f"| {args.requests} | {absorbed} (retried) | – "
        f"| {overall:.2f} overall, **{sustained:.2f} sustained** after the burst |"
    )
    markdown = f"""## Fake Notion server: rate limiting

Script: `benchmarks/notion_fake_rate_limit.py` · {machine()}

Limiter: token bucket, {LIMIT.rate:g} requests/s average, bursts of {LIMIT.burst}
(`RateLimitConfig(enabled=True)`), as Notion documents "an average of three requests per
second".

| client | requests | answered 200 | answered 429 | Retry-After | requests/s |
|---|---|---|---|---|---|
{greedy_row}
{polite_row}
"""
    write_section("notion-fake-rate-limit", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
