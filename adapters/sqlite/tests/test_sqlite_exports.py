"""The public surface of ``syncbridge_sqlite`` is what ``__all__`` says, and it imports."""

from __future__ import annotations

import syncbridge_sqlite


def test_exported_members() -> None:
    assert sorted(syncbridge_sqlite.__all__) == [
        "Deletion",
        "SQLiteAdapter",
        "SQLiteConfig",
        "TrashEntry",
    ]
    for name in syncbridge_sqlite.__all__:
        assert getattr(syncbridge_sqlite, name).__module__.startswith("syncbridge_sqlite.")
