"""Splitting a note into exact pieces: BOM, opening line, frontmatter text, closing line, body.

The rule (strict on purpose; anything ambiguous stays body and is never edited):

* the file starts (after an optional UTF-8 BOM) with a line that is exactly ``---``
  (``\\n`` or ``\\r\\n``);
* the frontmatter ends at the first following line that is exactly ``---``, optionally
  followed by ``\\r``; the closing line may be the last line of the file without a newline;
* no closing line: there is no frontmatter, the whole file is body (as in Obsidian).

``prefix + frontmatter + closing + body`` always equals the decoded text, so a note we do not
edit is written back byte for byte. python-frontmatter's ``split`` cannot do this: its
delimiter regex swallows surrounding blank lines and the pieces cannot be put back together
(see ``docs/design.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncbridge.errors import EncodingError

__all__ = ["Parts", "decode", "frontmatter_of", "split_text"]

_BOM = "\ufeff"
_OPEN = re.compile(r"---(\r?\n)")
_CLOSE = re.compile(r"^---(?:\r?\n|\r?\Z)", re.M)


@dataclass(frozen=True)
class Parts:
    """The exact pieces of a note. ``frontmatter`` is ``None`` when there is none."""

    bom: str
    opening: str  # "---\n" / "---\r\n", or "" without frontmatter
    frontmatter: str | None
    closing: str  # "---\n", "---\r\n", "---", or ""
    body: str

    @property
    def newline(self) -> str:
        """The line ending this note uses ("\\r\\n" if its first line break is one)."""
        if self.opening:
            return self.opening[3:]
        idx = self.body.find("\n")
        return "\r\n" if idx > 0 and self.body[idx - 1] == "\r" else "\n"

    @property
    def body_offset_lines(self) -> int:
        """Number of file lines before the body."""
        if self.frontmatter is None:
            return 0
        return 1 + self.frontmatter.count("\n") + (1 if self.closing.endswith("\n") else 0)

    def text(self) -> str:
        return self.bom + self.opening + (self.frontmatter or "") + self.closing + self.body


def decode(data: bytes, *, path: str | None = None) -> str:
    """Decode UTF-8 strictly; EncodingError names the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EncodingError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8 — syncbridge leaves it untouched",
            path=path,
            line=line,
        ) from None


def frontmatter_of(text: str) -> str | None:
    """The frontmatter text of decoded note ``text``, as :func:`split_text` finds it, without
    building the other parts (the vault's scan needs only this; pure; never fails)."""
    start = 4 if text.startswith("---\n") else 0
    if not start:
        opening = _OPEN.match(text, 1 if text.startswith(_BOM) else 0)
        if opening is None:
            return None
        start = opening.end()
    close = _CLOSE.search(text, start)
    return None if close is None else text[start : close.start()]


def split_text(text: str) -> Parts:
    """Split decoded note text into :class:`Parts` (pure; never fails)."""
    bom = _BOM if text.startswith(_BOM) else ""
    rest = text[len(bom) :]
    opening = _OPEN.match(rest)
    if opening is None:
        return Parts(bom, "", None, "", rest)
    start = opening.end()
    close = _CLOSE.search(rest, start)
    if close is None:
        return Parts(bom, "", None, "", rest)
    fm = rest[start : close.start()]
    return Parts(bom, opening.group(0), fm, close.group(0), rest[close.end() :])
