"""Mentions in text and title properties ⇄ the text of a field.

A text property (``rich_text``) holding mentions reads as its text with each mention a
request can hold spelled as the body spells one that no wikilink stands for
(:mod:`.markdown.mention_links`): ``Met [@Ada](notion://user/<id>) on
[@2022-12-16](notion://date/2022-12-16)``, a page ``[@Title](https://www.notion.so/<hex>)``
(never a wikilink: in a text field ``[[Note]]`` is text, sent and read as typed). Those
exact spellings, and only they, are sent back as the mentions; any other text, a link
that merely looks like one included, is sent as typed. Text that holds no such mention
reads and is sent exactly as before (its plain text, plain runs). The annotations and
links the property has in Notion are put back on what an edit left alone by
:mod:`.property_styles`, once the request is made.

The page title is the note's file name, which cannot hold a link: it stays plain text,
and :func:`retitled` keeps the mentions of a title whose words around them were edited.
Pure: no I/O.

>>> items = rich_text_of("Met [@Ada](notion://user/00000000-0000-0000-0000-00000000000a)!")
>>> [item["type"] for item in items]
['text', 'mention', 'text']
>>> shown = [{**items[0], "plain_text": "Met "}, {**items[1], "plain_text": "@Ada"}]
>>> text_of([*shown, {**items[2], "plain_text": "!"}])
'Met [@Ada](notion://user/00000000-0000-0000-0000-00000000000a)!'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from syncbridge_notion.markdown.inline import plain_run
from syncbridge_notion.markdown.mention_links import mention_link, mention_links_in, mention_url

__all__ = ["held_mention", "retitled", "rich_text_of", "text_of"]


def held_mention(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The mention of rich-text ``item`` when it is one a request can hold, else ``None``
    (text, an equation, a link preview...)."""
    mention = item.get("mention") if item.get("type") == "mention" else None
    if isinstance(mention, dict) and mention_url(mention) is not None:
        return mention
    return None


def item_text(item: Mapping[str, Any]) -> str:
    """The text a response rich-text item shows (``plain_text``, else its ``text``)."""
    plain = item.get("plain_text")
    if isinstance(plain, str):
        return plain
    text = item.get("text")
    content = text.get("content") if isinstance(text, Mapping) else None
    return content if isinstance(content, str) else ""


def text_of(items: Sequence[Mapping[str, Any]]) -> str:
    """The text of a response rich-text array: its plain text, each mention a request can
    hold as the link standing for it (labelled with what Notion shows)."""
    out: list[str] = []
    for item in items:
        mention = held_mention(item)
        link = mention_link(mention, item_text(item)) if mention is not None else None
        out.append(link if link is not None else item_text(item))
    return "".join(out)


def rich_text_of(text: str) -> list[dict[str, Any]] | None:
    """The request rich text of ``text`` with mentions (plain runs of at most 2,000 units
    between them), or ``None`` when it spells none (send it as plain runs)."""
    found = mention_links_in(text)
    if not found:
        return None
    items: list[dict[str, Any]] = []
    done = 0
    for start, end, mention in found:
        items.extend(plain_run(text[done:start]))
        items.append({"type": "mention", "mention": mention})
        done = end
    items.extend(plain_run(text[done:]))
    return items


def retitled(items: Sequence[Mapping[str, Any]], title: str) -> list[dict[str, Any]] | None:
    """The request rich text of a title that reads ``title`` (plain text) now and read as
    response ``items`` before, keeping each mention of ``items`` whose shown text the edit
    left alone (it lies within a stretch of text both titles hold, in the same order:
    :class:`difflib.SequenceMatcher`); ``None`` when no mention is kept (send ``title``
    as plain runs).

    >>> date = {"type": "date", "date": {"start": "2022-12-16", "end": None}}
    >>> friday = {"type": "mention", "mention": date, "plain_text": "Friday"}
    >>> old = [{"type": "text", "plain_text": "Meet on "}, friday]
    >>> [i.get("text", i.get("mention")) for i in retitled(old, "Call on Friday")]
    [{'content': 'Call on '}, {'type': 'date', 'date': {'start': '2022-12-16', 'end': None}}]
    """
    spans: list[tuple[int, int, dict[str, Any]]] = []
    old = ""
    for item in items:
        mention = held_mention(item)
        plain = item_text(item)
        if mention is not None:
            spans.append((len(old), len(old) + len(plain), mention))
        old += plain
    if not spans:
        return None
    same = SequenceMatcher(None, old, title, autojunk=False).get_matching_blocks()
    out: list[dict[str, Any]] = []
    done = 0
    for start, end, mention in spans:
        at = next((b + start - a for a, b, n in same if a <= start and end <= a + n), None)
        if at is None:
            continue  # its text was edited: it is the title's text now
        out.extend(plain_run(title[done:at]))
        out.append({"type": "mention", "mention": mention})
        done = at + end - start
    if not out:
        return None
    out.extend(plain_run(title[done:]))
    return out
