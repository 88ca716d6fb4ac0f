"""Notion rich text (request- or response-shaped) → inline Markdown, the inverse of
:mod:`.inline`.

Annotations become ``**``, ``*``, ``~~`` and backticks (Obsidian's spelling); underline
and colours have no Markdown and are not written. Links become ``[text](url)``, or
``<url>`` when the text is the URL; a link to a synced Notion page becomes
``[[target|text]]`` (``[[target#Heading]]`` or ``[[target#Heading|text]]`` when its URL
names a heading or block), a page mention ``[[target]]``, a mention of a page
``link_target`` does not know ``[@title](https://www.notion.so/<id>)`` (which reads back
as the mention), any other mention a request can hold ``[@shown](url)`` with the URL of
:mod:`.mention_links` (which reads back as it); an equation ``$x$``.

``escape`` says how much plain text is protected: ``0`` writes it as it is (literal
Obsidian syntax a note carried through Notion comes back as written), ``1`` escapes only
the backslashes that would be read as an escape or a hard break (``\\\\`` in a note reads
as ``\\``, and the rest of the text stays as written), ``2`` also backslash-escapes the
characters Markdown would read as syntax, except in text shaped like a wikilink
(``[[Gone]]``, ``![[pic.png]]``), which stays as written, as it does at ``0``: a wikilink
the page does not resolve is kept as text, and escaping it there only because another
part of the block needs escaping would write it otherwise than the same block with that
link resolved (a mention, always ``[[Note]]``); ``3`` escapes those too. The block writer
tries them in that order and keeps the first one that reads back as the same block.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote

from .inline import EDGE_ENTITIES, MEANINGFUL_ESCAPES, STRUCTURAL_ESCAPES, notion_page_url
from .mention_links import mention_label, mention_url

__all__ = [
    "LinkTargetLookup",
    "Segment",
    "mention_alias",
    "rich_text_to_markdown",
    "segments",
    "shown_target",
    "target_for",
]

LinkTargetLookup = Callable[[str], "str | None"]
"""Notion page id (dashed) → wikilink target for ``[[...]]``, or ``None`` when unknown. It
may also have a method ``for_text(page_id, text)``: the target for a link to that page
showing ``text`` (see :func:`target_for`); and ``mention_alias(page_id, title)``: the alias
a mention of that page showing ``title`` is written with (``[[Foo 2|Foo]]``: its note has
another name than its title), or ``None`` (see :func:`mention_alias`)."""

_EMPHASIS = ("bold", "italic", "strikethrough")
_DELIMS = {"bold": "**", "italic": "*", "strikethrough": "~~"}
_NOTION_URL_RE = re.compile(
    r"https?://(?:www\.)?notion\.so/(?:[^/?#]*/)?(?:[^/?#]*-)?([0-9a-f]{32})(?:[?#].*)?\Z", re.I
)
_ESCAPE_1 = set("*_`[]<>$~|%")
_WIKI_TEXT_RE = re.compile(r"[^\[\]\n]+")
"""Text a wikilink's alias or heading can hold."""
_WIKILINK_RE = re.compile(r"!?\[\[[^\[\]\n]+?\]\]")
"""Text the reader takes as a wikilink (:data:`~.parser._WIKILINK_RE`)."""
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_LINE_START_RE = re.compile(r"([ \t]*)([#>+=|-]|\d{1,9}[.)]|`{3}|~{3})")


@dataclass(frozen=True)
class Segment:
    """One piece of inline content: ``kind`` is ``text``, ``equation``, ``mention`` (of a
    page: ``value`` its id), ``ref`` (any other mention a request can hold: ``value`` the
    URL standing for it, ``link`` what Notion shows), ``wiki`` (a link to a known page,
    as its ``[[...]]``, made by the writer) or ``link`` (a link as its ``[text](url)``,
    its shared formatting in ``marks``, made by the writer)."""

    kind: str
    value: str
    marks: frozenset[str]
    code: bool = False
    link: str | None = None
    held: frozenset[str] = frozenset()
    """For whitespace taken out of formatting: the formatting it had (kept when the text
    on both sides has it too, so ``**a $x$**`` stays one bold span)."""


