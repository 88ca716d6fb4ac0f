"""Field types inferred from the values seen across notes (vaults without a schema).

Pure functions. The rules, in order, over a key's non-empty values (``None`` and ``""``
carry no type and are skipped):

1. ``tags``, ``aliases``, ``cssclasses`` → Multi (Obsidian's own list properties);
2. all booleans → Boolean; all numbers → Number;
3. dates / date-times / times (YAML timestamps, or strings in one of
   :data:`CANDIDATE_FORMATS`), at least :data:`TEMPORAL_SHARE` of the values → Date,
   DateTime or Time with the most common format;
4. all wikilinks → File; lists (or lists and single strings) of wikilinks → MultiFile,
   of mappings → ObjectList (JSON), of other scalars → Multi;
5. mappings → YAML (JSON); anything else → Input.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from syncbridge.schema.dateformat import moment_format
from syncbridge.schema.model import FieldKind, FieldSpec, FieldType

__all__ = [
    "CANDIDATE_FORMATS",
    "LIST_PROPERTIES",
    "detect_date_format",
    "infer_field",
    "infer_fields",
]

LIST_PROPERTIES = frozenset({"tags", "aliases", "cssclasses"})

CANDIDATE_FORMATS: tuple[str, ...] = (
    "YYYY-MM-DD",
    "YYYY-MM-DD HH:mm",
    "YYYY-MM-DD[T]HH:mm",
    "YYYY-MM-DD HH:mm:ss",
    "YYYY-MM-DD[T]HH:mm:ss",
    "YYYY-MM-DD, HH:mm",
    "YYYY.MM.DD HH:mm:ss.SSS ZZ",
    "YYYY.MM.DD HH:mm:ss.SSSZ",
    "dddd, MMMM Do YYYY, h:mm:ss a",
    "YYYY/MM/DD",
    "YYYY/MM/DD HH:mm",
    "HH:mm",
    "HH:mm:ss",
)
"""String layouts recognised as dates, most specific meaning first."""

TEMPORAL_SHARE = 0.9
"""Share of a key's values that must be dates for it to be typed as a date: real vaults
mix in the odd hand-typed value, which then stays as it is (and ``doctor`` reports it)."""

_WIKILINK_RE = re.compile(r"!?\[\[[^\[\]]+\]\]")
_DIGIT_RE = re.compile(r"\d")


def _is_link(value: Any) -> bool:
    if isinstance(value, str):
        return _WIKILINK_RE.fullmatch(value.strip()) is not None
    # an unquoted [[X]] that YAML read as a nested list
    return (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], list)
        and len(value[0]) == 1
        and isinstance(value[0][0], str)
    )


def detect_date_format(value: Any) -> str | None:
    """The moment format a single value is written in, or ``None`` if it is not a date.

    YAML timestamps: ``date`` → ``YYYY-MM-DD``; ``datetime`` → ISO with ``T`` (ruamel
    ``TimeStamp`` objects remember a space separator); ``time`` → ``HH:mm[:ss]``.
    """
    if isinstance(value, dt.datetime):
        yaml_info = getattr(value, "_yaml", None)
        sep = " " if isinstance(yaml_info, dict) and yaml_info.get("t") is False else "[T]"
        return f"YYYY-MM-DD{sep}HH:mm:ss"
    if isinstance(value, dt.date):
        return "YYYY-MM-DD"
    if isinstance(value, dt.time):
        return "HH:mm:ss" if value.second else "HH:mm"
    if not isinstance(value, str):
        return None
    return _text_date_format(value.strip())


@functools.lru_cache(maxsize=16384)
def _text_date_format(text: str) -> str | None:
    # Memoised: a vault repeats the same strings (statuses, years, times) across notes.
    if not _DIGIT_RE.search(text):
        return None  # every candidate layout has digits: a cheap reject for plain text
    for fmt in CANDIDATE_FORMATS:
        if moment_format(fmt).parse(text) is not None:
            return fmt
    return None


def _temporal(name: str, values: Sequence[Any]) -> FieldSpec | None:
    allowed_misses = int((1 - TEMPORAL_SHARE) * len(values) + 1e-9)
    formats: list[str | None] = []
    misses = 0
    for value in values:
        found = detect_date_format(value)
        if found is None:
            misses += 1
            if misses > allowed_misses:
                return None  # stop early: most keys are not dates
        formats.append(found)
    counts = Counter(f for f in formats if f is not None)
    compiled = {f: moment_format(f) for f in counts}
    if all(not c.has_date for c in compiled.values()):
        ftype, kind = FieldType.TIME, FieldKind.TIME
    elif any(not c.has_date for c in compiled.values()):
        return None  # times mixed with dates: not one type
    elif all(not c.has_time for c in compiled.values()):
        ftype, kind = FieldType.DATE, FieldKind.DATE
    else:
        ftype, kind = FieldType.DATETIME, FieldKind.DATETIME
        counts = Counter({f: n for f, n in counts.items() if compiled[f].has_time})
    best = max(
        counts.items(),
        key=lambda item: (
            item[1],
            -CANDIDATE_FORMATS.index(item[0]) if item[0] in CANDIDATE_FORMATS else 0,
        ),
    )[0]
    return FieldSpec(
        name=name, type=ftype, kind=kind, options={"dateFormat": best}, origin="inferred"
    )


def infer_field(name: str, values: Iterable[Any]) -> FieldSpec:
    """The field that best types ``values`` (every value seen for key ``name``); see the
    module docstring for the rules. Always returns a spec (Input when in doubt)."""
    seen = [v for v in values if v is not None and v != ""]

    def spec(ftype: FieldType, kind: FieldKind) -> FieldSpec:
        return FieldSpec(name=name, type=ftype, kind=kind, origin="inferred")

    if name in LIST_PROPERTIES:
        return spec(FieldType.MULTI, FieldKind.LIST)
    if not seen:
        return spec(FieldType.INPUT, FieldKind.TEXT)
    if all(isinstance(v, bool) for v in seen):
        return spec(FieldType.BOOLEAN, FieldKind.BOOLEAN)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
        return spec(FieldType.NUMBER, FieldKind.NUMBER)
    if all(isinstance(v, str | dt.date | dt.time) for v in seen):
        temporal = _temporal(name, seen)
        if temporal is not None:
            return temporal
    if all(_is_link(v) for v in seen):
        return spec(FieldType.FILE, FieldKind.LINK)
    if any(isinstance(v, list) and not _is_link(v) for v in seen) and all(
        (isinstance(v, list) and not _is_link(v)) or isinstance(v, str) or _is_link(v) for v in seen
    ):
        items: list[Any] = []
        for v in seen:
            items.extend(v if isinstance(v, list) and not _is_link(v) else [v])
        items = [i for i in items if i is not None and i != ""]
        if items and all(_is_link(i) for i in items):
            return spec(FieldType.MULTIFILE, FieldKind.LINKS)
        if items and all(isinstance(i, Mapping) for i in items):
            return spec(FieldType.OBJECT_LIST, FieldKind.JSON)
        if all(not isinstance(i, Mapping | list) for i in items):
            return spec(FieldType.MULTI, FieldKind.LIST)
        return spec(FieldType.YAML, FieldKind.JSON)
    if any(isinstance(v, Mapping | list) for v in seen):
        return spec(FieldType.YAML, FieldKind.JSON)
    return spec(FieldType.INPUT, FieldKind.TEXT)


def infer_fields(
    frontmatters: Iterable[Mapping[str, Any]], *, skip: Iterable[str] = ()
) -> dict[str, FieldSpec]:
    """One inferred field per key seen in ``frontmatters``, in order of first appearance;
    keys in ``skip`` (e.g. the fileClass key) are left out."""
    skipped = set(skip)
    values: dict[str, list[Any]] = {}
    for fm in frontmatters:
        for key, value in fm.items():
            if isinstance(key, str) and key not in skipped:
                values.setdefault(key, []).append(value)
    return {key: infer_field(key, vals) for key, vals in values.items()}
