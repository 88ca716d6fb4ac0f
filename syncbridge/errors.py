"""The one error hierarchy of syncbridge, grouped by what the caller should do.

::

    SyncbridgeError                 base of everything we raise on purpose
    ├── FatalError                  stop the run; the message says what to fix
    │   ├── ConfigError             bad syncbridge.toml (names the key path)
    │   ├── AdapterNotFound         no entry point of that name / duplicate names
    │   ├── AuthError               the remote refuses our credentials (bad token, not shared)
    │   ├── StateError              state store unusable or from a newer version
    │   ├── DamagedFile             a state or target file is damaged, empty or not ours
    │   │                           (hint: syncbridge repair; names the file)
    │   ├── StorageFailure          the disk or filesystem refused: full, read-only, I/O
    │   │                           error, no permission (names the path and what to do)
    │   ├── DaemonRunning           another 'syncbridge watch' holds this state (names it)
    │   └── SafetyStop              a run that would delete too much (hint: --force-delete)
    │       └── TargetRestored      the target looks put back from an older copy
    │                               (hint: --take-target / --push-vault)
    ├── RetryableError              try again later (network, rate limit, lock held)
    │   ├── RemoteUnavailable       unreachable, overloaded, rate limited (``retry_after_s``)
    │   ├── SyncLocked              another sync of the same target is running
    │   └── Interrupted             the process is stopping: a wait was cut short
    └── SkipError                   skip this note / record, go on with the others
        ├── NoteError               a note we cannot read or edit safely (names file and line)
        │   ├── FrontmatterError    YAML we refuse to edit (duplicate keys, tabs, tags, bombs ...)
        │   └── EncodingError       not valid UTF-8
        ├── EditError               a requested edit could not be applied losslessly
        ├── WriteConflict           the file/record changed since we read it (compare-and-swap)
        │   └── StaleVersion        an adapter write carried an outdated version
        ├── RecordError             an external record we cannot map (names the record id)
        ├── CreatePending           an earlier create of this entry got no answer and may
        │                           still land; skipped until it is found or known lost
        └── UnsafePath              a name that would escape the vault

Only the CLI turns these into exit codes. Vendor errors are translated at the adapter
boundary with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "AdapterNotFound",
    "AuthError",
    "ConfigError",
    "CreatePending",
    "DaemonRunning",
    "DamagedFile",
    "EditError",
    "EncodingError",
    "FatalError",
    "FrontmatterError",
    "Interrupted",
    "NoteError",
    "RecordError",
    "RemoteUnavailable",
    "RetryableError",
    "SafetyStop",
    "SkipError",
    "StaleVersion",
    "StateError",
    "StorageFailure",
    "SyncLocked",
    "SyncbridgeError",
    "TargetRestored",
    "UnsafePath",
    "WriteConflict",
]


class SyncbridgeError(Exception):
    """Base class of every error syncbridge raises on purpose."""


class FatalError(SyncbridgeError):
    """The run cannot go on; the message says what to fix."""


class ConfigError(FatalError):
    """The configuration is invalid. The message names the key path."""


class AdapterNotFound(FatalError):
    """No adapter is registered under the requested name (or two claim it)."""


class AuthError(FatalError):
    """The remote refused our credentials: a bad or revoked token, or a page or database
    not shared with the integration. Retrying cannot help; a person must act.

    ``problem`` says what the remote answered, ``todo`` what to do about it (which setting
    to change, what to share with whom); the message is both::

        AuthError("Notion rejected the token (401 unauthorized)",
                  todo="create a new internal integration token and set [targets.notion] token")
    """

    def __init__(self, problem: str, *, todo: str) -> None:
        if not todo.strip():
            raise ValueError("an AuthError must say what to do")
        self.problem = problem
        self.todo = todo
        super().__init__(f"{problem}: {todo}")


class StateError(FatalError):
    """The state store cannot be used (corrupt, locked for good, or from a newer version)."""


class DamagedFile(FatalError):
    """A file syncbridge relies on (the state, a target database) is damaged, empty or not
    what it should be. ``path`` names it; the message says what to run (mostly
    ``syncbridge repair``, which keeps the damaged file as a backup)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class StorageFailure(FatalError):
    """The environment refused a read or write: the disk is full, the file system is
    read-only, an I/O error, no permission, a file-size limit. ``path`` names the file,
    ``reason`` is one of ``disk_full``, ``read_only``, ``io_error``, ``permission``,
    ``file_too_large``, ``other``. Nothing half-written is kept; fix it and run again."""

    def __init__(self, message: str, *, path: str | None = None, reason: str = "other") -> None:
        self.path = path
        self.reason = reason
        super().__init__(message)


class SafetyStop(FatalError):
    """A safety guard stopped the run before it changed anything (e.g. mass deletion)."""


class TargetRestored(SafetyStop):
    """The target moved back in time (put back from an older copy): stopped before any
    write; ``--take-target`` or ``--push-vault`` (``SyncOptions.restored``) decides."""


class DaemonRunning(FatalError):
    """Another daemon runs on the same vault and state; the message names it (pid)."""


class RetryableError(SyncbridgeError):
    """A transient failure; the same operation may succeed later."""


class RemoteUnavailable(RetryableError):
    """The remote could not be reached or answered with a transient error.

    ``retry_after_s`` is how long the remote asked us to wait (Notion's ``Retry-After`` on a
    429 or 503, in seconds), or ``None`` when it did not say; the daemon waits at least that
    long before the next run.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        if retry_after_s is not None and not retry_after_s >= 0:
            raise ValueError(f"retry_after_s must be >= 0 seconds, not {retry_after_s!r}")
        self.retry_after_s = retry_after_s
        super().__init__(message)


class SyncLocked(RetryableError):
    """Another sync of the same target holds the run lock (the CLI or the daemon)."""


class Interrupted(RetryableError):
    """The process is stopping (the daemon got SIGTERM/SIGINT) while an adapter waited to
    send a request (a rate limit's ``Retry-After``, a retry's backoff): the wait ended at
    once and the request was not sent. The run ends as after any failure that ends it
    (what was written is committed, the write in flight stays journaled); the next run
    goes on from there."""


class SkipError(SyncbridgeError):
    """This note or record cannot be processed; the others can."""


class NoteError(SkipError):
    """A note cannot be read or edited safely.

    ``path`` is the vault-relative (or given) path, ``line`` the 1-based line in the file
    when known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.reason = message
        where = path or "<note>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class FrontmatterError(NoteError):
    """Frontmatter that syncbridge refuses to edit (it is left byte-for-byte as it is)."""


class EncodingError(NoteError):
    """The file is not valid UTF-8."""


class EditError(NoteError):
    """A requested edit could not be applied without touching other bytes."""


class WriteConflict(SkipError):
    """The target changed since it was read; the write was refused (compare-and-swap)."""


class StaleVersion(WriteConflict):
    """An adapter write carried a version that is no longer current."""


class RecordError(SkipError):
    """An external record cannot be mapped to a note."""


class CreatePending(SkipError):
    """An earlier create of the same entry got no answer and may still land: sending it
    again could make a duplicate. This entry is skipped (the others go on); the next run
    looks for the earlier create again, and creates anew once it is known to be lost."""


class UnsafePath(SkipError):
    """A path would escape the vault or cannot be represented on this filesystem."""
