"""Keeping the formatting of a text or title property across an edit of its text.

A note holds a text property as its text only (with mentions spelled as links,
:mod:`.property_mentions`): bold, italic, strikethrough, underline, code, colours and
links live in Notion alone. When the vault sends an edited text, :func:`restyled` gives
the request rich text that keeps them: the property's old items (as Notion answered) and
the request items of the new text are aligned element by element (a character of text,
or a whole mention), and each element of the new text takes its formatting from there:

- an element the edit left alone keeps its own (the common prefix and suffix always do;
  between them :class:`difflib.SequenceMatcher` pairs what both texts hold, a stretch of
  fewer than three characters between two edits excepted: the ``u`` that ``loud`` and
  ``quiet`` share is typed text);
- typed text takes the annotations of the element just before it (at the very start,
  of the one just after it; none when the edit left nothing of the old text), and a
  link only when typed inside one (the elements on both sides carry the same link):
  text typed after a link is not part of it;
- what was deleted is gone.

Consecutive text of the same annotations and link is one run, split at 2,000 UTF-16
code units; a mention is the request's own item (the one the text spells, or the title's
kept one) with the annotations of its place. The plain text is exactly the request's.
A link Notion answers relative (``/<id>``, a link to a page) is sent as the absolute
``https://www.notion.so/<id>``; one no request could hold is dropped. Pure: no I/O.

>>> old = [
...     {"type": "text", "plain_text": "Buy ", "annotations": {"bold": False}},
...     {"type": "text", "plain_text": "milk", "annotations": {"bold": True}},
... ]
>>> new = [{"type": "text", "text": {"content": "Buy oat milk"}}]
>>> [(i["text"]["content"], i.get("annotations")) for i in restyled(old, new)]
[('Buy oat ', None), ('milk', {'bold': True})]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from syncbridge_notion.markdown.inline import split_text, valid_url
from syncbridge_notion.markdown.mention_links import mention_url
from syncbridge_notion.property_mentions import item_text

__all__ = ["ALIGN_LIMIT", "SHORT_MATCH", "has_formatting", "restyled"]

_FLAGS = ("bold", "italic", "strikethrough", "underline", "code")
ALIGN_LIMIT = 1_000_000
"""Most element pairs (old × new, once the common prefix and suffix are set aside) that
are aligned element by element; a larger edit is taken as one replacement (its typed
text styled as typed text is), so a rewrite of a 200,000-character property stays fast."""

SHORT_MATCH = 3
"""Matches shorter than this (in characters) between two edits are taken as replaced."""

_Style = tuple[tuple[bool, ...], str, str | None]
"""Annotation flags (:data:`_FLAGS` order), colour, link URL."""
_PLAIN: _Style = ((False,) * len(_FLAGS), "default", None)


def _link(item: Mapping[str, Any]) -> str | None:
    text = item.get("text")
    link = text.get("link") if isinstance(text, Mapping) else None
    url = link.get("url") if isinstance(link, Mapping) else item.get("href")
    if not isinstance(url, str) or not url:
        return None
    if url.startswith("/") and not url.startswith("//"):
        url = "https://www.notion.so" + url  # a link to a Notion page, as Notion answers it
    return url if valid_url(url) else None


def _style(item: Mapping[str, Any]) -> _Style:
    raw = item.get("annotations")
    ann = raw if isinstance(raw, Mapping) else {}
    color = ann.get("color")
    href = _link(item) if item.get("type", "text") == "text" else None
    return (
        tuple(ann.get(flag) is True for flag in _FLAGS),
        color if isinstance(color, str) and color else "default",
        href,
    )


def _mention_key(item: Mapping[str, Any]) -> str | None:
    """The one element standing for a mention a request can hold (else ``None``)."""
    mention = item.get("mention") if item.get("type", "mention") == "mention" else None
    if not isinstance(mention, dict):
        return None
    url = mention_url(mention)
    return None if url is None else "\x00mention " + url  # never one character of text


def has_formatting(items: Sequence[Mapping[str, Any]]) -> bool:
    """Whether response ``items`` hold anything plain runs would not: an annotation, a
    link, or an item that is not text (a mention, an equation)."""
    return any(item.get("type", "text") != "text" or _style(item) != _PLAIN for item in items)


def _old_elements(items: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[_Style]]:
    keys: list[str] = []
    styles: list[_Style] = []
    for item in items:
        style = _style(item)
        key = _mention_key(item) if item.get("type") == "mention" else None
        if key is not None:
            keys.append(key)
            styles.append(style)
            continue
        plain = item_text(item)  # text, and what reads as text (an equation, a link preview)
        keys.extend(plain)
        styles.extend([style] * len(plain))
    return keys, styles


def _new_elements(sent: Sequence[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(key, item) per element of request ``sent``: each character of its text (item
    ``None``), each other item whole."""
    out: list[tuple[str, Mapping[str, Any] | None]] = []
    for item in sent:
        text = item.get("text") if item.get("type", "text") == "text" else None
        content = text.get("content") if isinstance(text, Mapping) else None
        if isinstance(content, str):
            out.extend((ch, None) for ch in content)
            continue
        key = _mention_key(item)
        out.append((key if key is not None else f"\x00item {id(item)}", item))
    return out


