"""The pure parts of the Notion adapter: config, pacing, the value codec, the schema
mapping and the body edit planner. No I/O."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syncbridge_notion import body as bodies
from syncbridge_notion.config import NotionConfig, parse_notion_id
from syncbridge_notion.pacing import (
    AmbiguousWrite,
    Failure,
    ManualClock,
    NotionRateLimiter,
    RequestPacer,
    RetriesExhausted,
    SystemClock,
    WaitInterrupted,
)
from syncbridge_notion.properties import (
    EMPTY_CELLS,
    Encoded,
    Fallback,
    PropertyContext,
    decode,
    encode,
    exact_equal,
    split_text,
)
from syncbridge_notion.property_mentions import retitled
from syncbridge_notion.schema import PropertyPlan, check_drift, notion_type, option_color

from syncbridge.adapter import MISSING
from syncbridge.errors import ConfigError
from syncbridge.schema.model import FieldKind, FieldSpec, FieldType

ID = "0123456789abcdef0123456789abcdef"
DASHED = "01234567-89ab-cdef-0123-456789abcdef"

# -- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        ID,
        DASHED,
        f"https://www.notion.so/team/My-Notes-{ID}",
        f"https://www.notion.so/My-Notes-{ID}?pvs=4#anchor",
        f"  {DASHED.upper()}  ",
    ],
)
def test_parent_page_accepts_ids_and_urls(text: str) -> None:
    assert parse_notion_id(text) == DASHED
    assert NotionConfig(parent_page=text).parent_page_id == DASHED


def test_parent_page_that_is_no_id_is_a_config_error_naming_the_key() -> None:
    config = NotionConfig(parent_page="<id or URL of the page the databases live under>")
    with pytest.raises(ConfigError, match=r"parent_page: .* is not a Notion page id or URL"):
        _ = config.parent_page_id


def test_base_url_drops_v1_and_needs_http() -> None:
    assert NotionConfig(parent_page=ID, base_url="http://127.0.0.1:8787/v1/").base_url == (
        "http://127.0.0.1:8787"
    )
    with pytest.raises(ValueError, match="not an http"):
        NotionConfig(parent_page=ID, base_url="ftp://x")


# -- pacing --------------------------------------------------------------------------------


def test_limiter_averages_the_rate_after_the_burst() -> None:
    clock = ManualClock()
    limiter = NotionRateLimiter(rate=3.0, burst=3, clock=clock)
    for _ in range(33):
        limiter.acquire()
    assert clock.now == pytest.approx(10.0)  # 3 at once, then 30 at 3/s


def test_retry_after_pauses_every_later_request() -> None:
    clock = ManualClock()
    limiter = NotionRateLimiter(rate=100.0, burst=10, clock=clock)
    limiter.acquire()
    limiter.pause_until(5.0)
    limiter.acquire()
    assert clock.now >= 5.0


class _Boom(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def _pacer(clock: ManualClock, retries: int = 3) -> RequestPacer:
    limiter = NotionRateLimiter(rate=1000.0, burst=1000, clock=clock)
    return RequestPacer(
        limiter,
        lambda exc: exc.failure if isinstance(exc, _Boom) else None,
        max_retries=retries,
        rng=random.Random(0),
    )


def _failing(*failures: Failure) -> Any:
    queue = list(failures)

    def call() -> str:
        if queue:
            raise _Boom(queue.pop(0))
        return "ok"

    return call


def test_rate_limited_is_retried_after_retry_after_even_when_unsafe() -> None:
    clock = ManualClock()
    pacer = _pacer(clock)
    call = _failing(Failure("rate_limited", "429", 2.0), Failure("rate_limited", "429", 2.0))
    assert pacer.run("create", call, safe=False) == "ok"
    assert pacer.requests == 3 and clock.now >= 4.0


def test_transient_failure_of_an_unsafe_request_is_never_retried() -> None:
    pacer = _pacer(ManualClock())
    call = _failing(Failure("transient", "HTTP 503", answered=True))
    with pytest.raises(AmbiguousWrite) as caught:
        pacer.run("create", call, safe=False)
    assert caught.value.answered and pacer.requests == 1


def test_transient_failure_of_a_safe_request_backs_off_and_retries() -> None:
    clock = ManualClock()
    pacer = _pacer(clock)
    call = _failing(Failure("transient", "timeout"), Failure("transient", "HTTP 529"))
    assert pacer.run("read", call, safe=True) == "ok"
    assert pacer.requests == 3 and len(clock.slept) == 2 and clock.slept[1] > clock.slept[0] / 2


def test_retries_run_out() -> None:
    pacer = _pacer(ManualClock(), retries=2)
    call = _failing(*[Failure("transient", "HTTP 500")] * 5)
    with pytest.raises(RetriesExhausted, match="after 3 attempts"):
        pacer.run("read", call, safe=True)


def test_fatal_and_unknown_errors_pass_through() -> None:
    pacer = _pacer(ManualClock())
    with pytest.raises(_Boom):
        pacer.run("read", _failing(Failure("fatal", "HTTP 400")), safe=True)
    with pytest.raises(KeyError):
        pacer.run("read", lambda: {}["x"], safe=True)


def test_a_stop_during_a_retry_after_wait_ends_it_and_sends_nothing_more() -> None:
    stop = threading.Event()
    clock = ManualClock(on_sleep=lambda seconds: stop.set())  # SIGTERM while it waits
    pacer = _pacer(clock)
    pacer.limiter.stop = stop
    call = _failing(Failure("rate_limited", "429", 120.0))
    with pytest.raises(WaitInterrupted):
        pacer.run("create", call, safe=False)
    assert pacer.requests == 1 and clock.now == 0.0  # the retry was never sent
    with pytest.raises(WaitInterrupted):  # the pause holds every later request: none waits
        pacer.run("read", _failing(), safe=True)
    assert pacer.requests == 1


def test_a_stop_wakes_the_real_clock_at_once() -> None:
    stop = threading.Event()
    limiter = NotionRateLimiter(rate=1000.0, burst=1, clock=SystemClock(), stop=stop)
    limiter.pause_until(600.0)
    caught: list[BaseException] = []

    def wait() -> None:
        try:
            limiter.acquire()
        except WaitInterrupted as exc:
            caught.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    stop.set()
    waiter.join(60)  # a behaviour bound, far below the 600 s pause
    assert not waiter.is_alive() and len(caught) == 1


# -- the value codec -----------------------------------------------------------------------


@given(st.text(max_size=5000))
@settings(max_examples=200, deadline=None)
def test_split_text_joins_back_within_notion_limits(text: str) -> None:
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(0 < len(p.encode("utf-16-le")) // 2 <= 2000 for p in pieces)


def _respond(ntype: str, request: dict[str, Any]) -> dict[str, Any]:
    """What Notion answers for a property value sent as ``request``."""
    value = request[ntype]
    if ntype in ("title", "rich_text"):
        value = [{**item, "plain_text": item["text"]["content"]} for item in value]
    elif ntype == "select" and value is not None:
        value = {"id": "x", "name": value["name"], "color": "default"}
    elif ntype == "multi_select":
        value = [{"id": "x", "name": o["name"], "color": "default"} for o in value]
    elif ntype == "date" and value is not None:
        value = {"start": value["start"], "end": None, "time_zone": value.get("time_zone")}
    return {"id": "p", "type": ntype, ntype: value}


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
TYPES = ["rich_text", "number", "checkbox", "select", "multi_select", "date", "files"]


@given(ntype=st.sampled_from(TYPES), value=values | st.dates().map(str))
@settings(max_examples=400, deadline=None)
def test_every_value_comes_back_exactly_through_property_and_fallback(
    ntype: str, value: Any
) -> None:
    """The adapter's rule (see NotionAdapter._properties): carry the value in the fallback
    whenever the property alone would not give it back."""
    ctx = PropertyContext(timezone="Europe/Paris")
    enc = encode(ntype, value, ctx)
    fallback = Fallback()
    empty = EMPTY_CELLS[ntype]
    if value is None:
        fallback.null.append("f")
    elif (not exact_equal(enc.cell, value) or exact_equal(enc.cell, empty)) and not (
        empty is False and value is False
    ):
        fallback.exact["f"] = [enc.cell, value]
    carried = Fallback.from_text(fallback.to_text())
    # a one-link value is read as one (the adapter records it in the fallback's "one")
    cell = decode(ntype, _respond(ntype, enc.request), ctx, single=isinstance(value, str))
    assert exact_equal(cell, enc.cell)
    got = carried.value_of("f", cell, empty)
    assert got is not MISSING and exact_equal(got, value)


def test_an_edit_in_notion_wins_over_the_carried_value() -> None:
    fallback = Fallback(exact={"status": [None, "a, b"]})
    assert fallback.value_of("status", "c", None) == "c"
    assert fallback.value_of("status", None, None) == "a, b"


def test_select_with_a_comma_is_not_sent_but_carried() -> None:
    enc = encode("select", "red, green", PropertyContext())
    assert enc.request == {"select": None} and enc.cell is None


def test_naive_datetime_goes_out_with_the_configured_zone_and_comes_back_naive() -> None:
    ctx = PropertyContext(timezone="Europe/Paris")
    enc = encode("date", "2025-07-05T16:56", ctx)
    assert enc.request == {
        "date": {"start": "2025-07-05T16:56:00.000", "time_zone": "Europe/Paris"}
    }
    # real Notion answers with an offset and no zone
    answer = {"type": "date", "date": {"start": "2025-07-05T16:56:00.000+02:00", "time_zone": None}}
    assert decode("date", answer, ctx) == "2025-07-05T16:56"


def test_absent_checkbox_stays_absent_and_false_stays_false() -> None:
    assert Fallback(absent=["done"]).value_of("done", False, False) is MISSING
    assert Fallback().value_of("done", False, False) is False


# -- mentions in text properties ----------------------------------------------------------

USER = "a1b2c3d4-0000-4000-8000-00000000000a"
PAGE = "0123456789abcdef0123456789abcd99"
DATABASE = "fedcba98765432100123456789abcdef"
DATABASE_ID = "fedcba98-7654-3210-0123-456789abcdef"
DATE = {"start": "2022-12-16", "end": None}


def _shown(kind: str, value: dict[str, Any], plain: str) -> dict[str, Any]:
    """A response mention item as Notion answers it."""
    return {
        "type": "mention",
        "mention": {"type": kind, kind: value},
        "annotations": {"bold": False, "color": "default"},
        "plain_text": plain,
        "href": None,
    }


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content, "link": None}, "plain_text": content}


MENTIONS_SHOWN = [
    _text("Met "),
    _shown("user", {"object": "user", "id": USER}, "@Ada Lovelace"),
    _text(" on "),
    _shown("date", DATE, "2022-12-16"),
    _text(" about "),
    _shown("page", {"id": DASHED}, "Plan [v2]"),
    _text(", see "),
    _shown("database", {"id": DATABASE_ID}, "Tasks"),
    _shown("link_preview", {"url": "https://example.com/x"}, "https://example.com/x"),
]
MENTIONS_TEXT = (
    f"Met [@Ada Lovelace](notion://user/{USER}) on [@2022-12-16](notion://date/2022-12-16)"
    f" about [@Plan \\[v2\\]](https://www.notion.so/{ID}), see "
    f"[@Tasks](https://www.notion.so/{DATABASE}?type=database)https://example.com/x"
)


def _respond_with_mentions(request: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Notion answers for request items: mentions shown as ``MENTIONS_SHOWN`` shows
    them (a link preview cannot be sent: it came back as its text)."""

    def key(mention: dict[str, Any]) -> str:
        return json.dumps(mention, sort_keys=True)

    shown = {key(i["mention"]): i["plain_text"] for i in MENTIONS_SHOWN if "mention" in i}
    out = []
    for item in request:
        if item["type"] == "text":
            out.append(_text(item["text"]["content"]))
            continue
        mention = item["mention"]
        kind = mention["type"]
        out.append(_shown(kind, mention[kind], shown[key(mention)]))
    return out


