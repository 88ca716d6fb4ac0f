"""What the executor journals before an action's first write, for recovery to read back.

An action is journaled (:meth:`StateStore.journal_begin`) before any of its writes and
dropped from the journal in the transaction that commits it. An entry still there at the
next run is an action a crash interrupted: :mod:`syncbridge.engine.recover` reads it as an
:class:`ActionIntent` and finds out which of its writes landed. The JSON these write is the
one earlier versions wrote (the state file format does not change; ``to_payload`` leaves
snapshots as :class:`SideSnapshot` for the state's encoder to write), and ``from_payload``
accepts entries written before the title and class were journaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from syncbridge.adapter import Record
from syncbridge.engine.options import Side
from syncbridge.state import SideSnapshot

__all__ = ["NOT_JOURNALED", "ActionIntent", "CreateIntent", "SentContent", "UpdateIntent"]


class _NotJournaled:
    """The class of :data:`NOT_JOURNALED`."""

    def __repr__(self) -> str:
        return "NOT_JOURNALED"


NOT_JOURNALED: Final = _NotJournaled()
"""A value an older journal entry did not record (the class of what an update sent)."""


@dataclass(frozen=True)
class SentContent:
    """The content a write sent: the record's fields, body, title and, for updates, class."""

    fields: Mapping[str, Any]
    body: str
    title: str | None
    class_name: str | _NotJournaled | None = NOT_JOURNALED

    @classmethod
    def of(cls, record: Record, *, with_class: bool) -> SentContent:
        return cls(
            dict(record.fields),
            record.body,
            record.title,
            record.class_name if with_class else NOT_JOURNALED,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": dict(self.fields), "body": self.body, "title": self.title}
        if not isinstance(self.class_name, _NotJournaled):
            out["class"] = self.class_name
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SentContent:
        return cls(
            fields=dict(data["fields"]),
            body=data["body"],
            title=data.get("title"),
            class_name=data.get("class", NOT_JOURNALED),
        )


@dataclass(frozen=True)
class CreateIntent:
    """A create about to be sent to ``side``, made from ``source`` (the other side's record)
    and carrying ``key`` (its id-field value). ``sent`` is what was sent when it differs from
    the source's own content (``None``: the source's content, stored once)."""

    side: Side
    key: str | None
    source: SideSnapshot
    sent: SentContent | None = None

    @property
    def content(self) -> SentContent:
        """What the create sent."""
        if self.sent is not None:
            return self.sent
        return SentContent(dict(self.source.fields), self.source.body, self.source.title)

    def to_payload(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "key": self.key,
            "source": self.source,  # written as its to_json() by the state's encoder
            "sent": "source" if self.sent is None else self.sent.to_json(),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> CreateIntent:
        sent = data["sent"]
        return cls(
            side=cast(Side, data["side"]),
            key=data["key"],
            source=SideSnapshot.from_json(data["source"]),
            sent=None if sent == "source" else SentContent.from_json(sent),
        )


@dataclass(frozen=True)
class UpdateIntent:
    """An update of a linked entry: each side as the plan saw it, what each written side was
    sent, and the link's key and hold flag to commit with. Enough to redo the commit when
    every write landed (:func:`syncbridge.engine.recover.recover`)."""

    plan_time: Mapping[Side, SideSnapshot]
    sent: Mapping[Side, SentContent]
    key: str | None
    hold: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            "plan_time": dict(self.plan_time),  # snapshots: written by the state's encoder
            "sent": {side: content.to_json() for side, content in self.sent.items()},
            "key": self.key,
            "hold": self.hold,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> UpdateIntent:
        return cls(
            plan_time={
                cast(Side, side): SideSnapshot.from_json(snap)
                for side, snap in data["plan_time"].items()
            },
            sent={
                cast(Side, side): SentContent.from_json(content)
                for side, content in data["sent"].items()
            },
            key=data["key"],
            hold=bool(data["hold"]),
        )


@dataclass(frozen=True)
class ActionIntent:
    """One journaled action: its kind, its link (``None`` until it has one), the writes it
    is about to make (``(side, op, record id)``), and what recovery needs of its create or
    update."""

    kind: str
    link_id: int | None
    writes: tuple[tuple[Side, str, str | None], ...]
    create: CreateIntent | None = None
    update: UpdateIntent | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "link_id": self.link_id,
            "writes": [{"side": side, "op": op, "id": rid} for side, op, rid in self.writes],
        }
        if self.create is not None:
            out["create"] = self.create.to_payload()
        if self.update is not None:
            out["update"] = self.update.to_payload()
        return out

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ActionIntent:
        create, update = data.get("create"), data.get("update")
        return cls(
            kind=str(data.get("kind", "")),
            link_id=data.get("link_id"),
            writes=tuple(
                (cast(Side, w["side"]), str(w["op"]), w.get("id")) for w in data.get("writes") or ()
            ),
            create=CreateIntent.from_payload(create) if create else None,
            update=UpdateIntent.from_payload(update) if update else None,
        )