def _dashed(compact: str) -> str:
    c = compact.lower()
    return f"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}"


def page_id_of_url(url: str) -> str | None:
    """The dashed page id a notion.so URL points at, or ``None``."""
    match = _NOTION_URL_RE.match(url)
    return _dashed(match.group(1)) if match else None


def page_link_of_url(url: str) -> tuple[str | None, str | None]:
    """The dashed page id a notion.so URL points at (or ``None``) and the heading or block
    a wikilink named in its fragment (``#Heading``, ``#%5Eblock``; ``None`` for none, or
    for the fragment of a Notion block link, a 32-digit block id)."""
    page = page_id_of_url(url)
    if page is None:
        return None, None
    _, hashed, fragment = url.partition("#")
    if not hashed or not fragment or re.fullmatch(r"[0-9a-fA-F]{32}", fragment):
        return page, None
    return page, unquote(fragment)


def _item_segment(item: dict[str, Any]) -> Segment | None:
    annotations = item.get("annotations") or {}
    marks = frozenset(name for name in _EMPHASIS if annotations.get(name))
    kind = item.get("type") or next(
        (k for k in ("text", "mention", "equation") if k in item), "text"
    )
    if kind == "equation":
        expression = (item.get("equation") or {}).get("expression", "")
        return Segment("equation", expression, marks)
    if kind == "mention":
        mention = item.get("mention") or {}
        if mention.get("type", "page") == "page" and "page" in mention:
            return Segment(
                "mention", str(mention["page"].get("id", "")), marks, link=item.get("plain_text")
            )
        url = mention_url(mention)
        if url is not None:  # a database, a user, a date...: a link that reads back as it
            return Segment("ref", url, marks, link=str(item.get("plain_text") or ""))
        # link_preview, link_mention: a request cannot hold them, their text and link stay
        return Segment("text", str(item.get("plain_text", "")), marks, link=item.get("href"))
    text = item.get("text") or {}
    content = text.get("content", item.get("plain_text", ""))
    link = (text.get("link") or {}).get("url")
    return Segment("text", str(content), marks, bool(annotations.get("code")), link)


def segments(items: list[dict[str, Any]], split_code: bool = True) -> list[Segment]:
    """Comparable segments of rich text: adjacent text with the same formatting merged, and
    the whitespace at the edges of bold/italic/strikethrough text taken out of them
    (Markdown cannot put a delimiter next to a space). With ``split_code``, code holding a
    line break is one code segment per line with a plain break between them (how it
    compares, and the spelling that reads back anywhere); without, it stays whole (one
    code span over several lines)."""
    out: list[Segment] = []

    def add(seg: Segment) -> None:
        if seg.kind == "text" and not seg.value:
            return
        last = out[-1] if out else None
        if (
            last is not None
            and seg.kind == last.kind == "text"
            and (seg.marks, seg.code, seg.link) == (last.marks, last.code, last.link)
        ):
            held = (
                last.held & seg.held
                if last.value.strip() == "" == seg.value.strip()
                else (last.held | seg.held)
            )
            out[-1] = Segment("text", last.value + seg.value, seg.marks, seg.code, seg.link, held)
        else:
            out.append(seg)

    for item in items:
        seg = _item_segment(item)
        if seg is None:
            continue
        if seg.kind == "text" and seg.code and "\n" in seg.value and split_code:
            # a line break in code is a plain break between code runs (see .inline)
            for number, piece in enumerate(seg.value.split("\n")):
                if number:
                    add(Segment("text", "\n", frozenset(), False, seg.link, seg.marks))
                add(Segment("text", piece, seg.marks, True, seg.link))
            continue
        if seg.kind == "text" and seg.marks and not seg.code:
            core = seg.value.strip()
            if not core:
                add(Segment("text", seg.value, frozenset(), False, seg.link, seg.marks))
                continue
            lead = seg.value[: len(seg.value) - len(seg.value.lstrip())]
            trail = seg.value[len(seg.value.rstrip()) :]
            add(Segment("text", lead, frozenset(), False, seg.link, seg.marks))
            add(Segment("text", core, seg.marks, False, seg.link))
            add(Segment("text", trail, frozenset(), False, seg.link, seg.marks))
        else:
            add(seg)
    return out


