"""Try the Notion target offline, in one command: start the local Notion server, sync a
copy of ``examples/vault/`` into it with ``syncbridge sync``, and show the databases it made.

    .venv/bin/python examples/try_notion_offline.py            # a free port
    .venv/bin/python examples/try_notion_offline.py --port 8787 --keep   # keep serving

Needs ``pip install -e adapters/notion``. Nothing outside a temporary folder is written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from notion_client import Client
from syncbridge_notion_fake import NotionFakeServer

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep serving until Ctrl-C")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, NotionFakeServer(args.port) as server:
        root = Path(tmp)
        shutil.copytree(HERE / "vault", root / "vault")
        (root / "syncbridge.toml").write_text(
            f'[vault]\npath = "vault"\n\n[[targets]]\nname = "notion"\nadapter = "notion"\n'
            f'parent_page = "{server.root_page_id}"\nbase_url = "{server.url}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "NOTION_TOKEN": server.token}
        print(f"local Notion server at {server.url}, parent page {server.root_page_id}")
        command = [sys.executable, "-m", "syncbridge", "sync", "--config", "syncbridge.toml"]
        done = subprocess.run(command, cwd=root, env=env, check=False)
        if done.returncode != 0:
            return done.returncode
        client = Client(auth=server.token, base_url=server.url)
        print("databases under the parent page:")
        for block in client.blocks.children.list(server.root_page_id)["results"]:
            if block["type"] != "child_database":
                continue
            database = client.databases.retrieve(block["id"])
            source = database["data_sources"][0]["id"]
            pages = client.data_sources.query(source)["results"]
            props = client.data_sources.retrieve(source)["properties"]
            print(
                f"  {block['child_database']['title']}: {len(pages)} pages, {len(props)} properties"
            )
        client.close()
        if args.keep:
            print(f"serving; token: {server.token} (Ctrl-C to stop)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
