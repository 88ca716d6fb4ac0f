"""The pure parts of status support: encoding against the options, decoding, the option
order a fileClass gets (group by group), and which fields adopt a status property."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from syncbridge_notion.properties import PropertyContext, decode, encode
from syncbridge_notion.schema import (
    ClassLayout,
    PropertyPlan,
    adopt_status,
    declared_class,
    status_options,
)

from syncbridge.schema.model import FieldType

ENTRY: dict[str, Any] = {
    "id": "s%3Ft",
    "name": "Stage",
    "type": "status",
    "status": {
        "options": [
            {"id": "d", "name": "Done", "color": "green", "description": None},
            {"id": "x", "name": "Loose", "color": "gray", "description": None},
            {"id": "n", "name": "Not started", "color": "default", "description": None},
            {"id": "w", "name": "Doing", "color": "blue", "description": None},
        ],
        "groups": [
            {"id": "g1", "name": "To-do", "color": "gray", "option_ids": ["n"]},
            {"id": "g2", "name": "In progress", "color": "blue", "option_ids": ["w"]},
            {"id": "g3", "name": "Complete", "color": "green", "option_ids": ["d", "gone"]},
        ],
    },
}


def test_options_come_group_by_group_then_ungrouped() -> None:
    assert status_options(ENTRY) == ("Not started", "Doing", "Done", "Loose")
    assert status_options({"type": "status"}) == ()


@given(st.text(max_size=20))
def test_a_value_is_sent_by_name_only_when_it_is_an_option(value: str) -> None:
    options = status_options(ENTRY)
    enc = encode("status", value, PropertyContext(), options=options)
    if value in options:
        assert enc.request == {"status": {"name": value}} and enc.cell == value
    else:  # never a name Notion would refuse: empty, the value rides in the fallback
        assert enc.request == {"status": None} and enc.cell is None


def test_non_text_values_and_none_clear_the_status() -> None:
    for value in (3, ["Done"], {"a": 1}, None, True):
        enc = encode("status", value, PropertyContext(), options=("Done",))
        assert enc.request == {"status": None} and enc.cell is None


def test_decode_reads_the_option_name() -> None:
    ctx = PropertyContext()
    value = {"id": "w", "name": "Doing", "color": "blue"}
    assert decode("status", {"type": "status", "status": value}, ctx) == "Doing"
    assert decode("status", {"type": "status", "status": None}, ctx) is None


def test_select_fields_adopt_a_status_property_and_others_do_not() -> None:
    select = PropertyPlan("stage", "Stage", "select", choices=("from the fileClass",))
    adopted = adopt_status(select, ENTRY)
    assert adopted.ntype == "status" and adopted.choices == status_options(ENTRY)
    text = PropertyPlan("stage", "Stage", "rich_text")
    assert adopt_status(text, ENTRY) == text  # an Input field: schema drift, said so
    assert adopt_status(select, {"type": "select", "select": {"options": []}}) == select
    assert adopt_status(select, None) == select


def test_a_declared_status_is_a_select_listing_the_options_in_group_order() -> None:
    plan = PropertyPlan("stage", "Stage", "status")
    layout = ClassLayout("task", "db", "ds", "task", {"stage": plan}, {})
    cls = declared_class(layout, {}, {"Stage": ENTRY}, {})
    spec = cls.fields["stage"]
    assert spec.type is FieldType.SELECT
    assert spec.choices == ("Not started", "Doing", "Done", "Loose")
