"""``syncbridge watch``: the background daemon and its local control API.

The daemon (:class:`Daemon`, :mod:`syncbridge.daemon.loop`) runs the same
:class:`~syncbridge.bridge.Bridge` as ``syncbridge sync``; what it adds is timing (file
events debounced and coalesced, :mod:`~syncbridge.daemon.events`; remotes polled per
target), resilience (backoff, pauses, signals, a lock) and the control API
(:mod:`~syncbridge.daemon.control`). Running it as a service: ``docs/daemon.md``.
"""

from syncbridge.daemon.backoff import Backoff
from syncbridge.daemon.events import ChangeBuffer, DueChanges, VaultEventFilter
from syncbridge.daemon.files import DaemonLock, daemon_files
from syncbridge.daemon.loop import Daemon, EventBus, TargetRuntime

__all__ = [
    "Backoff",
    "ChangeBuffer",
    "Daemon",
    "DaemonLock",
    "DueChanges",
    "EventBus",
    "TargetRuntime",
    "VaultEventFilter",
    "daemon_files",
]
