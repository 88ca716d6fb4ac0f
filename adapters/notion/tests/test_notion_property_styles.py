"""Keeping the Notion-only formatting of a text property across an edit of its text
(:mod:`syncbridge_notion.property_styles`). Pure: no I/O."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from syncbridge_notion.markdown.inline import plain_run
from syncbridge_notion.property_mentions import rich_text_of
from syncbridge_notion.property_styles import ALIGN_LIMIT, has_formatting, restyled

FLAGS = ("bold", "italic", "strikethrough", "underline", "code")
PLAIN = {flag: False for flag in FLAGS} | {"color": "default"}


def item(text: str, href: str | None = None, **ann: Any) -> dict[str, Any]:
    """A response text item as Notion answers it."""
    return {
        "type": "text",
        "text": {"content": text, "link": {"url": href} if href else None},
        "annotations": {**PLAIN, **ann},
        "plain_text": text,
        "href": href,
    }


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def per_char(items: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """(character, annotations, link) of each character of request ``items`` (text only)."""
    out: list[tuple[str, Any, Any]] = []
    for i in items:
        ann = {**PLAIN, **i.get("annotations", {})}
        link = (i["text"].get("link") or {}).get("url")
        out.extend((ch, ann, link) for ch in i["text"]["content"])
    return out


def old_chars(items: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(ch, i["annotations"], i["href"]) for i in items for ch in i["plain_text"]]


def content(items: list[dict[str, Any]]) -> str:
    return "".join(i["text"]["content"] for i in items)


OLD = [
    item("Keep "),
    item("bold", bold=True),
    item(" words, "),
    item("a link", href="https://example.com/x"),
    item(" and "),
    item("red", color="red"),
    item(" ones."),
]


def test_an_edit_of_one_word_keeps_every_other_words_formatting() -> None:
    out = restyled(OLD, plain_run("Keep bold words, a link and red ones!"))
    assert out is not None
    assert content(out) == "Keep bold words, a link and red ones!"
    assert out[1] == {"type": "text", "text": {"content": "bold"}, "annotations": {"bold": True}}
    assert out[3] == {
        "type": "text",
        "text": {"content": "a link", "link": {"url": "https://example.com/x"}},
    }
    assert out[5] == {"type": "text", "text": {"content": "red"}, "annotations": {"color": "red"}}
    assert out[6] == {"type": "text", "text": {"content": " ones!"}}


def test_typed_text_takes_the_annotations_before_it_and_a_link_only_inside_one() -> None:
    link = "https://a.example/"
    old = [item("xx", bold=True), item("a long link", href=link), item("yy", italic=True)]
    chars = per_char(restyled(old, plain_run("xxZa loWng link!yy")) or [])
    bold = {**PLAIN, "bold": True}
    assert chars[2] == ("Z", bold, None)  # after bold "xx", before the link: bold, unlinked
    assert chars[3] == ("a", PLAIN, link)
    assert chars[7] == ("W", PLAIN, link)  # inside the link: linked
    assert chars[15] == ("!", PLAIN, None)  # after the link: not part of it
    assert chars[16] == ("y", {**PLAIN, "italic": True}, None)
    # at the very start: the annotations of what follows
    start = per_char(restyled([item("abc", italic=True)], plain_run("Xabc")) or [])
    assert start[0] == ("X", {**PLAIN, "italic": True}, None)
    # nothing of the old text left: plain
    gone = restyled([item("abc", bold=True)], plain_run("xyz"))
    assert gone == [{"type": "text", "text": {"content": "xyz"}}]


def test_text_typed_over_a_formatted_word_takes_the_formatting_before_it() -> None:
    old = [item("say "), item("loud", bold=True), item(" now")]
    out = restyled(old, plain_run("say quiet now"))
    assert out is not None and content(out) == "say quiet now"
    assert [c for c, ann, _ in per_char(out) if ann["bold"]] == []


def test_plain_old_text_gives_none_and_the_request_is_sent_as_it_is() -> None:
    assert restyled([item("plain")], plain_run("plainer")) is None
    assert restyled([], plain_run("new")) is None
    assert not has_formatting([item("plain")])
    assert has_formatting([item("b", bold=True)])
    assert has_formatting([{"type": "equation", "plain_text": "x", "annotations": PLAIN}])


def test_mentions_the_edit_left_alone_are_kept_with_their_annotations() -> None:
    date = {"type": "date", "date": {"start": "2022-12-16", "end": None, "time_zone": None}}
    old = [
        item("Met ", bold=True),
        {
            "type": "mention",
            "mention": date,
            "annotations": {**PLAIN, "italic": True},
            "plain_text": "2022-12-16",
            "href": None,
        },
        item(" again"),
    ]
    sent = rich_text_of("Saw [@2022-12-16](notion://date/2022-12-16) again!")
    assert sent is not None
    out = restyled(old, sent)
    assert out is not None
    # "Saw" typed over "Met" at the start: the annotations of what follows (bold " ")
    assert [i["type"] for i in out] == ["text", "mention", "text"]
    assert out[0] == {"type": "text", "text": {"content": "Saw "}, "annotations": {"bold": True}}
    assert out[1]["mention"] == {"type": "date", "date": {"start": "2022-12-16", "end": None}}
    assert out[1]["annotations"] == {"italic": True}
    assert content([i for i in out if i["type"] == "text"]) == "Saw  again!"


def test_runs_are_split_at_2000_units_and_relative_links_made_absolute() -> None:
    old = [item("a" * 1999 + "😀", bold=True), item("p", href="/0123456789abcdef0123456789abcdef")]
    out = restyled(old, plain_run("a" * 1999 + "😀😀" + "p"))
    assert out is not None
    assert all(units(i["text"]["content"]) <= 2000 for i in out)
    assert content(out) == "a" * 1999 + "😀😀p"
    assert out[-1]["text"]["link"] == {
        "url": "https://www.notion.so/0123456789abcdef0123456789abcdef"
    }


def test_an_edit_too_large_to_align_is_one_replacement() -> None:
    size = int(ALIGN_LIMIT**0.5) + 10
    old = [item("<"), item("x" * size, bold=True), item(">", italic=True)]
    out = restyled(old, plain_run("<" + "y" * size + ">"))
    chars = per_char(out or [])
    assert content(out or []) == "<" + "y" * size + ">"
    assert chars[1][1] == PLAIN and chars[-1][1] == {**PLAIN, "italic": True}


_ann = st.fixed_dictionaries(
    {flag: st.booleans() for flag in FLAGS},
    optional={"color": st.sampled_from(["default", "red", "blue_background"])},
)
_href = st.none() | st.sampled_from(["https://a.example/", "https://b.example/p"])
_text = st.text(alphabet=st.sampled_from("ab c\n😀é"), max_size=30)
_runs = st.lists(
    st.builds(lambda t, h, a: item(t, h, **a), _text.filter(bool), _href, _ann), max_size=6
)


@given(_runs, _text, st.integers(1, 40))
def test_random_edits_keep_the_text_exactly_and_the_untouched_ends_formatted(
    old: list[dict[str, Any]], new: str, limit: int
) -> None:
    sent = plain_run(new)
    out = restyled(old, sent)
    if out is None:
        assert not any({**PLAIN, **i["annotations"]} != PLAIN or i["href"] for i in old)
        return
    assert content(out) == new
    assert all(0 < units(i["text"]["content"]) <= 2000 for i in out)
    before = "".join(i["plain_text"] for i in old)
    olds, news = old_chars(old), per_char(out)
    head = 0
    while head < min(len(before), len(new)) and before[head] == new[head]:
        head += 1
    for k in range(head):  # the common prefix keeps its formatting
        assert news[k][1:] == ({**PLAIN, **olds[k][1]}, olds[k][2])
    tail = 0
    while tail < min(len(before), len(new)) - head and before[-1 - tail] == new[-1 - tail]:
        tail += 1
    for k in range(1, tail + 1):  # and so does the common suffix
        assert news[-k][1:] == ({**PLAIN, **olds[-k][1]}, olds[-k][2])
    # adjacent runs differ (merged), unless a run was split at the 2,000-unit limit
    for x, y in itertools.pairwise(out):
        if x.get("annotations") == y.get("annotations"):
            assert (
                x["text"].get("link") != y["text"].get("link")
                or units(x["text"]["content"]) > 2000 - 2
            )


@given(st.text(alphabet=st.sampled_from("ab"), min_size=1999, max_size=2100), _ann)
def test_long_runs_are_split_within_the_limit(text: str, ann: dict[str, Any]) -> None:
    out = restyled([item(text[:5], bold=True), item(text[5:], **ann)], plain_run(text + "a"))
    assert out is not None
    assert content(out) == text + "a"
    assert all(units(i["text"]["content"]) <= 2000 for i in out)


def _date_mention(day: int, ann: dict[str, Any]) -> dict[str, Any]:
    start = f"2022-12-{day:02d}"
    return {
        "type": "mention",
        "mention": {"type": "date", "date": {"start": start, "end": None, "time_zone": None}},
        "annotations": {**PLAIN, **ann},
        "plain_text": start,
        "href": None,
    }


def _flat(items: list[dict[str, Any]]) -> list[Any]:
    """Each character of text, each mention whole (its annotations left out)."""
    out: list[Any] = []
    for i in items:
        if i["type"] == "text":
            out.extend(i["text"]["content"])
        else:
            out.append(("mention", i["mention"]))
    return out


_spelled = st.lists(
    _text | st.integers(10, 12).map(lambda d: f"[@x](notion://date/2022-12-{d})"), max_size=5
).map("".join)
_old_with_mentions = st.lists(
    st.builds(lambda t, h, a: item(t, h, **a), _text.filter(bool), _href, _ann)
    | st.builds(_date_mention, st.integers(10, 12), _ann),
    max_size=6,
)


@given(_old_with_mentions, _spelled)
def test_random_edits_with_mentions_send_exactly_the_requested_text_and_mentions(
    old: list[dict[str, Any]], new: str
) -> None:
    sent = rich_text_of(new) or plain_run(new)
    out = restyled(old, sent)
    if out is None:
        return
    assert _flat(out) == _flat(sent)
    assert all(units(i["text"]["content"]) <= 2000 for i in out if i["type"] == "text")
    assert all(set(i.get("annotations", {})) <= {*FLAGS, "color"} for i in out)