def test_a_text_property_reads_its_mentions_as_the_links_of_the_body() -> None:
    prop = {"id": "p", "type": "rich_text", "rich_text": MENTIONS_SHOWN}
    assert decode("rich_text", prop, PropertyContext()) == MENTIONS_TEXT


def test_the_text_of_a_text_property_is_sent_back_with_the_same_mentions() -> None:
    enc = encode("rich_text", MENTIONS_TEXT, PropertyContext())
    items = enc.request["rich_text"]
    assert [i["mention"] for i in items if i["type"] == "mention"] == [
        {"type": "user", "user": {"id": USER, "object": "user"}},
        {"type": "date", "date": DATE},
        {"type": "page", "page": {"id": DASHED}},
        {"type": "database", "database": {"id": DATABASE_ID}},
    ]
    assert [i["text"]["content"] for i in items if i["type"] == "text"] == [
        "Met ",
        " on ",
        " about ",
        ", see ",
        "https://example.com/x",
    ]
    assert enc.cell == MENTIONS_TEXT  # nothing for the fallback to carry
    back = {"type": "rich_text", "rich_text": _respond_with_mentions(items)}
    assert decode("rich_text", back, PropertyContext()) == MENTIONS_TEXT


@pytest.mark.parametrize(
    "text",
    [
        "plain words, no mention",
        "[[Note]] and [[Other|alias]]",  # wikilinks in a text field are text, as before
        f"[Ada](notion://user/{USER})",  # no @
        f"[@Ada](notion://user/{USER.upper()})",  # not the spelling the reader writes
        f"[@Ada](notion://user/{USER.replace('-', '')})",
        "[@x](https://example.com/page)",
        f"[@x](https://www.notion.so/{ID}?pvs=4)",
        f"[@a [b]](https://www.notion.so/{ID})",  # unescaped bracket in the label
        "[@x](notion://date/2022-12-16?tz=x)",
        "[@x](notion://template/tomorrow)",
        f"\\[@Ada]\\(notion://user/{USER})",
    ],
)
def test_text_that_only_looks_like_a_mention_is_sent_as_typed(text: str) -> None:
    """Only the exact spellings become mentions; anything else is one plain run, as it
    always was, and reads back as typed."""
    enc = encode("rich_text", text, PropertyContext())
    assert enc.request == {"rich_text": [{"type": "text", "text": {"content": text}}]}
    assert enc.cell == text
    back = {"type": "rich_text", "rich_text": [_text(text)]}
    assert decode("rich_text", back, PropertyContext()) == text