def _typed(styles: Sequence[_Style], before: int, after: int) -> _Style:
    """The style of text typed between old elements ``before - 1`` and ``after``."""
    prev = styles[before - 1] if before > 0 else None
    nxt = styles[after] if after < len(styles) else None
    base = prev or nxt
    if base is None:
        return _PLAIN  # nothing of the old text is left
    href = prev[2] if prev is not None and nxt is not None and prev[2] == nxt[2] else None
    return (base[0], base[1], href)


_Op = tuple[str, int, int, int, int]


def _folded(ops: Sequence[_Op], old: Sequence[str]) -> list[_Op]:
    """``ops`` (of text whose first and last elements both differ) with each match of
    fewer than :data:`SHORT_MATCH` characters taken as part of the replacement around it:
    the ``u`` that ``loud`` and ``quiet`` share is no text the edit left alone."""
    out: list[_Op] = []
    for op in ops:
        tag, i1, i2, j1, j2 = op
        short = tag == "equal" and i2 - i1 < SHORT_MATCH
        if short and all(len(key) == 1 for key in old[i1:i2]):
            tag = "replace"  # a mention is never folded: it is one element
        if tag != "equal" and out and out[-1][0] != "equal":
            out[-1] = ("replace", out[-1][1], i2, out[-1][3], j2)
        else:
            out.append((tag, i1, i2, j1, j2))
    return out


def _aligned(old: Sequence[str], new: Sequence[str], styles: Sequence[_Style]) -> list[_Style]:
    """The style of each element of ``new`` (see the module docstring)."""
    n_old, n_new = len(old), len(new)
    head = 0
    while head < min(n_old, n_new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(n_old, n_new) - head and old[n_old - 1 - tail] == new[n_new - 1 - tail]:
        tail += 1
    out: list[_Style] = list(styles[:head])
    a, b = old[head : n_old - tail], new[head : n_new - tail]
    if len(a) * len(b) <= ALIGN_LIMIT:
        ops = _folded(SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), a)
    else:
        ops = [("replace", 0, len(a), 0, len(b))]
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            out.extend(styles[head + i1 : head + i2])
        elif j2 > j1:
            out.extend([_typed(styles, head + i1, head + i2)] * (j2 - j1))
    out.extend(styles[n_old - tail :])
    return out


def _annotations(style: _Style) -> dict[str, Any]:
    ann: dict[str, Any] = {flag: True for flag, on in zip(_FLAGS, style[0], strict=True) if on}
    if style[1] != "default":
        ann["color"] = style[1]
    return ann


def restyled(
    old: Sequence[Mapping[str, Any]], sent: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]] | None:
    """Request rich text holding exactly the text (and mentions) of request items
    ``sent``, formatted as response items ``old`` were where the edit left them alone
    (see the module docstring); ``None`` when ``old`` holds no annotation or link (there
    is nothing to keep: send ``sent`` as it is). Items may number more than 100: the
    caller checks."""
    if not any(_style(item) != _PLAIN for item in old):
        return None
    old_keys, styles = _old_elements(old)
    new = _new_elements(sent)
    new_styles = _aligned(old_keys, [key for key, _ in new], styles)
    out: list[dict[str, Any]] = []
    run: list[str] = []
    run_style = _PLAIN

    def flush() -> None:
        for piece in split_text("".join(run)) if run else ():
            item: dict[str, Any] = {"type": "text", "text": {"content": piece}}
            if run_style[2] is not None:
                item["text"]["link"] = {"url": run_style[2]}
            ann = _annotations(run_style)
            if ann:
                item["annotations"] = ann
            out.append(item)
        run.clear()

    for (key, whole), style in zip(new, new_styles, strict=True):
        if whole is None:
            if run and style != run_style:
                flush()
            run_style = style
            run.append(key)
            continue
        flush()
        item = dict(whole)
        ann = _annotations(style)
        if ann:
            item["annotations"] = ann
        else:
            item.pop("annotations", None)
        out.append(item)
    flush()
    return out
