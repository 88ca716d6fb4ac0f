"""Obsidian wikilinks: find them in note text and frontmatter values, resolve them to notes.

Syntax understood (``!`` in front makes any of them an embed)::

    [[Note]]  [[Note|shown text]]  [[Note#Heading]]  [[Note#^block-id]]  [[#Heading]]
    ![[Note]]  ![[image.png|100]]  [[Folder/Note]]  [[../Note]]  [[Note\\|alias]] (in tables)

Finding
-------
:func:`find_links` scans a Markdown body and skips fenced code blocks (````` and ``~~~``,
closed or running to the end of the text, also inside block quotes and list items) and
inline code spans (CommonMark rules: a run of *n* backticks closes at the next run of
exactly *n* backticks within the same paragraph). Indented code blocks and math are *not*
skipped: telling a four-space code block from a nested list needs a full Markdown parser,
and reporting one link too many is safer for a sync than losing one. ``%%comments%%`` are
skipped on request (``skip_comments``): a rename leaves links in them alone, as Obsidian
does. :func:`find_markdown_links` finds internal Markdown links (``[text](Note.md)``) with
the same rules.
:func:`links_in_value` scans frontmatter values (strings, recursing into lists and dicts);
YAML strings have no code spans, so nothing is skipped there.

Offsets (``start``/``end``) are Python ``str`` indices (code points, not bytes) into the
string the link was found in; ``text[link.start:link.end]`` is the link as written,
including a leading ``!``. Parsed parts are kept as written (no trimming) so a rename can
splice exactly; :class:`LinkResolver` trims when it looks them up.

Resolving
---------
:class:`LinkResolver` resolves a link target the way Obsidian does, over vault-relative
POSIX paths, comparing case-insensitively and Unicode-normalization-insensitively (a note
synced from macOS may be stored NFD). In order:

1. the empty target (``[[#Heading]]``) is the source note itself;
2. an exact vault path, with or without ``.md`` (``[[Folder/Note]]``, ``[[/Folder/Note]]``);
3. a path relative to the source note's folder (``[[./Note]]``, ``[[../Other/Note]]``);
4. the file name (``[[Note]]``, ``[[image.png]]``) or a path suffix (``[[Sub/Note]]``
   matching ``Area/Sub/Note.md``);
5. the ``aliases`` of notes (frontmatter). Obsidian itself writes ``[[Note|Alias]]`` and
   does not resolve ``[[Alias]]``; syncbridge accepts it as a last resort because external
   tools often link by display name.

When several files qualify in one step, the rule is: a file in the source note's own
folder wins; then the one with the fewest folders (closest to the vault root, which is
what Obsidian's "shortest path when possible" link style assumes); then the shorter path;
then the alphabetically first path (casefolded) so the choice is deterministic.
:meth:`LinkResolver.candidates` lists all of them, so callers can warn about ambiguity.
A link that resolves to nothing gives ``None``; :func:`resolve_links` keeps such links in
its result (``path=None``) so they are reported, never dropped.
"""

from __future__ import annotations

import bisect
import posixpath
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LinkResolver",
    "MarkdownLink",
    "ResolvedLink",
    "WikiLink",
    "find_links",
    "find_markdown_links",
    "format_link",
    "iter_value_links",
    "links_in_value",
    "relink_value",
    "resolve_links",
    "searchable_ranges",
]

# [[...]] on one line; the inside holds no brackets (Obsidian does not link across them).
_LINK_RE = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
_FENCE_OPEN_RE = re.compile(
    r"^(?P<prefix>[ \t]*(?:>[ \t]?)*[ \t]*(?:[-+*]|\d+[.)])?[ \t]*)"
    r"(?P<fence>`{3,}|~{3,})(?P<info>.*)$"
)
_BACKTICKS_RE = re.compile(r"`+")
_BLANK_LINE_RE = re.compile(r"\n[ \t\r]*(?:>[ \t\r]*)*\n")


