"""The lossless note model: a Markdown note as a mutable mapping of its frontmatter fields.

>>> note = Note.from_bytes(b"---\\nstatus: draft  # keep me\\ntags: [a]\\n---\\nBody\\n")
>>> note["status"]
'draft'
>>> note["status"] = "done"
>>> note.to_bytes()
b'---\\nstatus: done  # keep me\\ntags: [a]\\n---\\nBody\\n'

Guarantees:

* ``Note.from_bytes(data).to_bytes() == data`` for every input that is valid UTF-8, whatever
  its frontmatter looks like (even invalid YAML: it is kept, just not editable).
* Setting, adding or deleting a key changes only that key's lines (see
  :mod:`syncbridge.note.splice`); a note without frontmatter gets one when a key is added.
* Values read with YAML 1.2 semantics (``yes`` is a string, ``0755`` is 755). Reading a
  value returns a plain Python object (``str``, ``int``, ``list`` ...); a list or mapping
  is a fresh copy (immutable values need none): mutate it and assign it back.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from syncbridge.errors import FrontmatterError
from syncbridge.note.splice import delete_key, set_key
from syncbridge.note.split import Parts, decode, split_text
from syncbridge.note.yamlio import load_values

if TYPE_CHECKING:
    import frontmatter

__all__ = ["Note"]


class Note(MutableMapping[str, Any]):
    """One note: exact text, frontmatter fields as a mapping, and the Markdown body.

    ``path`` is only used in error messages and by the vault (vault-relative POSIX path).
    """

    __slots__ = ("_data", "_split", "_values", "path")

    def __init__(self, parts: Parts | None, *, path: str | None = None, data: bytes | None = None):
        self._split = parts  # None: split ``data`` when first needed (see from_bytes)
        self._data = data
        self._values: dict[str, Any] | None = None
        self.path = path

    @property
    def _parts(self) -> Parts:
        if self._split is None:
            assert self._data is not None
            self._split = split_text(decode(self._data, path=self.path))
        return self._split

    @_parts.setter
    def _parts(self, parts: Parts) -> None:
        self._split = parts

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_bytes(
        cls, data: bytes, *, path: str | None = None, values: dict[str, Any] | None = None
    ) -> Note:
        """Parse a note from its file bytes. Raises EncodingError for invalid UTF-8 only.

        ``values``: the frontmatter values already read from these exact bytes, which
        therefore are valid UTF-8 (the vault index passes its own): used instead of reading
        the YAML again, never modified; the text is then split only when first needed."""
        if values is not None:
            note = cls(None, path=path, data=bytes(data))
            note._values = values
            return note
        return cls(split_text(decode(data, path=path)), path=path, data=bytes(data))

    @classmethod
    def from_text(cls, text: str, *, path: str | None = None) -> Note:
        return cls(split_text(text), path=path)

    @classmethod
    def new(
        cls, fields: Mapping[str, Any] | None = None, body: str = "", *, path: str | None = None
    ) -> Note:
        """A new note with ``fields`` (written in Obsidian's style, in order) and ``body``."""
        note = cls(Parts("", "", None, "", body), path=path)
        for key, value in (fields or {}).items():
            note[key] = value
        return note

    @classmethod
    def from_post(cls, post: frontmatter.Post, *, path: str | None = None) -> Note:
        """Build a note from a python-frontmatter ``Post`` (its metadata and content)."""
        return cls.new(post.metadata, post.content, path=path)

    def to_post(self) -> frontmatter.Post:
        """This note as a python-frontmatter ``Post``, for code that works with that library.

        Reading only: ``frontmatter.dumps(post)`` re-serialises the whole note (sorted keys,
        YAML 1.1, comments dropped); write with :meth:`to_bytes` instead.
        """
        import frontmatter

        post = frontmatter.Post(self.body)
        post.metadata.update(self.fields)  # not as keywords: "content", "handler", 1 are fields
        return post

    # --- serialisation -------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self._parts.text()

    def to_bytes(self) -> bytes:
        """The note's bytes: the original bytes unless an edit was made."""
        if self._data is not None:
            return self._data
        return self.text.encode("utf-8")

    @property
    def changed(self) -> bool:
        """True once an edit made the text differ from what was read."""
        return self._data is None

    # --- parts ---------------------------------------------------------------------------

    @property
    def has_frontmatter(self) -> bool:
        return self._parts.frontmatter is not None

    @property
    def frontmatter_text(self) -> str | None:
        """The raw YAML between the delimiters, exactly as in the file."""
        return self._parts.frontmatter

    @property
    def newline(self) -> str:
        return self._parts.newline

    @property
    def body(self) -> str:
        """The Markdown after the frontmatter (the whole text when there is none)."""
        return self._parts.body

    @body.setter
    def body(self, value: str) -> None:
        if value != self._parts.body:
            p = self._parts
            self._parts = Parts(p.bom, p.opening, p.frontmatter, p.closing, value)
            self._data = None

    @property
    def body_line(self) -> int:
        """1-based file line on which the body starts."""
        return self._parts.body_offset_lines + 1

    # --- the mapping ---------------------------------------------------------------------

    @property
    def fields(self) -> dict[str, Any]:
        """Every frontmatter field, in a new dict whose lists and mappings are copies
        (FrontmatterError if unreadable)."""
        return {key: _fresh(value) for key, value in self._load().items()}

    def _load(self) -> dict[str, Any]:
        if self._values is None:
            fm = self._parts.frontmatter
            values = None if fm is None else load_values(fm, path=self.path)
            if values is None:
                values = {}
            if not isinstance(values, dict):
                raise FrontmatterError(
                    f"frontmatter is a {type(values).__name__}, not a mapping of fields",
                    path=self.path,
                    line=2,
                )
            self._values = values
        return self._values

    def __getitem__(self, key: str) -> Any:
        value = (self._values if self._values is not None else self._load())[key]
        return value if type(value) in _IMMUTABLE else _fresh(value)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __setitem__(self, key: str, value: Any) -> None:
        values = self._load()
        if key in values and _same(values[key], value):
            return  # nothing to change: keep the exact bytes
        p = self._parts
        if p.frontmatter is None:
            newline = p.newline
            fm = set_key("", key, value, path=self.path, newline=newline)
            self._parts = Parts(p.bom, "---" + newline, fm, "---" + newline, p.body)
        else:
            fm = set_key(p.frontmatter, key, value, path=self.path, newline=p.newline)
            self._parts = Parts(p.bom, p.opening, fm, p.closing, p.body)
        self._after_edit()

    def __delitem__(self, key: str) -> None:
        if key not in self._load():
            raise KeyError(key)
        p = self._parts
        assert p.frontmatter is not None
        fm = delete_key(p.frontmatter, key, path=self.path)
        self._parts = Parts(p.bom, p.opening, fm, p.closing, p.body)
        self._after_edit()

    def _after_edit(self) -> None:
        self._values = None
        self._data = None

    def __repr__(self) -> str:
        return f"<Note {self.path or '(unsaved)'}: {len(self._parts.text())} chars>"


_IMMUTABLE = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime, dt.time})


def _fresh(value: Any) -> Any:
    """``value`` itself when it cannot be mutated (the YAML reader's scalars), else a deep
    copy, so that changing what a read returned never changes the note (or the index)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is list:  # the common case, a list of strings: no deepcopy machinery
        return [v if type(v) in _IMMUTABLE else _fresh(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _IMMUTABLE else _fresh(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, tuple):
        b = list(b)
    return type(a) is type(b) and bool(a == b)
