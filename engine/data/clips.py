"""Clip reading: video files and folders of numbered frames → uint8 HWC RGB frames, streamed.

Data path role: the first arrow. ``ClipReader`` decodes one frame at a time (a long 1080p clip is
never held in memory at full size); ``fit_frame`` brings each frame to the model resolution;
``find_clips`` turns the paths a user gives into clip sources. Writing video (for the synthetic
generators and tests) lives here too, so all ffmpeg use is in one module.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ClipError, UserError

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".gif", ".m4v"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})
FIT_MODES = ("stretch", "crop", "letterbox")
MIN_SIDE = 8
"""Frames smaller than this (in either direction) carry no usable character or background."""
MAX_PIXELS = 64 * 2**20
"""Frames larger than this (64 Mpx, e.g. 8192×8192) are refused before they are decoded: far
beyond any camera's video, and one such frame as RGB takes 192 MB."""
_HIGH_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
"""Pillow's modes for 16-bit greyscale (PNG): their values are 0…65535, not 0…255."""


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
        self.notes: list[str] = []
        """What the user should know about a clip that is read anyway (gaps in the numbering,
        a frame rate that had to be guessed)."""
        try:  # one look: a file deleted between two would be told as "not a regular file"
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise ClipError(f"{self.path}: no such file or folder") from None
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            raise ClipError(f"{self.path}: not a regular file (a pipe, device or socket)")
        if stat.S_ISDIR(mode):
            self.kind = "frames"
            self.files = frame_files(self.path)
            if not self.files:
                raise ClipError(f"{self.path}: folder holds no .png or .jpg frames")
            gaps = _frame_gaps(self.files)
            if gaps:
                self.notes.append(f"{self.path}: {_describe_gaps(gaps)}")
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
        self.expected: int | None = None
        """How many frames the clip should hold (its files; a video's duration × rate), once
        ``info`` is set; None where it cannot say (a raw stream)."""

    def frames(self) -> Iterator[np.ndarray]:
        """Yield frames as uint8 (H, W, 3) RGB. ``self.info`` is set before the first frame."""
        yield from self._video_frames() if self.kind == "video" else self._folder_frames()

    def _folder_frames(self) -> Iterator[np.ndarray]:
        size = None
        for f in self.files:
            try:
                with Image.open(f) as im:
                    self._check_pixels(f, *im.size)
                    frame = to_rgb(im)
            except Image.DecompressionBombError:
                raise ClipError(f"{f}: image is too large (over {MAX_PIXELS >> 20} Mpx)") from None
            except (UnidentifiedImageError, OSError, ValueError) as e:
                raise ClipError(f"{f}: cannot read image ({_short(e)})") from None
            h, w = frame.shape[:2]
            if size is None:
                size = (w, h)
                self._check_size(w, h)
                self.info = ClipInfo(self.path, self.kind, w, h, self.default_fps)
                self.expected = len(self.files)
            elif (w, h) != size:
                raise ClipError(
                    f"{f}: frame size {w}x{h} differs from the first frame's {size[0]}x{size[1]}"
                )
            yield frame

    def _video_frames(self) -> Iterator[np.ndarray]:
        import imageio_ffmpeg  # only where video is decoded: keeps `import engine` light

        try:
            empty = self.path.stat().st_size == 0
        except FileNotFoundError:  # gone since the reader was made
            raise ClipError(f"{self.path}: no such file or folder") from None
        if empty:
            raise ClipError(f"{self.path}: file is empty")
        try:
            # passthrough: every frame stored in the file once, whatever its timestamps say (a
            # constant-rate output would repeat frames of a variable-frame-rate or untimed file)
            passthrough = ["-fps_mode", "passthrough"]
            gen = imageio_ffmpeg.read_frames(str(self.path), output_params=passthrough)
            meta = next(gen)
        except (RuntimeError, OSError, StopIteration) as e:
            why = _short(e)
            if "does not contain any stream" in str(e) or "matches no streams" in str(e):
                why = "it holds no video stream, sound only?"
            raise ClipError(f"{self.path}: not a readable video ({why})") from None
        try:
            w, h = (int(v) for v in meta["size"])
            self._check_size(w, h)
            self._check_pixels(self.path, w, h)
            fps = float(meta.get("fps") or 0)
            if not meta.get("duration"):  # a raw stream: no timing, ffmpeg's rate is a guess
                guess = fps or self.default_fps
                self.notes.append(f"{self.path}: the file holds no timing (a raw video stream); "
                                  f"its frame rate is a guess ({guess:g} fps)")  # fmt: skip
            if not 0 < fps <= 1000:
                fps = self.default_fps
            self.info = ClipInfo(self.path, "video", w, h, fps)
            duration = float(meta.get("duration") or 0)
            self.expected = max(1, round(duration * fps)) if duration > 0 else None
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

    @staticmethod
    def _check_pixels(where: Path, w: int, h: int) -> None:
        if w * h > MAX_PIXELS:
            raise ClipError(
                f"{where}: frame size {w}x{h} ({w * h / 2**20:.0f} Mpx) is too large "
                f"(at most {MAX_PIXELS >> 20} Mpx)"
            )

    def _check_size(self, w: int, h: int) -> None:
        if w < MIN_SIDE or h < MIN_SIDE:
            raise ClipError(
                f"{self.path}: frame size {w}x{h} is too small (at least {MIN_SIDE}x{MIN_SIDE})"
            )


