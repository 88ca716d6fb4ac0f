"""Canonical field values ⇄ Notion property values, per Notion property type.

:func:`encode` gives the request value to send for a canonical value and the *cell*: the
canonical reading (:func:`decode`) of what Notion will answer. When the cell is not
exactly the value (a list in a text field, a select value with a comma, a link to a note
that is not synced, ``5.0`` that Notion returns as ``5``, an aware date-time...), the
value is carried exactly in the page's fallback property, as ``[cell, value]`` like the
SQLite codec's ``_exact`` column: on reading, that value is used while the property still
holds the same cell; once someone edits the property in Notion, the property wins. So
nothing Notion cannot hold is ever altered silently, and nothing is dropped on a pull.

The fallback property also says which held fields were absent from the note and which
were present but null (Notion has no "absent": an empty checkbox is ``false``).

Long text is split into runs of at most 2,000 UTF-16 code units (Notion counts as
JavaScript does) and joined back. A text property's mentions read as links that are sent
back as the same mentions (:mod:`.property_mentions`); its formatting in Notion is kept
by the writer on a push (:mod:`.property_styles`), not here. Pure functions, no I/O.

>>> ctx = PropertyContext()
>>> encode("rich_text", "a" * 2001, ctx).request["rich_text"][1]["text"]["content"]
'a'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zoneinfo
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbridge.adapter import MISSING
from syncbridge_notion.property_mentions import rich_text_of, text_of

__all__ = [
    "EMPTY_CELLS",
    "MAX_ITEMS",
    "MAX_RUN",
    "Encoded",
    "Fallback",
    "PropertyContext",
    "decode",
    "encode",
    "exact_equal",
    "join_rich_text",
    "split_text",
    "text_runs",
]

MAX_RUN = 2000
"""Longest ``text.content`` Notion accepts, in UTF-16 code units."""
MAX_ITEMS = 100
"""Longest rich-text, multi_select, relation or files array Notion accepts."""
MAX_OPTION = 100
"""Longest select option name (a limit users hit; see docs/notion.md)."""
MAX_URL = 2000

EMPTY_CELLS: Mapping[str, Any] = {
    "title": "",
    "rich_text": "",
    "number": None,
    "select": None,
    "status": None,
    "multi_select": [],
    "checkbox": False,
    "date": None,
    "relation": [],
    "files": [],
    "url": None,
}
"""The cell of each property type when nothing is set (what an absent field reads as)."""

_URL_RE = re.compile(r"https?://[^\s<>\"]+\Z")
_LINK_RE = re.compile(r"!?\[\[([^\[\]|#^]*)(?:[#^][^\[\]|]*)?(?:\|[^\[\]]*)?\]\]\Z")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_RUN) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-16 code units, never inside a
    surrogate pair; ``"".join`` gives ``text`` back. Empty text gives no pieces."""
    pieces: list[str] = []
    start = 0
    units = 0
    for i, ch in enumerate(text):
        width = 2 if ord(ch) > 0xFFFF else 1
        if units + width > limit:
            pieces.append(text[start:i])
            start, units = i, 0
        units += width
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def text_runs(text: str) -> list[dict[str, Any]]:
    """A request rich-text array holding ``text`` as plain runs of ≤ 2,000 units."""
    return [{"type": "text", "text": {"content": piece}} for piece in split_text(text)]


def join_rich_text(items: Sequence[Mapping[str, Any]]) -> str:
    """The plain text of a response (or request) rich-text array."""
    out: list[str] = []
    for item in items:
        plain = item.get("plain_text")
        if isinstance(plain, str):
            out.append(plain)
            continue
        text = item.get("text")
        if isinstance(text, Mapping) and isinstance(text.get("content"), str):
            out.append(text["content"])
    return "".join(out)


