"""Canonical field values ⇄ SQLite cell values, per field kind.

Every column stores its field's values in the most natural SQLite form (see
:data:`SQL_TYPES`): text, dates, times and links as TEXT, numbers as NUMERIC, booleans as
INTEGER 0/1, lists and objects as JSON text. :func:`encode` produces that cell value and
:func:`decode` reads it back, guided by the field kind recorded in ``_meta_columns``.

The natural form is not always exact: a ``Number`` field holding ``5.0`` is stored as the
integer ``5`` by SQLite's NUMERIC affinity, a text field may hold a list in a note that does
not follow its class. The adapter therefore reads every row back after writing it and keeps,
in the row's ``_exact`` column, ``{field: [cell, value]}`` for each field whose cell does not
decode to the value written (see :func:`exact_entries`). On reading, that value is used as
long as the cell still holds the same ``cell``; once someone edits the cell, the cell's own
decoding wins. Round trips are therefore exact, including ``int`` vs ``float`` and ``bool``.

Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbridge.schema.model import FieldKind

__all__ = [
    "SQL_TYPES",
    "EncodedRow",
    "cell_text",
    "decode",
    "decode_fields",
    "encode",
    "encode_row",
    "exact_entries",
    "exact_equal",
    "infer_kind",
    "loads_or",
    "parse_stamp",
    "stamp",
    "stored_as_sent",
]

SQL_TYPES: dict[FieldKind, str] = {
    FieldKind.TEXT: "TEXT",
    FieldKind.NUMBER: "NUMERIC",
    FieldKind.BOOLEAN: "INTEGER",
    FieldKind.DATE: "TEXT",
    FieldKind.DATETIME: "TEXT",
    FieldKind.TIME: "TEXT",
    FieldKind.LINK: "TEXT",
    FieldKind.LINKS: "TEXT",
    FieldKind.LIST: "TEXT",
    FieldKind.JSON: "TEXT",
}
"""Declared column type per kind. NUMERIC (not REAL) keeps integers integers."""

_TEXT_KINDS = frozenset(
    {FieldKind.TEXT, FieldKind.DATE, FieldKind.DATETIME, FieldKind.TIME, FieldKind.LINK}
)
_JSON_KINDS = frozenset({FieldKind.LIST, FieldKind.LINKS, FieldKind.JSON})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

Cell = str | int | float | bytes | None
"""What ``sqlite3`` returns for one cell."""


_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` (one encoder for every call)."""
    return _ENCODER.encode(value)


def encode(kind: FieldKind, value: Any) -> Cell:
    """The cell to write for canonical ``value`` in a column of ``kind``.

    ``None`` becomes NULL (the caller records that the key is present). Values that do not
    fit the kind get a readable text form; :func:`exact_entries` keeps them exact.
    """
    if value is None:
        return None
    if kind in _TEXT_KINDS:
        return value if isinstance(value, str) else _json(value)
    if kind is FieldKind.NUMBER or kind is FieldKind.BOOLEAN:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
        if isinstance(value, float | str):
            return value
        return _json(value)
    # list, links, json: JSON text; a bare string stays readable as itself.
    return value if isinstance(value, str) else _json(value)


def decode(kind: FieldKind, cell: Cell) -> Any:
    """The canonical value of a non-NULL ``cell`` in a column of ``kind``.

    Lenient with hand edits: ``true``/``false`` typed into a boolean column are booleans,
    text that is not valid JSON in a list column is kept as that text.
    """
    if isinstance(cell, bytes):
        cell = cell.decode("utf-8", errors="replace")
    if kind in _TEXT_KINDS:
        return cell if isinstance(cell, str) else str(cell)
    if kind is FieldKind.NUMBER:
        if isinstance(cell, float) and math.isnan(cell):
            return None
        return cell
    if kind is FieldKind.BOOLEAN:
        if isinstance(cell, int) and cell in (0, 1):
            return bool(cell)
        if isinstance(cell, str) and cell.strip().lower() in ("true", "false"):
            return cell.strip().lower() == "true"
        return cell
    if kind in _JSON_KINDS and isinstance(cell, str):
        try:
            parsed = json.loads(cell)
        except ValueError:
            return cell
        if kind is FieldKind.JSON or isinstance(parsed, list):
            return parsed
        return cell
    return cell


def cell_text(cell: Cell) -> str | None:
    """A ``title`` or ``body`` cell as text (``None`` for NULL).

    Other tools may store text as a BLOB (``CAST(... AS BLOB)``, a file imported as bytes):
    its bytes are read as UTF-8, never turned into Python's ``b'...'``. Raises
    ``UnicodeDecodeError`` when they are not UTF-8: there is no text to sync then, and
    guessing one would write it back over the user's bytes.
    """
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, bytes):
        return cell.decode("utf-8")
    return str(cell)