def _escape_text(text: str, level: int, at_line_start: bool) -> str:
    if level == 0:
        return text
    if level == 1:
        return _escape_backslashes(text, at_line_start)
    out: list[str] = []
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if number > 0:
            out.append("\n")
        if not line.strip() and 0 < number < len(lines) - 1:
            # an empty line inside the text would end the paragraph: a backslash makes
            # its line break a hard break, which reads back as this line break
            out.append(line + "\\")
            continue
        prefix = ""
        if number > 0 or at_line_start:
            match = _LINE_START_RE.match(line)
            if match:
                cut = len(match.group(1)) + len(match.group(2)) - 1
                prefix = line[:cut] + "\\" + line[cut]
                line = line[cut + 1 :]
        chars = []
        starts = number > 0 or at_line_start
        kept = _wikilink_positions(line) if level == 2 else frozenset()
        for index, char in enumerate(line):
            if index in kept:
                chars.append(char)  # inside [[...]]: read back verbatim, as written
            elif (level >= 2 and char in _ESCAPE_1) or (
                char == "\\" and _escape_read(prefix + line[:index], line[index + 1 :], starts)
            ):
                chars.append("\\" + char)
            else:
                chars.append(char)
        out.append(prefix + "".join(chars))
    return "".join(out)


def _wikilink_positions(line: str) -> frozenset[int]:
    """Indexes of ``line`` inside text the reader takes as a wikilink (``[[...]]`` or
    ``![[...]]``, its whole source kept when it resolves to no page)."""
    return frozenset(
        index for match in _WIKILINK_RE.finditer(line) for index in range(*match.span())
    )


def _escape_backslashes(text: str, at_line_start: bool) -> str:
    """``text`` with each backslash that would be read as an escape or a hard break
    escaped, nothing else."""
    out: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if number > 0:
            out.append("\n")
        starts = number > 0 or at_line_start
        out.extend(
            "\\\\"
            if char == "\\" and _escape_read(line[:index], line[index + 1 :], starts)
            else char
            for index, char in enumerate(line)
        )
    return "".join(out)


def _escape_read(before: str, after: str, line_start: bool) -> bool:
    """Whether a backslash with ``before`` on its line and ``after`` after it would be
    read as an escape (and so must be escaped itself to stay a backslash): the reader's
    rule, :func:`~.inline._meaningful`, and a backslash at a line's end (a hard break)."""
    char = after[:1]
    if char == "" or char == "\\" or char in MEANINGFUL_ESCAPES:
        return True
    if char not in STRUCTURAL_ESCAPES or not line_start:
        return False
    prior = before.strip(" \t")
    return prior == "" or (char in ".)" and prior.isdigit())


def _code_span(text: str) -> str:
    """``text`` as a code span that reads back as exactly ``text``: a fence longer or
    shorter than every backtick run inside, and one space of padding on each side when
    ``text``'s ends, past its spaces, are backticks (the reader drops that padding, as
    CommonMark does; see :func:`~.inline._code_inner`)."""
    runs = {len(m) for m in re.findall(r"`+", text)}
    size = 1
    while size in runs:
        size += 1
    fence = "`" * size
    core = text.strip(" ")
    if core.startswith("`") or core.endswith("`"):
        text = f" {text} "
    return fence + text + fence


def _link_dest(url: str) -> str:
    if re.search(r"[\s<>]", url) or url.count("(") != url.count(")"):
        return "<" + url.replace(">", "%3E").replace("<", "%3C") + ">"
    return url