def exact_equal(a: Any, b: Any) -> bool:
    """``a == b`` that also tells ``1`` from ``1.0`` from ``True``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(exact_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exact_equal(a[k], b[k]) for k in a)
    return bool(a == b)


@dataclass
class PropertyContext:
    """What value mapping needs beyond the value: the zone of the vault's local
    date-times, and how wikilinks map to Notion pages of a relation's data source.

    ``resolve(link_target, data_source_id)`` returns the page id of the note a wikilink
    names, or ``None`` when it is not synced there; ``title_of(page_id)`` gives back the
    title to write the link with.
    """

    timezone: str | None = None
    resolve: Callable[[str, str], str | None] = lambda _target, _source: None
    title_of: Callable[[str], str | None] = lambda _page: None

    def zone(self) -> dt.tzinfo | None:
        return zoneinfo.ZoneInfo(self.timezone) if self.timezone else None


@dataclass(frozen=True)
class Encoded:
    """A request value (``{"rich_text": [...]}``) and the cell Notion will read back."""

    request: dict[str, Any]
    cell: Any


# -- dates -------------------------------------------------------------------------------

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_NAIVE_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?\Z")


def _canonical_dt(value: dt.datetime) -> str:
    if value.microsecond:
        spec = "microseconds"
    elif value.second:
        spec = "seconds"
    else:
        spec = "minutes"
    return value.isoformat(timespec=spec)


def _encode_date(value: Any, ctx: PropertyContext) -> dict[str, Any] | None:
    """A date property value for a canonical date or naive date-time, else ``None``."""
    if not isinstance(value, str):
        return None
    if _DATE_RE.match(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return None
        return {"start": value}
    if not _NAIVE_RE.match(value):
        return None  # aware or odd: Notion would render it in another form; kept exactly
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if ctx.timezone:
        return {"start": moment.isoformat(timespec="milliseconds"), "time_zone": ctx.timezone}
    aware = moment.astimezone()  # this machine's zone, with its DST rules
    return {"start": aware.isoformat(timespec="milliseconds")}


def _decode_date(value: Any, ctx: PropertyContext) -> Any:
    if not isinstance(value, Mapping) or not isinstance(value.get("start"), str):
        return None
    start: str = value["start"]
    if _DATE_RE.match(start):
        return start
    try:
        moment = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return start
    if moment.tzinfo is None:
        zone_name = value.get("time_zone")
        if isinstance(zone_name, str) and zone_name and zone_name != ctx.timezone:
            try:
                moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                return _canonical_dt(moment)
        else:
            return _canonical_dt(moment)
    zone = ctx.zone()
    local = moment.astimezone(zone) if zone else moment.astimezone()
    return _canonical_dt(local.replace(tzinfo=None))


# -- links -------------------------------------------------------------------------------


def link_target(text: str) -> str | None:
    """The note name a wikilink ``[[Folder/Name#h|alias]]`` points at (``Folder/Name``)."""
    match = _LINK_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    target = match.group(1).strip()
    return target or None


def _encode_relation(value: Any, ctx: PropertyContext, source: str) -> Encoded:
    links = value if isinstance(value, list) else [value]
    ids: list[str] = []
    cells: list[str] = []
    for link in links:
        target = link_target(link) if isinstance(link, str) else None
        page = ctx.resolve(target, source) if target else None
        if page is None or page in ids:
            continue  # not synced (or twice): only the fallback carries it
        ids.append(page)
        cells.append(f"[[{ctx.title_of(page) or target}]]")
    if len(ids) > MAX_ITEMS:
        ids, cells = [], []
    # one link (a File field) reads back as one link, anything else as a list
    cell: Any = (cells[0] if cells else None) if isinstance(value, str) else cells
    return Encoded({"relation": [{"id": i} for i in ids]}, cell)


def decode_relation(ids: Sequence[str], ctx: PropertyContext, single: bool) -> Any:
    """Relation page ids as wikilinks ``[[Title]]`` (a single link for File fields)."""
    links = [f"[[{ctx.title_of(i) or i}]]" for i in ids]
    if single:
        return links[0] if len(links) == 1 else (links or None)
    return links


# -- encode / decode ---------------------------------------------------------------------


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _option_ok(name: Any) -> bool:
    return isinstance(name, str) and "," not in name and 0 < len(name) <= MAX_OPTION


def encode(
    ntype: str,
    value: Any,
    ctx: PropertyContext,
    *,
    source: str = "",
    options: Collection[str] = (),
) -> Encoded:
    """The request value and read-back cell of canonical ``value`` in a property of type
    ``ntype`` (``source``: a relation's data source id; ``options``: a status property's
    option names). ``None`` clears the property.

    A status value must name one of ``options``: the API can neither add a status option
    nor set a value that names none (Notion answers 400), so any other value clears the
    property and rides in the fallback.

    >>> encode("status", "Doing", PropertyContext(), options=("Doing",)).request
    {'status': {'name': 'Doing'}}
    >>> encode("status", "Blocked", PropertyContext(), options=("Doing",))
    Encoded(request={'status': None}, cell=None)
    """
    if value is None:
        return Encoded(_empty_request(ntype), EMPTY_CELLS.get(ntype))
    if ntype in ("title", "rich_text"):
        text = value if isinstance(value, str) else _json_text(value)
        # a text's exact mention spellings are the mentions again (property_mentions)
        runs = (rich_text_of(text) if isinstance(value, str) else None) or text_runs(text)
        if len(runs) > MAX_ITEMS:
            return Encoded({ntype: []}, "")
        return Encoded({ntype: runs}, text)
    if ntype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Encoded({"number": None}, None)
        if isinstance(value, float) and not math.isfinite(value):
            return Encoded({"number": None}, None)
        if isinstance(value, int) and abs(value) > 2**53:
            return Encoded({"number": None}, None)  # JSON numbers past 2**53 lose digits
        return Encoded({"number": value}, value)
    if ntype == "checkbox":
        if isinstance(value, bool):
            return Encoded({"checkbox": value}, value)
        return Encoded({"checkbox": False}, False)
    if ntype == "select":
        if _option_ok(value):
            return Encoded({"select": {"name": value}}, value)
        return Encoded({"select": None}, None)
    if ntype == "status":
        if isinstance(value, str) and value in options:
            return Encoded({"status": {"name": value}}, value)
        return Encoded({"status": None}, None)
    if ntype == "multi_select":
        items = value if isinstance(value, list) else [value]
        names: list[str] = []
        for item in items:
            if _option_ok(item) and item not in names:
                names.append(item)
        if len(names) > MAX_ITEMS:
            names = []
        return Encoded({"multi_select": [{"name": n} for n in names]}, names)
    if ntype == "date":
        date = _encode_date(value, ctx)
        if date is None:
            return Encoded({"date": None}, None)
        return Encoded({"date": date}, _decode_date(date, ctx))
    if ntype == "relation":
        return _encode_relation(value, ctx, source)
    if ntype == "files":
        items = value if isinstance(value, list) else [value]
        urls = [u for u in items if isinstance(u, str) and _URL_RE.match(u) and len(u) <= MAX_URL]
        urls = urls[:MAX_ITEMS]
        files = [{"name": u[-100:], "type": "external", "external": {"url": u}} for u in urls]
        cell: Any = (urls[0] if urls else None) if isinstance(value, str) else urls
        return Encoded({"files": files}, cell)
    if ntype == "url":
        if isinstance(value, str) and len(value) <= MAX_URL:
            return Encoded({"url": value}, value)
        return Encoded({"url": None}, None)
    raise ValueError(f"cannot encode into a {ntype!r} property")


def _empty_request(ntype: str) -> dict[str, Any]:
    empty = EMPTY_CELLS.get(ntype)
    if ntype in ("title", "rich_text"):
        return {ntype: []}
    return {ntype: [] if isinstance(empty, list) else empty}


def decode(
    ntype: str, prop: Mapping[str, Any], ctx: PropertyContext, *, single: bool = False
) -> Any:
    """The canonical cell of a response property value (``{"type": ..., <type>: ...}``).
    ``single``: a relation/files property of a one-value field (File, Media)."""
    value = prop.get(ntype)
    if ntype in ("title", "rich_text"):
        return text_of(value or [])
    if ntype == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if ntype == "checkbox":
        return bool(value)
    if ntype in ("select", "status"):
        return value.get("name") if isinstance(value, Mapping) else None
    if ntype == "multi_select":
        return [o.get("name") for o in value or [] if isinstance(o, Mapping)]
    if ntype == "date":
        return _decode_date(value, ctx)
    if ntype == "relation":
        ids = [r.get("id") for r in value or [] if isinstance(r, Mapping)]
        return decode_relation([i for i in ids if isinstance(i, str)], ctx, single)
    if ntype == "files":
        urls: list[str] = []
        for f in value or []:
            if isinstance(f, Mapping) and f.get("type") == "external":
                url = (f.get("external") or {}).get("url")
                if isinstance(url, str):
                    urls.append(url)
            elif isinstance(f, Mapping):
                urls.append(str(f.get("name", "")))  # Notion-hosted: the URL expires
        if single:
            return urls[0] if len(urls) == 1 else (urls or None)
        return urls
    if ntype == "url":
        return value if isinstance(value, str) else None
    if ntype == "formula" and isinstance(value, Mapping):
        return value.get(value.get("type", ""))
    return value


# -- the fallback property ---------------------------------------------------------------


@dataclass
class Fallback:
    """What the fallback property carries: exact values (``{field: [cell, value]}``),
    held fields absent from the note, held fields present as null, and relation/files
    fields holding one link rather than a list (``one``: a File field, read on a machine
    that has not seen the vault's schema)."""

    exact: dict[str, list[Any]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    null: list[str] = field(default_factory=list)
    one: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None
    """How the note body differs from the canonical rendering of its blocks (see
    ``body.layout_of``): a machine with no prior reads the body back byte for byte."""

    def is_empty(self) -> bool:
        return not (self.exact or self.absent or self.null or self.one or self.body)

    def to_text(self) -> str:
        """The JSON text stored (empty when there is nothing to carry)."""
        if self.is_empty():
            return ""
        # Sorted by name only where order carries nothing (field names, name lists): a
        # value keeps its mappings' key order, the note's (``sort_keys`` would reorder a
        # list of mappings, and a value read back would then render another cell text
        # than the one in the page, and come back to a fresh machine reordered).
        data: dict[str, Any] = {"v": 1}
        if self.exact:
            data["exact"] = {k: self.exact[k] for k in sorted(self.exact)}
        if self.absent:
            data["absent"] = sorted(self.absent)
        if self.null:
            data["null"] = sorted(self.null)
        if self.one:
            data["one"] = sorted(self.one)
        if self.body:
            data["body"] = self.body
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_text(cls, text: str) -> Fallback:
        """Lenient: text someone mangled in Notion reads as an empty fallback."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        exact = data.get("exact")
        absent = data.get("absent")
        null = data.get("null")
        one = data.get("one")
        body = data.get("body")
        return cls(
            exact={
                k: v
                for k, v in (exact.items() if isinstance(exact, dict) else ())
                if isinstance(v, list) and len(v) == 2
            },
            absent=[a for a in absent if isinstance(a, str)] if isinstance(absent, list) else [],
            null=[a for a in null if isinstance(a, str)] if isinstance(null, list) else [],
            one=[a for a in one if isinstance(a, str)] if isinstance(one, list) else [],
            body=body if isinstance(body, dict) else None,
        )

    def value_of(self, name: str, cell: Any, empty: Any) -> Any:
        """The canonical value of field ``name`` whose property reads ``cell`` (``MISSING``
        when the field is absent from the note)."""
        entry = self.exact.get(name)
        if entry is not None and (
            exact_equal(entry[0], cell)
            # written while the field had no property (one was added since, and nobody
            # set it): the value as written
            or (entry[0] is None and exact_equal(cell, empty))
        ):
            return entry[1]
        if entry is not None:
            shown = _same_json_text(entry[0], cell)
            if shown is not None:
                # the cell shows the value with its mappings' keys in another order (a
                # fallback written with sorted keys): the value, in the cell's order
                return in_key_order(entry[1], shown)
        if exact_equal(cell, empty) or (cell is None and empty is not False):
            if name in self.null:
                return None
            if name in self.absent or empty is None or empty == "" or empty == []:
                return MISSING
        return cell


def _same_json_text(written: Any, cell: Any) -> Any:
    """The JSON that text ``cell`` holds when it is the same as text ``written`` but for
    the order of mappings' keys (else ``None``). Reads nothing."""
    if not (isinstance(written, str) and isinstance(cell, str)) or written == cell:
        return None
    if not (cell.startswith(("[", "{")) and written.startswith(("[", "{"))):
        return None
    try:
        shown, was = json.loads(cell), json.loads(written)
    except ValueError:
        return None
    return shown if exact_equal(shown, was) else None


def in_key_order(value: Any, template: Any) -> Any:
    """``value`` with each mapping's keys in the order of the mapping at the same place in
    ``template`` (one of the same shape: a parsed cell text), where it has the same keys;
    the rest as it is. A new value (``value`` is not changed)."""
    if isinstance(value, dict) and isinstance(template, dict):
        keys = [k for k in template if k in value]
        if len(keys) != len(value):
            return value
        return {k: in_key_order(value[k], template[k]) for k in keys}
    if isinstance(value, list) and isinstance(template, list) and len(value) == len(template):
        return [in_key_order(v, t) for v, t in zip(value, template, strict=True)]
    return value


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
