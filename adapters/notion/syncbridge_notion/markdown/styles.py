"""Names that map between Obsidian and Notion: code languages and callout types.

Code fences: the info string's first word, lower-cased, is looked up in Notion's language
list and then in :data:`LANGUAGE_ALIASES` (``py`` → ``python``). A fence without a
language is Notion's ``plain text`` and comes back without one. When the fence's opening
line is not exactly what the block would give back (an alias, an unknown language such as
``dataview``, ``~~~`` or a longer fence, extra info words), the opening line is kept,
as written, as the code block's caption, and the way back uses it.

Callouts: each Obsidian callout type (the names Obsidian documents, lower case) has its
own emoji icon, so the type survives a trip through Notion. Other spellings (``NOTE``,
custom types) keep their ``[!type]`` marker as literal text at the start of the callout.

Style: :class:`MarkdownStyle` says how the writer spells what has several spellings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CALLOUT_EMOJI",
    "EMOJI_CALLOUT",
    "LANGUAGE_ALIASES",
    "NOTION_LANGUAGES",
    "MarkdownStyle",
    "fence_language",
    "infer_style",
    "safe_fence",
]

NOTION_LANGUAGES = frozenset(
    [
        "abap",
        "abc",
        "agda",
        "arduino",
        "assembly",
        "bash",
        "basic",
        "bnf",
        "c",
        "c#",
        "c++",
        "clojure",
        "coffeescript",
        "coq",
        "css",
        "dart",
        "dhall",
        "diff",
        "docker",
        "ebnf",
        "elixir",
        "elm",
        "erlang",
        "f#",
        "flow",
        "fortran",
        "gherkin",
        "glsl",
        "go",
        "graphql",
        "groovy",
        "haskell",
        "hcl",
        "html",
        "idris",
        "java",
        "javascript",
        "json",
        "julia",
        "kotlin",
        "latex",
        "less",
        "lisp",
        "livescript",
        "lua",
        "makefile",
        "markdown",
        "markup",
        "matlab",
        "mathematica",
        "mermaid",
        "nix",
        "objective-c",
        "ocaml",
        "pascal",
        "perl",
        "php",
        "powershell",
        "prolog",
        "protobuf",
        "purescript",
        "python",
        "r",
        "racket",
        "reason",
        "ruby",
        "rust",
        "sass",
        "scala",
        "scheme",
        "scss",
        "shell",
        "smalltalk",
        "solidity",
        "sql",
        "swift",
        "toml",
        "typescript",
        "verilog",
        "vhdl",
        "webassembly",
        "xml",
        "yaml",
    ]
) | {
    "ascii art",
    "llvm ir",
    "notion formula",
    "plain text",
    "vb.net",
    "visual basic",
    "java/c/c++/c#",
}
"""Notion's code-block ``language`` enum (notion-sdk-js ``LanguageRequest``)."""

LANGUAGE_ALIASES = {
    "js": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "node": "javascript",
    "ts": "typescript",
    "tsx": "typescript",
    "py": "python",
    "python3": "python",
    "py3": "python",
    "sh": "shell",
    "zsh": "shell",
    "console": "shell",
    "shell-session": "shell",
    "yml": "yaml",
    "md": "markdown",
    "cpp": "c++",
    "cxx": "c++",
    "hpp": "c++",
    "h": "c",
    "cs": "c#",
    "csharp": "c#",
    "fs": "f#",
    "fsharp": "f#",
    "rb": "ruby",
    "rs": "rust",
    "kt": "kotlin",
    "kts": "kotlin",
    "golang": "go",
    "dockerfile": "docker",
    "tex": "latex",
    "objc": "objective-c",
    "ps1": "powershell",
    "pwsh": "powershell",
    "ps": "powershell",
    "text": "plain text",
    "txt": "plain text",
    "plain": "plain text",
    "plaintext": "plain text",
    "vb": "visual basic",
    "proto": "protobuf",
    "make": "makefile",
    "hs": "haskell",
    "ex": "elixir",
    "exs": "elixir",
    "erl": "erlang",
    "clj": "clojure",
    "ml": "ocaml",
    "scm": "scheme",
    "pl": "perl",
    "jl": "julia",
    "asm": "assembly",
    "wasm": "webassembly",
    "gql": "graphql",
    "svg": "xml",
    "htm": "html",
    "tf": "hcl",
    "m": "matlab",
    "coffee": "coffeescript",
    "sol": "solidity",
    "v": "verilog",
    "ascii": "ascii art",
    "llvm": "llvm ir",
}


def safe_fence(content: str, fence: str = "```") -> str:
    """``fence``, or a longer run of its character when a line of ``content`` is a run at
    least as long (a closing fence: it would end the block early)."""
    char = fence[0]
    closer = rf"^[ ]{{0,3}}({re.escape(char)}+)[ \t]*$"
    longest = max((len(m.group(1)) for m in re.finditer(closer, content, re.M)), default=0)
    return fence if longest < len(fence) else char * (longest + 1)


def fence_language(info: str) -> str:
    """Notion's language for a fence info string (``"plain text"`` when unknown)."""
    word = info.strip().split(maxsplit=1)[0].lower() if info.strip() else ""
    if not word:
        return "plain text"
    if word in NOTION_LANGUAGES:
        return word
    return LANGUAGE_ALIASES.get(word, "plain text")


