"""A torture set of note bytes: every shape of file the note model must keep exactly."""

from __future__ import annotations

TORTURE: dict[str, bytes] = {
    "no frontmatter": b"# Title\n\nJust a body.\n",
    "empty file": b"",
    "empty frontmatter": b"---\n---\nbody\n",
    "frontmatter only": b"---\na: 1\n---\n",
    "frontmatter only, no final newline": b"---\na: 1\n---",
    "unclosed frontmatter is body": b"---\na: 1\nno closing line\n",
    "dashes in body": b"---\na: 1\n---\n\n## Heading\n---\ntext\n---\nmore\n",
    "crlf": b"---\r\na: 1\r\nlist:\r\n  - x\r\n---\r\nbody\r\nline 2\r\n",
    "bom": b"\xef\xbb\xbf---\na: 1\n---\nbody\n",
    "no final newline": b"---\na: 1\n---\nbody without newline",
    "trailing spaces": b"---\na: x   \nb: 1\n   \n---\nbody   \n",
    "key with trailing space (Obsidian null)": b"---\nexcludes: \nextends: \nlimit: 20\n---\n",
    "comments anywhere": (
        b"---\n# top comment\ntitle: x  # inline\n\n# section\nlist:\n- a  # first\n- b\n"
        b"# end comment\n---\nbody\n"
    ),
    "keep-chomped block scalar last": b"---\nb: 1\na: |+\n  line1\n\n\n---\nbody\n",
    "block scalars": b"---\na: |\n  l1\n  l2\nb: >-\n  folded\n  text\nc: |2\n    indented\n---\n",
    "aliases": b"---\nbase: &b\n  x: 1\nother: *b\nmerged:\n  <<: *b\n  y: 2\n---\n",
    "unquoted wikilink": b"---\nlink: [[Note]]\n---\n",
    "quoted wikilinks": b'---\nlink: "[[Note|Alias]]"\nlinks: ["[[A]]", "[[B]]"]\n---\n',
    "indented block list": b'---\nrelated:\n  - "[[A]]"\n  - "[[B]]"\n---\n',
    "both list styles": b"---\na:\n- x\nb:\n  - y\nc: [z]\n---\n",
    "flow spacing": b"---\na: [ a, b ]\nb: [a,b]\nc: [ ]\n---\n",
    "odd spacing": b"---\na:    x\nb : y\n---\n",
    "nulls": b"---\na: ~\nb: null\nc: Null\nd:\n---\n",
    "yaml 1.2 scalars": b"---\na: yes\nb: 0755\nc: 0o755\nd: 0x1F\ne: 1_000\nf: +1\ng: True\n---\n",
    "dates": b"---\nd: 2025-07-05\ndt: 2025-07-05 16:56\niso: 2025-07-05T16:56:00\n---\n",
    "emoji and cjk": "---\nstatus: 🟩 complete\ntitle: 日本語のノート\n---\n本文\n".encode(),
    "multi-line scalars": b'---\ntitle: this is a long\n  continued line\nq: "first\n  second"\n---\n',
    "escapes": b'---\na: "caf\\u00e9"\nb: "say \\"hi\\""\n---\n',
    "document end marker": b"---\na: 1\n...\n---\nbody\n",
    "closing with four dashes is body": b"---\na: 1\n----\nbody\n",
    "closing with trailing space is body": b"---\na: 1\n--- \nbody\n",
    "leading blank line is body": b"\n---\na: 1\n---\nbody\n",
    "nested maps 4-space": b"---\nouter:\n    inner: 1\n    other: 2\n---\n",
    "list of maps": b"---\nfields:\n  - name: a\n    v: 1\n  - name: b\n    v: 2\n---\n",
    "comment in flow list": b"---\ntags: [a, # c\n  b]\n---\n",
    "seed-like": (
        "---\nfileClass: attachment_theory\nid: 1751752568955\ncreated: 2025-07-05 16:56\n"
        'status: 🟩 complete\ntags: []\ncore_fears: [Being Forgotten]\ndefinition: ""\n'
        "growth_path: |\n  Grow.\nnotes: |+\n  Often.\n\nrelated: []\n---\n\n## 🧠 Proposes\n---\nText.\n"
    ).encode(),
}
"""Round-trip cases (all valid UTF-8). Some are not editable; all must round-trip."""

UNSAFE: dict[str, bytes] = {
    "duplicate keys": b"---\na: 1\nb: 2\na: 3\n---\n",
    "tab in plain value": b"---\na: x\ty\n---\n",
    "tab indentation": b"---\na:\n\t- x\n---\n",
    "python tag": b"---\na: !!python/object:os.system {}\n---\n",
    "python apply tag": b"---\na: !!python/object/apply:os.system ['echo hi']\n---\n",
    "local tag": b"---\na: !custom x\n---\n",
    "alias bomb": (
        b"---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        b"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n---\n"
    ),
    "deep nesting": b"---\na: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n",
    "not yaml": b"---\na: [unclosed\nb: 1\n---\n",
    "top-level list": b"---\n- a\n- b\n---\n",
}
"""Notes whose frontmatter syncbridge refuses to read or edit (they still round-trip)."""
