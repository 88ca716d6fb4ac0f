"""``NotionAdapter.reuse_listing``: within it, one query of each data source serves
every listing (``migrate --from`` reads, plans and runs on one), a listing shows the
adapter's own writes since, and one made in a dry run ends with it."""

from __future__ import annotations

from notion_adapter_support import request_counts, reset_counts
from notion_vault_support import Run

from syncbridge.adapter import Record

QUERY = "POST /v1/data_sources/{id}/query"
SOURCES = 2
"""The two-class vault's databases: projects and tasks."""


def queries(run: Run) -> int:
    return request_counts(run.server).get(QUERY, 0)


def test_one_query_per_data_source_serves_every_listing_within(run: Run) -> None:
    run.sync()
    remote = run.open_remote()
    reset_counts(run.server)
    with remote.reuse_listing():
        first = sorted(remote.list(), key=lambda r: r.id)
        assert queries(run) == SOURCES
        with remote.dry_run():  # the dry run's copy of the cache holds that listing
            assert sorted(remote.list(), key=lambda r: r.id) == first
        made = remote.create(Record("task", {"estimate": 1}, "New.\n", title="New"))
        again = sorted(remote.list(), key=lambda r: r.id)
        assert queries(run) == SOURCES
    assert again == sorted([*first, made], key=lambda r: r.id)  # its own write shows
    assert sorted(remote.list(), key=lambda r: r.id) == again  # outside: a query again
    assert queries(run) == 2 * SOURCES
    remote.close()


def test_a_listing_made_in_a_dry_run_is_not_kept_past_it(run: Run) -> None:
    run.sync()
    remote = run.open_remote()
    reset_counts(run.server)
    with remote.reuse_listing():
        with remote.dry_run():
            listed = sorted(remote.list(), key=lambda r: r.id)
            assert sorted(remote.list(), key=lambda r: r.id) == listed
            assert queries(run) == SOURCES
        # the cache it filled was a copy, gone: the next dry run, and a run, query
        with remote.dry_run():
            assert sorted(remote.list(), key=lambda r: r.id) == listed
        assert queries(run) == 2 * SOURCES
        assert sorted(remote.list(), key=lambda r: r.id) == listed
        assert queries(run) == 3 * SOURCES
        assert sorted(remote.list(), key=lambda r: r.id) == listed
        assert queries(run) == 3 * SOURCES
    remote.close()