def rich_text_to_markdown(
    items: list[dict[str, Any]],
    *,
    escape: int = 0,
    link_target: LinkTargetLookup | None = None,
    at_line_start: bool = True,
    italic: str = "*",
    bold: str = "**",
    simple: bool = False,
    edges: bool = False,
) -> str:
    """Inline Markdown for rich-text ``items`` (see the module docstring); ``italic`` and
    ``bold`` are the delimiters to use (``*`` or ``_``, ``**`` or ``__``).

    With ``edges``, ``items`` are a whole block's text: a space or tab it starts or ends
    with is written ``&#32;`` or ``&#9;`` (:func:`_spell_edges`), which reads back as it
    there (Markdown drops whitespace at a paragraph's ends, and four spaces or a tab
    first would make an indented code block).

    Formatting shared by a link's whole text is written around the link
    (``**[x](url)**``, as notes write it), and a code span holding line breaks is one span
    over those lines; ``simple`` writes the spellings that read back in any context
    instead (``a[**x**](url)b``: delimiters next to a word and a bracket open nothing; one
    code span per line: a span's next line may read as block syntax). Both read back as
    the same rich text."""
    delims = {**_DELIMS, "italic": italic, "bold": bold}
    segs = segments(items, split_code=simple)
    lead = trail = ""
    if edges:
        segs, lead, trail = _edge_whitespace(segs)
        at_line_start = at_line_start and not lead
    segs = _wikilinks(segs, link_target)
    if not simple:
        segs = _wrapped_links(segs, escape, link_target, delims)
    out: list[str] = []
    groups = _link_groups(segs)
    for link, members in groups:
        starts_line = at_line_start and not out and link is None  # a link label starts with [
        body = _render_marks(members, escape, link_target, starts_line, delims)
        if link is None:
            out.append(body)
            continue
        out.append(_render_link(link, members, body, link_target, delims))
    if edges:
        return _spell_edges(lead, "".join(out), trail)
    return "".join(out)


_LITERAL_LEAD_RE = re.compile(r"\\?&#(?:32|9);")
_LITERAL_TRAIL_RE = re.compile(r"(\\*)&#(?:32|9);\Z")


def _edge_whitespace(segs: list[Segment]) -> tuple[list[Segment], str, str]:
    """``segs`` without the space or tab their plain text starts and ends with (one
    character each side), and those two (``""`` for none)."""
    lead = trail = ""
    out = list(segs)

    def plain(seg: Segment) -> bool:
        return seg.kind == "text" and not seg.code and seg.link is None

    if out and plain(out[0]) and out[0].value[:1] in EDGE_ENTITIES:
        lead, first = out[0].value[0], out[0]
        rest = replace(first, value=first.value[1:])
        out = ([rest] if rest.value else []) + out[1:]
    if out and plain(out[-1]) and out[-1].value[-1:] in EDGE_ENTITIES:
        trail, last = out[-1].value[-1], out[-1]
        rest = replace(last, value=last.value[:-1])
        out = out[:-1] + ([rest] if rest.value else [])
    return out, lead, trail


def _spell_edges(lead: str, body: str, trail: str) -> str:
    """``body`` (inline Markdown) with ``lead`` and ``trail`` (a space, a tab or ``""``)
    written as their character references around it, the inverse of
    :func:`~.inline._edges`: a reference typed as text at an end not taken by one gets a
    backslash (``\\&#32;``), which reads back as the text."""
    whole = False  # the reference escaped at the end is the one the text starts with
    if not trail:
        match = _LITERAL_TRAIL_RE.search(body)
        if match is not None:
            # an odd run before it ends with a backslash typed as text: two more make it
            # an escaped one, and the reference's own escape
            extra = 2 if len(match.group(1)) % 2 else 1
            body = body[: match.end(1)] + "\\" * extra + body[match.end(1) :]
            whole = match.start() == 0
    if not lead and not whole and _LITERAL_LEAD_RE.match(body):
        body = "\\" + body
    return EDGE_ENTITIES.get(lead, "") + body + EDGE_ENTITIES.get(trail, "")


