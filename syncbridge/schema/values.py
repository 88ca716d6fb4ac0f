"""Typing frontmatter values through the schema: YAML value ⇄ canonical value.

:func:`to_canonical` turns what the YAML loader returned for a field into the canonical
form of the field's :class:`~syncbridge.schema.model.FieldKind` (see its docstring and
``syncbridge.adapter``), e.g. a Metadata Menu DateTime ``"2025-07-05 16:56"`` with
``dateFormat: YYYY-MM-DD HH:mm`` becomes ``"2025-07-05T16:56"``. :func:`to_yaml_value`
goes back, rendering a canonical value in the note's own format and keeping the previous
value's exact Python object whenever it already means the same thing, so an unchanged
value never changes bytes.

Both directions never lose data: a value that does not fit its field (``"someday"`` in a
Date field, a mapping in a Number field) is returned unchanged.

Canonical date-times are minimal ISO 8601: ``"YYYY-MM-DDTHH:MM"``, with ``:SS`` only when
the seconds are not zero, a fraction only when not zero, and an offset only for aware
values (naive = vault-local time). See :func:`canonical_datetime`.

All functions are pure except that a ``tz`` of ``None`` means the machine's local zone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.timestamp import TimeStamp

from syncbridge.adapter import MISSING, canonical
from syncbridge.schema.dateformat import moment_format
from syncbridge.schema.model import FieldKind, FieldSpec, FieldType

__all__ = [
    "DEFAULT_DATE_FORMATS",
    "canonical_datetime",
    "canonical_time",
    "date_format_of",
    "format_vault_datetime",
    "parse_temporal",
    "parse_vault_datetime",
    "resolve_tz",
    "to_canonical",
    "to_yaml_value",
]

DEFAULT_DATE_FORMATS: Mapping[FieldKind, str] = {
    FieldKind.DATE: "YYYY-MM-DD",
    FieldKind.DATETIME: "YYYY-MM-DD HH:mm",
    FieldKind.TIME: "HH:mm",
}
"""Metadata Menu's default ``dateFormat`` per kind (``DefaultOptions`` in its models)."""

_ISO_STYLE_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?P<sep>[Tt ])(?P<hm>\d{2}:\d{2})"
    r"(?::(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))?)?(?P<space>\s*)(?P<off>[Zz]|[+-]\d{2}:?\d{2})?"
)
_WIKILINK_RE = re.compile(r"!?\[\[[^\[\]]+\]\]")
_CANONICAL_TIME_RE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
_CANONICAL_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
)
_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")


# --------------------------------------------------------------------------- helpers


def canonical_datetime(value: dt.datetime) -> str:
    """Minimal ISO 8601 text of ``value``: ``2025-07-05T16:56``; seconds and fraction
    only when non-zero; ``+HH:MM`` offset only when ``value`` is aware."""
    if value.microsecond:
        spec = "microseconds"
    elif value.second:
        spec = "seconds"
    else:
        spec = "minutes"
    return value.isoformat(timespec=spec)


def canonical_time(value: dt.time) -> str:
    """``"HH:MM"``, with ``:SS`` (and fraction) only when non-zero."""
    if value.microsecond:
        return value.isoformat(timespec="microseconds")
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def date_format_of(spec: FieldSpec) -> str:
    """The moment format of a Date / DateTime / Time field: its ``dateFormat`` option, or
    Metadata Menu's default for its kind."""
    return spec.date_format or DEFAULT_DATE_FORMATS.get(spec.kind, "YYYY-MM-DD HH:mm")


def resolve_tz(tz: dt.tzinfo | str | None) -> dt.tzinfo | None:
    """A ``tzinfo`` from an IANA name (``"Europe/Paris"``), a ``tzinfo``, or ``None``
    (``None`` = the machine's local zone, applied with DST rules by ``astimezone``).
    Raises ``zoneinfo.ZoneInfoNotFoundError`` for an unknown name."""
    if tz is None or isinstance(tz, dt.tzinfo):
        return tz
    return zoneinfo.ZoneInfo(tz)


