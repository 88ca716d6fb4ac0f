"""Notion mentions ⇄ the URLs of the Markdown links that stand for them.

A mention the vault has no wikilink for is written as a link labelled ``@`` and what
Notion shows (``plain_text``); its URL says which mention it is, and a link labelled
``@...`` with such a URL reads back as that mention (the label is Notion's to show, so
it is not read). The URLs:

==================  ===========================================================
page                ``https://www.notion.so/<32 hex>`` (opens the page)
database            ``https://www.notion.so/<32 hex>?type=database`` (opens it)
user                ``notion://user/<id>``
date                ``notion://date/<start>``, ``notion://date/<start>/<end>``,
                    either with ``?time_zone=<IANA name>``
template mention    ``notion://template/today``, ``.../now`` (dates), ``.../me`` (user)
custom emoji        ``notion://custom_emoji/<id>``
==================  ===========================================================

:func:`mention_link` spells a mention so, :func:`mention_links_in` finds those spellings in
plain text (a text property's value): only a link labelled ``@...`` whose URL is exactly
the one :func:`mention_url` writes, with no unescaped bracket or line break in its label.

These are the mention types a request may create (``MentionRichTextItemRequest`` in
Notion's SDK). ``link_preview`` and ``link_mention`` can only be read: :func:`mention_url`
answers ``None`` for them and the writer keeps their text and link, which a push after
an edit of their block sends as a plain link. Pure: no I/O.

>>> url = mention_url({"type": "date", "date": {"start": "2022-12-16", "end": None}})
>>> url
'notion://date/2022-12-16'
>>> mention_of_url(url)
{'type': 'date', 'date': {'start': '2022-12-16', 'end': None}}
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "MENTION_KINDS",
    "mention_kind",
    "mention_label",
    "mention_link",
    "mention_links_in",
    "mention_of_url",
    "mention_problem",
    "mention_url",
]

MENTION_KINDS = ("page", "database", "user", "date", "template_mention", "custom_emoji")
"""The mention types a request may hold."""

_NOTION_ID = r"[0-9a-f]{8}-?(?:[0-9a-f]{4}-?){3}[0-9a-f]{12}"
_ID_RE = re.compile(_NOTION_ID, re.I)
_OBJECT_URL_RE = re.compile(r"https://www\.notion\.so/([0-9a-fA-F]{32})(\?type=database)?")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
_TIME_ZONE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_LABEL_ESCAPE_RE = re.compile(r"[\\\[\]*_`<>$~%]")
"""Characters escaped in the label of a link standing for a mention."""
_SPELLING_RE = re.compile(r"\[@(?:[^\\\[\]\n]|\\.)*\]\(([^()\s]*)\)")
"""A link labelled ``@...`` (its label without unescaped brackets, on one line)."""
_TEMPLATES = {
    "today": ("template_mention_date", "today"),
    "now": ("template_mention_date", "now"),
    "me": ("template_mention_user", "me"),
}


def _dashed(raw: str) -> str:
    c = raw.replace("-", "").lower()
    return f"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}"


def _id(value: Any) -> str | None:
    ref = value.get("id") if isinstance(value, dict) else None
    return _dashed(ref) if isinstance(ref, str) and _ID_RE.fullmatch(ref) else None


def mention_kind(mention: dict[str, Any]) -> str | None:
    """The type of ``mention`` (a request may leave ``type`` out: the key it holds)."""
    kind = mention.get("type")
    if isinstance(kind, str):
        return kind
    return next((k for k in (*MENTION_KINDS, "link_preview", "link_mention") if k in mention), None)


def _date_url(date: Any) -> str | None:
    if not isinstance(date, dict):
        return None
    start, end, zone = date.get("start"), date.get("end"), date.get("time_zone")
    if not isinstance(start, str) or not _DATE_RE.fullmatch(start):
        return None
    if end is not None and (not isinstance(end, str) or not _DATE_RE.fullmatch(end)):
        return None
    if zone is not None and (not isinstance(zone, str) or not _TIME_ZONE_RE.fullmatch(zone)):
        return None
    url = "notion://date/" + start + ("/" + end if end else "")
    return url + ("?time_zone=" + quote(zone, safe="/") if zone else "")


def mention_url(mention: dict[str, Any]) -> str | None:
    """The URL a link standing for ``mention`` (request- or response-shaped) carries, or
    ``None``: a type a request cannot create, or a value Notion would not take back."""
    kind = mention_kind(mention)
    value = mention.get(kind) if kind else None
    if kind in ("page", "database"):
        ref = _id(value)
        if ref is None:
            return None
        suffix = "?type=database" if kind == "database" else ""
        return "https://www.notion.so/" + ref.replace("-", "") + suffix
    if kind in ("user", "custom_emoji"):
        ref = _id(value)
        return f"notion://{kind}/{ref}" if ref is not None else None
    if kind == "date":
        return _date_url(value)
    if kind == "template_mention" and isinstance(value, dict):
        sub = value.get("type") or next((k for k in value if k.startswith("template_")), None)
        word = value.get(sub) if isinstance(sub, str) else None
        if isinstance(word, str) and _TEMPLATES.get(word, ("",))[0] == sub:
            return "notion://template/" + word
    return None


def mention_of_url(url: str) -> dict[str, Any] | None:
    """The request mention a link's ``url`` stands for (see the module docstring), or
    ``None``: any other URL (an ordinary link)."""
    found = _OBJECT_URL_RE.fullmatch(url)
    if found:
        kind = "database" if found.group(2) else "page"
        return {"type": kind, kind: {"id": _dashed(found.group(1))}}
    if not url.startswith("notion://"):
        return None
    parts = urlsplit(url)
    path = [unquote(p) for p in parts.path.split("/")[1:]]
    mention: dict[str, Any] | None = None
    if parts.netloc in ("user", "custom_emoji") and len(path) == 1 and not parts.query:
        if _ID_RE.fullmatch(path[0]):
            mention = {"type": parts.netloc, parts.netloc: {"id": _dashed(path[0])}}
            if parts.netloc == "user":
                mention["user"]["object"] = "user"
    elif parts.netloc == "date" and len(path) in (1, 2):
        date: dict[str, Any] = {"start": path[0], "end": path[1] if len(path) == 2 else None}
        if parts.query.startswith("time_zone="):
            date["time_zone"] = unquote(parts.query[len("time_zone=") :])
        elif parts.query:
            return None
        mention = {"type": "date", "date": date}
    elif parts.netloc == "template" and len(path) == 1 and path[0] in _TEMPLATES:
        sub, word = _TEMPLATES[path[0]]
        mention = {"type": "template_mention", "template_mention": {"type": sub, sub: word}}
    # only what is written back the same way: no second spelling of one mention
    return mention if mention is not None and mention_url(mention) == url else None


def mention_problem(mention: Any) -> str | None:
    """Why Notion would refuse request ``mention``, or ``None``."""
    if not isinstance(mention, dict):
        return "not an object"
    kind = mention_kind(mention)
    if kind not in MENTION_KINDS:
        return f"{kind!r}: not a mention type a request may hold"
    if mention_url(mention) is None:
        return f"{kind}: not a valid {kind} mention"
    return None


def mention_label(shown: str, url: str) -> str:
    """The label (after its ``@``) of the link to ``url`` standing for a mention Notion
    shows as ``shown``, on one line and escaped: a page's title (``Untitled`` when it has
    none); for any other mention what Notion shows less one ``@`` (a user's shows
    ``@Name``), else the last part of ``url`` (the date, the template word)."""
    found = _OBJECT_URL_RE.fullmatch(url)
    if found and not found.group(2):
        label = " ".join(shown.split()) or "Untitled"
    else:
        label = " ".join(shown.removeprefix("@").split())
        label = label or url.rsplit("/", 1)[-1].split("?")[0]
    return _LABEL_ESCAPE_RE.sub(lambda m: "\\" + m.group(0), label)


def mention_link(mention: dict[str, Any], shown: str) -> str | None:
    """``[@label](url)``: the link standing for ``mention`` that Notion shows as
    ``shown`` (its ``plain_text``), or ``None`` for a mention a request cannot hold.

    >>> mention_link({"type": "user", "user": {"id": "0" * 32}}, "@Ada")
    '[@Ada](notion://user/00000000-0000-0000-0000-000000000000)'
    """
    url = mention_url(mention)
    return None if url is None else f"[@{mention_label(shown, url)}]({url})"


def mention_links_in(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """``(start, end, request mention)`` of each link in plain ``text`` spelled as
    :func:`mention_link` spells one (in order; any other link is not one).

    >>> mention_links_in("on [@x](notion://date/2022-12-16) and [@y](https://a.b)")
    [(3, 33, {'type': 'date', 'date': {'start': '2022-12-16', 'end': None}})]
    """
    found: list[tuple[int, int, dict[str, Any]]] = []
    for match in _SPELLING_RE.finditer(text):
        mention = mention_of_url(match.group(1))
        if mention is not None:
            found.append((match.start(), match.end(), mention))
    return found
