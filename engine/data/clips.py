"""Clip reading: video files and folders of numbered frames → uint8 HWC RGB frames, streamed.

Data path role: the first arrow. ``ClipReader`` decodes one frame at a time (a long 1080p clip is
never held in memory at full size); ``fit_frame`` brings each frame to the model resolution;
``find_clips`` turns the paths a user gives into clip sources. Writing video (for the synthetic
generators and tests) lives here too, so all ffmpeg use is in one module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ClipError, UserError

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".gif", ".m4v"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})
FIT_MODES = ("crop", "letterbox")
MIN_SIDE = 8
"""Frames smaller than this (in either direction) carry no usable character or background."""


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    kind: str  # "video", "frames" (a folder of numbered images) or "image" (one still)
    width: int
    height: int
    fps: float


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder, in natural numeric order (2 before 10)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=lambda p: _natural_key(p.name))


class ClipReader:
    """Streams the frames of one clip: a video file, a folder of numbered images, or a single
    still image (a one-frame clip)."""

    def __init__(self, path: str | os.PathLike, fps: float = 24.0) -> None:
        self.path = Path(path)
        self.default_fps = fps
        if not self.path.exists():
            raise ClipError(f"{self.path}: no such file or folder")
        if self.path.is_dir():
            self.kind = "frames"
            self.files = frame_files(self.path)
            if not self.files:
                raise ClipError(f"{self.path}: folder holds no .png or .jpg frames")
        elif self.path.suffix.lower() in VIDEO_EXTENSIONS:
            self.kind = "video"
        elif self.path.suffix.lower() in IMAGE_EXTENSIONS:
            self.kind = "image"
            self.files = [self.path]
        else:
            raise ClipError(
                f"{self.path}: not a supported clip type (videos: "
                f"{', '.join(sorted(VIDEO_EXTENSIONS))}; images: "
                f"{', '.join(sorted(IMAGE_EXTENSIONS))}; or a folder of numbered frames)"
            )
        self.info: ClipInfo | None = None

    def frames(self) -> Iterator[np.ndarray]:
        """Yield frames as uint8 (H, W, 3) RGB. ``self.info`` is set before the first frame."""
        yield from self._video_frames() if self.kind == "video" else self._folder_frames()

    def _folder_frames(self) -> Iterator[np.ndarray]:
        size = None
        for f in self.files:
            try:
                with Image.open(f) as im:
                    frame = np.asarray(im.convert("RGB"))
            except (UnidentifiedImageError, OSError, ValueError) as e:
                raise ClipError(f"{f}: cannot read image ({_short(e)})") from None
            h, w = frame.shape[:2]
            if size is None:
                size = (w, h)
                self._check_size(w, h)
                self.info = ClipInfo(self.path, self.kind, w, h, self.default_fps)
            elif (w, h) != size:
                raise ClipError(
                    f"{f}: frame size {w}x{h} differs from the first frame's {size[0]}x{size[1]}"
                )
            yield frame

    def _video_frames(self) -> Iterator[np.ndarray]:
        import imageio_ffmpeg  # only where video is decoded: keeps `import engine` light

        if self.path.stat().st_size == 0:
            raise ClipError(f"{self.path}: file is empty")
        try:
            gen = imageio_ffmpeg.read_frames(str(self.path), pix_fmt="rgb24")
            meta = next(gen)
        except (RuntimeError, OSError, StopIteration) as e:
            raise ClipError(f"{self.path}: not a readable video ({_short(e)})") from None
        try:
            w, h = (int(v) for v in meta["size"])
            self._check_size(w, h)
            fps = float(meta.get("fps") or self.default_fps)
            self.info = ClipInfo(self.path, "video", w, h, fps)
            nbytes = w * h * 3
            while True:
                try:
                    raw = next(gen)
                except StopIteration:
                    break
                except (RuntimeError, OSError) as e:
                    raise ClipError(f"{self.path}: video is damaged ({_short(e)})") from None
                if len(raw) != nbytes:
                    break
                yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        finally:
            gen.close()

    def _check_size(self, w: int, h: int) -> None:
        if w < MIN_SIDE or h < MIN_SIDE:
            raise ClipError(
                f"{self.path}: frame size {w}x{h} is too small (at least {MIN_SIDE}x{MIN_SIDE})"
            )


def _short(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else type(e).__name__


def fit_frame(frame: np.ndarray, size: int, mode: str = "crop") -> np.ndarray:
    """Fit a frame into a size×size square: ``crop`` fills it and cuts the centre, ``letterbox``
    fits it whole and pads with black."""
    h, w = frame.shape[:2]
    if mode == "crop":
        scale = size / min(w, h)
    elif mode == "letterbox":
        scale = size / max(w, h)
    else:
        raise UserError(f"unknown fit mode {mode!r} (choose from {', '.join(FIT_MODES)})")
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(np.ascontiguousarray(frame), (nw, nh), interpolation=interp)
    if mode == "crop":
        y0, x0 = (nh - size) // 2, (nw - size) // 2
        return np.ascontiguousarray(resized[y0 : y0 + size, x0 : x0 + size])
    out = np.zeros((size, size, 3), np.uint8)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = resized
    return out


def find_clips(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Expand the user's ``--data`` paths into clip sources.

    A path may be a video file, a folder of numbered frames, or a folder holding either (searched
    recursively). Returns (clips, problems with the paths that gave no clip); a path that does
    not exist is an error."""
    clips: list[Path] = []
    warnings: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix.lower() in VIDEO_EXTENSIONS:
                clips.append(path)
            else:
                warnings.append(f"{path}: not a supported clip type")
            continue
        found = _clips_under(path)
        if not found:
            warnings.append(f"{path}: holds no videos or frame folders")
        clips.extend(found)
    return clips, warnings


def _clips_under(folder: Path) -> list[Path]:
    if frame_files(folder):
        return [folder]
    found: list[Path] = []
    for child in sorted(folder.iterdir(), key=lambda p: _natural_key(p.name)):
        if child.is_file() and child.suffix.lower() in VIDEO_EXTENSIONS:
            found.append(child)
        elif child.is_dir() and not child.name.startswith("."):
            found.extend(_clips_under(child))
    return found


def write_video(
    path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float = 24.0, quality: int = 8
) -> Path:
    """Write uint8 RGB frames to a video file (codec from the extension, via imageio-ffmpeg).

    Frames must all be one size; odd sizes are padded by ffmpeg's macro-block rule."""
    import imageio_ffmpeg

    path = Path(path)
    ext = path.suffix.lower()
    codec = {".webm": "libvpx-vp9", ".gif": "gif", ".avi": "mpeg4"}.get(ext, "libx264")
    pix_out = {".gif": "rgb8"}.get(ext, "yuv420p")
    it = iter(frames)
    first = next(it)
    h, w = first.shape[:2]
    output_params = ["-loop", "0"] if ext == ".gif" else None
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        codec=codec,
        pix_fmt_out=pix_out,
        quality=None if ext == ".gif" else quality,
        macro_block_size=1 if ext == ".gif" else 2,
        output_params=output_params,
    )
    writer.send(None)
    writer.send(np.ascontiguousarray(first))
    for frame in it:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path