def _fromiso(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_temporal(fmt: str, raw: Any) -> dt.datetime | dt.date | dt.time | None:
    """Parse a frontmatter value for a temporal field with moment format ``fmt``.

    ``date``/``datetime``/``time`` objects (YAML timestamps) pass through. Strings are tried
    with ``fmt``, then as ISO 8601. Returns a ``date`` when the text has no time part, a
    ``time`` when ``fmt`` has no date part, ``None`` when nothing fits.
    """
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    compiled = moment_format(fmt)
    parsed = compiled.parse(raw)
    if parsed is not None:
        if not compiled.has_date:
            return parsed.timetz()
        if not compiled.has_time:
            return parsed.date()
        return parsed
    text = raw.strip()
    if not compiled.has_date:
        if not _CANONICAL_TIME_RE.fullmatch(text):
            return None
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    if _ISO_STYLE_RE.fullmatch(text):
        return _fromiso(text)
    return None


def _text(value: Any) -> Any:
    """Canonical text of a scalar: numbers and booleans as YAML spells them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return canonical_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return canonical_time(value)
    return canonical(value)


def _unlink_nested(value: Any) -> Any:
    """``[["Note"]]`` (an unquoted ``[[Note]]`` read as YAML) → ``"[[Note]]"``."""
    if (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], list)
        and len(value[0]) == 1
        and isinstance(value[0][0], str)
    ):
        return f"[[{value[0][0]}]]"
    return value


def _number(text: str) -> int | float | None:
    stripped = text.strip().replace("_", "")
    if _INT_RE.fullmatch(stripped):
        return int(stripped)
    if _FLOAT_RE.fullmatch(stripped):
        return float(stripped)
    return None


# --------------------------------------------------------------------------- YAML → canonical


def to_canonical(spec: FieldSpec, raw: Any) -> Any:
    """The canonical value of ``raw`` (a frontmatter value as loaded) for ``spec``.

    ``None`` stays ``None`` (present, empty). Per kind: text → str (numbers and booleans
    spelled as in YAML); number → int/float (numeric strings parsed); boolean → bool
    (``"true"``/``"false"`` strings parsed); date/datetime/time → ISO text parsed with the
    field's ``dateFormat`` (or ISO 8601); link → the link text (an unquoted ``[[X]]`` that
    YAML read as ``[["X"]]`` becomes ``"[[X]]"``); list/links → list of text (a lone scalar
    becomes a one-item list); json → :func:`syncbridge.adapter.canonical`. A value that does
    not fit is returned unchanged (never raises, never drops data).
    """
    if raw is None or raw is MISSING:
        return raw
    try:
        return _to_canonical(spec, raw)
    except (TypeError, ValueError, OverflowError):
        return raw


def _to_canonical(spec: FieldSpec, raw: Any) -> Any:
    kind = spec.kind
    if kind is FieldKind.TEXT:
        return _text(raw) if not isinstance(raw, list | dict) else canonical(raw)
    if kind is FieldKind.NUMBER:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            return canonical(raw)
        if isinstance(raw, str):
            number = _number(raw)
            return raw if number is None else number
        return raw
    if kind is FieldKind.BOOLEAN:
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        return raw
    if kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.TIME):
        return _temporal_canonical(spec, raw)
    if kind is FieldKind.LINK:
        raw = _unlink_nested(raw)
        return _text(raw) if not isinstance(raw, list | dict) else canonical(raw)
    if kind in (FieldKind.LIST, FieldKind.LINKS):
        if isinstance(raw, str) and raw == "":
            return raw
        items = raw if isinstance(raw, list | tuple) else [raw]
        out: list[Any] = []
        for item in items:
            if kind is FieldKind.LINKS:
                item = _unlink_nested(item)
            out.append(_text(item) if not isinstance(item, list | dict) else canonical(item))
        return out
    return canonical(raw)


def _temporal_canonical(spec: FieldSpec, raw: Any) -> Any:
    if isinstance(raw, str) and _WIKILINK_RE.fullmatch(raw.strip()):
        return raw  # a Date inserted as a link ("[[Daily/2025-07-05]]"): a link is a link
    value = parse_temporal(date_format_of(spec), raw)
    if value is None:
        return canonical(raw)  # does not fit: unchanged (plain builtins for JSON)
    if isinstance(value, dt.datetime):
        if spec.kind is FieldKind.DATE and _is_midnight(value) and value.tzinfo is None:
            return value.date().isoformat()
        return canonical_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return canonical_time(value)


def _is_midnight(value: dt.datetime) -> bool:
    return value.hour == value.minute == value.second == value.microsecond == 0


# --------------------------------------------------------------------------- canonical → YAML


def to_yaml_value(
    spec: FieldSpec,
    canonical_value: Any,
    previous_raw: Any = MISSING,
    *,
    tz: dt.tzinfo | str | None = None,
) -> Any:
    """The value to store in the note for ``canonical_value``, in the note's own format.

    If ``previous_raw`` (the value on disk) already has this canonical value, it is returned
    as is (same object, so no byte changes). Otherwise dates are rendered in the form the
    previous value used (ISO ``T`` vs space, seconds, a YAML timestamp object), else in the
    field's ``dateFormat``; a brand-new ``YYYY-MM-DD`` date becomes a ``datetime.date`` and
    an ISO ``...THH:mm:ss`` date-time a ruamel ``TimeStamp``, so the writer emits them
    unquoted as Obsidian does. Aware date-times are converted to ``tz`` (``None`` = local)
    for formats without an offset. Numbers and booleans keep a quoted (string) previous
    form. Values that cannot be rendered are returned unchanged, including a date-time
    more precise than the format (``...T09:30:59`` for ``HH:mm``): truncate first if that
    is what you mean (:func:`format_vault_datetime` does).
    """
    if previous_raw is not MISSING and to_canonical(spec, previous_raw) == canonical_value:
        return previous_raw
    if canonical_value is None or canonical_value is MISSING:
        return canonical_value
    try:
        return _to_yaml(spec, canonical_value, previous_raw, tz)
    except (TypeError, ValueError, OverflowError):
        return canonical_value


def _to_yaml(spec: FieldSpec, value: Any, previous: Any, tz: dt.tzinfo | str | None) -> Any:
    kind = spec.kind
    if kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.TIME) and isinstance(value, str):
        return _temporal_yaml(spec, value, previous, tz)
    if kind is FieldKind.NUMBER and isinstance(previous, str) and _number(previous) is not None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _text(value)
        return value
    if kind is FieldKind.BOOLEAN and isinstance(previous, str) and isinstance(value, bool):
        text = "true" if value else "false"
        return text.capitalize() if previous[:1].isupper() else text
    if kind in (FieldKind.TEXT, FieldKind.LINK) and isinstance(value, str):
        if isinstance(previous, int | float) and not isinstance(previous, bool):
            number = _number(value)
            if number is not None and _text(number) == value:
                return number
        return value
    if kind in (FieldKind.LIST, FieldKind.LINKS) and isinstance(value, list):
        old = previous if isinstance(previous, list) else []
        pool: dict[Any, Any] = {}
        for item in old:
            key = _hashable(to_canonical(_item_spec(spec), item))
            pool.setdefault(key, item)
        return [pool.get(_hashable(item), item) for item in value]
    return value


def _item_spec(spec: FieldSpec) -> FieldSpec:
    kind = FieldKind.LINK if spec.kind is FieldKind.LINKS else FieldKind.TEXT
    return FieldSpec(name=spec.name, type=FieldType.INPUT, kind=kind)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _iso_style_format(text: str) -> str | None:
    """A moment format that reproduces the ISO-like layout of ``text``."""
    m = _ISO_STYLE_RE.fullmatch(text.strip())
    if m is None:
        return None
    fmt = "YYYY-MM-DD" + ("[T]" if m["sep"] in "Tt" else " ") + "HH:mm"
    if m["sec"] is not None:
        fmt += ":ss"
        if m["frac"] is not None:
            fmt += "." + "S" * len(m["frac"])
    if m["off"] is not None:
        fmt += m["space"]
        if m["off"] in "Zz":
            fmt += f"[{m['off']}]"  # UTC, written as a letter: the value is converted to UTC
        else:
            fmt += "Z" if ":" in m["off"] else "ZZ"
    return fmt


def _temporal_yaml(spec: FieldSpec, value: str, previous: Any, tz: dt.tzinfo | str | None) -> Any:
    kind = spec.kind
    fmt = date_format_of(spec)
    if kind is FieldKind.TIME:
        if not _CANONICAL_TIME_RE.fullmatch(value):
            return value
        moment = dt.time.fromisoformat(value)
        rendered_time = moment_format(fmt).render(moment)
        reparsed_time = moment_format(fmt).parse(rendered_time)
        if reparsed_time is None or reparsed_time.time() != moment.replace(tzinfo=None):
            return value
        return rendered_time
    parsed = _fromiso(value) if _CANONICAL_DATETIME_RE.fullmatch(value) else None
    if parsed is None:
        return value
    date_only = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    if kind is FieldKind.DATETIME and date_only:
        # a bare date in a DateTime field stays a date (never becomes midnight)
        return value if isinstance(previous, str) else parsed.date()
    if kind is FieldKind.DATE or date_only:
        if not date_only and not _is_midnight(parsed):
            return value  # a date-time does not fit a Date field: keep it as it is
        day = parsed.date()
        if isinstance(previous, dt.date) and not isinstance(previous, dt.datetime):
            return day
        if isinstance(previous, str) and previous.strip():
            if moment_format(fmt).parse(previous) is None and re.fullmatch(
                r"\d{4}-\d{2}-\d{2}", previous.strip()
            ):
                return day.isoformat()
            return moment_format(fmt).render(day)
        if fmt == "YYYY-MM-DD" and not isinstance(previous, str):
            return day
        return moment_format(fmt).render(day)
    # DateTime: choose the layout, then the precision / zone it can hold.
    layout = fmt
    if (
        isinstance(previous, str)
        and previous.strip()
        and moment_format(fmt).parse(previous) is None
    ):
        layout = _iso_style_format(previous) or fmt
    compiled = moment_format(layout)
    utc_letter = layout.endswith(("[Z]", "[z]"))
    if parsed.tzinfo is not None and not compiled.has_offset and not utc_letter:
        parsed = parsed.astimezone(resolve_tz(tz)).replace(tzinfo=None)
    elif parsed.tzinfo is None and (compiled.has_offset or utc_letter):
        zone = resolve_tz(tz)  # naive canonical values are local time
        parsed = parsed.astimezone() if zone is None else parsed.replace(tzinfo=zone)
    if utc_letter:
        parsed = parsed.astimezone(dt.UTC)
    if isinstance(previous, dt.datetime):
        if parsed.tzinfo is not None and previous.tzinfo is None:
            parsed = parsed.astimezone(resolve_tz(tz)).replace(tzinfo=None)
        return _timestamp_like(parsed, previous)
    if (
        not isinstance(previous, str)
        and layout in ("YYYY-MM-DDTHH:mm:ss", "YYYY-MM-DD[T]HH:mm:ss")
        and not parsed.microsecond
    ):
        return _timestamp_like(parsed, None)
    rendered = compiled.render(parsed)
    reparsed = compiled.parse(rendered)
    if utc_letter and reparsed is not None:
        reparsed = reparsed.replace(tzinfo=dt.UTC)
    if reparsed != parsed:
        return value  # the format cannot hold this precision: keep the ISO text, lose nothing
    return rendered


def _timestamp_like(value: dt.datetime, previous: dt.datetime | None) -> dt.datetime:
    """A datetime object the YAML writer emits as a timestamp: a ruamel ``TimeStamp``
    keeping the previous one's ``T`` separator (``T`` for new values, as Obsidian writes)."""
    if value.tzinfo is not None:
        return value
    stamp = TimeStamp(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond,
    )  # fmt: skip
    t_flag = True
    if isinstance(previous, TimeStamp):
        t_flag = bool(previous._yaml.get("t", True))
    elif previous is not None:
        t_flag = False
    stamp._yaml["t"] = t_flag
    return stamp


