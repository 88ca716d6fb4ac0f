"""Note file names from external titles, and vault-relative paths that cannot escape the vault.

:func:`safe_filename` turns a title from Notion, SQLite, ... into a file name that is valid
on Windows, macOS and Linux at once, so a vault synced between machines never meets a name
one of them cannot store:

* ``\\ / : * ? " < > |`` and control characters (C0, DEL, C1) become a space, as do lone
  surrogates; with ``link_safe`` (the default) also ``# ^ [ ]``, which break ``[[links]]``
  in Obsidian. Runs of spaces collapse to one.
* leading dots and spaces are removed (no hidden files), trailing dots and spaces too
  (Windows drops them silently, so ``"a."`` and ``"a"`` would be the same file there).
* Windows device names (``CON PRN AUX NUL COM0-9 LPT0-9``, also ``COM¹²³``, ``CONIN$``,
  ``CONOUT$``), in any case and with any extension (``con.md``, ``Nul.tar.gz``), get a
  ``_`` after the device name: ``CON_.md``.
* NFC-normalized; the name (suffix included) fits ``max_bytes`` UTF-8 bytes both in NFC and
  in NFD (macOS HFS+ stores NFD; 240 leaves room below the 255 of every common file system),
  cut between characters, never inside one or between a character and its combining
  marks / emoji joiners.
* never empty (``"Untitled"``); the result always ends with ``suffix`` (``.md``), and a
  title already ending with it is not suffixed twice, so the function is idempotent.
* collision-safe: if the name is in ``existing`` (compared case-insensitively and
  NFC/NFD-insensitively, as macOS and Windows compare names), `` 2``, `` 3``, ... is added
  before the suffix, the way Obsidian numbers copies.

:func:`safe_join` maps a vault-relative POSIX path to a filesystem path and raises
:class:`~syncbridge.errors.UnsafePath` for anything that could land outside the vault.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path
from typing import Final

from syncbridge.errors import UnsafePath

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FALLBACK_NAME",
    "WINDOWS_FORBIDDEN",
    "name_key",
    "safe_filename",
    "safe_join",
]

DEFAULT_MAX_BYTES: Final = 240
FALLBACK_NAME: Final = "Untitled"
WINDOWS_FORBIDDEN: Final = frozenset('\\/:*?"<>|')
LINK_BREAKING: Final = frozenset("#^[]")
_DEVICE_NAMES: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789¹²³"}
)
_ZWJ: Final = "\u200d"
_SPACES_RE: Final = re.compile(r" {2,}")
_DRIVE_RE: Final = re.compile(r"^[A-Za-z]:")


def name_key(name: str) -> str:
    """The key under which case-insensitive, normalization-insensitive file systems
    (macOS, Windows) consider two names equal. Pure."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def _is_unsafe_char(char: str, link_safe: bool) -> bool:
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F  # DEL and C1 controls
        or 0xD800 <= code <= 0xDFFF  # lone surrogates cannot be encoded
        or char in WINDOWS_FORBIDDEN
        or (link_safe and char in LINK_BREAKING)
    )


def _clean(stem: str, link_safe: bool) -> str:
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join(" " if _is_unsafe_char(c, link_safe) else c for c in stem)
    stem = _SPACES_RE.sub(" ", stem)
    return stem.lstrip(". ").rstrip(". ")


def _is_device_name(name: str) -> bool:
    # Windows looks at the part before the first dot, ignoring trailing spaces.
    return name.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES


def _undevice(stem: str, suffix: str) -> str:
    if not _is_device_name(stem + suffix):
        return stem
    base, dot, rest = stem.partition(".")
    return base.rstrip(" ") + "_" + dot + rest


def _fits(name: str, max_bytes: int) -> bool:
    return (
        len(name.encode("utf-8")) <= max_bytes
        and len(unicodedata.normalize("NFD", name).encode("utf-8")) <= max_bytes
    )


def _is_continuation(char: str) -> bool:
    """Characters that belong to the one before them (marks, joiners, skin tones, tags)."""
    return unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf") or 0x1F3FB <= ord(char) <= 0x1F3FF


