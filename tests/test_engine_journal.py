"""The journal's payloads as frozen dataclasses (syncbridge.engine.journal): what goes into
the state file is the JSON earlier versions wrote, and entries they wrote still read."""

from __future__ import annotations

import json
from pathlib import Path

from syncbridge.engine.journal import (
    NOT_JOURNALED,
    ActionIntent,
    CreateIntent,
    SentContent,
    UpdateIntent,
)
from syncbridge.state import SideSnapshot, StateStore

NOTE = SideSnapshot(
    id="Psyche/Shame.md",
    version="v1",
    class_name="attachment_theory",
    fields={"status": "🟩 complete", "tags": ["a", "b"]},
    body="Body\n",
    title="Shame",
)
ROW = SideSnapshot(
    id="row-7",
    version="r1",
    class_name="attachment_theory",
    fields={"status": "🟨 draft"},
    body="Body\n",
    title="Shame",
)


def journal_round_trip(tmp_path: Path, intent: ActionIntent) -> tuple[ActionIntent, str]:
    state = StateStore.open(tmp_path / "state.db")
    state.journal_begin("t", intent.kind, intent.to_payload())
    [entry] = state.pending_journal("t")
    raw = state._conn.execute("SELECT payload FROM journal").fetchone()[0]
    return ActionIntent.from_payload(entry.payload), raw


def test_an_intent_reads_back_as_itself(tmp_path: Path) -> None:
    intent = ActionIntent(
        "update",
        3,
        (("vault", "update", NOTE.id), ("remote", "update", ROW.id)),
        create=CreateIntent("remote", "k-1", NOTE, SentContent({"status": "x"}, "B\n", "T")),
        update=UpdateIntent(
            {"vault": NOTE, "remote": ROW},
            {
                "remote": SentContent(
                    {"status": "🟩 complete"}, "Body\n", "Shame", "attachment_theory"
                )
            },
            key="k-1",
            hold=True,
        ),
    )
    back, _raw = journal_round_trip(tmp_path, intent)
    assert back == intent


def test_a_create_of_the_source_content_stores_it_once(tmp_path: Path) -> None:
    intent = ActionIntent(
        "create", None, (("remote", "create", None),), create=CreateIntent("remote", None, NOTE)
    )
    back, raw = journal_round_trip(tmp_path, intent)
    assert json.loads(raw)["create"]["sent"] == "source"
    assert back.create is not None and back.create.content == SentContent(
        NOTE.fields, NOTE.body, NOTE.title
    )


def test_an_entry_written_before_titles_and_classes_were_journaled_still_reads() -> None:
    """The JSON of an older version: the update's sent content has no class, and none of
    it a title; recovery then compares neither (recover._holds_sent)."""
    old = {
        "kind": "update",
        "link_id": 5,
        "writes": [{"side": "remote", "op": "update", "id": "row-7"}],
        "update": {
            "plan_time": {"vault": NOTE.to_json(), "remote": ROW.to_json()},
            "sent": {"remote": {"fields": {"status": "x"}, "body": "B\n"}},
            "key": None,
            "hold": False,
        },
    }
    intent = ActionIntent.from_payload(old)
    assert intent.update is not None
    sent = intent.update.sent["remote"]
    assert sent.class_name is NOT_JOURNALED and sent.title is None
    assert intent.update.plan_time["vault"] == NOTE
    assert intent.writes == (("remote", "update", "row-7"),)


def test_the_payload_is_the_json_earlier_versions_wrote(tmp_path: Path) -> None:
    intent = ActionIntent(
        "update",
        9,
        (("remote", "update", "row-7"),),
        update=UpdateIntent(
            {"vault": NOTE, "remote": ROW},
            {"remote": SentContent({"s": 1}, "B\n", "T", None)},
            key=None,
            hold=False,
        ),
    )
    _back, raw = journal_round_trip(tmp_path, intent)
    assert json.loads(raw) == {
        "kind": "update",
        "link_id": 9,
        "writes": [{"side": "remote", "op": "update", "id": "row-7"}],
        "update": {
            "plan_time": {"vault": NOTE.to_json(), "remote": ROW.to_json()},
            "sent": {"remote": {"fields": {"s": 1}, "body": "B\n", "title": "T", "class": None}},
            "key": None,
            "hold": False,
        },
    }
