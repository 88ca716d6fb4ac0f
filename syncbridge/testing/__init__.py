"""Test support shipped as public API, for adapter authors and for syncbridge's own tests.

* :class:`MemoryAdapter` (a remote in memory, also the ``memory`` adapter entry point),
  :class:`CheckThenWriteMemoryAdapter` (one without atomic writes) and :class:`ManualClock`;
* :class:`AdapterContract`, the contract suite an adapter's tests subclass (needs pytest,
  imported on first use so that the memory adapter works without it), with its schema and
  edge values;
* :class:`FaultInjector` / :class:`SimulatedCrash`, the executor's crash-injection hooks
  (``SYNCBRIDGE_TEST_KILL_AT`` does the same from the environment).

The pytest plugin (:mod:`syncbridge.testing.plugin`, entry point ``pytest11``) gives the
``manual_clock``, ``memory_remote`` and ``memory_vault`` fixtures.
"""

import typing

from syncbridge.engine.faults import FaultInjector, SimulatedCrash
from syncbridge.testing.memory import (
    CheckThenWriteMemoryAdapter,
    ManualClock,
    MemoryAdapter,
    MemoryConfig,
)

_CONTRACT = ("CONTRACT_SCHEMA", "EDGE_VALUES", "SPECIAL_TITLES", "AdapterContract")

__all__ = [
    "CONTRACT_SCHEMA",
    "EDGE_VALUES",
    "SPECIAL_TITLES",
    "AdapterContract",
    "CheckThenWriteMemoryAdapter",
    "FaultInjector",
    "ManualClock",
    "MemoryAdapter",
    "MemoryConfig",
    "SimulatedCrash",
]


def __getattr__(name: str) -> typing.Any:
    """The contract suite's names, imported on first use (the suite imports pytest)."""
    if name in _CONTRACT:
        from syncbridge.testing import contract

        return getattr(contract, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_CONTRACT})
