"""File names valid on Windows, macOS and Linux, and paths that cannot escape the vault."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syncbridge.errors import SkipError, UnsafePath
from syncbridge.vault import filenames
from syncbridge.vault.filenames import name_key, safe_filename, safe_join


def test_public_surface() -> None:
    assert sorted(filenames.__all__) == [
        "DEFAULT_MAX_BYTES",
        "FALLBACK_NAME",
        "WINDOWS_FORBIDDEN",
        "name_key",
        "safe_filename",
        "safe_join",
    ]


# --- an independent statement of the three OS rules -----------------------------------

DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"
}


def problems(name: str, max_bytes: int = 240) -> list[str]:
    """Why ``name`` would fail on some OS (empty list: valid everywhere)."""
    found = []
    if not name:
        found.append("empty")
    if any(c in '\\/:*?"<>|' for c in name):
        found.append("Windows-forbidden character")
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in name):
        found.append("control character")
    if "\x00" in name or "/" in name:
        found.append("invalid on Linux/macOS")
    if name.endswith((".", " ")):
        found.append("trailing dot or space (Windows)")
    if name.startswith("."):
        found.append("hidden (leading dot)")
    if name.split(".")[0].rstrip(" ").upper() in DEVICES:
        found.append("Windows device name")
    if unicodedata.normalize("NFC", name) != name:
        found.append("not NFC")
    try:
        if len(name.encode("utf-8")) > max_bytes:
            found.append("too long (UTF-8)")
        if len(unicodedata.normalize("NFD", name).encode("utf-8")) > max_bytes:
            found.append("too long (NFD, HFS+)")
        if len(name.encode("utf-16-le")) // 2 > 255:
            found.append("too long (Windows UTF-16)")
    except UnicodeEncodeError:
        found.append("not encodable")
    if name in (".", ".."):
        found.append("dot name")
    return found


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Secure Attachment", "Secure Attachment.md"),
        ("Chapter 1: Intro", "Chapter 1 Intro.md"),
        ('a\\b/c:d*e?f"g<h>i|j', "a b c d e f g h i j.md"),
        ("What?", "What.md"),
        ("trailing dots...", "trailing dots.md"),
        ("  spaced  out  ", "spaced out.md"),
        (".hidden", "hidden.md"),
        ("...", "Untitled.md"),
        ("", "Untitled.md"),
        ("???", "Untitled.md"),
        ("tab\there\nnewline\x00nul\x7fdel", "tab here newline nul del.md"),
        ("CON", "CON_.md"),
        ("con", "con_.md"),
        ("Nul.tar.gz", "Nul_.tar.gz.md"),
        ("com1", "com1_.md"),
        ("LPT9 ", "LPT9_.md"),
        ("COM¹", "COM¹_.md"),
        ("CONSOLE", "CONSOLE.md"),
        ("Notes.md", "Notes.md"),
        ("Notes.MD", "Notes.md"),
        ("C# basics [draft] ^1", "C basics draft 1.md"),
        ("🌱 Growth & Healing", "🌱 Growth & Healing.md"),
    ],
)
def test_examples(title: str, expected: str) -> None:
    assert safe_filename(title) == expected
    assert problems(expected) == []


def test_link_safe_can_be_turned_off() -> None:
    assert safe_filename("C# [draft]", link_safe=False) == "C# [draft].md"


def test_nfc_normalized() -> None:
    nfd = unicodedata.normalize("NFD", "Émotion")
    assert safe_filename(nfd) == unicodedata.normalize("NFC", "Émotion") + ".md"


def test_length_is_capped_in_bytes_without_cutting_characters() -> None:
    name = safe_filename("é" * 500)
    assert len(name.encode()) <= 240
    assert len(unicodedata.normalize("NFD", name).encode()) <= 240
    assert set(name[: -len(".md")]) == {"é"}
    emoji = safe_filename("👩‍👩‍👧‍👦" * 100, max_bytes=60)
    stem = emoji[: -len(".md")]
    assert len(emoji.encode()) <= 60
    assert not stem.endswith("\u200d")
    assert len(stem) % 7 == 0  # whole families only: 4 people + 3 joiners
    # NFC makes each unit "á" + U+0302; a cut never separates the two
    combining = safe_filename("a\u0301\u0302" * 100, max_bytes=40)[: -len(".md")]
    assert combining.endswith("\u0302")
    assert len(combining) % 2 == 0


def test_collisions_are_numbered_case_and_normalization_insensitively() -> None:
    existing = {"Note.md", "note 2.md", unicodedata.normalize("NFD", "Émotion.md")}
    assert safe_filename("Note", existing=existing) == "Note 3.md"
    assert safe_filename("NOTE", existing=existing) == "NOTE 3.md"
    assert safe_filename("émotion", existing=existing) == "émotion 2.md"
    assert safe_filename("Other", existing=existing) == "Other.md"


def test_collision_suffix_respects_the_byte_cap() -> None:
    long_name = safe_filename("x" * 300)
    assert len(long_name) == 240
    second = safe_filename("x" * 300, existing={long_name})
    assert second.endswith(" 2.md")
    assert len(second.encode()) <= 240


def test_tiny_max_bytes_is_refused() -> None:
    with pytest.raises(ValueError):
        safe_filename("x", max_bytes=10)


titles = st.text(
    alphabet=st.characters(codec=None),  # every code point, surrogates included
    max_size=300,
) | st.sampled_from(sorted(DEVICES)).flatmap(
    lambda dev: st.tuples(st.just(dev), st.text(alphabet=". abc", max_size=5)).map("".join)
)


@settings(max_examples=400)
@given(title=titles, existing=st.lists(titles.map(safe_filename), max_size=6))
@example(title="CON", existing=["CON_.md"])
@example(title="a" * 237, existing=["a" * 237 + ".md"])
@example(title=". .. ...", existing=["Untitled.md", "untitled 2.md"])
def test_any_title_gives_a_valid_unique_idempotent_name(title: str, existing: list[str]) -> None:
    name = safe_filename(title, existing=existing)
    assert problems(name) == []
    assert name.endswith(".md")
    assert name_key(name) not in {name_key(e) for e in existing}
    assert safe_filename(name) == name
    assert safe_filename(name, existing=existing) == name


@given(title=titles, max_bytes=st.integers(min_value=30, max_value=255))
def test_any_max_bytes_is_respected(title: str, max_bytes: int) -> None:
    name = safe_filename(title, max_bytes=max_bytes)
    assert problems(name, max_bytes) == []
    assert safe_filename(name, max_bytes=max_bytes) == name


@given(title=titles)
def test_names_can_really_be_created(tmp_path_factory: pytest.TempPathFactory, title: str) -> None:
    folder = tmp_path_factory.mktemp("names")
    name = safe_filename(title)
    (folder / name).write_bytes(b"x")
    assert os.listdir(folder) == [name]


# --- safe_join -------------------------------------------------------------------------


def test_safe_join_plain_paths(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert safe_join(tmp_path, "Psyche/Note.md") == root / "Psyche" / "Note.md"
    assert safe_join(str(tmp_path), "./a//b.md") == root / "a" / "b.md"
    assert safe_join(tmp_path, "ab:c.md") == root / "ab:c.md"  # fine on POSIX, not a drive


@pytest.mark.parametrize(
    "rel",
    [
        "",
        ".",
        "./",
        "../outside.md",
        "a/../../outside.md",
        "a/../b.md",  # even when it would stay inside: '..' is never needed
        "/etc/passwd",
        "//server/share",
        "\\\\server\\share\\x.md",
        "C:\\Windows\\x.md",
        "C:x.md",
        "a:b.md",  # drive A:
        "c:/x.md",
        "a\\..\\..\\x.md",
        "note\x00.md",
    ],
)
def test_safe_join_refuses(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePath):
        safe_join(tmp_path, rel)


def test_unsafe_path_is_a_skip_error(tmp_path: Path) -> None:
    with pytest.raises(SkipError, match="absolute"):
        safe_join(tmp_path, "/abs")


def test_symlinks_pointing_outside_are_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (vault / "escape").symlink_to(outside, target_is_directory=True)
    (vault / "secret.md").symlink_to(outside / "secret.md")
    (vault / "Real").mkdir()
    (vault / "inner").symlink_to(vault / "Real", target_is_directory=True)
    with pytest.raises(UnsafePath, match="outside the vault"):
        safe_join(vault, "escape/new.md")  # not even existing yet
    with pytest.raises(UnsafePath):
        safe_join(vault, "secret.md")  # dangling link to outside
    with pytest.raises(UnsafePath):
        (vault / "root").symlink_to(vault, target_is_directory=True)
        safe_join(vault, "root")  # the vault itself is not a file in it
    assert safe_join(vault, "inner/ok.md") == vault.resolve() / "inner" / "ok.md"


def test_vault_root_given_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert safe_join(tmp_path / "link", "a.md") == real.resolve() / "a.md"


@given(rel=st.text(alphabet="./\\ab:\x00C", max_size=12))
def test_safe_join_never_escapes(tmp_path_factory: pytest.TempPathFactory, rel: str) -> None:
    root = tmp_path_factory.getbasetemp().resolve()
    try:
        joined = safe_join(root, rel)
    except UnsafePath:
        return
    assert joined.resolve().is_relative_to(root)
    assert joined != root


def test_examples_in_the_docs_are_true() -> None:
    """docs/vault-safety.md shows safe_filename calls with their results: keep them honest."""
    import re

    doc = Path(__file__).resolve().parent.parent / "docs" / "vault-safety.md"
    calls = re.findall(r"^(safe_filename\(.*\))\s+# '([^']*)'", doc.read_text(), re.MULTILINE)
    assert len(calls) >= 8
    for call, expected in calls:
        assert eval(call, {"safe_filename": safe_filename}) == expected, call
