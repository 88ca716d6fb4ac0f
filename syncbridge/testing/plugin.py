"""pytest plugin registered under ``pytest11``: fixtures for adapter and engine tests.

Available in any project that installs syncbridge:

- ``manual_clock``: a :class:`~syncbridge.testing.memory.ManualClock` at 2026-01-01 12:00 UTC.
- ``memory_remote``: a :class:`MemoryAdapter` playing a remote (opaque ids).
- ``memory_vault``: a :class:`MemoryAdapter` playing the vault (ids are paths, the
  ``last_modified`` field gives the time), on the same clock.
- ``state_store``: a fresh :class:`~syncbridge.state.StateStore` in ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncbridge.state import StateStore
from syncbridge.testing.memory import ManualClock, MemoryAdapter, MemoryConfig

__all__ = ["manual_clock", "memory_remote", "memory_vault", "state_store"]


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock that moves only with ``advance(seconds)``."""
    return ManualClock()


@pytest.fixture
def memory_remote(manual_clock: ManualClock) -> MemoryAdapter:
    """An empty in-memory remote on ``manual_clock``."""
    return MemoryAdapter(MemoryConfig(), clock=manual_clock)


@pytest.fixture
def memory_vault(manual_clock: ManualClock) -> MemoryAdapter:
    """An empty in-memory vault (path ids, ``last_modified`` field) on ``manual_clock``."""
    return MemoryAdapter(
        MemoryConfig(ids_are_paths=True, last_modified_field="last_modified"),
        clock=manual_clock,
    )


@pytest.fixture
def state_store(tmp_path: Path) -> Iterator[StateStore]:
    """A new state file at ``tmp_path/.syncbridge/state.db``, closed afterwards."""
    store = StateStore.open(tmp_path / ".syncbridge" / "state.db")
    yield store
    store.close()
