"""Frontmatter values left in the index cache file, read back when asked for.

A vault opened from its index cache (``Vault(cache_path=...)``) does not keep the values of
its notes in memory: each :class:`~syncbridge.vault.vault.IndexEntry` holds a
:class:`StoredValues`, the place of its values' JSON text in the cache file, and reads them
with one ``pread`` when they are looked at. A no-op sync of a large vault looks at most
entries' values once or twice (the schema build, the listing), so this costs little time
and keeps about 0.3 KB per note out of memory (issue 14 item 6: the values text was the
largest part of the index).

The file stays open (read only) for as long as entries point into it. The cache is only
ever replaced whole (written to a temporary file, then renamed over it), so the open file
keeps the bytes it was loaded from even after a later save or another process replaced the
cache. If the bytes changed all the same (someone edited the cache file in place), the
CRC-32 of every read tells, and a :class:`~syncbridge.errors.RetryableError` says to run
again; nothing is read as a wrong value.
"""

from __future__ import annotations

import contextlib
import os
import zlib

from syncbridge.errors import RetryableError

__all__ = ["CacheFile", "StoredValues"]


class CacheFile:
    """An index cache file open for reading (closed when no entry points into it)."""

    __slots__ = ("__weakref__", "fd", "path")

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.path = os.fspath(path)
        self.fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))

    def __del__(self) -> None:
        fd, self.fd = getattr(self, "fd", -1), -1
        if fd >= 0:
            with contextlib.suppress(OSError):  # closing a read-only fd does not fail
                os.close(fd)

    def stored(self, offset: int, length: int, crc: int) -> StoredValues:
        """The values whose ``length`` bytes start at byte ``offset`` of this file and have
        CRC-32 ``crc``."""
        return StoredValues(self, offset << 64 | length << 32 | crc)


class StoredValues:
    """Where one entry's values text is in a :class:`CacheFile` (offset, length and CRC-32
    packed in one int: the smallest form, one per note)."""

    __slots__ = ("_file", "_span")

    def __init__(self, file: CacheFile, span: int) -> None:
        self._file = file
        self._span = span

    @property
    def file(self) -> CacheFile:
        return self._file

    def text(self) -> str:
        """The values' JSON text, read from the file now (one ``pread``). Raises
        RetryableError if the bytes are not those the cache was loaded with."""
        span = self._span
        offset, length, crc = span >> 64, (span >> 32) & 0xFFFFFFFF, span & 0xFFFFFFFF
        try:
            data = os.pread(self._file.fd, length, offset)
        except OSError as exc:
            raise RetryableError(
                f"{self._file.path}: cannot read the index cache ({exc.strerror or exc}); "
                "run the command again"
            ) from exc
        if len(data) != length or zlib.crc32(data) != crc:
            raise RetryableError(
                f"{self._file.path}: the index cache changed while syncbridge was using it "
                "(edited in place?); run the command again (a damaged cache is rebuilt)"
            )
        return data.decode("ascii")
