"""Rewriting the links to notes a sync moved, the way Obsidian does when you rename a note.

When a sync renames or moves notes (``moves``: old vault path → new vault path), every link
that pointed at one of them must point at its new path, and nothing else may change:

>>> planner = RelinkPlanner(["Psyche/Sorrow.md", "Joy.md"], {"Psyche/Grief.md": "Psyche/Sorrow.md"})
>>> planner.relink("Joy.md", b"See [[Grief|loss]] and `[[Grief]]`.\\n").data
b'See [[Sorrow|loss]] and `[[Grief]]`.\\n'

What counts as a link: wikilinks in every form (``[[Old]]``, ``[[Old|alias]]``,
``[[Old#Heading]]``, ``[[Old#^block]]``, ``![[Old]]``, ``[[Folder/Old]]``, ``[[./Old]]``,
``[[Old\\|alias]]`` in tables) and internal Markdown links (``[text](Old.md)``,
``[t](Folder/Old%20Name.md#Heading)``, ``[t](<Folder/Old Name.md>)``), in the frontmatter
(quoted or not, in flow or block lists) and in the body, but never inside code blocks, code
spans or ``%%comments%%``, which Obsidian does not update either.

Which links change: a link is resolved (:class:`~syncbridge.wikilinks.LinkResolver`) in the
vault as it was before the moves, and again, as written, in the vault after them. When the
two differ — it pointed at a moved note, or the moves made it ambiguous, pointing it at a
moved note of the same name — it is given a target that resolves, after the moves, to what
it meant before. Links to another note of the same name elsewhere, links by alias and links
that resolve to nothing are left alone.

How a changed link is written: only the target's characters are replaced; alias, heading,
block id, embed ``!``, ``.md`` extension, ``<...>`` and the Markdown label and title stay as
written. The target keeps its form: a bare name stays a bare name when that is unambiguous,
a vault path stays a vault path (with its leading ``/`` if it had one), a ``./``/``../``
path stays relative, a partial path keeps its number of folders. A bare name that would now
be ambiguous must change shape and takes the vault's ``newLinkFormat`` (``.obsidian/app.json``:
``shortest`` — the shortest unambiguous path —, ``relative`` or ``absolute``); with
``useMarkdownLinks`` such a body link becomes a Markdown link. A wikilink that cannot hold
the new name (``[ ] | #`` in it) becomes a Markdown link. Markdown links stay Markdown links,
percent-encoded as before.

Frontmatter: the link's characters are replaced in the YAML text (escaped for the quotes
around it), and the result must read back as exactly the old values with the links
rewritten; otherwise an unquoted link is quoted (``"[[New, Name]]"``), and as a last resort
the field is re-rendered with :func:`~syncbridge.note.splice.set_key` (only that field's lines
change). A frontmatter that cannot be read is left alone, and its links are reported.

Everything here is pure: bytes in, bytes out, no file access.
"""

from __future__ import annotations

import bisect
import difflib
import json
import posixpath
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from syncbridge.errors import SyncbridgeError
from syncbridge.note.splice import comparable, set_key
from syncbridge.note.split import decode, split_text
from syncbridge.note.yamlio import load_values
from syncbridge.wikilinks import (
    LinkResolver,
    MarkdownLink,
    WikiLink,
    find_links,
    find_markdown_links,
)

__all__ = [
    "BrokenLink",
    "LinkChange",
    "LinkStyle",
    "NoteRelink",
    "RelinkPlanner",
    "apply_relink",
]

NewLinkFormat = Literal["shortest", "relative", "absolute"]
_WIKI_FORBIDDEN = frozenset("[]|#\n")
# Characters a bare Markdown destination cannot hold as they are (Obsidian encodes them).
_MD_ENCODE = frozenset(" %()<>[]#^|\t")
Region = Literal["frontmatter", "body"]


