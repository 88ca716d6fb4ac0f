"""The public surface of ``syncbridge_notion`` (the converter; the fake server is tested in
``fakes/notion``)."""

from __future__ import annotations

import subprocess
import sys

import syncbridge_notion


def test_exported_members() -> None:
    assert sorted(syncbridge_notion.__all__) == [
        "NotionAdapter",
        "NotionConfig",
        "NotionRateLimiter",
        "blocks_to_markdown",
        "markdown_to_blocks",
        "parse_notion_id",
    ]


def test_converter_members() -> None:
    """The body converter's surface (``syncbridge_notion.markdown``); it never imports the
    fake server."""
    import syncbridge_notion.markdown as markdown

    assert sorted(markdown.__all__) == [
        "AppendBatch",
        "Conversion",
        "LinkTargetLookup",
        "MarkdownStyle",
        "PLACEHOLDER_RE",
        "PageIdLookup",
        "SourceSpan",
        "blocks_to_markdown",
        "check_blocks",
        "comparable",
        "convert_markdown",
        "infer_style",
        "markdown_to_blocks",
        "notion_page_url",
        "placeholder_of",
        "split_for_requests",
    ]
    for name in markdown.__all__:
        assert hasattr(markdown, name)
    code = (
        "import sys, syncbridge_notion.markdown; "
        "sys.exit(any(m.startswith('syncbridge_notion_fake') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