# --------------------------------------------------------------------------- last_modified


def _spec_for(spec_or_format: FieldSpec | str | None) -> FieldSpec:
    if isinstance(spec_or_format, FieldSpec):
        return spec_or_format
    options = {"dateFormat": spec_or_format} if spec_or_format else {}
    return FieldSpec(
        name="last_modified", type=FieldType.DATETIME, kind=FieldKind.DATETIME, options=options
    )


def parse_vault_datetime(
    spec_or_format: FieldSpec | str | None, raw: Any, tz: dt.tzinfo | str | None = None
) -> dt.datetime:
    """The tz-aware instant a note's date-time value means (e.g. ``last_modified``).

    ``spec_or_format`` is the field (its ``dateFormat``), a moment format, or ``None``
    (Metadata Menu's ``YYYY-MM-DD HH:mm``). Naive values are local time in ``tz`` (an IANA
    name or ``tzinfo``; ``None`` = the machine's zone); a date means its midnight.
    Precision is whatever the value has (minutes for the default format).
    Raises ``ValueError`` when ``raw`` is not a date-time in that format or ISO 8601.
    """
    spec = _spec_for(spec_or_format)
    value = parse_temporal(date_format_of(spec), raw)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        raise ValueError(f"{spec.name}: not a date-time: {raw!r}")
    if moment.tzinfo is not None:
        return moment
    zone = resolve_tz(tz)
    return moment.astimezone() if zone is None else moment.replace(tzinfo=zone)


def format_vault_datetime(
    spec_or_format: FieldSpec | str | None,
    value: dt.datetime,
    tz: dt.tzinfo | str | None = None,
    previous_raw: Any = MISSING,
) -> Any:
    """``value`` rendered for the note, in the field's format (or ``previous_raw``'s form).

    An aware ``value`` is converted to ``tz`` (``None`` = the machine's zone) unless the
    format carries an offset; a naive one is taken as already local. The format sets the
    precision (``YYYY-MM-DD HH:mm`` drops seconds). Returns a ``str``, or a YAML timestamp
    object when ``previous_raw`` was one (see :func:`to_yaml_value`).
    """
    spec = _spec_for(spec_or_format)
    compiled = moment_format(date_format_of(spec))
    if value.tzinfo is not None and not compiled.has_offset:
        zone = resolve_tz(tz)
        value = value.astimezone(zone).replace(tzinfo=None)
    if not compiled.has_seconds:
        value = value.replace(second=0, microsecond=0)
    elif not compiled.has_fraction:
        value = value.replace(microsecond=0)
    return to_yaml_value(spec, canonical_datetime(value), previous_raw, tz=tz)
