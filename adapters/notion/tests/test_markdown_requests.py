"""Cutting a block tree into append requests Notion accepts (``split_for_requests``), and
the limit checker (``check_blocks``)."""

from __future__ import annotations

import copy
import importlib
from typing import Any

import pytest
from syncbridge_notion import markdown_to_blocks
from syncbridge_notion.markdown import AppendBatch, check_blocks, split_for_requests


def item(text: str, kids: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"rich_text": [{"type": "text", "text": {"content": text}}]}
    if kids:
        body["children"] = kids
    return {"object": "block", "type": "bulleted_list_item", "bulleted_list_item": body}


def chain(depth: int) -> dict[str, Any]:
    block = item(f"level {depth}")
    for level in range(depth - 1, 0, -1):
        block = item(f"level {level}", [block])
    return block


def rebuild(batches: list[AppendBatch]) -> list[dict[str, Any]]:
    """Apply the batches in order, as Notion would, and return the page's tree."""
    page: list[dict[str, Any]] = []

    def kids_of(path: tuple[int, ...]) -> list[dict[str, Any]]:
        nodes = page
        for index in path:
            body = nodes[index][nodes[index]["type"]]
            nodes = body.setdefault("children", [])
        return nodes

    for batch in batches:
        target = kids_of(batch.parent)
        assert len(target) == batch.first_index, "batches for one parent come in order"
        target.extend(copy.deepcopy(batch.children))
    return page


def depth(blocks: list[dict[str, Any]]) -> int:
    return max((1 + depth(b[b["type"]].get("children") or []) for b in blocks), default=0)


def test_small_note_is_one_request() -> None:
    blocks = markdown_to_blocks("".join(f"- item {i}\n\t- sub\n\t\t- subsub\n" for i in range(30)))
    batches = split_for_requests(blocks)
    assert len(batches) == 1
    assert batches[0].parent == () and batches[0].children == blocks


def test_hundred_blocks_three_levels_is_one_request() -> None:
    blocks = [chain(3) for _ in range(33)] + [item("x")]
    assert len(split_for_requests(blocks)) == 1


def test_fourth_level_goes_to_a_later_request() -> None:
    blocks = [chain(6)]
    batches = split_for_requests(blocks)
    assert [(b.parent, b.first_index) for b in batches] == [((), 0), ((0, 0, 0), 0)]
    assert depth(batches[0].children) == 3
    assert rebuild(batches) == blocks
    for batch in batches:
        assert check_blocks(batch.children) == []


def test_more_than_100_children_are_split() -> None:
    blocks = [item(str(i)) for i in range(250)] + [
        item("parent", [item(str(i)) for i in range(150)])
    ]
    batches = split_for_requests(blocks)
    assert [(b.parent, b.first_index, len(b.children)) for b in batches] == [
        ((), 0, 100),
        ((), 100, 100),
        ((), 200, 51),
        ((250,), 100, 50),
    ]
    assert rebuild(batches) == blocks


def test_block_and_byte_budget() -> None:
    wide = [
        item("p", [item("c", [item("g") for _ in range(9)]) for _ in range(9)]) for _ in range(20)
    ]  # 20 × 91 blocks
    batches = split_for_requests(wide)
    assert rebuild(batches) == wide
    for batch in batches:
        assert check_blocks(batch.children) == []
    big = [item("x" * 2000) for _ in range(300)]
    big_batches = split_for_requests(big)
    assert all(check_blocks(b.children) == [] for b in big_batches)
    assert rebuild(big_batches) == big


def test_table_on_the_last_level_moves_with_its_rows() -> None:
    table = markdown_to_blocks("| a |\n| --- |\n| 1 |\n")[0]
    nested = item("top", [item("mid", [item("before"), table, item("after")])])
    batches = split_for_requests([nested])
    assert rebuild(batches) == [nested]
    for batch in batches:
        assert check_blocks(batch.children) == []
    assert [(b.parent, b.first_index) for b in batches] == [((), 0), ((0, 0), 1)]


def test_input_is_not_modified() -> None:
    blocks = [chain(5)]
    before = copy.deepcopy(blocks)
    split_for_requests(blocks)
    assert blocks == before


def test_bad_depth() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        split_for_requests([item("x")], max_depth=0)


def test_check_blocks_reports_each_limit() -> None:
    bad = [
        {"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "x" * 2001}}]}},
        {"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": "x"}}] * 101}},
        {
            "type": "paragraph",
            "paragraph": {
                "rich_text": [
                    {"text": {"content": "l", "link": {"url": "https://x.org/" + "a" * 2000}}}
                ]
            },
        },
        {"type": "equation", "equation": {"expression": "x" * 1001}},
        {"type": "code", "code": {"rich_text": [], "language": "dataview"}},
        {"type": "table", "table": {"table_width": 2}},
        chain(4),
    ]
    problems = check_blocks(bad)
    assert len(problems) == 7, problems
    assert check_blocks([item("x")] * 101) == ["children: 101 blocks (at most 100)"]
    assert check_blocks([{"type": "paragraph", "paragraph": {"rich_text": []}, "children": []}])


def fake_blocks_module() -> Any:
    """The fake Notion server's block validator, wherever it lives (it is moving to its
    own distribution); the converter itself never imports it."""
    for name in ("syncbridge_notion_fake.blocks", "syncbridge_notion.testing.blocks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    pytest.skip("the fake Notion server is not installed")


def fake_depth(module: Any) -> int:
    three = [chain(3)]
    try:
        module.parse_children("body.children", three, {})
    except Exception:
        return 2
    return 3


def test_the_fake_server_accepts_every_batch() -> None:
    module = fake_blocks_module()
    limit = fake_depth(module)
    src = (
        "# Title\n\n"
        + "".join(f"- item {i}\n\t- sub\n\t\t- subsub\n\t\t\t- deep\n" for i in range(60))
        + "\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```py\nx\n```\n\n$$\nx\n$$\n\n"
        + "> [!tip] t\n> body\n\n"
        + "long " * 1000
        + "\n"
    )
    for batch in split_for_requests(markdown_to_blocks(src), max_depth=limit):
        module.parse_children("body.children", batch.children, {})
