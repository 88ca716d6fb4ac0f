"""``validate_note``: warnings for values that do not fit their class, never rewrites."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from syncbridge.schema import ClassSchema, FieldKind, FieldSpec, FieldType
from syncbridge.schema.metadata_menu import parse_field
from syncbridge.schema.obsidian import spec_from_obsidian_type
from syncbridge.schema.validate import FieldIssue, validate_note, validate_value


def mdm(name: str, ftype: str, **options: Any) -> FieldSpec:
    spec = parse_field({"name": name, "type": ftype, "options": options})
    assert spec is not None
    return spec


CLS = ClassSchema(
    name="wound",
    source="metadata-menu",
    fields={
        spec.name: spec
        for spec in (
            mdm("status", "Select", valuesList={"1": "⬜ not started", "2": "🟩 complete"}),
            mdm("priority", "Cycle", valuesList={"1": "low", "2": "high"}),
            mdm("intensity", "Number", min=0, max=10),
            mdm("entered", "Boolean"),
            mdm("triggers", "Multi", valuesList={"1": "criticism", "2": "silence"}),
            mdm("free", "Multi", sourceType="ValuesFromDVQuery", valuesFromDVQuery="x"),
            mdm("created", "DateTime", dateFormat="YYYY-MM-DD HH:mm"),
            mdm("first", "Date", dateFormat="YYYY-MM-DD"),
            mdm("at", "Time", dateFormat="HH:mm"),
            mdm("source", "File"),
            mdm("linked", "MultiFile"),
            mdm("cover", "Media"),
            mdm("data", "JSON"),
            mdm("study", "Object"),
            mdm("steps", "ObjectList"),
            mdm("title", "Input"),
            mdm("computed", "Formula"),
            spec_from_obsidian_type("seen", "datetime"),
        )
    },
)

GOOD: dict[str, Any] = {
    "status": "🟩 complete",
    "priority": "high",
    "intensity": 7,
    "entered": False,
    "triggers": ["criticism", "silence"],
    "free": ["anything"],
    "created": "2025-07-05 16:56",
    "first": dt.date(2025, 7, 5),
    "at": "21:30",
    "source": "[[Secure Attachment]]",
    "linked": ["[[A]]", "[[B|bee]]", "[label](B.md)"],
    "cover": "[[photo.png]]",
    "data": '{"a": 1}',
    "study": {"authors": "A", "year": 1978},
    "steps": [{"step": "breathe"}],
    "title": "Secure Attachment",
    "computed": ["whatever"],
    "seen": "2024-09-17 14:25",
    "unknown_key": object(),
}


def test_values_that_fit_give_no_warning() -> None:
    assert validate_note(CLS, GOOD) == []


@pytest.mark.parametrize(
    "empty", [None, "", [], {}], ids=["null", "empty-string", "empty-list", "empty-map"]
)
def test_empty_values_are_never_reported(empty: Any) -> None:
    assert validate_note(CLS, dict.fromkeys(CLS.fields, empty)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "🟨 in progress", "is not one of"),
        ("status", ["🟩 complete"], "expected a single value"),
        ("priority", "urgent", "is not one of"),
        ("intensity", "seven", "expected a number"),
        ("intensity", "7", "number written as a string"),
        ("intensity", True, "expected a number"),
        ("intensity", 11, "above max 10"),
        ("intensity", -1, "below min 0"),
        ("entered", "yes", "expected true or false"),
        ("entered", 1, "expected true or false"),
        ("triggers", ["criticism", "noise"], "'noise' is not one of"),
        ("triggers", [["nested"]], "is not a single value"),
        ("created", "2025-07-05T16:56", "not in dateFormat 'YYYY-MM-DD HH:mm'"),
        ("created", "5 July", "not in dateFormat"),
        ("created", 20250705, "expected a date"),
        ("first", "05/07/2025", "not in dateFormat 'YYYY-MM-DD'"),
        ("first", dt.time(10, 0), "is a time"),
        ("at", "9pm", "not in dateFormat 'HH:mm'"),
        ("at", dt.date(2025, 7, 5), "is a date, not a time"),
        ("source", "Secure Attachment", "expected a link"),
        ("source", [["Secure Attachment"]], "unquoted [[link]]"),
        ("linked", ["[[A]]", "B"], "'B' is not a link"),
        ("linked", [[["A"]]], "unquoted [[link]] in list"),
        ("cover", 3, "expected a link"),
        ("data", "{not json", "not valid JSON"),
        ("study", ["a"], "expected a mapping"),
        ("steps", {"step": "x"}, "expected a list of mappings"),
        ("title", ["a", "b"], "expected a single value"),
        ("seen", "someday", "not a date"),
    ],
)
def test_misfits_are_warnings(field: str, value: Any, message: str) -> None:
    note = {**GOOD, field: value}
    issues = validate_note(CLS, note)
    assert [i.field for i in issues] == [field], issues
    (issue,) = issues
    assert message in issue.message
    assert issue.severity == "warning"
    assert issue.value == value
    assert str(issue).startswith(f"{field}: ")


def test_validation_never_modifies_the_note() -> None:
    note = {**GOOD, "status": "bad", "triggers": ["x"], "unknown_key": 1}
    before = copy.deepcopy(note)
    validate_note(CLS, note)
    assert note == before


def test_obsidian_datetime_accepts_iso_and_space_forms_but_mdm_is_strict() -> None:
    seen = CLS.fields["seen"]
    for value in ("2024-09-17T14:25:00", "2024-09-17 14:25", dt.datetime(2024, 9, 17)):
        assert validate_value(seen, value) == []


def test_date_inserted_as_a_link_is_accepted() -> None:
    spec = mdm("day", "Date", dateFormat="YYYY-MM-DD", defaultInsertAsLink=True)
    assert validate_value(spec, "[[Daily/2025-07-05]]") == []
    assert validate_value(spec, "[[Daily/someday]]") != []


def test_issue_is_a_frozen_dataclass() -> None:
    issue = FieldIssue(field="a", message="m")
    assert issue.severity == "warning"
    with pytest.raises(AttributeError):
        issue.field = "b"  # type: ignore[misc]


def test_select_with_numeric_values_compares_as_text() -> None:
    spec = FieldSpec(
        name="rating", type=FieldType.SELECT, kind=FieldKind.TEXT, choices=("1", "2", "true")
    )
    assert validate_value(spec, 2) == []
    assert validate_value(spec, True) == []
    assert validate_value(spec, 3) != []
