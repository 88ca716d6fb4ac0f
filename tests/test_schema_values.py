"""Value typing: moment formats, YAML value ⇄ canonical value, last_modified helpers."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml.timestamp import TimeStamp

from syncbridge.adapter import MISSING
from syncbridge.schema import (
    FieldKind,
    FieldSpec,
    FieldType,
    canonical_datetime,
    format_vault_datetime,
    parse_vault_datetime,
    to_canonical,
    to_yaml_value,
)
from syncbridge.schema.dateformat import moment_format


def spec(ftype: FieldType, kind: FieldKind, fmt: str | None = None, **kw: Any) -> FieldSpec:
    options = {"dateFormat": fmt} if fmt else {}
    return FieldSpec(name="f", type=ftype, kind=kind, options=options, **kw)


DATE = spec(FieldType.DATE, FieldKind.DATE, "YYYY-MM-DD")
MDM_DT = spec(FieldType.DATETIME, FieldKind.DATETIME, "YYYY-MM-DD HH:mm")
ISO_DT = spec(FieldType.DATETIME, FieldKind.DATETIME, "YYYY-MM-DDTHH:mm:ss")
TIME = spec(FieldType.TIME, FieldKind.TIME, "HH:mm")
TEXT = spec(FieldType.INPUT, FieldKind.TEXT)
NUMBER = spec(FieldType.NUMBER, FieldKind.NUMBER)
BOOL = spec(FieldType.BOOLEAN, FieldKind.BOOLEAN)
LIST = spec(FieldType.MULTI, FieldKind.LIST)
LINKS = spec(FieldType.MULTIFILE, FieldKind.LINKS)
LINK = spec(FieldType.FILE, FieldKind.LINK)
JSONF = spec(FieldType.YAML, FieldKind.JSON)

# (format, text on disk, canonical value)
DATETIME_CASES = [
    ("YYYY-MM-DD HH:mm", "2025-07-05 16:56", "2025-07-05T16:56"),
    ("YYYY-MM-DDTHH:mm", "2025-07-05T16:56", "2025-07-05T16:56"),
    ("YYYY-MM-DD HH:mm:ss", "2025-07-05 16:56:07", "2025-07-05T16:56:07"),
    ("YY-M-D H:mm", "25-7-5 9:05", "2025-07-05T09:05"),
    ("DD/MM/YYYY hh:mm A", "05/07/2025 04:56 PM", "2025-07-05T16:56"),
    ("D MMM YYYY, h:mm a", "5 Jul 2025, 12:03 am", "2025-07-05T00:03"),
    ("dddd, MMMM Do YYYY, h:mm:ss a", "Saturday, July 5th 2025, 4:56:07 pm", "2025-07-05T16:56:07"),
    ("YYYY.MM.DD HH:mm:ss.SSS ZZ", "2025.07.05 15:18:22.000 -0700", "2025-07-05T15:18:22-07:00"),
    ("YYYY-MM-DD[T]HH:mm:ssZ", "2025-07-05T15:18:22+02:00", "2025-07-05T15:18:22+02:00"),
    ("[Day] YYYY-MM-DD [at] HH:mm", "Day 2025-07-05 at 16:56", "2025-07-05T16:56"),
]


@pytest.mark.parametrize(("fmt", "text", "canonical"), DATETIME_CASES)
def test_datetime_round_trip_through_each_format(fmt: str, text: str, canonical: str) -> None:
    field = spec(FieldType.DATETIME, FieldKind.DATETIME, fmt)
    assert to_canonical(field, text) == canonical
    # unchanged: the very same object comes back
    assert to_yaml_value(field, canonical, text) is text
    # new value, no previous: rendered in the field's format
    assert to_yaml_value(field, canonical) == text


@pytest.mark.parametrize(
    ("fmt", "text", "canonical"),
    [
        ("YYYY-MM-DD", "2025-07-05", "2025-07-05"),
        ("DD/MM/YYYY", "05/07/2025", "2025-07-05"),
        ("MMMM D, YYYY", "July 5, 2025", "2025-07-05"),
        ("YYYYMMDD", "20250705", "2025-07-05"),
    ],
)
def test_date_round_trip_through_each_format(fmt: str, text: str, canonical: str) -> None:
    field = spec(FieldType.DATE, FieldKind.DATE, fmt)
    assert to_canonical(field, text) == canonical
    assert to_yaml_value(field, canonical, text) is text
    assert to_yaml_value(field, "2026-01-31", text) == moment_format(fmt).render(
        dt.date(2026, 1, 31)
    )


def test_time_round_trip() -> None:
    assert to_canonical(TIME, "14:30") == "14:30"
    assert to_yaml_value(TIME, "09:05", "14:30") == "09:05"
    twelve = spec(FieldType.TIME, FieldKind.TIME, "h:mm a")
    assert to_canonical(twelve, "2:30 pm") == "14:30"
    assert to_yaml_value(twelve, "09:05") == "9:05 am"
    assert to_canonical(TIME, dt.time(7, 0, 30)) == "07:00:30"


def test_mdm_datetime_becomes_iso_and_changes_render_in_the_notes_format() -> None:
    assert to_canonical(MDM_DT, "2025-07-05 16:56") == "2025-07-05T16:56"
    assert to_yaml_value(MDM_DT, "2025-08-01T09:30", "2025-07-05 16:56") == "2025-08-01 09:30"
    # a value more precise than the format is kept as ISO text rather than truncated
    assert to_yaml_value(MDM_DT, "2025-08-01T09:30:59") == "2025-08-01T09:30:59"


def test_previous_form_wins_over_the_field_format() -> None:
    # an ISO 'T' value in a field whose dateFormat uses a space keeps its 'T'
    assert to_canonical(MDM_DT, "2025-07-05T16:56") == "2025-07-05T16:56"
    assert to_yaml_value(MDM_DT, "2025-08-01T09:30", "2025-07-05T16:56") == "2025-08-01T09:30"
    assert to_yaml_value(MDM_DT, "2025-08-01T09:30", "2025-07-05T16:56:00") == "2025-08-01T09:30:00"
    # the reverse: a space in a field declared ISO (Obsidian types.json datetime)
    assert to_yaml_value(ISO_DT, "2025-08-01T09:30", "2024-09-17 14:25") == "2025-08-01 09:30"
    utc = to_yaml_value(ISO_DT, "2025-08-01T11:30", "2024-09-17 14:25Z", tz="Europe/Paris")
    assert utc == "2025-08-01 09:30Z"
    assert to_yaml_value(ISO_DT, "2025-08-01T09:30", "2024-09-17T14:25+0200", tz=dt.UTC) == (
        "2025-08-01T09:30+0000"
    )


def test_yaml_timestamps_stay_timestamps() -> None:
    previous = TimeStamp(2020, 8, 21, 10, 30, 0)
    previous._yaml["t"] = True
    assert to_canonical(ISO_DT, previous) == "2020-08-21T10:30"
    out = to_yaml_value(ISO_DT, "2021-01-02T03:04:05", previous)
    assert isinstance(out, TimeStamp) and out._yaml["t"] is True
    assert out == dt.datetime(2021, 1, 2, 3, 4, 5)
    plain = to_yaml_value(ISO_DT, "2021-01-02T03:04", dt.datetime(2020, 8, 21, 10, 30))
    assert isinstance(plain, TimeStamp) and plain._yaml["t"] is False
    # a brand-new Obsidian-style value is a timestamp, written unquoted with 'T'
    new = to_yaml_value(ISO_DT, "2021-01-02T03:04")
    assert isinstance(new, TimeStamp) and new._yaml["t"] is True
    # dates: a YAML date stays a date; a new YYYY-MM-DD value is a date object
    assert to_canonical(DATE, dt.date(2025, 7, 5)) == "2025-07-05"
    assert to_yaml_value(DATE, "2025-08-01", dt.date(2025, 7, 5)) == dt.date(2025, 8, 1)
    assert to_yaml_value(DATE, "2025-08-01") == dt.date(2025, 8, 1)
    assert to_yaml_value(DATE, "2025-08-01", "2025-07-05") == "2025-08-01"


def test_aware_values_are_converted_for_formats_without_offset() -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    out = to_yaml_value(MDM_DT, "2025-07-05T14:56:00+00:00", "2025-07-01 10:00", tz=paris)
    assert out == "2025-07-05 16:56"
    with_offset = spec(FieldType.DATETIME, FieldKind.DATETIME, "YYYY-MM-DD HH:mmZ")
    assert to_yaml_value(with_offset, "2025-07-05T14:56+00:00") == "2025-07-05 14:56+00:00"


@pytest.mark.parametrize(
    ("field", "raw", "canonical"),
    [
        (TEXT, "plain", "plain"),
        (TEXT, 1984, "1984"),
        (TEXT, 2.5, "2.5"),
        (TEXT, True, "true"),
        (TEXT, dt.date(2025, 7, 5), "2025-07-05"),
        (TEXT, float("nan"), ".nan"),
        (TEXT, ["a", 1], ["a", 1]),
        (NUMBER, 3, 3),
        (NUMBER, 2.5, 2.5),
        (NUMBER, "42", 42),
        (NUMBER, " -1.5e3 ", -1500.0),
        (NUMBER, "many", "many"),
        (NUMBER, True, True),
        (BOOL, False, False),
        (BOOL, "True", True),
        (BOOL, "yes", "yes"),
        (DATE, "someday", "someday"),
        (DATE, "[[Daily/2025-07-05]]", "[[Daily/2025-07-05]]"),
        (DATE, dt.datetime(2025, 7, 5), "2025-07-05"),
        (MDM_DT, dt.date(2025, 7, 5), "2025-07-05"),
        (MDM_DT, "2025-07-05", "2025-07-05"),
        (MDM_DT, 20250705, 20250705),
        (TIME, 870, 870),
        (DATE, ["2025-07-05"], ["2025-07-05"]),
        (LINK, "[[A|alias]]", "[[A|alias]]"),
        (LINK, [["A"]], "[[A]]"),
        (LINKS, ["[[A]]", [["B"]]], ["[[A]]", "[[B]]"]),
        (LINKS, "[[A]]", ["[[A]]"]),
        (LIST, "solo", ["solo"]),
        (LIST, ("a", 2, None), ["a", "2", None]),
        (LIST, "", ""),
        (JSONF, {"a": [1, dt.date(2025, 7, 5)]}, {"a": [1, "2025-07-05"]}),
        (JSONF, {1: "x"}, {"1": "x"}),
    ],
)
def test_to_canonical_per_kind(field: FieldSpec, raw: Any, canonical: Any) -> None:
    assert to_canonical(field, raw) == canonical


@pytest.mark.parametrize("field", [TEXT, NUMBER, BOOL, DATE, MDM_DT, TIME, LINK, LINKS, JSONF])
def test_none_and_missing_pass_through(field: FieldSpec) -> None:
    assert to_canonical(field, None) is None
    assert to_canonical(field, MISSING) is MISSING
    assert to_yaml_value(field, None, "x") is None
    assert to_yaml_value(field, MISSING) is MISSING


def test_unconvertible_objects_are_returned_unchanged() -> None:
    thing = object()
    for field in (TEXT, JSONF, LIST):
        assert to_canonical(field, thing) is thing
    assert to_yaml_value(DATE, "not a date") == "not a date"
    assert to_yaml_value(DATE, "2025-07-05T10:00") == "2025-07-05T10:00"
    assert to_yaml_value(TIME, "later") == "later"


def test_changed_values_keep_the_previous_scalar_form() -> None:
    assert to_yaml_value(NUMBER, 43, "42") == "43"  # a quoted number stays quoted
    assert to_yaml_value(NUMBER, 43, 42) == 43
    assert to_yaml_value(BOOL, False, "True") == "False"
    assert to_yaml_value(TEXT, "1985", 1984) == 1985  # a number in a text field stays a number
    assert to_yaml_value(TEXT, "19 85", 1984) == "19 85"
    assert to_yaml_value(TEXT, "new") == "new"


def test_lists_reuse_previous_items_and_take_new_ones() -> None:
    previous = [[["A"]], "[[B]]"]
    out = to_yaml_value(LINKS, ["[[B]]", "[[A]]", "[[C]]"], previous)
    assert out == ["[[B]]", [["A"]], "[[C]]"]
    assert out[1] is previous[0]
    assert to_yaml_value(LIST, ["a", "b"], "a") == ["a", "b"]
    assert to_yaml_value(LIST, ["a"], "a") == "a"  # a lone scalar stays a scalar


RAW_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.text(max_size=8), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(["2025-07-05 16:56", "[[Note]]", [["Note"]], "14:30", "true", "12"]),
)
ALL_SPECS = [TEXT, NUMBER, BOOL, DATE, MDM_DT, ISO_DT, TIME, LINK, LINKS, LIST, JSONF]


@settings(max_examples=400)
@given(raw=RAW_VALUES, field=st.sampled_from(ALL_SPECS))
def test_property_unchanged_canonical_value_gives_back_the_same_object(
    raw: Any, field: FieldSpec
) -> None:
    value = to_canonical(field, raw)
    assert to_yaml_value(field, value, raw) is raw
    # canonical values are stable
    assert to_canonical(field, to_yaml_value(field, value)) == value or value == raw


MOMENT_FORMATS = [
    "YYYY-MM-DD HH:mm",
    "YYYY-MM-DD[T]HH:mm:ss",
    "DD/MM/YY h:mm A",
    "D MMMM YYYY H:mm:ss",
    "ddd, MMM Do YYYY hh:mm a",
    "YYYY.MM.DD HH:mm:ss.SSS",
]


@given(
    moment=st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2068, 12, 31)),
    fmt=st.sampled_from(MOMENT_FORMATS),
)
def test_property_moment_render_then_parse_is_identity_at_format_precision(
    moment: dt.datetime, fmt: str
) -> None:
    compiled = moment_format(fmt)
    if not compiled.has_seconds:
        moment = moment.replace(second=0, microsecond=0)
    elif not compiled.has_fraction:
        moment = moment.replace(microsecond=0)
    else:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert compiled.parse(compiled.render(moment)) == moment


def test_moment_parse_rejects_impossible_and_partial_text() -> None:
    fmt = moment_format("YYYY-MM-DD HH:mm")
    assert fmt.parse("2025-02-30 10:00") is None
    assert fmt.parse("2025-07-05") is None
    assert fmt.parse("2025-07-05 16:56 extra") is None
    assert moment_format("h:mm A").parse("13:00 PM") is None
    assert moment_format("X").parse("0") == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert moment_format("x").render(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC)) == "1000"


def test_canonical_datetime_is_minimal_iso() -> None:
    assert canonical_datetime(dt.datetime(2025, 7, 5, 16, 56)) == "2025-07-05T16:56"
    assert canonical_datetime(dt.datetime(2025, 7, 5, 16, 56, 7)) == "2025-07-05T16:56:07"
    assert canonical_datetime(dt.datetime(2025, 7, 5, 16, 56, 0, 5)).endswith(".000005")
    utc = dt.datetime(2025, 7, 5, 16, 56, tzinfo=dt.UTC)
    assert canonical_datetime(utc) == "2025-07-05T16:56+00:00"


def test_parse_vault_datetime_minute_precision_local_time() -> None:
    moment = parse_vault_datetime(MDM_DT, "2025-07-05 16:56", "Europe/Paris")
    assert moment == dt.datetime(2025, 7, 5, 14, 56, tzinfo=dt.UTC)
    assert moment.utcoffset() == dt.timedelta(hours=2)
    winter = parse_vault_datetime("YYYY-MM-DD HH:mm", "2025-01-05 16:56", "Europe/Paris")
    assert winter.utcoffset() == dt.timedelta(hours=1)
    # ISO text in an MDM field, YAML timestamps and dates are accepted too
    assert parse_vault_datetime(None, "2025-07-05T16:56", dt.UTC).hour == 16
    assert parse_vault_datetime(None, dt.datetime(2025, 7, 5, 16, 56), dt.UTC).minute == 56
    assert parse_vault_datetime(None, dt.date(2025, 7, 5), dt.UTC).hour == 0
    aware = parse_vault_datetime("YYYY.MM.DD HH:mm:ss.SSS ZZ", "2025.07.05 15:18:22.000 -0700")
    assert aware.utcoffset() == dt.timedelta(hours=-7)
    local = parse_vault_datetime(MDM_DT, "2025-07-05 16:56")
    assert local.tzinfo is not None


@pytest.mark.parametrize("raw", ["", "yesterday", None, 5, ["2025-07-05 16:56"]])
def test_parse_vault_datetime_raises_value_error_on_garbage(raw: Any) -> None:
    with pytest.raises(ValueError):
        parse_vault_datetime(MDM_DT, raw, dt.UTC)


def test_format_vault_datetime_writes_local_minutes_in_the_notes_form() -> None:
    moment = dt.datetime(2025, 7, 5, 14, 56, 41, tzinfo=dt.UTC)
    assert format_vault_datetime(MDM_DT, moment, "Europe/Paris") == "2025-07-05 16:56"
    assert format_vault_datetime(None, moment, "America/New_York") == "2025-07-05 10:56"
    assert format_vault_datetime("YYYY-MM-DD HH:mm:ss", moment, dt.UTC) == "2025-07-05 14:56:41"
    # the previous value's form: ISO 'T', a YAML timestamp, or unchanged when equal
    assert format_vault_datetime(MDM_DT, moment, dt.UTC, "2025-01-01T00:00") == "2025-07-05T14:56"
    stamp = format_vault_datetime(MDM_DT, moment, dt.UTC, dt.datetime(2025, 1, 1))
    assert isinstance(stamp, dt.datetime) and stamp == dt.datetime(2025, 7, 5, 14, 56)
    same = "2025-07-05 16:56"
    assert format_vault_datetime(MDM_DT, moment, "Europe/Paris", same) is same
    # a naive value is taken as local already
    naive = dt.datetime(2025, 7, 5, 9, 5)
    assert format_vault_datetime("DD.MM.YYYY H:mm", naive, "Asia/Tokyo") == "05.07.2025 9:05"
    round_trip = parse_vault_datetime(
        MDM_DT, format_vault_datetime(MDM_DT, moment, "Asia/Tokyo"), "Asia/Tokyo"
    )
    assert round_trip == moment.replace(second=0)