@dataclass(frozen=True, slots=True)
class WikiLink:
    """One ``[[...]]`` link as written.

    ``target`` is the path part ("" for ``[[#Heading]]``); ``heading`` the text after
    ``#`` (subheadings keep their ``#``: ``"H1#H2"``); ``block`` the id after ``#^``;
    ``alias`` the text after the first ``|`` (for image embeds that is the size, ``"100"``);
    ``embed`` whether it starts with ``!``. ``start``/``end`` are ``str`` offsets of the
    whole link (``!`` included) in the string it was found in.
    """

    target: str
    heading: str | None
    block: str | None
    alias: str | None
    embed: bool
    start: int
    end: int

    @property
    def linkpath(self) -> str:
        """The part before ``|``, as Obsidian's ``linkpath`` + subpath: ``Note#Heading``."""
        out = self.target
        if self.heading is not None:
            out += "#" + self.heading
        if self.block is not None:
            out += "#^" + self.block
        return out


def format_link(
    target: str,
    *,
    heading: str | None = None,
    block: str | None = None,
    alias: str | None = None,
    embed: bool = False,
) -> str:
    """Render a wikilink, the inverse of parsing: ``format_link("Note", alias="x")`` is
    ``"[[Note|x]]"``. Pure; raises ``ValueError`` for parts that cannot be written inside
    ``[[...]]`` (brackets, newlines, ``|`` or ``#`` in the target)."""
    for part in (target, heading, block, alias):
        if part is not None and any(c in part for c in "[]\n"):
            raise ValueError(f"cannot put {part!r} inside a wikilink")
    if "|" in target or "#" in target:
        raise ValueError(f"a wikilink target cannot contain '|' or '#': {target!r}")
    link = WikiLink(target, heading, block, alias, embed, 0, 0).linkpath
    if not link:
        raise ValueError("a wikilink needs a target, a heading or a block")
    if alias is not None:
        link += "|" + alias
    return ("!" if embed else "") + "[[" + link + "]]"


def _parse(match: re.Match[str]) -> WikiLink | None:
    inner = match.group(2)
    alias: str | None = None
    linkpart = inner
    if "|" in inner:
        linkpart, alias = inner.split("|", 1)
        # Inside a Markdown table the pipe is escaped: [[Note\|alias]].
        if linkpart.endswith("\\"):
            linkpart = linkpart[:-1]
    heading: str | None = None
    block: str | None = None
    target = linkpart
    if "#" in linkpart:
        target, sub = linkpart.split("#", 1)
        if sub.startswith("^"):
            block = sub[1:]
        else:
            heading = sub
    if not target.strip() and not (heading or "").strip() and not (block or "").strip():
        return None  # [[ ]], [[|x]], [[#]]: Obsidian does not make these links
    return WikiLink(
        target=target,
        heading=heading,
        block=block,
        alias=alias,
        embed=bool(match.group(1)),
        start=match.start(),
        end=match.end(),
    )


def _scan(text: str, start: int = 0, end: int | None = None) -> Iterator[WikiLink]:
    for match in _LINK_RE.finditer(text, start, len(text) if end is None else end):
        link = _parse(match)
        if link is not None:
            yield link


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges covered by fenced code blocks (fence lines included)."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    open_char = ""
    open_len = 0
    open_start = 0
    # Only \n (and \r\n) end lines in Markdown; str.splitlines would also split on
    # U+2028, form feeds and the like.
    for line in text.split("\n"):
        content = line.rstrip("\r")
        if not open_char:
            m = _FENCE_OPEN_RE.match(content)
            # A backtick fence's info string cannot contain backticks (CommonMark).
            if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
                open_char = m.group("fence")[0]
                open_len = len(m.group("fence"))
                open_start = pos
        else:
            m = _FENCE_OPEN_RE.match(content)
            if (
                m
                and m.group("fence")[0] == open_char
                and len(m.group("fence")) >= open_len
                and not m.group("info").strip()
            ):
                ranges.append((open_start, min(pos + len(line) + 1, len(text))))
                open_char = ""
        pos += len(line) + 1
    if open_char:  # an unclosed fence runs to the end of the document
        ranges.append((open_start, len(text)))
    return ranges