def test_long_text_with_mentions_is_split_into_runs_around_them() -> None:
    """Runs of at most 2,000 units between the mentions; past 100 items nothing is sent
    and the value rides in the fallback (as for long plain text)."""
    link = f"[@Ada](notion://user/{USER})"
    text = "a" * 2500 + link + "b" * 10
    items = encode("rich_text", text, PropertyContext()).request["rich_text"]
    assert [i["type"] for i in items] == ["text", "text", "mention", "text"]
    assert [len(i["text"]["content"]) for i in items if i["type"] == "text"] == [2000, 500, 10]
    many = " ".join([link] * 60)
    assert encode("rich_text", many, PropertyContext()) == Encoded({"rich_text": []}, "")


def test_a_json_text_holding_a_mention_spelling_stays_plain_text() -> None:
    """A list or mapping in a text field is its JSON text, carried in the fallback: never
    mentions (its cell must read back as written)."""
    value = [f"[@Ada](notion://user/{USER})"]
    enc = encode("rich_text", value, PropertyContext())
    assert [i["type"] for i in enc.request["rich_text"]] == ["text"]


MENTION_VALUES = st.sampled_from(
    [
        ("user", {"object": "user", "id": USER}),
        ("date", DATE),
        ("date", {"start": "2022-12-16T09:00:00.000+01:00", "end": "2022-12-20"}),
        ("page", {"id": DASHED}),
        ("database", {"id": DATABASE_ID}),
        ("template_mention", {"type": "template_mention_date", "template_mention_date": "today"}),
    ]
)
TEXT_PIECES = st.one_of(
    st.text(alphabet="ab @日😀", min_size=1, max_size=6),
    st.sampled_from([*"[]()@\\#:", "[@", "](", "[[", "]]", "notion://user/"]),
)


