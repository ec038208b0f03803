"""Text a project holds: names that came from file names, and names read back from a file.

The rules themselves (:func:`engine.document.check_text`) are the document's; here are the two
repairs: a file name whose bytes are not UTF-8 made readable when a file is copied in, and a
name read from project.json made savable.
"""

from __future__ import annotations


def repair_text(value: str, limit: int | None = None) -> str:
    """``value`` as :func:`check_text` would take it: lone surrogates replaced by U+FFFD, cut to
    ``limit`` characters (the loader's repair of a name it can still use)."""
    if not value.isascii():
        value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value if limit is None else value[:limit]


def readable(name: str) -> str:
    """A file name as text: each byte of it that is not UTF-8 (``café.mp4`` in Latin-1 from an
    old USB stick reads as ``caf\\udce9.mp4``) decoded as Windows-1252 (else Latin-1) — so a clip
    copied in gets a name the project can save; control characters become ``_``."""

    def byte(ch: str) -> str:
        if not "\udc80" <= ch <= "\udcff":
            return "\ufffd" if "\ud800" <= ch <= "\udfff" else ch
        b = bytes([ord(ch) - 0xDC00])
        try:
            return b.decode("cp1252")
        except UnicodeDecodeError:
            return b.decode("latin-1")

    if not name.isascii():
        name = "".join(byte(ch) for ch in name)
    return "".join("_" if ord(ch) < 32 or ch == "\x7f" else ch for ch in name)
