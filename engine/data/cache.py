"""On-disk cache of clips decoded at model resolution (uint8), so a clip is decoded once.

Data path role: between the clip reader and the pair sampler. An entry is keyed by the clip's
*content* (a hash of the file's bytes, or of every frame file's name and bytes for a folder) and
by the fit settings, so renaming or moving a clip keeps its cache and editing it invalidates it.
Entries live under the user cache dir (``$ZOETROPE_CACHE_DIR`` overrides it) as a raw uint8 file
``KEY.frames`` (N×S×S×3) plus ``KEY.json``; the JSON is written last and marks a complete entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs

from engine.data.clips import ClipReader, fit_frame, frame_files
from engine.errors import ClipError
from engine.fileio import atomic_path, atomic_write_text

CACHE_VERSION = 1
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    env = os.environ.get("ZOETROPE_CACHE_DIR")
    base = Path(env) if env else Path(platformdirs.user_cache_dir("zoetrope-studio"))
    return base / "frames"


def content_hash(path: Path) -> str:
    """sha256 of a video file's bytes, or of a frame folder's file names and bytes in order."""
    h = hashlib.sha256()
    files = frame_files(path) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


@dataclass
class CachedClip:
    """A clip at model resolution. ``frames`` is a read-only memory map (N, S, S, 3) uint8."""

    source: Path
    frames: np.ndarray
    fps: float
    width: int
    height: int
    notes: list[str] = field(default_factory=list)
    """What the clip reader told about the clip (ClipReader.notes: gaps in a frame folder's
    numbering, a guessed frame rate)."""

    def __len__(self) -> int:
        return len(self.frames)


class FrameCache:
    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def key(self, path: Path, size: int, fit: str) -> str:
        settings = f"v{CACHE_VERSION}|{size}|{fit}|"
        return hashlib.sha256((settings + self.content_hash(path)).encode()).hexdigest()[:32]

    def content_hash(self, path: Path) -> str:
        """:func:`content_hash`, remembered per (path, size, mtime) so that an unchanged long
        clip is not read in full at every start (hashing runs at about 1 GB/s)."""
        try:
            files = frame_files(path) if path.is_dir() else [path]
            stamp = [(f.name, st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()]]
            memo_key = hashlib.sha256(repr((str(path.resolve()), stamp)).encode()).hexdigest()
            memo = self.root / "hashes" / f"{memo_key[:32]}.txt"
            try:
                return memo.read_text().strip()
            except OSError:
                digest = content_hash(path)
        except FileNotFoundError:  # gone since it was checked (even mid-hash): one wording
            raise ClipError(f"{path}: no such file or folder") from None
        atomic_write_text(memo, digest)
        return digest

    def load(self, path: str | os.PathLike, size: int, fit: str = "stretch") -> CachedClip:
        """The clip at ``size``×``size``, decoding (and caching) it only if needed."""
        path = Path(path)
        reader = ClipReader(path)  # validates the path before hashing it
        key = self.key(path, size, fit)
        meta_path = self.root / f"{key}.json"
        data_path = self.root / f"{key}.frames"
        cached = self._open(path, meta_path, data_path, size)
        if cached is not None:
            cached.notes = reader.notes
            return cached
        self.root.mkdir(parents=True, exist_ok=True)
        n = 0
        with atomic_path(data_path) as tmp, open(tmp, "wb") as out:
            for frame in reader.frames():
                out.write(fit_frame(frame, size, fit).tobytes())
                n += 1
        if n == 0 or reader.info is None:
            data_path.unlink(missing_ok=True)
            raise ClipError(f"{path}: holds no frames")
        info = reader.info
        meta = {
            "version": CACHE_VERSION,
            "source": str(path),
            "frames": n,
            "size": size,
            "fit": fit,
            "fps": info.fps,
            "width": info.width,
            "height": info.height,
        }
        atomic_write_text(meta_path, json.dumps(meta))
        cached = self._open(path, meta_path, data_path, size)
        assert cached is not None
        cached.notes = reader.notes
        return cached

    @staticmethod
    def _open(path: Path, meta_path: Path, data_path: Path, size: int) -> CachedClip | None:
        try:
            meta = json.loads(meta_path.read_text())
            n = int(meta["frames"])
            if data_path.stat().st_size != n * size * size * 3:
                return None
        except (OSError, ValueError, KeyError):
            return None
        frames = np.memmap(data_path, np.uint8, mode="r", shape=(n, size, size, 3))
        return CachedClip(path, frames, float(meta["fps"]), int(meta["width"]), int(meta["height"]))