def exact_equal(a: Any, b: Any) -> bool:
    """``a == b`` that also tells ``1`` from ``1.0`` and ``True`` (and NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(exact_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exact_equal(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _held_exactly(kind: FieldKind, value: Any) -> bool:
    """A shortcut: values of the column's own type that its cell always holds exactly
    (canonical lists and objects are JSON, which keeps int, float, bool and null apart)."""
    kind_of_value = type(value)
    if kind in _TEXT_KINDS:
        return kind_of_value is str
    if kind is FieldKind.NUMBER:
        return kind_of_value is int and _INT64_MIN <= value <= _INT64_MAX
    if kind is FieldKind.BOOLEAN:
        return kind_of_value is bool
    if kind is FieldKind.JSON:
        return kind_of_value is list or kind_of_value is dict
    return kind_of_value is list  # list, links


def exact_entries(
    kinds: Mapping[str, FieldKind], values: Mapping[str, Any], cells: Mapping[str, Cell]
) -> dict[str, list[Any]]:
    """``{field: [cell, value]}`` for every non-null value whose stored ``cell`` does not
    :func:`decode` back to exactly ``value``. ``cells`` are as read back from SQLite."""
    entries: dict[str, list[Any]] = {}
    for field, value in values.items():
        if value is None:
            continue
        kind = kinds[field]
        if _held_exactly(kind, value):
            continue
        cell = cells[field]
        if cell is None or isinstance(cell, bytes):  # cannot happen for our own writes
            continue
        if not exact_equal(decode(kind, cell), value):
            entries[field] = [cell, value]
    return entries


def stored_as_sent(kind: FieldKind, cell: Cell) -> bool:
    """Whether SQLite stores ``cell`` unchanged in a column of ``kind`` (no type affinity
    conversion), so the row need not be read back to know what it holds."""
    if cell is None:
        return True
    if kind is FieldKind.NUMBER:
        if type(cell) is float:
            return math.isfinite(cell) and not cell.is_integer()
        return type(cell) is int
    if kind is FieldKind.BOOLEAN:
        return type(cell) is int
    return type(cell) is str


def infer_kind(value: Any) -> FieldKind:
    """The kind of a column created for a field no schema describes, from one value."""
    if isinstance(value, bool):
        return FieldKind.BOOLEAN
    if isinstance(value, int | float):
        return FieldKind.NUMBER
    if isinstance(value, list):
        return FieldKind.LIST
    if isinstance(value, dict):
        return FieldKind.JSON
    return FieldKind.TEXT


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_stamp(text: object) -> dt.datetime:
    """A ``_modified`` / ``deleted_at`` cell as a tz-aware datetime (naive text is UTC;
    text that is not a time, which only a hand edit can produce, is the epoch)."""
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return _EPOCH
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """``moment`` (tz-aware) as the triggers write times: UTC ISO 8601, ms, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("need a tz-aware datetime")
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def loads_or(text: object, default: Any) -> Any:
    """JSON from a bookkeeping cell a user may have mangled; ``default`` if unusable (not
    JSON, or not of ``default``'s type)."""
    if not isinstance(text, str):
        return default
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


@dataclass(frozen=True)
class EncodedRow:
    """What one write sends for a record's field columns: the cells in column order, the
    ``_nulls`` and ``_exact`` cells as predicted, and whether SQLite stores every cell as
    sent (then the row need not be read back)."""

    cells: list[Cell]
    nulls: str | None
    exact: str | None
    as_sent: bool
    filled: tuple[int, ...] = ()
    """The indexes of the cells that are not NULL, in column order."""


def encode_row(
    positions: Mapping[str, tuple[int, FieldKind]], fields: Mapping[str, Any]
) -> EncodedRow:
    """Encode ``fields`` into cells; ``positions`` maps every field name to its column's
    index and kind. Only the record's own fields are visited: absent ones stay NULL."""
    cells: list[Cell] = [None] * len(positions)
    nulls: list[str] = []
    kinds: dict[str, FieldKind] = {}
    values: dict[str, Any] = {}
    sent: dict[str, Cell] = {}
    as_sent = True
    for field, value in fields.items():
        index, kind = positions[field]
        if value is None:
            nulls.append(field)
            continue
        value_type = type(value)
        # The common cases first, with what encode(), stored_as_sent() and exact_entries()
        # would find: the cell is stored as sent and decodes to exactly this value.
        if value_type is str and kind in _TEXT_KINDS:
            cells[index] = value
            continue
        if value_type is list and kind in _JSON_KINDS:
            cells[index] = _json(value)
            continue
        if value_type is int and kind is FieldKind.NUMBER and _INT64_MIN <= value <= _INT64_MAX:
            cells[index] = value
            continue
        if value_type is bool and kind is FieldKind.BOOLEAN:
            cells[index] = int(value)
            continue
        cell = encode(kind, value)
        cells[index] = cell
        kinds[field], values[field], sent[field] = kind, value, cell
        as_sent = as_sent and stored_as_sent(kind, cell)
    entries = exact_entries(kinds, values, sent) if kinds else {}
    return EncodedRow(
        cells,
        json.dumps(nulls, ensure_ascii=False) if nulls else None,
        json.dumps(entries, ensure_ascii=False) if entries else None,
        as_sent,
        tuple(sorted(positions[f][0] for f, v in fields.items() if v is not None)),
    )


def decode_fields(
    columns: Iterable[tuple[str, FieldKind]],
    cells: Sequence[Cell],
    nulls_cell: object,
    exact_cell: object,
) -> dict[str, Any]:
    """The canonical fields of a row: ``columns`` are (field, kind) in the order of
    ``cells``. A NULL cell is ``None`` when its field is listed in ``_nulls``, else the key
    is absent; a cell still equal to its ``_exact`` entry's cell gives that entry's value."""
    nulls = set(loads_or(nulls_cell, []))
    exact: dict[str, Any] = loads_or(exact_cell, {})
    fields: dict[str, Any] = {}
    for (field, kind), cell in zip(columns, cells, strict=True):
        if cell is None:
            if field in nulls:
                fields[field] = None
            continue
        entry = exact.get(field)
        if isinstance(entry, list) and len(entry) == 2 and exact_equal(entry[0], cell):
            fields[field] = entry[1]
        else:
            fields[field] = decode(kind, cell)
    return fields
