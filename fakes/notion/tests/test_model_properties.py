"""Property tests: the fake against plain-Python models of Notion's behaviour."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notion_client import Client, collect_paginated_api
from notion_fake_support import make_database, paragraph, text
from syncbridge_notion_fake import NotionFakeServer

# SYNCBRIDGE_PROPERTY_EXAMPLES=500 (with SYNCBRIDGE_HYPOTHESIS=explore) runs a longer search.
EXAMPLES = int(os.environ.get("SYNCBRIDGE_PROPERTY_EXAMPLES", "25"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# An append: where ("end", "start" or "after" the n-th existing block) and how many blocks.
appends = st.lists(
    st.tuples(
        st.sampled_from(["end", "start", "after", "after_legacy"]),
        st.integers(0, 20),
        st.integers(1, 3),
    ),
    min_size=1,
    max_size=6,
)


def test_appended_children_land_where_a_list_model_puts_them() -> None:
    with NotionFakeServer() as server:
        client = Client(auth=server.token, base_url=server.url)

        @SETTINGS
        @given(appends)
        def check(operations: list[tuple[str, int, int]]) -> None:
            page = client.pages.create(
                parent={"page_id": server.root_page_id}, properties={"title": text("model")}
            )
            model: list[str] = []  # block texts, in order
            ids: dict[str, str] = {}
            counter = 0
            for where, anchor, count in operations:
                labels = [f"b{counter + i}" for i in range(count)]
                counter += count
                options: dict[str, Any] = {}
                index = len(model)
                if where == "start":
                    options["position"] = {"type": "start"}
                    index = 0
                elif where.startswith("after") and model:
                    target = model[anchor % len(model)]
                    index = model.index(target) + 1
                    if where == "after_legacy":
                        options["after"] = ids[target]
                    else:
                        options["position"] = {
                            "type": "after_block",
                            "after_block": {"id": ids[target]},
                        }
                created = client.blocks.children.append(
                    page["id"], children=[paragraph(label) for label in labels], **options
                )["results"]
                assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in created] == labels
                ids.update(
                    {label: block["id"] for label, block in zip(labels, created, strict=True)}
                )
                model[index:index] = labels
            listed = collect_paginated_api(
                client.blocks.children.list, block_id=page["id"], page_size=4
            )
            assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in listed] == model

        check()


def test_filtered_sorted_paginated_queries_match_a_model() -> None:
    with NotionFakeServer() as server:
        client = Client(auth=server.token, base_url=server.url)

        @SETTINGS
        @given(
            scores=st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=12),
            threshold=st.integers(-6, 6),
            page_size=st.integers(1, 5),
            descending=st.booleans(),
        )
        def check(
            scores: list[int | None], threshold: int, page_size: int, descending: bool
        ) -> None:
            _, source = make_database(
                client, server, {"Name": {"title": {}}, "Score": {"number": {}}}
            )
            for index, score in enumerate(scores):
                client.pages.create(
                    parent={"data_source_id": source},
                    properties={"Name": {"title": text(f"p{index}")}, "Score": {"number": score}},
                )
            found = collect_paginated_api(
                client.data_sources.query,
                data_source_id=source,
                page_size=page_size,
                filter={"property": "Score", "number": {"greater_than_or_equal_to": threshold}},
                sorts=[
                    {"property": "Score", "direction": "descending" if descending else "ascending"}
                ],
            )
            got = [p["properties"]["Score"]["number"] for p in found]
            expected = sorted(
                (s for s in scores if s is not None and s >= threshold), reverse=descending
            )
            assert got == expected

        check()
