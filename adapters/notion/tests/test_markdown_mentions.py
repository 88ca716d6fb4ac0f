"""Mentions other than of a synced page, through the converter: each type a request can
hold is written as a link labelled ``@...`` that reads back as the same mention; the
types only Notion makes (link previews) keep their text and link; links typed by hand
stay links."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syncbridge_notion import blocks_to_markdown, markdown_to_blocks
from syncbridge_notion.body import body_to_items, page_blocks, plan_body_edit
from syncbridge_notion.markdown import check_blocks, comparable
from syncbridge_notion.markdown.mention_links import mention_url
from test_markdown_properties import SETTINGS, plain_text

DB = "11111111-2222-3333-4444-555555555555"
USER = "7775f3a3-893f-43fa-b625-460c61094c78"
EMOJI = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _mention(mention: dict[str, Any], shown: str, href: str | None = None) -> dict[str, Any]:
    """A response rich-text item holding ``mention`` as Notion returns it."""
    return {
        "type": "mention",
        "mention": mention,
        "annotations": {"bold": False, "italic": False, "code": False, "color": "default"},
        "plain_text": shown,
        "href": href,
    }


def _paragraph(*items: dict[str, Any]) -> dict[str, Any]:
    rich = [{"type": "text", "text": {"content": "Due "}, "plain_text": "Due "}, *items]
    return {"id": "b1", "type": "paragraph", "paragraph": {"rich_text": rich}}


def _template(sub: str, word: str) -> dict[str, Any]:
    return {"type": "template_mention", "template_mention": {"type": sub, sub: word}}


# (response mention, plain_text Notion shows, its href, the Markdown written, the request)
CASES = [
    (
        {"type": "database", "database": {"id": DB}},
        "Tasks [all]",
        "https://www.notion.so/11111111222233334444555555555555",
        "Due [@Tasks \\[all\\]](https://www.notion.so/11111111222233334444555555555555"
        "?type=database)\n",
        {"type": "database", "database": {"id": DB}},
    ),
    (
        {"type": "user", "user": {"object": "user", "id": USER}},
        "@Ada Lovelace",
        None,
        f"Due [@Ada Lovelace](notion://user/{USER})\n",
        {"type": "user", "user": {"id": USER, "object": "user"}},
    ),
    (
        {"type": "date", "date": {"start": "2022-12-16", "end": None, "time_zone": None}},
        "2022-12-16",
        None,
        "Due [@2022-12-16](notion://date/2022-12-16)\n",
        {"type": "date", "date": {"start": "2022-12-16", "end": None}},
    ),
    (
        {"type": "date", "date": {"start": "2022-12-16", "end": "2022-12-20", "time_zone": None}},
        "2022-12-16 → 2022-12-20",
        None,
        "Due [@2022-12-16 → 2022-12-20](notion://date/2022-12-16/2022-12-20)\n",
        {"type": "date", "date": {"start": "2022-12-16", "end": "2022-12-20"}},
    ),
    (
        {
            "type": "date",
            "date": {"start": "2022-05-14T09:00:00.000-04:00", "end": None, "time_zone": None},
        },
        "2022-05-14T09:00:00.000-04:00 → ",
        None,
        "Due [@2022-05-14T09:00:00.000-04:00 →](notion://date/2022-05-14T09:00:00.000-04:00)\n",
        {"type": "date", "date": {"start": "2022-05-14T09:00:00.000-04:00", "end": None}},
    ),
    (
        {
            "type": "date",
            "date": {"start": "2022-05-14T09:00", "end": None, "time_zone": "America/New_York"},
        },
        "2022-05-14T09:00",
        None,
        "Due [@2022-05-14T09:00](notion://date/2022-05-14T09:00?time_zone=America/New_York)\n",
        {
            "type": "date",
            "date": {"start": "2022-05-14T09:00", "end": None, "time_zone": "America/New_York"},
        },
    ),
    (
        _template("template_mention_date", "now"),
        "@Now",
        None,
        "Due [@Now](notion://template/now)\n",
        _template("template_mention_date", "now"),
    ),
    (
        _template("template_mention_user", "me"),
        "@Me",
        None,
        "Due [@Me](notion://template/me)\n",
        _template("template_mention_user", "me"),
    ),
    (
        {"type": "custom_emoji", "custom_emoji": {"id": EMOJI, "name": "ship", "url": None}},
        ":ship:",
        None,
        f"Due [@:ship:](notion://custom_emoji/{EMOJI})\n",
        {"type": "custom_emoji", "custom_emoji": {"id": EMOJI}},
    ),
]


@pytest.mark.parametrize(("mention", "shown", "href", "markdown", "request_"), CASES)
def test_each_mention_a_request_can_hold_reads_back_as_the_same_mention(
    mention: dict[str, Any],
    shown: str,
    href: str | None,
    markdown: str,
    request_: dict[str, Any],
) -> None:
    block = _paragraph(_mention(mention, shown, href))
    written = blocks_to_markdown([block])
    assert written == markdown
    (back,) = markdown_to_blocks(written)
    assert back["paragraph"]["rich_text"][1] == {"type": "mention", "mention": request_}
    assert comparable(back) == comparable(block)
    assert check_blocks([back]) == []


def test_formatting_and_text_around_mentions_stay_as_they_were() -> None:
    date = _mention({"type": "date", "date": {"start": "2024-01-02", "end": None}}, "2024-01-02")
    date["annotations"]["bold"] = True
    user = _mention({"type": "user", "user": {"object": "user", "id": USER}}, "@Ada")
    block = _paragraph(date, {"type": "text", "text": {"content": " by "}}, user)
    written = blocks_to_markdown([block])
    assert (
        written
        == f"Due **[@2024-01-02](notion://date/2024-01-02)** by [@Ada](notion://user/{USER})\n"
    )
    (back,) = markdown_to_blocks(written.replace("Due", "Done"))
    items = back["paragraph"]["rich_text"]
    assert [i["type"] for i in items] == ["text", "mention", "text", "mention"]
    assert items[1]["annotations"] == {"bold": True}
    assert items[3]["mention"]["user"]["id"] == USER


@pytest.mark.parametrize(
    "typed",
    [
        "[Tasks](https://www.notion.so/11111111222233334444555555555555?type=database)",
        "[@Tasks](https://www.notion.so/11111111222233334444555555555555?v=1)",
        "[@Tasks](https://www.notion.so/11111111222233334444555555555555?type=user)",
    ],
)
def test_links_typed_by_hand_stay_links(typed: str) -> None:
    (block,) = markdown_to_blocks(f"See {typed}\n")
    (link,) = block["paragraph"]["rich_text"][1:]
    assert link["type"] == "text" and link["text"]["link"]["url"].startswith("https://www.notion")


@pytest.mark.parametrize(
    "typed",
    [
        "[2022-12-16](notion://date/2022-12-16)",  # no @: not what the writer writes
        "[@soon](notion://date/tomorrow)",
        "[@x](notion://date/2022-12-16?foo=1)",
        "[@x](notion://date/2022-12-16/)",
        "[@x](notion://user/not-an-id)",
        "[@x](notion://template/yesterday)",
        "[@x](notion://page/11111111222233334444555555555555)",
        '[@x](notion://date/2022-12-16 "title")',
    ],
)
def test_anything_else_in_the_notion_scheme_is_literal_text(typed: str) -> None:
    """Only what the writer writes is a mention; Notion takes no other ``notion://`` link,
    so the rest is sent as the text it is (and comes back as written)."""
    src = f"See {typed}\n"
    (block,) = markdown_to_blocks(src)
    assert block["paragraph"]["rich_text"] == [{"type": "text", "text": {"content": src[:-1]}}]


def test_a_link_preview_keeps_its_link_and_an_unchanged_block_holding_it_is_not_rewritten() -> None:
    """A link preview (only Notion makes them) is written as a link to its URL; its block
    unchanged in the vault is not sent again, so Notion keeps the preview. Edited, the
    block is sent with a plain link there (the API cannot create a preview)."""
    url = "https://github.com/makenotion/notion-sdk-js/issues/1"
    preview = _mention({"type": "link_preview", "link_preview": {"url": url}}, url, url)
    date = _mention({"type": "date", "date": {"start": "2022-12-16", "end": None}}, "2022-12-16")
    block = _paragraph(preview, {"type": "text", "text": {"content": " "}}, date)
    written = blocks_to_markdown([block])
    assert written == f"Due [{url}]({url}) [@2022-12-16](notion://date/2022-12-16)\n"
    edit = plan_body_edit(page_blocks([block]), body_to_items(written))
    assert edit.request_count() == 0
    edited = plan_body_edit(page_blocks([block]), body_to_items(written.replace("Due", "Was")))
    assert edited.request_count() == 1
    (back,) = markdown_to_blocks(written)
    assert back["paragraph"]["rich_text"][1]["text"]["link"] == {"url": url}


def test_a_request_with_a_mention_notion_refuses_is_reported() -> None:
    bad = [
        {"type": "link_preview", "link_preview": {"url": "https://x.org"}},
        {"type": "date", "date": {"start": "someday"}},
        {"type": "user", "user": {"id": "nobody"}},
    ]
    blocks = [
        {"type": "paragraph", "paragraph": {"rich_text": [{"type": "mention", "mention": m}]}}
        for m in bad
    ]
    problems = check_blocks(blocks)
    assert len(problems) == 3 and all(".mention: " in p for p in problems)


_IDS = st.uuids().map(str)
_DAY = st.dates().map(lambda d: d.isoformat())
_TIME = st.builds(
    lambda day, hour, zone: f"{day}T{hour:02d}:30:00.000{zone}",
    _DAY,
    st.integers(0, 23),
    st.sampled_from(["Z", "+01:00", "-04:00"]),
)
_DATE = st.fixed_dictionaries(
    {
        "start": st.one_of(_DAY, _TIME),
        "end": st.one_of(st.none(), _DAY, _TIME),
        "time_zone": st.one_of(st.none(), st.sampled_from(["Europe/Berlin", "Etc/GMT+5"])),
    }
)
_MENTIONS = st.one_of(
    st.builds(lambda i: {"type": "database", "database": {"id": i}}, _IDS),
    st.builds(lambda i: {"type": "user", "user": {"object": "user", "id": i}}, _IDS),
    st.builds(lambda d: {"type": "date", "date": d}, _DATE),
    st.sampled_from(
        [
            _template("template_mention_date", "today"),
            _template("template_mention_user", "me"),
        ]
    ),
    st.builds(lambda i: {"type": "custom_emoji", "custom_emoji": {"id": i}}, _IDS),
)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            plain_text(),
            _MENTIONS,
            plain_text(),
            st.sets(st.sampled_from(["bold", "italic", "strikethrough"]), max_size=2),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_mix_of_mentions_and_text_comes_back_as_the_same_mentions(
    runs: list[tuple[str, dict[str, Any], str, set[str]]],
) -> None:
    """Text (with Markdown punctuation), then a mention showing any label (brackets, ``@``,
    stars...), formatted or not: Notion → Markdown → Notion gives the same mentions."""
    rich: list[dict[str, Any]] = []
    for before, mention, shown, flags in runs:
        rich.append({"type": "text", "text": {"content": before + " "}})
        item = _mention(mention, shown)
        item["annotations"] = {flag: True for flag in flags}
        rich.append(item)
        rich.append({"type": "text", "text": {"content": " "}})
    block = {"type": "paragraph", "paragraph": {"rich_text": rich}}
    markdown = blocks_to_markdown([block])
    (back,) = markdown_to_blocks(markdown)
    assert comparable(back) == comparable(block), markdown
    got = [i["mention"] for i in back["paragraph"]["rich_text"] if i["type"] == "mention"]
    assert [mention_url(m) for m in got] == [mention_url(m) for _, m, _, _ in runs]
    assert check_blocks([back]) == []
