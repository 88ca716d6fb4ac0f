"""Settings for the whole test run (every testpath shares them).

Property tests run a fixed, repeatable set of examples by default, so that a clean clone's
``.ci/run`` gives the same result every time: a failure is a regression, not a new draw.
Set ``SYNCBRIDGE_HYPOTHESIS=explore`` to search with fresh random examples, and ten times
as many, as one should before calling converter or engine work done.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("syncbridge", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=250, print_blob=True)
settings.load_profile(
    "explore" if os.environ.get("SYNCBRIDGE_HYPOTHESIS") == "explore" else "syncbridge"
)


def pytest_configure(config: object) -> None:
    config.addinivalue_line(  # type: ignore[attr-defined]
        "markers",
        "slow: long runs (the whole corpus, 20 SIGKILLs); skipped unless SYNCBRIDGE_SLOW=1 "
        "(benchmarks/migrate_corpus.py sets it)",
    )


def pytest_collection_modifyitems(config: object, items: list[object]) -> None:
    import pytest

    if os.environ.get("SYNCBRIDGE_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set SYNCBRIDGE_SLOW=1 (benchmarks/migrate_corpus.py)")
    for item in items:
        if item.get_closest_marker("slow"):  # type: ignore[attr-defined]
            item.add_marker(skip)  # type: ignore[attr-defined]
