"""Property: any canonical record written to SQLite reads back exactly, whatever the kind of
each column (int vs float vs bool, absent vs null, strings that look like JSON ...)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syncbridge_sqlite import SQLiteAdapter, SQLiteConfig
from syncbridge_sqlite.codec import exact_equal

from syncbridge.adapter import Record
from syncbridge.schema.model import ClassSchema, FieldKind, FieldSpec, FieldType

KINDS = list(FieldKind)
FIELDS = {f"f_{kind.value}": kind for kind in KINDS}
SCHEMA = ClassSchema(
    "prop",
    {name: FieldSpec(name, FieldType.INPUT, kind) for name, kind in FIELDS.items()},
    "inferred",
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from(["", "5", "5.0", "true", "null", "[1]", '{"a": 1}', " 7 ", "1e3", "0x10"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
field_maps = st.dictionaries(st.sampled_from([*FIELDS, "unknown 🌀"]), values, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=field_maps, second=field_maps, body=st.text(), title=st.none() | st.text())
def test_any_record_round_trips_exactly(
    first: dict[str, Any], second: dict[str, Any], body: str, title: str | None
) -> None:
    body = body.replace("\x00", "")
    with (
        tempfile.TemporaryDirectory() as tmp,
        SQLiteAdapter(SQLiteConfig(path=Path("p.db")), base_dir=Path(tmp)) as store,
    ):
        store.ensure_collection(SCHEMA)
        ref = store.create(Record("prop", first, body=body, title=title))
        got = store.read(ref.id)
        assert exact_equal(dict(got.fields), first)
        assert got.body == body and got.title == title
        ref = store.update(Record("prop", second, id=ref.id), expected_version=ref.version)
        got = store.read(ref.id)
        assert exact_equal(dict(got.fields), second)
        assert got.version == ref.version == next(iter(store.list())).version
