"""Run the fake Notion server: ``python -m syncbridge_notion_fake --port 8787``
(or the console script ``syncbridge-notion-fake``).

Prints the base URL, the token and the root page id, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .ratelimit import RateLimitConfig
from .server import NotionFakeServer


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, serve until interrupted; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="syncbridge-notion-fake",
        description="A local, stateful Notion API server (Notion-Version 2025-09-03).",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8787,
        help="TCP port on 127.0.0.1 (0 picks a free one); default 8787",
    )
    parser.add_argument("--token", help="bearer token to accept (default: a random ntn_fake_…)")
    parser.add_argument(
        "--persist",
        type=Path,
        metavar="FILE",
        help="load state from FILE if it exists and save it after every write",
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help="enforce Notion's rate limit (3 requests/s average, bursts of 10)",
    )
    args = parser.parse_args(argv)
    try:
        server = NotionFakeServer(
            args.port,
            token=args.token,
            persist=args.persist,
            rate_limit=RateLimitConfig(enabled=args.rate_limit),
        )
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.token:
        server.store.token = args.token
    print(f"Notion fake serving at {server.url}", flush=True)
    print(f"  base_url:     {server.url}", flush=True)
    print(f"  token:        {server.token}", flush=True)
    print(f"  root page id: {server.root_page_id}", flush=True)
    print("  e.g. notion_client.Client(auth=TOKEN, base_url=BASE_URL); Ctrl-C stops.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
