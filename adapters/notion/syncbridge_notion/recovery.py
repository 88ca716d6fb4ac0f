"""Creates whose answer was lost: looked up by their create key, never blindly resent.

Each create carries a random create key in the id property; the key is journaled (the
cache's ``creates`` table) before the request, and the page id the moment Notion
answers. A create with no answer (timeout, dropped connection) may still land: it is
looked up by its key, and if it cannot be found yet, the note is reported and the next
run looks again before anything is created. **No duplicate pages, ever.**

A create also journals, before its request, the links it sends that name no page yet
(body wikilinks sent as text, links its relations cannot hold). A page found by its key
gets them in the journals of the second passes (:mod:`.mentions`, :mod:`.relations`), as
an answered create does, so they become page mentions and relations once those pages
exist: Notion ends as an uninterrupted run leaves it.
"""

from __future__ import annotations

from syncbridge.errors import CreatePending, Interrupted, RecordError, RemoteUnavailable
from syncbridge_notion.block_writes import BlockWriter
from syncbridge_notion.cache import CachedPage, PendingCreate
from syncbridge_notion.mentions import BodyMentions
from syncbridge_notion.pacing import AmbiguousWrite
from syncbridge_notion.relations import RelationLinks
from syncbridge_notion.session import JSON, NotionSession, page_version, title_of

__all__ = ["LostCreates"]