def _code_span_ranges(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Ranges of inline code spans in ``text[start:end]`` (outside fenced blocks).

    O(n log n): each backtick run looks up the next run of the same width in the same
    paragraph through a per-(paragraph, width) index, so a note full of stray backticks
    stays fast.
    """
    breaks = [m.start() for m in _BLANK_LINE_RE.finditer(text, start, end)]
    runs: list[tuple[int, int, int]] = []  # (start, end, paragraph)
    for m in _BACKTICKS_RE.finditer(text, start, end):
        s, e = m.start(), m.end()
        backslashes = 0
        while s - backslashes - 1 >= start and text[s - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2 == 1:
            s += 1  # \` is a literal backtick, the rest of the run still counts
        if s < e:
            runs.append((s, e, bisect.bisect_right(breaks, s)))
    by_kind: dict[tuple[int, int], list[int]] = {}
    for index, (s, e, paragraph) in enumerate(runs):
        by_kind.setdefault((paragraph, e - s), []).append(index)
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        s, e, paragraph = runs[i]
        same = by_kind[(paragraph, e - s)]
        k = bisect.bisect_right(same, i)
        if k < len(same):  # closed by the next run of exactly this width
            j = same[k]
            ranges.append((s, runs[j][1]))
            i = j
        i += 1
    return ranges


def _outside_code(text: str) -> list[tuple[int, int]]:
    """The ranges of ``text`` outside fenced code blocks and inline code spans, in order."""
    out: list[tuple[int, int]] = []
    pos = 0
    for fence_start, fence_end in [*_fenced_ranges(text), (len(text), len(text))]:
        seg_pos = pos
        for span_start, span_end in [
            *_code_span_ranges(text, pos, fence_start),
            (fence_start, fence_start),
        ]:
            if seg_pos < span_start:
                out.append((seg_pos, span_start))
            seg_pos = span_end
        pos = fence_end
    return out


def _outside_comments(segments: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """``segments`` less Obsidian comments: from a ``%%`` to the next ``%%`` (across
    lines), or to the end of the text when it is never closed, as Obsidian reads them.
    A ``%%`` inside code does not open or close a comment."""
    out: list[tuple[int, int]] = []
    inside = False
    for start, end in segments:
        pos = start
        while pos < end:
            mark = text.find("%%", pos, end)
            if mark < 0:
                if not inside:
                    out.append((pos, end))
                break
            if not inside and pos < mark:
                out.append((pos, mark))
            inside = not inside
            pos = mark + 2
    return out


def searchable_ranges(
    text: str, *, skip_code: bool = True, skip_comments: bool = False
) -> list[tuple[int, int]]:
    """The ``(start, end)`` ranges of a Markdown ``text`` in which links count, in order:
    everything, less fenced code blocks and inline code spans (``skip_code``) and less
    ``%%comments%%`` (``skip_comments``). Pure."""
    segments = _outside_code(text) if skip_code else [(0, len(text))]
    return _outside_comments(segments, text) if skip_comments else segments


def find_links(text: str, *, skip_code: bool = True, skip_comments: bool = False) -> list[WikiLink]:
    """All wikilinks in a Markdown ``text``, in order of appearance.

    With ``skip_code`` (the default, for note bodies) links inside fenced code blocks and
    inline code spans are left out; with ``skip_comments`` also those inside
    ``%%comments%%`` (which Obsidian neither shows nor updates). Pure function; offsets
    index into ``text``.
    """
    if "[[" not in text:
        return []
    if not skip_code and not skip_comments:
        return list(_scan(text))
    links: list[WikiLink] = []
    for start, end in searchable_ranges(text, skip_code=skip_code, skip_comments=skip_comments):
        links.extend(_scan(text, start, end))
    return links


# [text](dest) and ![alt](dest) on one line: the text may hold one level of brackets, the
# destination is <anything but <>> or a run without spaces (one level of parentheses), and
# an optional "title" may follow.
_MD_LINK_RE = re.compile(
    r"(?P<embed>!?)\[(?P<label>(?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\("
    r"[ \t]*(?:<(?P<angle>[^<>\n]*)>|(?P<bare>(?:[^()\s<>]|\([^()\s]*\))+))"
    r"(?P<title>[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'))?[ \t]*\)"
)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class MarkdownLink:
    """One internal Markdown link ``[label](path#fragment)`` as written.

    ``path`` is the destination's path part, percent-decoded (``My%20Note.md`` gives
    ``My Note.md``); ``fragment`` the raw text after ``#`` (``None`` without one).
    ``start``/``end`` are ``str`` offsets of the whole link (``!`` included);
    ``path_start``/``path_end`` those of the path part as written (still encoded), which
    is what a rename replaces. ``angle``: the destination is written ``<...>``.
    """

    label: str
    path: str
    fragment: str | None
    embed: bool
    angle: bool
    start: int
    end: int
    path_start: int
    path_end: int


def _md_link(match: re.Match[str]) -> MarkdownLink | None:
    group = "angle" if match.group("angle") is not None else "bare"
    dest, dest_start = match.group(group), match.start(group)
    raw_path, hash_, fragment = dest.partition("#")
    if not raw_path.strip() or _SCHEME_RE.match(raw_path) or raw_path.startswith("//"):
        return None  # a heading of this note, a URL, mailto:, obsidian:// ...: not a note
    return MarkdownLink(
        label=match.group("label"),
        path=urllib.parse.unquote(raw_path),
        fragment=fragment if hash_ else None,
        embed=bool(match.group("embed")),
        angle=group == "angle",
        start=match.start(),
        end=match.end(),
        path_start=dest_start,
        path_end=dest_start + len(raw_path),
    )


def find_markdown_links(
    text: str, *, skip_code: bool = True, skip_comments: bool = False
) -> list[MarkdownLink]:
    """Internal Markdown links (``[text](Note.md)``, ``[t](Folder/My%20Note.md#Heading)``,
    ``![alt](<Folder/My Note.md>)``) in ``text``, in order; URLs and same-note
    ``(#heading)`` links are left out. ``skip_code`` / ``skip_comments`` as in
    :func:`find_links`. Pure."""
    if "](" not in text:
        return []
    links: list[MarkdownLink] = []
    for start, end in searchable_ranges(text, skip_code=skip_code, skip_comments=skip_comments):
        for match in _MD_LINK_RE.finditer(text, start, end):
            link = _md_link(match)
            if link is not None:
                links.append(link)
    return links


def links_in_value(value: object) -> list[WikiLink]:
    """Wikilinks in a frontmatter value: a string, or strings inside lists and dicts
    (dict values only, recursively). Offsets index into the string each link came from;
    use :func:`iter_value_links` to learn which one. Other types yield nothing."""
    return [link for _, link in iter_value_links(value)]


def iter_value_links(
    value: object, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], WikiLink]]:
    """Yield ``(path, link)`` for every wikilink in a frontmatter value, where ``path`` is
    the list indices / dict keys leading to the string (``()`` for a plain string)."""
    if isinstance(value, str):
        for link in _scan(value):
            yield path, link
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_value_links(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from iter_value_links(item, (*path, index))


def relink_value(value: Any, targets: Mapping[str, str]) -> Any:
    """``value`` (a frontmatter value) with each wikilink whose target is a key of
    ``targets`` pointed at ``targets[target]`` instead, its heading and block kept and
    the text written before kept as its alias when it had none and is no embed
    (``[[A/B#H]]`` → ``[[A B#H|A/B#H]]``). Strings inside lists and dict values are rewritten alike;
    anything else is returned as it is. Pure."""
    if isinstance(value, str):
        out: list[str] = []
        last = 0
        for link in _scan(value):
            new = targets.get(link.target)
            if new is None or new == link.target:
                continue
            alias = link.alias
            if alias is None and not link.embed:  # an embed's alias would be its size
                alias = link.linkpath
            try:
                text = format_link(
                    new, heading=link.heading, block=link.block, alias=alias, embed=link.embed
                )
            except ValueError:
                continue  # what cannot be written as a link is left as it was
            out.append(value[last : link.start] + text)
            last = link.end
        return "".join(out) + value[last:] if out else value
    if isinstance(value, Mapping):
        return {k: relink_value(v, targets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [relink_value(v, targets) for v in value]
    return value


def _key(text: str) -> str:
    """Comparison key: Unicode-normalization- and case-insensitive."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def _strip_md(path: str) -> str | None:
    return path[:-3] if path.lower().endswith(".md") else None


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    """A link found in ``source_path`` and the vault path it points to (``None``:
    unresolved, to be reported)."""

    link: WikiLink
    source_path: str | None
    path: str | None

    @property
    def resolved(self) -> bool:
        return self.path is not None


class LinkResolver:
    """Resolves link targets to vault-relative POSIX paths (see the module docstring for
    the order and the tie-break rule). Built once per vault scan; lookups are dict hits
    plus a sort over the (usually one) candidate. Holds no file handles."""

    def __init__(
        self, paths: Iterable[str], aliases: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        """``paths``: every file in the vault (notes and attachments), POSIX, relative to
        the vault root. ``aliases``: note path -> its ``aliases`` frontmatter values."""
        self._paths: list[str] = []
        self._by_path: dict[str, list[str]] = {}
        self._by_name: dict[str, list[str]] = {}
        self._by_alias: dict[str, list[str]] = {}
        for raw in paths:
            path = raw.strip("/")
            self._paths.append(path)
            self._by_path.setdefault(_key(path), []).append(path)
            name = path.rsplit("/", 1)[-1]
            self._by_name.setdefault(_key(name), []).append(path)
            stem = _strip_md(path)
            if stem is not None:
                self._by_path.setdefault(_key(stem), []).append(path)
                self._by_name.setdefault(_key(stem.rsplit("/", 1)[-1]), []).append(path)
        for note, names in (aliases or {}).items():
            for alias in names:
                if isinstance(alias, str) and alias.strip():
                    self._by_alias.setdefault(_key(alias.strip()), []).append(note.strip("/"))

    @staticmethod
    def _rank(candidates: Iterable[str], source_path: str | None) -> list[str]:
        source_dir = posixpath.dirname(source_path) if source_path else None
        unique = dict.fromkeys(candidates)

        def order(path: str) -> tuple[bool, int, int, str, str]:
            return (
                posixpath.dirname(path) != source_dir,  # same folder as the source first
                path.count("/"),  # then closest to the vault root
                len(path),  # then the shorter path
                _key(path),  # then alphabetical, for determinism
                path,
            )

        return sorted(unique, key=order)

    def _exact(self, path: str, source_path: str | None) -> list[str]:
        hits = self._by_path.get(_key(path), [])
        # Two notes differing only in case (possible on Linux): the exact spelling wins.
        exact = [p for p in hits if p in (path, path + ".md")]
        return exact or self._rank(hits, source_path)

    def candidates(self, target: str, source_path: str | None = None) -> list[str]:
        """Every path ``target`` could mean at the first step that matches anything,
        best first (``[0]`` is what :meth:`resolve` returns). Empty when unresolved."""
        target = target.strip()
        if not target:
            return [source_path] if source_path else []
        absolute = target.startswith("/")
        target = target.strip("/")
        if not target:
            return []
        # 2. the exact vault path, with or without .md
        if not target.startswith(("./", "../")):
            found = self._exact(target, source_path)
            if found:
                return found
        # 3. relative to the source note's folder
        if source_path and not absolute:
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(source_path), target))
            if not joined.startswith("../") and joined not in ("..", "."):
                found = self._exact(joined, source_path)
                if found:
                    return found
        if target.startswith(("./", "../")):
            return []
        # 4. the file name, or a path suffix (Sub/Note matches Area/Sub/Note.md)
        name = target.rsplit("/", 1)[-1]
        found = self._by_name.get(_key(name), [])
        if "/" in target:
            suffix = "/" + _key(target)
            found = [
                p for p in found if _key(p).endswith(suffix) or _key(p).endswith(suffix + ".md")
            ]
        if found:
            return self._rank(found, source_path)
        # 5. aliases from the notes' frontmatter
        return self._rank(self._by_alias.get(_key(target), []), source_path)

    def resolve(self, target: str, source_path: str | None = None) -> str | None:
        """The vault path ``target`` links to from ``source_path`` (vault-relative POSIX,
        or ``None`` for a link outside any note), or ``None`` when nothing matches."""
        found = self.candidates(target, source_path)
        return found[0] if found else None

    def is_ambiguous(self, target: str, source_path: str | None = None) -> bool:
        """Whether more than one file qualified (the tie-break rule picked one)."""
        return len(self.candidates(target, source_path)) > 1


def resolve_links(
    resolver: LinkResolver, links: Iterable[WikiLink], source_path: str | None = None
) -> list[ResolvedLink]:
    """Resolve every link found in ``source_path``; unresolved ones are kept with
    ``path=None`` so the caller reports them. Pure."""
    return [
        ResolvedLink(link, source_path, resolver.resolve(link.target, source_path))
        for link in links
    ]
