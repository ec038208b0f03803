"""On-disk cache of clips decoded at model resolution (uint8), so a clip is decoded once.

Data path role: between the clip reader and the pair sampler. An entry is keyed by the clip's
*content* (a hash of the file's bytes, or of every frame file's name and bytes for a folder) and
by the fit settings, so renaming or moving a clip keeps its cache and editing it invalidates it.
Entries live in engine.disk_cache's ``frames`` folder as a raw uint8 file
``KEY.frames`` (N×S×S×3) plus ``KEY.json``; the JSON is written last and marks a complete entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import disk_cache
from engine.data.clips import ClipReader, fit_frame
from engine.errors import ClipError
from engine.fileio import atomic_path, atomic_write_text

CACHE_VERSION = 1


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
        self.root = Path(root) if root else disk_cache.root("frames")

    def key(self, path: Path, size: int, fit: str) -> str:
        return disk_cache.key(f"v{CACHE_VERSION}", size, fit, self.content_hash(path))

    def content_hash(self, path: Path) -> str:
        """engine.disk_cache.file_hash of a clip (remembered beside this cache's entries)."""
        try:
            return disk_cache.file_hash(path, self.root / "hashes")
        except FileNotFoundError:  # gone since it was checked (even mid-hash): one wording
            raise ClipError(f"{path}: no such file or folder") from None

    def load(self, path: str | os.PathLike, size: int, fit: str = "stretch",
             progress: Callable[[int, int | None], None] | None = None,
             tee: Callable[[np.ndarray], None] | None = None) -> CachedClip:  # fmt: skip
        """The clip at ``size``×``size``, decoding (and caching) it only if needed;
        ``progress(frames decoded, frames expected or None)`` as it decodes; ``tee(frame)``
        given each frame at full size as it decodes (none when it was cached)."""
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
                if tee is not None:
                    tee(frame)
                out.write(fit_frame(frame, size, fit).tobytes())
                n += 1
                if progress is not None and n % 8 == 0:
                    progress(n, reader.expected)
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