CALLOUT_EMOJI = {
    "note": "📝",
    "abstract": "📋",
    "summary": "🧾",
    "tldr": "🔖",
    "info": "ℹ️",
    "todo": "☑️",
    "tip": "💡",
    "hint": "🕯️",
    "important": "🔥",
    "success": "✅",
    "check": "✔️",
    "done": "🏁",
    "question": "❓",
    "help": "🆘",
    "faq": "💬",
    "warning": "⚠️",
    "caution": "🚧",
    "attention": "📣",
    "failure": "❌",
    "fail": "✖️",
    "missing": "🕳️",
    "danger": "⚡",
    "error": "⛔",
    "bug": "🐛",
    "example": "🧪",
    "quote": "❝",
    "cite": "📚",
}
"""Obsidian callout type → the Notion callout icon that stands for it."""
EMOJI_CALLOUT = {emoji: kind for kind, emoji in CALLOUT_EMOJI.items()}


@dataclass(frozen=True)
class MarkdownStyle:
    """How :func:`~syncbridge_notion.blocks_to_markdown` spells what it writes. The
    defaults are Obsidian's own (``-`` bullets, tab indentation, ``> `` quotes, a blank
    line after a heading, tables padded to their column widths); :func:`infer_style`
    reads a vault's habits from its notes, so notes made from Notion look like the user's
    own."""

    quote: str = "> "
    """Quote line prefix: ``"> "`` or ``">"``."""
    callout: str | None = None
    """Callout (and foldable callout) line prefix; ``None``: the same as ``quote``."""
    indent: str = "\t"
    """One level of list indentation: a tab, or spaces (widened to the marker if needed)."""
    bullet: str = "-"
    italic: str = "*"
    """Italic delimiter, ``*`` or ``_`` (``*`` wherever ``_`` would not read back)."""
    bold: str = "**"
    """Bold delimiter, ``**`` or ``__`` (``**`` wherever ``__`` would not read back)."""
    blank_after_heading: bool = True
    """A blank line between a heading and the block after it."""
    padded_tables: bool = True
    """Cells padded to the column width, dashes as wide as the column."""


_QUOTE_RE = re.compile(r"^(>+)( ?)\S", re.M)
_QUOTE_BLOCK_RE = re.compile(r"^>.*(?:\n>.*)*", re.M)
_CALLOUT_HEAD_RE = re.compile(r">+ ?\[![^\]\n]+\]")
_NESTED_RE = re.compile(r"^(\t+| +)[-*+] ", re.M)
_BULLET_RE = re.compile(r"^[ \t]*([-*+]) (?!\[)", re.M)
_HEADING_GAP_RE = re.compile(r"^#{1,6} [^\n]*\n(\n?)(?=\S)", re.M)
_ITALIC_RE = re.compile(r"(?<![\w*_])([*_])(?![\s*_])[^*_\n]+?(?<![\s*_])\1(?![\w*_])")
_BOLD_RE = re.compile(r"(?<![\w*_])(\*\*|__)(?![\s*_])[^*_\n]+?(?<![\s*_])\1(?![\w*_])")
_TABLE_DELIM_RE = re.compile(r"^\|( ?)-+( ?)\|", re.M)
_PADDED_RE = re.compile(r"^\| [^|\n]*?  \|", re.M)


def infer_style(texts: Iterable[str], base: MarkdownStyle | None = None) -> MarkdownStyle:
    """The most common spelling of each style point in ``texts`` (note bodies); ``base``
    (Obsidian's defaults when ``None``) wherever the texts do not say."""
    counts: dict[str, Counter[Any]] = {
        name: Counter()
        for name in ("quote", "callout", "indent", "bullet", "gap", "table", "italic", "bold")
    }
    for text in texts:
        for block in _QUOTE_BLOCK_RE.finditer(text):
            name = "callout" if _CALLOUT_HEAD_RE.match(block.group(0)) else "quote"
            lines = Counter(">" + m.group(2) for m in _QUOTE_RE.finditer(block.group(0)))
            if lines:  # one vote per quote or callout: a long one is not worth more
                counts[name][lines.most_common(1)[0][0]] += 1
        for match in _NESTED_RE.finditer(text):
            unit = match.group(1)
            counts["indent"]["\t" if unit.startswith("\t") else " " * min(len(unit), 4)] += 1
        for match in _BULLET_RE.finditer(text):
            counts["bullet"][match.group(1)] += 1
        for match in _HEADING_GAP_RE.finditer(text):
            counts["gap"][bool(match.group(1))] += 1
        for match in _ITALIC_RE.finditer(text):
            counts["italic"][match.group(1)] += 1
        for match in _BOLD_RE.finditer(text):
            counts["bold"][match.group(1)] += 1
        for match in _TABLE_DELIM_RE.finditer(text):
            counts["table"][bool(match.group(1))] += 1
    default = base or MarkdownStyle()

    def top(name: str, fallback: Any) -> Any:
        common = counts[name].most_common(1)
        return common[0][0] if common else fallback

    quote = top("quote", default.quote)
    callout = top("callout", default.callout)
    return MarkdownStyle(
        quote=quote,
        callout=None if callout == quote else callout,
        indent=top("indent", default.indent),
        bullet=top("bullet", default.bullet),
        blank_after_heading=top("gap", default.blank_after_heading),
        padded_tables=top("table", default.padded_tables),
        italic=top("italic", default.italic),
        bold=top("bold", default.bold),
    )