@given(
    st.lists(
        st.one_of(TEXT_PIECES.map(lambda t: ("text", t)), st.tuples(MENTION_VALUES, st.text())),
        min_size=1,
        max_size=8,
    )
)
@settings(max_examples=200, deadline=None)
def test_text_with_mentions_comes_back_as_written(pieces: list[tuple[Any, Any]]) -> None:
    """Any text around mentions (Markdown punctuation, look-alike links, any label Notion
    shows): encoded, answered as Notion answers, decoded, it reads as it was written, and
    holds the same mentions."""
    items: list[dict[str, Any]] = []
    for head, tail in pieces:
        if head == "text":
            items.append(_text(tail))
        else:
            items.append(_shown(head[0], head[1], tail))
    text = decode("rich_text", {"type": "rich_text", "rich_text": items}, PropertyContext())
    enc = encode("rich_text", text, PropertyContext())
    labels = iter(i["plain_text"] for i in items if i["type"] == "mention")
    answer = []
    for item in enc.request["rich_text"]:
        if item["type"] == "text":
            answer.append(_text(item["text"]["content"]))
        else:
            kind = item["mention"]["type"]
            answer.append(_shown(kind, item["mention"][kind], next(labels)))
    sent = [i["mention"] for i in enc.request["rich_text"] if i["type"] == "mention"]
    assert len(sent) == sum(1 for i in items if i["type"] == "mention")
    back = decode("rich_text", {"type": "rich_text", "rich_text": answer}, PropertyContext())
    assert back == text == enc.cell