@dataclass(frozen=True)
class LinkStyle:
    """How new link targets are written: the vault's Obsidian settings "New link format"
    (``newLinkFormat``: ``shortest``, ``relative``, ``absolute``) and "Use [[Wikilinks]]"
    (``useMarkdownLinks``)."""

    new_link_format: NewLinkFormat = "shortest"
    use_markdown_links: bool = False

    @classmethod
    def from_vault(cls, root: Path) -> LinkStyle:
        """The style of the vault at ``root``, from ``.obsidian/app.json``; Obsidian's
        defaults (shortest, wikilinks) when the file or a key is missing or unreadable.
        Reads one file."""
        try:
            data = json.loads((root / ".obsidian" / "app.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        fmt = data.get("newLinkFormat")
        return cls(
            new_link_format=fmt if fmt in ("shortest", "relative", "absolute") else "shortest",
            use_markdown_links=data.get("useMarkdownLinks") is True,
        )


@dataclass(frozen=True)
class LinkChange:
    """One link rewritten in a note: as written before and after, its file line, and the
    vault path it points at."""

    old: str
    new: str
    line: int
    target: str = ""


@dataclass(frozen=True)
class BrokenLink:
    """A link to a moved note that was not rewritten (turned off, or impossible)."""

    path: str
    link: str
    line: int
    target: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "note": self.path,
            "link": self.link,
            "line": self.line,
            "target": self.target,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class NoteRelink:
    """What rewriting one note's links gives: the new bytes and each change.

    ``mapping`` (region → old link text → new link text) is what :func:`apply_relink`
    replays on the note as it is later (after a crash, or over an edit made meanwhile).
    ``broken``: links to moved notes that could not be rewritten.
    """

    path: str
    old_sha256: str
    data: bytes
    changes: tuple[LinkChange, ...]
    mapping: Mapping[str, Mapping[str, str]]
    broken: tuple[BrokenLink, ...] = ()
    old: bytes = b""
    """The note's bytes before the rewrite."""

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def diff(self) -> list[str]:
        """The changed lines as ``-old`` / ``+new`` pairs (``@@ line N`` before each run)."""
        before = self.old.decode("utf-8", "replace").splitlines()
        after = self.data.decode("utf-8", "replace").splitlines()
        out: list[str] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            out.append(f"@@ line {i1 + 1}")
            out.extend("-" + line for line in before[i1:i2])
            out.extend("+" + line for line in after[j1:j2])
        return out


# --- finding the links of a note -------------------------------------------------------------


@dataclass(frozen=True)
class _Occurrence:
    """One link found in a region: its text and offsets there, and the parsed link."""

    start: int
    end: int
    text: str
    wiki: WikiLink | None
    markdown: MarkdownLink | None


def _occurrences(text: str, *, body: bool) -> list[_Occurrence]:
    out = [
        _Occurrence(w.start, w.end, text[w.start : w.end], w, None)
        for w in find_links(text, skip_code=body, skip_comments=body)
    ]
    taken = [(o.start, o.end) for o in out]
    for m in find_markdown_links(text, skip_code=body, skip_comments=body):
        if any(s < m.end and m.start < e for s, e in taken):
            continue  # "[[a]](b)": the wikilink is the link
        out.append(_Occurrence(m.start, m.end, text[m.start : m.end], None, m))
    return sorted(out, key=lambda o: o.start)


def _replace(text: str, edits: Sequence[tuple[int, int, str]]) -> str:
    parts: list[str] = []
    pos = 0
    for start, end, new in sorted(edits):
        parts.append(text[pos:start])
        parts.append(new)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _map_links(text: str, mapping: Mapping[str, str], *, body: bool) -> str:
    """``text`` with every link whose text is in ``mapping`` replaced."""
    if not mapping:
        return text
    edits = [
        (o.start, o.end, mapping[o.text])
        for o in _occurrences(text, body=body)
        if o.text in mapping
    ]
    return _replace(text, edits) if edits else text


# --- frontmatter: edits that must read back as the intended values -------------------------


def _canon(value: Any) -> Any:
    """A value with every unquoted ``[[x]]`` (YAML reads it as ``[["x"]]``) as the string
    ``"[[x]]"``, so a rewritten link compares equal whether or not it was quoted."""
    if isinstance(value, list):
        if (
            len(value) == 1
            and isinstance(value[0], list)
            and len(value[0]) == 1
            and isinstance(value[0][0], str)
        ):
            return "[[" + value[0][0] + "]]"
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    return value


def _map_value(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _map_links(value, mapping, body=False)
    if isinstance(value, list):
        return [_map_value(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _map_value(v, mapping) for k, v in value.items()}
    return value


def _read(fm: str) -> dict[Any, Any] | None:
    try:
        values = load_values(fm)
    except SyncbridgeError:
        return None
    if values is None:
        return {}
    return values if isinstance(values, dict) else None


def _reads_as(fm: str, expected: Mapping[Any, Any]) -> bool:
    new = _read(fm)
    if new is None or list(new) != list(expected):
        return False
    return all(comparable(_canon(new[k])) == comparable(v) for k, v in expected.items())


def _escaped(fm: str, start: int, end: int, new: str) -> str:
    """``new`` escaped for the YAML quotes right around ``fm[start:end]``, if any."""
    before, after = fm[start - 1 : start], fm[end : end + 1]
    if before == after == '"':
        return new.replace("\\", "\\\\").replace('"', '\\"')
    if before == after == "'":
        return new.replace("'", "''")
    return new


_WHOLE_NODE_BEFORE = re.compile(r"(?:^|[:\-\[,])[ \t]*$")
_WHOLE_NODE_AFTER = re.compile(r"^[ \t]*(?:$|[,\]]|#)")


def _quoted(fm: str, start: int, end: int, new: str) -> str | None:
    """``new`` as a double-quoted YAML string when ``fm[start:end]`` is an unquoted link
    that is a whole value or list item; else None."""
    line_start = fm.rfind("\n", 0, start) + 1
    line_end = fm.find("\n", end)
    line_end = len(fm) if line_end < 0 else line_end
    if not _WHOLE_NODE_BEFORE.search(fm[line_start:start]) or not _WHOLE_NODE_AFTER.match(
        fm[end:line_end].rstrip("\r")
    ):
        return None
    return '"' + new.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rewrite_frontmatter(fm: str, edits: Sequence[tuple[_Occurrence, str]]) -> tuple[str, bool]:
    """Apply link ``edits`` to frontmatter text ``fm``; (new text, done). Not done: the
    text is unchanged (the YAML could not be read, or no edit reads back as intended)."""
    old = _read(fm)
    if old is None:
        return fm, False
    mapping = {o.text: new for o, new in edits}
    expected = {k: _map_value(_canon(v), mapping) for k, v in old.items()}
    # 1. only the link characters, escaped for the quotes around them
    plain = _replace(fm, [(o.start, o.end, _escaped(fm, o.start, o.end, new)) for o, new in edits])
    if _reads_as(plain, expected):
        return plain, True
    # 2. an unquoted link whose new name YAML would misread (", " in a flow list) gets quotes
    quoted = _replace(
        fm,
        [
            (o.start, o.end, _quoted(fm, o.start, o.end, new) or _escaped(fm, o.start, o.end, new))
            for o, new in edits
        ],
    )
    if _reads_as(quoted, expected):
        return quoted, True
    # 3. re-render each changed field in its own style (only its lines change)
    text = fm
    try:
        for key, value in expected.items():
            if comparable(_canon(old[key])) != comparable(value):
                text = set_key(text, key, value)
    except (SyncbridgeError, TypeError, ValueError):
        return fm, False
    if _reads_as(text, expected):
        return text, True
    return fm, False


# --- the planner -------------------------------------------------------------------------------


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def _stem(path: str) -> str:
    return path[:-3] if path.lower().endswith(".md") else path


def _md_encode(path: str, *, full: bool) -> str:
    if full:
        return urllib.parse.quote(path, safe="/")
    return "".join(urllib.parse.quote(c) if c in _MD_ENCODE else c for c in path)


@dataclass(frozen=True)
class _Broken:
    """A link that should change but cannot: why."""

    reason: str


_NO_TEXT = _Broken("no link text resolves to the moved note")
_NOT_WIKI = _Broken("the new name cannot be written as a wikilink in frontmatter")
Decide = Callable[[_Occurrence, "Region"], "str | _Broken | None"]
"""For one link of a region: its new text, ``None`` to leave it, or why it cannot change."""


@dataclass
class _NoteEdits:
    changes: list[LinkChange] = field(default_factory=list)
    broken: list[BrokenLink] = field(default_factory=list)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)


def _rewrite(
    path: str, data: bytes, decide: Decide, target_of: Callable[[_Occurrence, Region], str]
) -> tuple[bytes, _NoteEdits]:
    """The note's bytes with the links ``decide`` changes rewritten, and what changed."""
    text = decode(data, path=path)
    parts = split_text(text)
    result = _NoteEdits()
    breaks = [m.start() for m in re.finditer("\n", text)] if "[" in text else []

    def line_of(pos: int) -> int:
        return bisect.bisect_left(breaks, pos) + 1

    # A link's fate depends only on its text (and the note and region): decide each once.
    decided: dict[tuple[str, Region], str | _Broken | None] = {}
    targets: dict[str, str] = {}

    def decide_once(occ: _Occurrence, region: Region) -> str | _Broken | None:
        key = (occ.text, region)
        if key not in decided:
            decided[key] = decide(occ, region)
        return decided[key]

    def target_once(occ: _Occurrence, region: Region) -> str:
        if occ.text not in targets:
            targets[occ.text] = target_of(occ, region)
        return targets[occ.text]

    fm_start = len(parts.bom) + len(parts.opening)
    fm = parts.frontmatter
    regions: list[tuple[Region, str, int]] = []
    if fm is not None:
        regions.append(("frontmatter", fm, fm_start))
    body_start = fm_start + len(fm or "") + len(parts.closing)
    regions.append(("body", parts.body, body_start))
    new_regions: dict[Region, str] = {}
    for region, chunk, offset in regions:
        edits: list[tuple[_Occurrence, str]] = []
        for occ in _occurrences(chunk, body=region == "body"):
            new = decide_once(occ, region)
            line = line_of(offset + occ.start)
            if isinstance(new, _Broken):
                result.broken.append(
                    BrokenLink(path, occ.text, line, target_once(occ, region), new.reason)
                )
            elif new is not None and new != occ.text:
                edits.append((occ, new))
        if not edits:
            continue
        if region == "frontmatter":
            new_chunk, done = _rewrite_frontmatter(chunk, edits)
            if not done:
                for occ, _ in edits:
                    line = line_of(offset + occ.start)
                    result.broken.append(
                        BrokenLink(
                            path,
                            occ.text,
                            line,
                            target_once(occ, region),
                            "the frontmatter cannot be edited safely",
                        )
                    )
                continue
        else:
            new_chunk = _replace(chunk, [(o.start, o.end, new) for o, new in edits])
        new_regions[region] = new_chunk
        result.mapping[region] = {o.text: new for o, new in edits}
        for occ, new in edits:
            line = line_of(offset + occ.start)
            result.changes.append(LinkChange(occ.text, new, line, target_once(occ, region)))
    if not new_regions:
        return data, result
    out = (
        parts.bom
        + parts.opening
        + new_regions.get("frontmatter", fm or "")
        + parts.closing
        + new_regions.get("body", parts.body)
    )
    return out.encode("utf-8"), result


class RelinkPlanner:
    """Finds and rewrites the links to moved notes (see the module docstring).

    ``paths_after``: every note of the vault after the moves (vault-relative POSIX);
    ``moves``: old path → new path; ``aliases_after``: note path (after) → its ``aliases``.
    Builds two resolvers once; :meth:`relink` is then one pass over a note's text.
    """

    def __init__(
        self,
        paths_after: Iterable[str],
        moves: Mapping[str, str],
        *,
        style: LinkStyle | None = None,
        aliases_after: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.moves = dict(moves)
        self.style = style or LinkStyle()
        self._back = {new: old for old, new in self.moves.items()}
        after = list(dict.fromkeys(paths_after))
        before = [self._back.get(p, p) for p in after]
        aliases = dict(aliases_after or {})
        self.after = LinkResolver(after, aliases)
        self.before = LinkResolver(before, {self._back.get(p, p): a for p, a in aliases.items()})
        self._cache: dict[tuple[int, str, str], list[str]] = {}
        self._names = {
            _key(posixpath.basename(_stem(p))) for move in self.moves.items() for p in move
        }
        needles: set[str] = set()
        for old, new in self.moves.items():
            for p in (old, new):
                stem = posixpath.basename(_stem(p))
                for form in (stem, unicodedata.normalize("NFD", stem)):
                    needles.add(form.casefold())
                    needles.add(urllib.parse.quote(form).casefold())
                    needles.add(form.replace(" ", "%20").casefold())
        self._needles = tuple(sorted(n for n in needles if n))

    def might_link(self, data: bytes) -> bool:
        """Whether a note holding ``data`` can contain a link this planner changes (a cheap
        test on the names of the moved notes; False means certainly not)."""
        if b"[[" not in data and b"](" not in data:
            return False
        text = data.decode("utf-8", "replace").casefold()
        return any(n in text for n in self._needles)

    # -- deciding one link --------------------------------------------------------------------

    def _candidates(self, which: LinkResolver, target: str, source: str) -> list[str]:
        """``which.candidates(target, source)``, cached: for a non-empty target the answer
        depends on the source's folder only, and the notes of a folder share links."""
        key = (id(which), target, posixpath.dirname(source))
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = which.candidates(target, source)
        return found

    def _resolve(self, which: LinkResolver, target: str, source: str) -> str | None:
        found = self._candidates(which, target, source)
        return found[0] if found else None

    def _dest(self, target: str, source: str) -> tuple[str | None, bool]:
        """(where ``target`` must point from ``source`` after the moves, whether it already
        does as written); (None, True) for a link that is not ours to change."""
        if not target.strip():
            return None, True  # [[#Heading]]: this very note, wherever it is
        if (
            source not in self._back
            and _key(posixpath.basename(_stem(target.strip()))) not in self._names
        ):
            return None, True  # names no moved note, from a note that stayed: unchanged
        before = self._resolve(self.before, target, self._back.get(source, source))
        if before is None:
            return None, True  # resolved to nothing before: not ours to fix
        dest = self.moves.get(before, before)
        return dest, self._resolve(self.after, target, source) == dest

    def _resolves(self, target: str, source: str, dest: str) -> bool:
        """Whether ``target`` means ``dest`` and nothing else after the moves (a new link
        is never left to a tie-break)."""
        return self._candidates(self.after, target, source) == [dest]

    def _shapes(self, dest: str, source: str, had_md: bool) -> list[str]:
        """Targets for ``dest`` in the vault's new-link format, best first, then safer."""
        stem = _stem(dest)
        ext = ".md" if had_md else ""
        parts = stem.split("/")
        suffixes = ["/".join(parts[-n:]) + ext for n in range(1, len(parts) + 1)]
        folder = posixpath.dirname(source)
        rel = posixpath.relpath(stem, folder or ".") + ext
        relative = [rel] if rel.startswith("../") else [rel, "./" + rel]
        fmt = self.style.new_link_format
        if fmt == "relative":
            return [*relative, stem + ext]
        if fmt == "absolute":
            return [stem + ext, "/" + stem + ext]
        return [*suffixes, "/" + stem + ext]

    def _target_for(self, written: str, dest: str, source: str) -> tuple[str | None, bool]:
        """A target for ``dest`` in the form of ``written``; (target, changed shape)."""
        core = written.strip()
        lead = written[: len(written) - len(written.lstrip())]
        trail = written[len(written.rstrip()) :]
        had_md = core.lower().endswith(".md")
        stem = _stem(dest)
        ext = ".md" if had_md else ""
        before = self._resolve(self.before, core, self._back.get(source, source)) if core else None
        if core.startswith(("./", "../")):
            rel = posixpath.relpath(stem, posixpath.dirname(source) or ".") + ext
            same = [rel if rel.startswith("../") or not core.startswith("./") else "./" + rel]
        elif core.startswith("/"):
            same = ["/" + stem + ext]
        elif "/" in core:
            if before is not None and _key(_stem(core)) == _key(_stem(before)):
                same = [stem + ext]  # a whole vault path
            else:
                depth = core.count("/") + 1
                same = ["/".join(stem.split("/")[-depth:]) + ext]
        else:
            same = [posixpath.basename(stem) + ext]
        for candidate in same:
            if self._resolves(candidate, source, dest):
                return lead + candidate + trail, False
        for candidate in self._shapes(dest, source, had_md):
            if self._resolves(candidate, source, dest):
                return lead + candidate + trail, True
        return None, True

    def _decide(self, source: str) -> Decide:
        def decide(occ: _Occurrence, region: Region) -> str | _Broken | None:
            if occ.wiki is not None:
                return self._decide_wiki(occ, occ.wiki, source, region)
            assert occ.markdown is not None
            return self._decide_markdown(occ, occ.markdown, source)

        return decide

    def _decide_wiki(
        self, occ: _Occurrence, link: WikiLink, source: str, region: Region
    ) -> str | _Broken | None:
        dest, fine = self._dest(link.target, source)
        if dest is None or fine:
            return None
        target, reshaped = self._target_for(link.target, dest, source)
        wiki_ok = target is not None and not (_WIKI_FORBIDDEN & set(target))
        to_markdown = region == "body" and (
            not wiki_ok or (reshaped and self.style.use_markdown_links)
        )
        if to_markdown:
            return self._wiki_as_markdown(link, dest, source) or _NO_TEXT
        if target is None:
            return _NO_TEXT
        if not wiki_ok:
            return _NOT_WIKI
        head = (1 if link.embed else 0) + 2
        return occ.text[:head] + target + occ.text[head + len(link.target) :]

    def _wiki_as_markdown(self, link: WikiLink, dest: str, source: str) -> str | None:
        for candidate in self._shapes(dest, source, True):
            if self._resolves(candidate, source, dest):
                label = link.alias if link.alias is not None else posixpath.basename(_stem(dest))
                if link.embed and link.alias is None:
                    label = ""
                fragment = ""
                if link.heading is not None:
                    fragment = "#" + _md_encode(link.heading, full=False)
                elif link.block is not None:
                    fragment = "#^" + link.block
                bang = "!" if link.embed else ""
                return f"{bang}[{label}]({_md_encode(candidate, full=False)}{fragment})"
        return None

    def _decide_markdown(
        self, occ: _Occurrence, link: MarkdownLink, source: str
    ) -> str | _Broken | None:
        dest, fine = self._dest(link.path, source)
        if dest is None or fine:
            return None
        target, _ = self._target_for(link.path, dest, source)
        if target is None:
            return _NO_TEXT
        raw = occ.text[link.path_start - link.start : link.path_end - link.start]
        if link.angle:
            if "<" in target or ">" in target:
                return _Broken("the new name cannot be written between < >")
            written = target
        else:
            full = any(ord(c) > 127 for c in link.path) and raw.isascii()
            written = _md_encode(target, full=full)
        rel_start, rel_end = link.path_start - link.start, link.path_end - link.start
        return occ.text[:rel_start] + written + occ.text[rel_end:]

    def _target_of(self, source: str) -> Callable[[_Occurrence, Region], str]:
        def target_of(occ: _Occurrence, region: Region) -> str:
            target = (
                occ.wiki.target
                if occ.wiki is not None
                else (occ.markdown.path if occ.markdown is not None else "")
            )
            dest, _ = self._dest(target, source)
            return dest or target

        return target_of

    # -- a whole note --------------------------------------------------------------------------

    def relink(self, path: str, data: bytes, *, sha256: str = "") -> NoteRelink:
        """The note at ``path`` (its path after the moves) holding ``data``, with its links
        rewritten. ``NoteError`` if it is not UTF-8 (then it is left alone)."""
        new, edits = _rewrite(path, data, self._decide(path), self._target_of(path))
        return NoteRelink(
            path, sha256, new, tuple(edits.changes), edits.mapping, tuple(edits.broken), old=data
        )


def apply_relink(path: str, data: bytes, mapping: Mapping[str, Mapping[str, str]]) -> bytes:
    """Replay a recorded rewrite (:attr:`NoteRelink.mapping`) on the note as it is now:
    every link whose text is one the rewrite changed is replaced the same way, so a note
    edited since keeps that edit and still gets its links fixed. Pure; ``NoteError`` if
    the note is not UTF-8; a frontmatter that cannot be edited safely is left as it is."""
    lookup = {region: dict(m) for region, m in mapping.items()}

    def decide(occ: _Occurrence, region: Region) -> str | _Broken | None:
        return lookup.get(region, {}).get(occ.text)

    new, _ = _rewrite(path, data, decide, lambda occ, region: "")
    return new
