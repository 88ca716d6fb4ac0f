"""Body wikilink resolution against the synced pages (``syncbridge_notion.body_links``),
over a real cache file: the vault's link rules among the synced notes, and the way each
page's links are spelled back."""

from __future__ import annotations

from pathlib import Path

from syncbridge_notion.body_links import BodyLinks, is_note_target
from syncbridge_notion.cache import CachedPage, NotionCache

A = "11111111-2222-3333-4444-555555555555"
B = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
C = "99999999-8888-7777-6666-555555555555"


def _cache(tmp_path: Path) -> NotionCache:
    cache = NotionCache(tmp_path / "cache.db")
    for page_id, title, path in (
        (A, "Note", "Area/Note.md"),
        (B, "Note", "Other/Note.md"),
        (C, "v1.2 plan", "Plans/v1.2 plan.md"),
    ):
        cache.put_page(CachedPage(page_id, "note", "src", "v", "2026-01-01", title))
        cache.put_body(page_id, "v", None, {"extra": {"path": path}, "body": ""})
    return cache


def test_links_resolve_by_the_vault_rules_among_synced_notes(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    links = BodyLinks(lambda: cache)
    assert links.resolve("Area/Note", None) == A and links.resolve("Other/Note", None) == B
    assert links.resolve("Note", "Other/Linking.md") == B  # the note's own folder first
    assert links.resolve("v1.2 plan", None) == C  # a dot in a note's name is no extension
    assert links.resolve("Ghost", None) is None and links.resolve("pic.png", None) is None
    assert not is_note_target("pic.png") and not is_note_target("")  # [[#Heading]]
    assert is_note_target("v1.2 plan") and is_note_target("Note.md")
    # a page created after the index was built: found on the next miss
    cache.put_page(CachedPage(B.replace("a", "b"), "note", "src", "v", "2026-01-01", "Later"))
    assert links.resolve("Later", None) == B.replace("a", "b")
    cache.close()


def test_a_page_is_written_as_the_body_spelled_it_else_by_its_shortest_name(
    tmp_path: Path,
) -> None:
    cache = _cache(tmp_path)
    links = BodyLinks(lambda: cache)
    prior = "See [[area/note]] and [[Area/Note|the note]], [[v1.2 plan#Goal]].\n"
    spelled = links.link_target("Area/Linking.md", prior)
    assert spelled(A) == "area/note"  # the plain link's spelling, for a mention
    assert spelled.for_text(A, "the note") == "Area/Note"  # the aliased link's
    assert spelled.for_text(A, "other text") == "area/note"
    assert spelled(C) == "v1.2 plan"
    # no prior: the name when it names the page from there, else the path
    fresh = links.link_target("Top.md")
    assert fresh(A) == "Note"  # the tie-break (shorter path) picks Area/Note from the top
    assert fresh(B) == "Other/Note"
    assert links.link_target("Other/x.md")(A) == "Area/Note"
    assert fresh("12345678-1234-1234-1234-123456789012") is None  # no synced note
    # a page retitled (in Notion): its new name, the old spelling no longer names it
    cache.put_page(CachedPage(C, "note", "src", "v2", "2026-01-02", "v2 plan"))
    assert links.link_target(None, prior)(C) == "v2 plan"
    cache.close()