def test_a_retitled_page_keeps_the_mentions_the_rename_left_alone() -> None:
    shown = [
        _shown("date", DATE, "2022-12-16"),
        _text(" meeting with "),
        _shown("user", {"object": "user", "id": USER}, "@Ada"),
        _text(" and "),
        _shown("page", {"id": DASHED}, "Plan"),
    ]
    items = retitled(shown, "2022-12-16 call with @Ada and the Plot")
    assert items is not None
    assert [i.get("text", i.get("mention")) for i in items] == [
        {"type": "date", "date": DATE},
        {"content": " call with "},
        {"type": "user", "user": {"object": "user", "id": USER}},
        {"content": " and the Plot"},  # the page mention's own text was edited: text now
    ]
    assert retitled([_text("A title")], "Another") is None
    assert retitled(shown, "Something else entirely") is None


# -- schema --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ftype", "kind", "expected"),
    [
        (FieldType.INPUT, FieldKind.TEXT, "rich_text"),
        (FieldType.NUMBER, FieldKind.NUMBER, "number"),
        (FieldType.SELECT, FieldKind.TEXT, "select"),
        (FieldType.CYCLE, FieldKind.TEXT, "select"),
        (FieldType.MULTI, FieldKind.LIST, "multi_select"),
        (FieldType.BOOLEAN, FieldKind.BOOLEAN, "checkbox"),
        (FieldType.DATE, FieldKind.DATE, "date"),
        (FieldType.DATETIME, FieldKind.DATETIME, "date"),
        (FieldType.FILE, FieldKind.LINK, "relation"),
        (FieldType.MULTIFILE, FieldKind.LINKS, "relation"),
        (FieldType.MEDIA, FieldKind.TEXT, "files"),
        (FieldType.JSON, FieldKind.JSON, "rich_text"),
        (FieldType.YAML, FieldKind.JSON, "rich_text"),
        (FieldType.OBJECT, FieldKind.JSON, "rich_text"),
        (FieldType.FORMULA, FieldKind.TEXT, None),
        (FieldType.LOOKUP, FieldKind.LINKS, None),
    ],
)
def test_type_table(ftype: FieldType, kind: FieldKind, expected: str | None) -> None:
    read_only = ftype in (FieldType.FORMULA, FieldType.LOOKUP)
    assert notion_type(FieldSpec("f", ftype, kind, read_only=read_only)) == expected