class FrameSeeker:
    """Frame k of a clip, at its full size, for a renderer that mostly goes forward: a folder's
    frame is read from its own file; a video is decoded on from where the last request left
    it (a step back: decoded again from the start). Thread-safe."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.reader = ClipReader(path)
        self._lock = threading.Lock()
        self._frames: Iterator[np.ndarray] | None = None
        self._at = -1  # the index of the last frame decoded
        self._last: np.ndarray | None = None

    def frame(self, k: int) -> np.ndarray:
        with self._lock:
            if self.reader.kind != "video":
                f = self.reader.files[k]
                with Image.open(f) as im:
                    return to_rgb(im)
            if k == self._at and self._last is not None:
                return self._last
            if self._frames is None or k < self._at:
                self._frames, self._at = ClipReader(self.reader.path).frames(), -1
            while self._at < k:
                self._last = next(self._frames, None)
                if self._last is None:
                    self._frames = None
                    raise ClipError(f"{self.reader.path}: has no frame {k}")
                self._at += 1
            return self._last


def to_rgb(im: Image.Image) -> np.ndarray:
    """A Pillow image as uint8 (H, W, 3) RGB. 16-bit greyscale is scaled to 8 bits (Pillow's
    own convert("RGB") clips it, turning almost every pixel white)."""
    if im.mode in _HIGH_BIT_MODES:
        grey = np.asarray(im).astype(np.float32) / 257
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    return np.asarray(im.convert("RGB"))


_NUMBER = re.compile(r"(\d+)(?=\D*$)")


def _frame_gaps(files: list[Path]) -> list[tuple[int, int]]:
    """Missing numbers in a numbered frame sequence, as (first, last) runs; [] when the names
    are not all numbered. Steps of more than one (f010, f020 …) count as the sequence's rate."""
    numbers = []
    for f in files:
        m = _NUMBER.search(f.stem)
        if m is None:
            return []
        numbers.append(int(m[1]))
    numbers = sorted(set(numbers))
    steps = [b - a for a, b in zip(numbers, numbers[1:], strict=False)]
    if not steps:
        return []
    step = min(steps)
    return [(a + step, b - step) for a, b in zip(numbers, numbers[1:], strict=False)
            if b - a > step]  # fmt: skip


def _describe_gaps(gaps: list[tuple[int, int]]) -> str:
    runs = [str(a) if a == b else f"{a}–{b}" for a, b in gaps]
    shown = ", ".join(runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
    return f"frames are missing from the numbering ({shown}); the clip plays on without them"


def _short(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else type(e).__name__


def fit_frame(frame: np.ndarray, size: int, mode: str = "stretch") -> np.ndarray:
    """Fit a frame into the model's size×size square: ``stretch`` scales the whole frame to it
    (the model's normalised coordinates are then the frame's own, per axis: what
    ``engine.model.theta_to_pixels`` assumes), ``crop`` fills it and cuts the centre,
    ``letterbox`` fits it whole and pads with black."""
    h, w = frame.shape[:2]
    if mode == "stretch":
        interp = cv2.INTER_AREA if size < max(w, h) else cv2.INTER_CUBIC
        return cv2.resize(np.ascontiguousarray(frame), (size, size), interpolation=interp)
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
        if not path.is_dir():
            warnings.append(f"{path}: not a regular file (a pipe, device or socket)")
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