def _truncate(stem: str, max_bytes: int) -> str:
    """Longest prefix of ``stem`` that fits, cut between whole characters."""
    if _fits(stem, max_bytes):
        return stem
    end = min(len(stem), max_bytes)
    while end > 0 and not _fits(stem[:end], max_bytes):
        end -= 1
    while end > 0 and (_is_continuation(stem[end]) or stem[end - 1] == _ZWJ):
        end -= 1
    return stem[:end]


def _settle(stem: str, suffix: str, budget: int, link_safe: bool) -> str:
    """Clean, un-device and truncate until nothing changes (each step can undo another's
    work: a cut can leave a trailing dot, a trailing-dot strip can expose a device name)."""
    for _ in range(8):
        before = stem
        stem = _undevice(_clean(stem, link_safe), suffix)
        stem = _clean(_truncate(stem, budget), link_safe)
        if not stem:
            stem = FALLBACK_NAME
        if stem == before:
            return stem
    return stem  # pragma: no cover - converges in two rounds in practice


def safe_filename(
    title: str,
    *,
    existing: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    suffix: str = ".md",
    link_safe: bool = True,
) -> str:
    """A file name (no folder) for a note titled ``title``, valid on Windows, macOS and
    Linux, not among ``existing`` (names already in the target folder), at most
    ``max_bytes`` UTF-8 bytes long including ``suffix``. Pure: nothing is created, so two
    concurrent callers can still pick the same name; create the file with
    ``write_atomic(..., expected=ABSENT)``, which refuses to overwrite. Raises
    ``ValueError`` if ``max_bytes`` leaves no room for a name.
    """
    if max_bytes < len(suffix.encode("utf-8")) + len(FALLBACK_NAME) + 8:
        raise ValueError(f"max_bytes={max_bytes} leaves no room for a name")
    if suffix and title.lower().endswith(suffix.lower()):
        title = title[: -len(suffix)]
    budget = max_bytes - len(suffix.encode("utf-8"))
    stem = _settle(title, suffix, budget, link_safe)
    taken = {name_key(name) for name in existing}
    if name_key(stem + suffix) not in taken:
        return stem + suffix
    number = 2
    while True:
        tail = f" {number}"
        base = _settle(_truncate(stem, budget - len(tail)), suffix, budget - len(tail), link_safe)
        candidate = base + tail
        if name_key(candidate + suffix) not in taken:
            return candidate + suffix
        number += 1


def safe_join(vault_root: os.PathLike[str] | str, rel: str) -> Path:
    """The filesystem path of vault-relative POSIX path ``rel`` under ``vault_root``.

    Raises :class:`UnsafePath` for a path that is empty, contains NUL or a backslash,
    is absolute (``/x``, ``\\\\server``), starts with a drive letter (``C:``), has a ``..``
    segment, or whose existing part resolves (through symlinks) outside the vault.
    ``.`` and empty segments are dropped. The returned path is ``vault_root`` (made
    absolute and symlink-resolved) joined with the cleaned segments; a symlink *inside*
    the vault pointing inside the vault is allowed and is not resolved in the result.
    Reads the filesystem (to resolve symlinks), writes nothing.
    """
    if "\x00" in rel:
        raise UnsafePath(f"{rel!r}: a path cannot contain a NUL character")
    if "\\" in rel:
        raise UnsafePath(f"{rel!r}: backslashes are not portable; use '/' between folders")
    if rel.startswith("/") or _DRIVE_RE.match(rel):
        raise UnsafePath(f"{rel!r}: expected a path relative to the vault, got an absolute one")
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePath(f"{rel!r}: '..' is not allowed in a vault path")
    if not parts:
        raise UnsafePath(f"{rel!r}: names no file inside the vault")
    root = Path(os.path.abspath(vault_root)).resolve()
    candidate = root.joinpath(*parts)
    real = candidate.resolve()
    if not real.is_relative_to(root) or real == root:
        raise UnsafePath(f"{rel!r}: resolves to {real}, outside the vault {root} (symlink?)")
    return candidate
