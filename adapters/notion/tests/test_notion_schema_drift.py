"""Schema drift on the write path, end to end: a property retyped in Notion while its
pages are not listed again (their edit time does not move) is found when a note's edit is
sent, and stops the sync with the property, the class and what to do; nothing is written
on either side, and once the type is changed back the edit goes through."""

from __future__ import annotations

import pytest
from notion_adapter_support import stats
from notion_vault_support import Run, notes
from syncbridge_notion.schema import SchemaDrift


def test_a_write_refused_for_a_retyped_property_names_it_and_its_class(run: Run) -> None:
    run.sync()
    # minutes later someone edits another page: the listing cursor moves past the pages
    # of the first sync, so they are not listed (nor read) again unless they change
    run.server.clock.advance(300)
    run.remote.api.update_page(run.page("Beta")["id"], {"properties": {"budget": {"number": 4}}})
    run.sync()
    source = run.source_of("task")
    run.remote.api.update_data_source(source, {"properties": {"estimate": {"rich_text": {}}}})
    note = run.root / "vault" / "Tasks" / "Ship.md"
    note.write_text(
        note.read_text(encoding="utf-8").replace("estimate: 5", "estimate: 6"), encoding="utf-8"
    )
    before = notes(run.root / "vault")
    applied = stats(run.server)["writes_applied"]
    with pytest.raises(SchemaDrift) as caught:
        run.sync()
    message = str(caught.value)
    assert "class 'task'" in message and "property 'estimate'" in message, message
    # found when Notion refused the write (the page was not read again)
    assert "is of type 'rich_text' in Notion, syncbridge needs 'number'" in message
    assert "change its type back to 'number' in Notion" in message
    assert "The sync of this target stops until then" in message
    assert notes(run.root / "vault") == before  # the note keeps the user's edit, untouched
    assert stats(run.server)["writes_applied"] == applied  # the refused PATCH changed nothing
    shown = run.page("Ship")["properties"]["estimate"]
    assert shown["rich_text"][0]["plain_text"] == "5"  # nothing was written in Notion
    # the type changed back in Notion: the edit goes through, as a plain edit
    run.remote.api.update_data_source(source, {"properties": {"estimate": {"number": {}}}})
    report = run.sync()
    assert report["remote"]["updated"] == 1, report
    assert run.page("Ship")["properties"]["estimate"]["number"] == 6
    assert notes(run.root / "vault") == before