def test_option_colours_follow_the_leading_emoji() -> None:
    assert option_color("🟨 in progress") == "yellow"
    assert option_color("plain") == "default"


def test_drift_names_the_property_and_the_class() -> None:
    config = NotionConfig(parent_page=ID)
    existing = {
        "Name": {"type": "title"},
        "intensity": {"type": "rich_text"},
        "syncbridge values": {"type": "rich_text"},
    }
    wanted = {"intensity": PropertyPlan("intensity", "intensity", "number")}
    (problem,) = check_drift("wound", existing, wanted, config)
    assert "'wound'" in problem and "'intensity'" in problem and "'number'" in problem
    renamed = {"Title": {"type": "title"}}
    (problem,) = check_drift("wound", renamed, {}, config)
    assert "title property is called 'Title'" in problem


# -- bodies --------------------------------------------------------------------------------


def _page(*specs: tuple[str, str]) -> list[bodies.PageBlock]:
    """Response-like blocks: (type, text or id) pairs."""
    out = []
    for i, (kind, text) in enumerate(specs):
        block_id = f"00000000-0000-0000-0000-{i:012d}"
        if kind == "paragraph":
            block = {
                "id": block_id,
                "type": kind,
                kind: {"rich_text": [{"type": "text", "text": {"content": text}}]},
            }
        else:
            block = {"id": block_id, "type": kind, kind: {"title": text}}
        out.append(block)
    return bodies.page_blocks(out)


def test_one_changed_paragraph_is_one_update_in_place() -> None:
    current = _page(("paragraph", "a"), ("paragraph", "b"), ("paragraph", "c"))
    edit = bodies.plan_body_edit(current, bodies.body_to_items("a\n\nB\n\nc"))
    assert [u[0] for u in edit.updates] == [current[1].id]
    assert edit.deletes == [] and edit.inserts == []


def test_insert_at_the_top_uses_position_start_and_deletes_nothing() -> None:
    current = _page(("paragraph", "a"), ("paragraph", "b"))
    edit = bodies.plan_body_edit(current, bodies.body_to_items("new\n\na\n\nb"))
    assert edit.updates == [] and edit.deletes == []
    (insert,) = edit.inserts
    assert insert[1] is None and len(insert[2]) == 1


def test_child_page_is_a_placeholder_and_is_never_deleted() -> None:
    current = _page(("paragraph", "a"), ("child_page", "Sub page"), ("paragraph", "b"))
    body = bodies.body_from_blocks(current)
    assert body == f"a\n\n%%notion:child_page:{current[1].id} Sub page%%\n\nb\n"
    # round trip: nothing to do
    same = bodies.plan_body_edit(current, bodies.body_to_items(body))
    assert same.request_count() == 0
    # the placeholder removed in the vault: reported, kept
    edit = bodies.plan_body_edit(current, bodies.body_to_items("a\n\nb"))
    assert edit.deletes == [] and edit.kept_foreign == [current[1].id]


def test_the_older_placeholder_format_is_still_read() -> None:
    current = _page(("paragraph", "a"), ("child_page", "Sub page"), ("paragraph", "b"))
    old = f"a\n\n%%notion-block {current[1].id} child_page%%\n\nb\n"
    assert bodies.plan_body_edit(current, bodies.body_to_items(old)).request_count() == 0