class LostCreates:
    """Finds journaled creates in Notion and finishes them (see the module docstring)."""

    def __init__(
        self,
        session: NotionSession,
        blocks: BlockWriter,
        mentions: BodyMentions,
        relations: RelationLinks,
    ) -> None:
        self.session = session
        self.blocks = blocks
        self.mentions = mentions
        self.relations = relations

    def finish_pending(self) -> None:
        """Finish what an interrupted run left: creates whose answer was lost are looked
        up by key, pages whose deeper blocks were not all appended get them (and their
        cached body is dropped), and the links a found create sent that named no page yet
        are journaled for the second passes (:meth:`_journal_links`). A create not found
        after the grace period never reached Notion and is forgotten."""
        cache = self.session.cache
        for pending in list(cache.pending_creates()):
            page_id = pending.page_id or self.lookup(pending.source, pending.key)
            if page_id is None:
                if pending.age_s > self.grace_s():
                    cache.finish_create(pending.key)  # it never reached Notion
                continue  # it may still land: create() looks again before sending
            cache.created(pending.key, page_id, pending.deferred)
            if pending.deferred:
                self.blocks.append_deferred(page_id, pending.deferred)
                # a body read before (a dry run's) lacks them, and appends in the minute
                # of that read leave the page's version as it was: read it again
                cache.drop_body(page_id)
                self.session.recent.pop(page_id, None)
            self._journal_links(pending, page_id)
            cache.finish_create(pending.key)

    def _journal_links(self, pending: PendingCreate, page_id: str) -> None:
        """The links the create journaled (``pending.links``: body wikilinks sent as text,
        links its relations could not hold) into the journals of the second passes,
        exactly as an answered create's, and the page into the cache (one ``GET``: the
        passes fill only pages they know, at the version they know). Nothing when there
        are none, and for a page trashed or gone meanwhile."""
        links = pending.links
        if not links or not (links.get("mentions") or links.get("relations")):
            return
        try:
            page = self.session.api.page(page_id)
        except RecordError:
            return  # gone: nothing to fill
        if page.get("in_trash") or page.get("archived"):
            return
        self.session.cache.put_page(
            CachedPage(
                page_id,
                pending.class_name,
                pending.source,
                page_version(page),
                str(page.get("last_edited_time")),
                title_of(page),
            )
        )
        self.mentions.note_targets(page_id, [str(t) for t in links.get("mentions") or []])
        self.relations.note_waiting(
            page_id,
            [[str(f), str(t)] for f, t in links.get("relations") or []],
            dict(links.get("sent") or {}),
        )

    def unfinished(self) -> list[str]:
        """What :meth:`finish_pending` would do now, one line per journaled create,
        found by reading only (one query per create whose page id is not known);
        writes nothing, the journal stays."""
        out: list[str] = []
        for pending in list(self.session.cache.pending_creates()):
            what = f"a create in class {pending.class_name!r}"
            page_id = pending.page_id or self.lookup(pending.source, pending.key)
            if page_id is None:
                if pending.age_s > self.grace_s():
                    out.append(
                        f"{what} got no answer and never reached Notion; it would "
                        "be forgotten (the note is created again)"
                    )
                else:
                    out.append(
                        f"{what} got no answer and may still land; it would be "
                        "looked for again before anything is created"
                    )
                continue
            blocks = sum(len(item[1]) for item in pending.deferred)
            more = f"; {blocks} deeper block(s) would be appended" if blocks else ""
            out.append(
                f"{what} whose answer was lost is page {page_id} in Notion: it "
                f"would be taken as created{more}"
            )
        return out

    def grace_s(self) -> float:
        """How long a create that got no answer may still land, seconds."""
        config = self.session.config
        return max(config.create_grace_s, config.timeout_s)

    def lookup(self, source: str, key: str) -> str | None:
        """The id of the page in data source ``source`` created with ``key``, if any."""
        body = {
            "filter": {"property": self.session.config.id_property, "rich_text": {"equals": key}}
        }
        for page in self.session.api.query(source, body, f"looking up create {key}"):
            return str(page["id"])
        return None

    def earlier_send(self, fingerprint: str, label: str) -> str | None:
        """The page an earlier, unanswered create of the same content made (its id), or
        ``None`` when there is none to wait for; the blocks that create left for later
        appends are appended first. :class:`CreatePending` while such a create may still
        land: this note is skipped, the rest of the run goes on."""
        cache = self.session.cache
        for old_key, source, age, deferred in cache.unresolved_creates(fingerprint):
            # the same content was sent before and got no answer: find it, never resend
            found = self.lookup(source, old_key)
            if found is not None:
                # as an answer would have: the page id first (a run killed during the
                # appends finishes them in finish_pending), then the deeper blocks
                cache.created(old_key, found, deferred)
                if deferred:
                    self.blocks.append_deferred(found, deferred)
                cache.finish_create(old_key)
                return found
            if age <= self.grace_s():
                raise CreatePending(
                    f"Notion: an earlier create of {label!r} got no answer and may "
                    f"still land (for up to {self.grace_s():.0f} s); skipped, the next "
                    "sync looks for it again before creating it"
                )
            cache.finish_create(old_key)
        return None

    def create_page(self, body: JSON, source: str, key: str, what: str) -> JSON:
        """POST the page; on a lost answer, look it up by its create key first. A create
        the server answered with an error status and that is not there is sent once
        more (same key); one with no answer at all (timeout, dropped connection) is not:
        it may still land, and the next run looks for it before creating anything. One
        the stop cut short before a first answer (:class:`Interrupted`: nothing sent, or
        refused with 429) is taken out of the journal: the next run creates it anew."""
        api = self.session.api
        for attempt in range(2):
            try:
                return api.create_page(body, what)
            except Interrupted:
                if attempt == 0:  # no attempt of it was applied: it is no lost create
                    self.session.cache.finish_create(key)
                raise
            except AmbiguousWrite as exc:
                found = self.lookup(source, key)
                if found is not None:
                    return api.page(found)
                if exc.answered and attempt == 0:
                    api.pacer.limiter.pause_until(api.pacer.backoff(0))
                    continue
                if exc.answered:
                    # Notion answered an error twice and the page is not there: it was
                    # not created, and the next run may create it without waiting
                    self.session.cache.finish_create(key)
                raise RemoteUnavailable(
                    f"Notion: {what}: no answer ({exc.reason}); not retried, the next sync "
                    "looks for the page before creating it again"
                ) from exc
        raise AssertionError("unreachable")
