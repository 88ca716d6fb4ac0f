"""Fidelity of the Markdown ⇄ Notion blocks converter alone, on ``../shared/corpus``.

For every note body (the text after the frontmatter), as on a fresh machine (no sync
state, no span map):

1. ``markdown_to_blocks(body)``, with wikilinks resolved against the note's own vault
   (every ``.md`` note counts as synced, so resolvable links become page mentions);
2. the tree is cut into append requests by ``split_for_requests`` and every request is
   checked against Notion's limits (``check_blocks``) and, when it can be imported, by
   the fake Notion server's own request validator, which also builds the
   response-shaped blocks Notion would return;
3. ``blocks_to_markdown(response blocks)`` gives the body back, and it is compared with
   the original:

* **byte-identical**; identical **ignoring trailing whitespace** (spaces at line ends,
  blank lines before, after and between blocks); identical after **whitespace
  normalisation** (every run of whitespace is one space, as peers' figures count it: the
  issue's goal is this figure); identical **ignoring whitespace differences** (equal once
  every whitespace character, ``str.isspace``, is removed, as ``git diff -w`` compares,
  *and* the same words, runs of letters and digits, in the same order: a space added or
  removed between two words is not ignored); identical **ignoring whitespace altogether**
  (equal once every whitespace character is removed, nothing else checked);
* **causes**: every note still differing after normalisation is diffed token by token
  (whitespace-separated, quote markers without their optional space) and each differing
  hunk is given one cause (:func:`hunk_cause`); a note counts once per cause it shows;
* **text lost**: a note loses text when a word (a run of letters or digits, list numbers
  left out) or a non-ASCII-punctuation character of the source is missing from the
  output (multiset: each occurrence counts);
* **rejected**: a note for which any request breaks a Notion limit.

Run: ``.venv/bin/python benchmarks/notion_converter.py [--show N] [--no-report]``. Writes
the ``notion-converter`` section of docs/benchmarks.md. Reads the corpus, never writes it.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import machine, write_section  # noqa: E402
from syncbridge_notion import blocks_to_markdown, markdown_to_blocks  # noqa: E402
from syncbridge_notion.markdown import (  # noqa: E402
    MarkdownStyle,
    check_blocks,
    infer_style,
    split_for_requests,
)

from syncbridge.note.split import decode, split_text  # noqa: E402
from syncbridge.wikilinks import LinkResolver, find_links  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
_WORD_RE = re.compile(r"[^\W_]+")
_LIST_NUMBER_RE = re.compile(r"^[ \t>]*\d{1,9}[.)](?=[ \t]|$)", re.M)
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def corpus_notes(corpus: Path = CORPUS) -> list[tuple[str, Path, str]]:
    """(vault, path, body) of every corpus note whose frontmatter can be split off."""
    notes = []
    for vault in sorted(p for p in corpus.iterdir() if p.is_dir()):
        for path in sorted(vault.rglob("*.md")):
            if any(part.startswith(".") for part in path.relative_to(vault).parts):
                continue
            try:
                body = split_text(decode(path.read_bytes(), path=str(path))).body
            except Exception:
                continue
            notes.append((vault.name, path, body))
    return notes


class VaultLinks:
    """Every note of one vault as synced: target → page id, and page id → the spelling the
    vault's notes use most for links to it (else the shortest unambiguous one), as an
    adapter that knows the vault would answer."""

    def __init__(self, vault: Path, bodies: list[str]) -> None:
        paths = [p.relative_to(vault).as_posix() for p in vault.rglob("*") if p.is_file()]
        self.resolver = LinkResolver(paths)
        stems = Counter(Path(p).stem.casefold() for p in paths if p.endswith(".md"))
        spellings: dict[str, Counter[str]] = {}
        for body in bodies:
            for link in find_links(body):
                target = link.target.strip()
                path = self.resolver.resolve(target) if target else None
                if path is not None and not link.embed:
                    spellings.setdefault(path, Counter())[target] += 1
        self.targets: dict[str, str] = {}
        for path in paths:
            if path.endswith(".md"):
                stem = Path(path).stem
                shortest = stem if stems[stem.casefold()] == 1 else path[:-3]
                used = spellings.get(path)
                self.targets[self._id(path)] = used.most_common(1)[0][0] if used else shortest
        self.titles = {pid: t.rsplit("/", 1)[-1] for pid, t in self.targets.items()}

    @staticmethod
    def _id(path: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "syncbridge-bench:" + path))

    def page_id(self, target: str) -> str | None:
        path = self.resolver.resolve(target)
        return self._id(path) if path is not None and path.endswith(".md") else None

    def link_target(self, page_id: str) -> str | None:
        return self.targets.get(page_id)


def _fake_validator() -> tuple[Callable[..., Any], Callable[..., Any], int] | None:
    """The fake server's children parser and block-content builder (lazily imported:
    it may live in ``syncbridge_notion_fake`` or ``syncbridge_notion.testing``), and the
    nesting depth it accepts per request."""
    for name in ("syncbridge_notion_fake.blocks", "syncbridge_notion.testing.blocks"):
        try:
            module = __import__(name, fromlist=["parse_children", "build_content"])
        except ImportError:
            continue
        parse, build = module.parse_children, module.build_content
        three = [
            {
                "type": "toggle",
                "toggle": {
                    "rich_text": [],
                    "children": [
                        {
                            "type": "toggle",
                            "toggle": {
                                "rich_text": [],
                                "children": [{"type": "paragraph", "paragraph": {"rich_text": []}}],
                            },
                        }
                    ],
                },
            }
        ]
        try:
            parse("body.children", three, {})
            depth = 3
        except Exception:
            depth = 2
        return parse, build, depth
    return None


def response_tree(
    blocks: list[dict[str, Any]], build: Callable[..., Any], titles: dict[str, str]
) -> list[dict[str, Any]]:
    """Response-shaped copies of request ``blocks`` as the fake server builds them."""
    out = []
    for block in blocks:
        kind = block["type"]
        body = dict(block[kind])
        children = body.pop("children", [])
        content = build(kind, f"body.{kind}", body, titles)
        if children:
            content["children"] = response_tree(children, build, titles)
        out.append(
            {
                "object": "block",
                "id": str(uuid.uuid4()),
                "type": kind,
                "has_children": bool(children),
                kind: content,
            }
        )
    return out


def words(text: str) -> Counter[str]:
    return Counter(_WORD_RE.findall(_LIST_NUMBER_RE.sub(" ", text)))


def chars(text: str) -> Counter[str]:
    text = _LIST_NUMBER_RE.sub(" ", text)
    return Counter(c for c in text if not c.isspace() and c not in _ASCII_PUNCT)


def lost(source: str, output: str) -> Counter[str]:
    """What of ``source`` is missing from ``output`` (words and characters)."""
    return (words(source) - words(output)) + (chars(source) - chars(output))


def loose(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().split("\n") if line.strip())


def squeeze(text: str) -> str:
    return " ".join(text.split())


def unspaced(text: str) -> str:
    return "".join(text.split())


def same_ignoring_whitespace(a: str, b: str) -> bool:
    """``a`` and ``b`` are equal once every whitespace character is removed, and hold the
    same words in the same order (whitespace that joins or splits words counts)."""
    return unspaced(a) == unspaced(b) and _WORD_RE.findall(a) == _WORD_RE.findall(b)


_TABLE_SYNTAX_RE = re.compile(r"[|:\-]+")
_EMPHASIS_RE = re.compile(r"[*_~]")
_LIST_MARK_RE = re.compile(r"\d{1,9}[.)]")
_DIVIDER_RE = re.compile(r"(?:([-*_])\1{2,})")

CAUSES = {
    "table": "table syntax (delimiter rows, alignment colons, a line after a table read as a row)",
    "underscore": "`_italic_`/`__bold__` written `*italic*`/`**bold**`",
    "link_emphasis": "bold/italic placed around a link label differently",
    "emphasis": "bold/italic delimiters placed otherwise differently",
    "escape": "backslash escapes added or dropped",
    "list_number": "list numbers (`1. 1. 2.`: Notion numbers items in order)",
    "quote_lines": "`>` markers on blank or lazy lines inside quotes and callouts",
    "divider": "divider spelling (`___`, `***` written `---`)",
    "code": "code span delimiters",
    "other": "other",
}


def hunk_cause(before: list[str], after: list[str]) -> str:
    """The cause of one differing hunk of whitespace-separated tokens (source ``before``,
    output ``after``): the first of :data:`CAUSES` whose rule accounts for it."""
    a, b = " ".join(before), " ".join(after)
    if all(_TABLE_SYNTAX_RE.fullmatch(t) for t in before + after):
        return "table"
    if a.replace("__", "**").replace("_", "*") == b.replace("__", "**").replace("_", "*"):
        return "underscore"
    if _EMPHASIS_RE.sub("", a) == _EMPHASIS_RE.sub("", b):
        return "link_emphasis" if "](" in a + b else "emphasis"
    if a.replace("\\", "") == b.replace("\\", ""):
        return "escape"
    if len(before) == len(after) and all(
        x == y or (_LIST_MARK_RE.fullmatch(x) and _LIST_MARK_RE.fullmatch(y))
        for x, y in zip(before, after, strict=True)
    ):
        return "list_number"
    if [t.lstrip(">") for t in before if t.lstrip(">")] == [
        t.lstrip(">") for t in after if t.lstrip(">")
    ]:
        return "quote_lines"
    if all(_DIVIDER_RE.fullmatch(t) for t in before + after):
        return "divider"
    if "`" in a + b and a.replace("`", "") == b.replace("`", ""):
        return "code"
    return "other"


def note_causes(source: str, output: str) -> set[str]:
    """The causes of the differences between ``source`` and ``output`` (see
    :func:`hunk_cause`); empty when they differ only in whitespace or quote markers."""
    a, b = quote_markers(source).split(), quote_markers(output).split()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return {
        hunk_cause(a[i1:i2], b[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    }


_QUOTE_MARKERS_RE = re.compile(r"^(?:[ \t]{0,3}> ?)+", re.M)


def quote_markers(text: str) -> str:
    """``text`` with the optional space after each ``>`` quote marker taken out
    (``> x`` and ``>x`` are one quote: a Notion quote or callout has no place for it)."""
    return _QUOTE_MARKERS_RE.sub(lambda m: m.group(0).replace(" ", ""), text)


def measure(show: int, infer: str | None) -> dict[str, Any]:
    """One run over the corpus; ``infer``: ``None`` (Obsidian's default style),
    ``"vault"`` (the style of each vault's notes) or ``"note"`` (each note's own style,
    over its vault's where the note does not say)."""
    notes = corpus_notes()
    styles: dict[str, MarkdownStyle] = {}
    if infer:
        for vault in {v for v, _p, _b in notes}:
            styles[vault] = infer_style(b for v, _p, b in notes if v == vault)
    links: dict[str, VaultLinks] = {}
    fake = _fake_validator()
    counts: Counter[str] = Counter()
    types: Counter[str] = Counter()
    requests: Counter[int] = Counter()
    causes: Counter[str] = Counter()
    only: Counter[str] = Counter()
    examples: dict[str, list[str]] = {"differs": [], "lost": [], "rejected": []}
    started = time.perf_counter()
    for vault, path, body in notes:
        if vault not in links:
            links[vault] = VaultLinks(CORPUS / vault, [b for v, _p, b in notes if v == vault])
        resolver = links[vault]
        blocks = markdown_to_blocks(body, resolver.page_id)
        _count_types(blocks, types)
        batches = split_for_requests(blocks)
        requests[len(batches)] += 1
        problems = [p for b in batches for p in check_blocks(b.children)]
        if fake is not None:
            parse, build, depth = fake
            for batch in split_for_requests(blocks, max_depth=depth):
                try:
                    parse("body.children", batch.children, resolver.titles)
                except Exception as exc:
                    problems.append(f"fake server: {exc}")
            returned = response_tree(blocks, build, resolver.titles)
        else:
            returned = blocks
        style = styles.get(vault)
        if infer == "note":
            style = infer_style([body], style)
        output = blocks_to_markdown(returned, resolver.link_target, style)
        name = f"{vault}/{path.relative_to(CORPUS / vault)}"
        counts["notes"] += 1
        counts["bytes"] += len(body.encode("utf-8"))
        counts["blocks"] += _total(blocks)
        counts["identical"] += output == body
        counts["loose"] += loose(output) == loose(body)
        counts["squeezed"] += squeeze(output) == squeeze(body)
        counts["unspaced"] += unspaced(output) == unspaced(body)
        counts["ignoring_ws"] += same_ignoring_whitespace(output, body)
        counts["quote_space"] += squeeze(output) != squeeze(body) and squeeze(
            quote_markers(output)
        ) == squeeze(quote_markers(body))
        if squeeze(output) != squeeze(body):
            found = note_causes(body, output)
            causes.update(found)
            if len(found) == 1:
                only.update(found)
        missing = lost(body, output)
        if missing:
            counts["lost"] += 1
            examples["lost"].append(f"{name}: {dict(missing.most_common(5))}")
        if problems:
            counts["rejected"] += 1
            examples["rejected"].append(f"{name}: {problems[:3]}")
        if unspaced(output) != unspaced(body) and len(examples["differs"]) < show:
            diff = difflib.unified_diff(body.splitlines(), output.splitlines(), lineterm="", n=0)
            examples["differs"].append(name + "\n" + "\n".join(list(diff)[2:14]))
    counts["seconds_ms"] = int((time.perf_counter() - started) * 1000)
    return {
        "counts": counts,
        "types": types,
        "requests": requests,
        "causes": causes,
        "only": only,
        "examples": examples,
        "fake": fake[2] if fake else None,
    }


def _count_types(blocks: list[dict[str, Any]], types: Counter[str]) -> None:
    for block in blocks:
        types[block["type"]] += 1
        _count_types(block[block["type"]].get("children") or [], types)


def _total(blocks: list[dict[str, Any]]) -> int:
    return sum(1 + _total(b[b["type"]].get("children") or []) for b in blocks)


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def report(default: dict[str, Any], vault: dict[str, Any], note: dict[str, Any]) -> str:
    c, v, o = default["counts"], vault["counts"], note["counts"]
    n = c["notes"]
    fake = default["fake"]
    multi = sum(k > 1 for k in default["requests"].elements())
    top = ", ".join(f"{k} {x:,}" for k, x in default["types"].most_common(12))
    fake_line = (
        f"every request was also parsed by the fake Notion server's own validator (it "
        f"accepts {fake} block levels per request, so the requests it saw were split for "
        f"that depth) and the response-shaped blocks it builds were converted back"
        if fake
        else "the fake server could not be imported: request-shaped blocks were converted back"
    )

    def row(label: str, key: str, peers: str, goal: str = "") -> str:
        return (
            f"| {label} | {c[key]:,} ({pct(c[key], n)}) | {v[key]:,} ({pct(v[key], n)}) "
            f"| {o[key]:,} ({pct(o[key], n)}) | {peers} | {goal} |"
        )

    squeezed_short = n - c["squeezed"]
    share = pct(c["squeezed"], n)
    verdict = (
        f"**Goal met by the converter alone:** {share} identical after whitespace "
        "normalisation (runs of whitespace → one space) in the default style (90% asked)."
        if c["squeezed"] >= 0.9 * n
        else f"**Goal not met by the converter alone:** {share} identical after whitespace "
        "normalisation (runs of whitespace → one space) in the default style, under the 90% "
        "asked."
    )
    same_rows = (
        " (no note differs only in whitespace that joins or splits words, so the two "
        "whitespace-free rows agree)"
        if c["ignoring_ws"] == c["unspaced"]
        else ""
    )
    causes, only = default["causes"], default["only"]
    cause_lines = "\n".join(
        f"| {CAUSES[key]} | {count:,} | {only[key]:,} |" for key, count in causes.most_common()
    )
    return f"""## Markdown ⇄ Notion blocks converter (`benchmarks/notion_converter.py`)

Machine: {machine()}. Corpus: {n:,} note bodies from `../shared/corpus` ({c["bytes"]:,}
bytes; frontmatter split off by syncbridge), {c["blocks"]:,} blocks, as on a fresh machine
(no span map, no sync state): body → `markdown_to_blocks` (wikilinks to the vault's own
notes become page mentions) → requests from `split_for_requests`, each checked with
`check_blocks`; {fake_line} → `blocks_to_markdown` → compared with the body. One run took
{c["seconds_ms"] / 1000:.0f} s.

**The converter alone on a fresh machine is the default-style column.** Blocks carry no
spelling (`>` or `> `, `_` or `*`, `___` or `---`, padded tables or not), and a machine that
pulls a page from Notion with no sync state has only the page's blocks: it writes Obsidian's
default style. The other two columns need what such a machine does not have: the vault
style is what `infer_style` reads from each vault's other notes, and the note style is each
note's own style over its vault's (what the adapter's pull path uses when it has the body
last synced). They show what the writer reproduces once the spelling is known. (The
adapter, not the converter, also carries a note's layout in the page's fallback property,
which gives a fresh machine the exact lines back while the blocks are unchanged.)

How each "identical" is decided (whitespace: what Python's `str.isspace` says, so tabs,
line breaks, no-break and ideographic spaces too):

* **byte-identical**: the same string;
* **after whitespace normalisation** (the issue's goal, unchanged): equal once every run of
  whitespace is one space and the two ends are trimmed (`" ".join(text.split())`), so a
  space that is present on one side and absent on the other (`>text` and `> text`) is a
  difference;
* **ignoring whitespace differences**: equal once every whitespace character is removed
  (`"".join(text.split())`, the rule of `git diff -w`), **and** the same words (runs of
  letters and digits) in the same order, so a space that joins or splits two words
  (`ab` and `a b`) is still a difference;
* **ignoring whitespace altogether**: equal once every whitespace character is removed,
  nothing else checked.

| measure (notes) | default style (fresh machine) | vault style | note style | peers | goal |
|---|---:|---:|---:|---:|---|
{row("byte-identical", "identical", "11%", "reported")}
{row("identical ignoring trailing whitespace and blank lines", "loose", "–")}
{
        row(
            "identical after whitespace normalisation: runs of whitespace → one space",
            "squeezed",
            "32–37%",
            "≥ 90% (aim 97%)",
        )
    }
{
        row(
            "identical ignoring whitespace differences: whitespace removed, words kept apart",
            "ignoring_ws",
            "–",
        )
    }
{row("identical ignoring whitespace altogether", "unspaced", "–")}
{row("differ (after normalisation) only in the space after `>`", "quote_space", "–")}
{
        row(
            "text lost (a word or a non-punctuation character of the source missing)",
            "lost",
            "11–19%",
            "0",
        )
    }
{row("a request Notion would reject", "rejected", "9–11%", "0")}

{verdict} Identical ignoring whitespace differences (a separate figure, not the goal's
measure): {pct(c["ignoring_ws"], n)}{same_rows}. Of the {squeezed_short:,} notes that still
differ after normalisation, {c["quote_space"]:,} differ only in the space after `>` (quotes
and callouts written `>text`, almost all in one vault), which a Notion quote or callout has
no place for; counted as identical, the normalised figure would be
{pct(c["squeezed"] + c["quote_space"], n)}.

What else differs in the default style, by cause: each of those notes is diffed token by
token (whitespace-separated tokens, quote markers without their optional space) and each
differing hunk is given the first cause whose rule accounts for it (`hunk_cause` in the
script); a note counts once per cause it shows, so the counts add up to more than the notes.

| cause (default style) | notes showing it | notes showing only it |
|---|---:|---:|
{cause_lines}

Peers (issue 10: martian + notion-to-md; notion-markdown + notion-to-md-py, on the same kind
of corpus) report no figure that ignores whitespace differences. {multi:,} notes need more
than one append request (over 100 top-level blocks, or lists deeper than three levels).
Blocks made: {top}.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print N differing notes")
    parser.add_argument("--no-report", action="store_true", help="do not write the report")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS}: nothing to measure")
    result = measure(args.show, None)
    styled = measure(0, "vault")
    own = measure(0, "note")
    for run in (result, styled, own):
        for kind in ("lost", "rejected"):
            for line in run["examples"][kind][:20]:
                print(f"{kind}: {line}")
    for text in result["examples"]["differs"]:
        print("----", text)
    section = report(result, styled, own)
    print(section)
    if not args.no_report:
        write_section("notion-converter", section)


if __name__ == "__main__":
    main()