def _wrapped_links(
    segs: list[Segment],
    escape: int,
    link_target: LinkTargetLookup | None,
    delims: dict[str, str],
) -> list[Segment]:
    """``segs`` with each link (not to a known page) whose whole text has the same
    formatting made one ``link`` segment with that formatting, holding ``[text](url)``
    written without it: the formatting is then written around the link, with the text
    next to it (``**see [x](url)**``)."""
    out: list[Segment] = []
    for link, members in _link_groups(segs):
        marks = {m.marks for m in members if m.value.strip() or m.code}
        shared = next(iter(marks)) if len(marks) == 1 else frozenset()
        if (
            link is None
            or not shared
            or any(not m.code and not m.value.strip() and not shared <= m.held for m in members)
            or (link_target is not None and _wiki_inner(link, members, link_target) is not None)
        ):
            out.extend(members)
            continue
        bare = [
            Segment(m.kind, m.value, m.marks - shared, m.code, m.link, m.held - shared)
            for m in members
        ]
        body = _render_marks(bare, escape, link_target, False, delims)
        out.append(Segment("link", f"[{body}]({_link_dest(link)})", shared))
    return out


def _wikilinks(segs: list[Segment], link_target: LinkTargetLookup | None) -> list[Segment]:
    """``segs`` with each link to a page ``link_target`` knows, all in one formatting,
    made one ``wiki`` segment holding its ``[[...]]``: formatting around it is written
    around the wikilink with the text next to it (``**[[Note|alias]] and more**``)."""
    if link_target is None:
        return segs
    out: list[Segment] = []
    for link, members in _link_groups(segs):
        wiki = _wiki_inner(link, members, link_target) if link is not None else None
        marks = {m.marks for m in members if m.value.strip()}
        if wiki is None or len(marks) != 1 or any(m.code for m in members):
            out.extend(members)
            continue
        out.append(Segment("wiki", f"[[{wiki}]]", marks.pop()))
    return out


def _wiki_inner(url: str, members: list[Segment], link_target: LinkTargetLookup) -> str | None:
    """What goes between ``[[`` and ``]]`` for a link to a known page, or ``None``."""
    page, sub = page_link_of_url(url)
    plain = "".join(seg.value for seg in members if seg.kind == "text")
    target = _target(link_target, page, plain) if page is not None else None
    if (
        target is None
        or not _WIKI_TEXT_RE.fullmatch(plain)
        or (sub is not None and not _WIKI_TEXT_RE.fullmatch(sub))
    ):
        return None
    if sub is None:
        return f"{target}|{plain}"
    if shown_target(plain, sub, target) is not None:
        return plain  # [[Note#Heading]] as written
    return f"{target}#{sub}|{plain}"


def _link_groups(segs: list[Segment]) -> list[tuple[str | None, list[Segment]]]:
    groups: list[tuple[str | None, list[Segment]]] = []
    for seg in segs:
        link = seg.link if seg.kind == "text" else None
        if groups and groups[-1][0] == link:
            groups[-1][1].append(seg)
        else:
            groups.append((link, [seg]))
    return groups


def _render_link(
    url: str,
    members: list[Segment],
    body: str,
    link_target: LinkTargetLookup | None,
    delims: dict[str, str],
) -> str:
    inner = _wiki_inner(url, members, link_target) if link_target is not None else None
    if inner is not None:  # a link to a known page in mixed formatting: the shared part
        shared = frozenset.intersection(*(seg.marks for seg in members)) if members else frozenset()
        opening = "".join(delims[m] for m in sorted(shared))
        return f"{opening}[[{inner}]]{opening[::-1]}"
    return f"[{body}]({_link_dest(url)})"


def shown_target(plain: str, sub: str, target: str) -> str | None:
    """For a link to a page's heading or block whose text is ``plain``: the target part
    when the text is the wikilink as written (``Note#Heading`` for the target ``Note``,
    or ``Folder/Note``: the same note's name), else ``None`` (the text is an alias)."""
    if not plain.endswith("#" + sub):
        return None
    name = plain[: -len(sub) - 1].strip()
    if not name:
        return None
    same = name == target.strip() or (
        name.rsplit("/", 1)[-1].casefold() == target.strip().rsplit("/", 1)[-1].casefold()
    )
    return name if same else None


