"""The note model: one Markdown note's exact text, its frontmatter and its body.

Sections 1-4 of ``docs/design.md``, in four modules that depend only on
:mod:`syncbridge.errors`: :mod:`~syncbridge.note.split` (the exact pieces of a note),
:mod:`~syncbridge.note.yamlio` (reading frontmatter values, YAML 1.2, bounded),
:mod:`~syncbridge.note.splice` (minimal-diff edits of one key's text) and
:mod:`~syncbridge.note.note` (:class:`Note`, the mapping over all three).
"""

from syncbridge.note.note import Note
from syncbridge.note.split import Parts, decode, split_text

__all__ = ["Note", "Parts", "decode", "split_text"]