def test_unchanged_blocks_come_back_as_written_and_one_edit_changes_its_lines() -> None:
    text = "#  Title  \n\n* one\n* two\n\n\nSome __bold__ text.\n\n"
    prior = bodies.Prior.of(text)
    assert prior is not None
    items = bodies.body_to_items(text)
    written = bodies.page_blocks(
        [
            {"id": f"00000000-0000-0000-0000-{k:012d}", **(i.block or {})}
            for k, i in enumerate(items)
        ]
    )
    assert bodies.body_from_blocks(written, prior) == text
    changed = [dict(b.block) for b in written]
    changed[2] = {
        **changed[2],
        "bulleted_list_item": {"rich_text": [{"type": "text", "text": {"content": "TWO"}}]},
    }
    again = bodies.body_from_blocks(bodies.page_blocks(changed), prior)
    # the changed item is written in the note's own style: "*" bullets, like its neighbour
    assert again == "#  Title  \n\n* one\n* TWO\n\n\nSome __bold__ text.\n\n"


def test_a_paragraph_holding_a_foreign_block_is_not_owned() -> None:
    block = {
        "id": "x",
        "type": "paragraph",
        "paragraph": {
            "rich_text": [],
            "children": [{"id": "y", "type": "child_database", "child_database": {}}],
        },
    }
    assert not bodies.owned(block)


@pytest.mark.parametrize(
    "kind", ["unsupported", "synced_block", "child_database", "column_list", "embed", "file"]
)
def test_blocks_we_do_not_own_become_placeholders_and_are_kept(kind: str) -> None:
    block_id = "00000000-0000-0000-0000-00000000000a"
    current = bodies.page_blocks(
        [{"id": block_id, "type": kind, kind: {}, "has_children": kind == "synced_block"}]
    )
    assert not current[0].owned
    body = bodies.body_from_blocks(current)
    assert body == f"%%notion:{kind}:{block_id}%%\n"
    edit = bodies.plan_body_edit(current, bodies.body_to_items("New text."))
    assert edit.deletes == [] and edit.updates == [] and edit.kept_foreign == [block_id]
    (insert,) = edit.inserts
    assert insert[1] is None  # inserted at the start: the kept block is not moved


STEPS = [{"step": "Feet on the floor", "minutes": 2}, {"step": "Exhale", "minutes": 5}]


def test_a_list_of_mappings_comes_back_in_the_notes_key_order() -> None:
    """The fallback keeps a value's key order: a value read back renders the very cell
    text the page holds (a relation fill re-renders the fallback from it), and a fresh
    machine writes the note's keys in their order."""
    ctx = PropertyContext()
    enc = encode("rich_text", STEPS, ctx)
    fallback = Fallback(exact={"steps": [enc.cell, STEPS]})
    carried = Fallback.from_text(fallback.to_text())
    got = carried.value_of("steps", enc.cell, EMPTY_CELLS["rich_text"])
    assert [list(m) for m in got] == [["step", "minutes"], ["step", "minutes"]]
    assert encode("rich_text", got, ctx).cell == enc.cell


def test_a_fallback_cell_in_another_key_order_still_gives_the_value() -> None:
    """A fallback written with sorted keys (before the fix: a relation fill re-rendered it
    from a sorted value while the text property kept the note's order) still matches the
    cell, and the value comes back in the cell's key order, not as the cell's text."""
    ctx = PropertyContext()
    shown = encode("rich_text", STEPS, ctx).cell
    ordered = [dict(sorted(m.items())) for m in STEPS]
    fallback = Fallback(exact={"steps": [encode("rich_text", ordered, ctx).cell, ordered]})
    got = Fallback.from_text(fallback.to_text()).value_of("steps", shown, "")
    assert got == STEPS and [list(m) for m in got] == [["step", "minutes"]] * 2
    # an edit of the cell in Notion (other content, not just order) still wins
    edited = shown.replace('"minutes": 5', '"minutes": 6')
    assert fallback.value_of("steps", edited, "") == edited
    assert fallback.value_of("steps", "not json", "") == "not json"