def target_for(
    link_target: LinkTargetLookup | None, page_id: str, shown: str | None = None
) -> str | None:
    """What ``link_target`` answers for ``page_id``: for a link showing the text
    ``shown``, its ``for_text(page_id, shown)`` when it has that method (a lookup that
    knows how each link was spelled: ``[[Folder/Note|alias]]`` beside ``[[Note]]``)."""
    if link_target is None:
        return None
    spelled = getattr(link_target, "for_text", None)
    if shown is not None and callable(spelled):
        found = spelled(page_id, shown)
        return found if isinstance(found, str) else None
    return link_target(page_id)


def mention_alias(
    link_target: LinkTargetLookup | None, page_id: str, title: str | None
) -> str | None:
    """The alias of the wikilink for a mention of ``page_id`` showing ``title``: what
    ``link_target.mention_alias`` answers, when a wikilink alias can hold it (no ``[``,
    ``]``, ``|`` or line break); else ``None`` (a plain ``[[target]]``)."""
    method = getattr(link_target, "mention_alias", None)
    if not callable(method) or not title:
        return None
    alias = method(page_id, title)
    if not isinstance(alias, str) or not _WIKI_TEXT_RE.fullmatch(alias) or "|" in alias:
        return None
    return alias


def _target(
    link_target: LinkTargetLookup | None, page_id: str, shown: str | None = None
) -> str | None:
    """The wikilink target for ``page_id``, if the lookup gives one a wikilink can hold."""
    target = target_for(link_target, page_id, shown)
    if target is None or not target.strip() or any(c in target for c in "[]|#^\n"):
        return None
    return target


def _atom(seg: Segment, escape: int, link_target: LinkTargetLookup | None, start: bool) -> str:
    if seg.kind == "equation":
        return f"${seg.value}$"
    if seg.kind in ("wiki", "link"):
        return seg.value
    if seg.kind == "mention":
        target = _target(link_target, seg.value)
        if target is not None:
            alias = mention_alias(link_target, seg.value, seg.link)
            return f"[[{target}|{alias}]]" if alias is not None else f"[[{target}]]"
        # a page the vault does not know: a link to it, which reads back as this mention
        title = " ".join((seg.link or "Untitled").split()) or "Untitled"
        url = notion_page_url(seg.value)
        if not re.fullmatch(r"https://www\.notion\.so/[0-9a-fA-F]{32}", url):
            return _escape_text(title, 3, start)  # no page id to link to: the title as text
        return f"[@{mention_label(title, url)}]({url})"
    if seg.kind == "ref":  # what Notion shows, as the label
        return f"[@{mention_label(seg.link or '', seg.value)}]({seg.value})"
    if seg.code:
        return _code_span(seg.value)
    return _escape_text(seg.value, escape, start)


def _render_marks(
    segs: list[Segment],
    escape: int,
    link_target: LinkTargetLookup | None,
    start: bool,
    delims: dict[str, str],
) -> str:
    effective = [seg.marks for seg in segs]
    for index, seg in enumerate(segs):
        if seg.kind == "text" and not seg.code and not seg.value.strip() and index > 0:
            after = segs[index + 1].marks if index + 1 < len(segs) else frozenset()
            effective[index] = segs[index - 1].marks & after & seg.held  # **a $x$**
    out: list[str] = []
    stack: list[str] = []
    for index, seg in enumerate(segs):
        wanted = effective[index]
        keep = 0
        while keep < len(stack) and stack[keep] in wanted:
            keep += 1
        for mark in reversed(stack[keep:]):
            out.append(delims[mark])
        del stack[keep:]

        def persistence(mark: str, index: int = index) -> int:
            run = 0
            for marks in effective[index:]:
                if mark not in marks:
                    break
                run += 1
            return run

        for mark in sorted(wanted - set(stack), key=lambda m: (-persistence(m), m)):
            out.append(delims[mark])
            stack.append(mark)
        out.append(_atom(seg, escape, link_target, start and not "".join(out)))
    for mark in reversed(stack):
        out.append(delims[mark])
    return "".join(out)
