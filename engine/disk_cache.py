"""The one way derived data is kept on disk: one root, one hashing scheme. Decoded clips
(engine.data.cache), clip layers (engine.frames.layers), beats (engine.beats) and playback
samples (engine.audio) each keep a folder under :func:`root`, named by what they hold, and key
their entries by the *content* of the file they were made from (:func:`file_hash`: sha256 of
its bytes, remembered per path, size and time so an unchanged file is not read again) and by
their own settings (:func:`key`). Renaming or moving a file keeps its entries; editing it makes
new ones. Everything here may be deleted at any time: it is made again when needed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

from engine.data.clips import frame_files
from engine.fileio import atomic_write_text

_CHUNK = 1 << 20


def root(kind: str) -> Path:
    """The folder of one kind of derived data ("frames", "layers", "beats", "sound", "hashes")
    under the user cache dir (``$ZOETROPE_CACHE_DIR`` overrides it)."""
    env = os.environ.get("ZOETROPE_CACHE_DIR")
    base = Path(env) if env else Path(platformdirs.user_cache_dir("zoetrope-studio"))
    return base / kind


def content_hash(path: Path) -> str:
    """sha256 of a file's bytes, or of a frame folder's file names and bytes in order."""
    h = hashlib.sha256()
    files = frame_files(path) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


def file_hash(path: Path, memo: Path | None = None) -> str:
    """:func:`content_hash`, remembered in ``memo`` (default: ``root("hashes")``) per path, size
    and modification time of every file, so that an unchanged long clip or sound is not read in
    full at every start (hashing runs at about 1 GB/s). A file gone meanwhile raises
    FileNotFoundError."""
    files = frame_files(path) if path.is_dir() else [path]
    stamp = [(f.name, st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()]]
    memo_key = hashlib.sha256(repr((str(path.resolve()), stamp)).encode()).hexdigest()
    kept = (memo or root("hashes")) / f"{memo_key[:32]}.txt"
    try:
        return kept.read_text().strip()
    except OSError:
        digest = content_hash(path)
    atomic_write_text(kept, digest)
    return digest


def key(*parts: object) -> str:
    """An entry's name: its settings and its source's :func:`file_hash`, hashed together."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]
