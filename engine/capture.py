"""Capture: stop motion shot frame by frame. A camera — or a video file or a folder of frames
standing in for one — read continuously on a thread of its own (:class:`LiveView`), and a
:class:`Take`: the frames captured so far, a numbered frame folder in the project's media/ that
becomes a clip like any imported one (clip layers, training, shots).

Data path role: the first arrow, for footage shot in the studio. No Qt: the studio's capture
window reads :meth:`LiveView.latest` when it paints and calls :meth:`Take.append` to capture.

Cameras come through OpenCV's VideoCapture (already a dependency): on Linux the V4L2 devices
(/dev/video*, named from /sys), elsewhere the first few indices probed. A file stands in for a
camera at its own frame rate, looping, so tests, demos and users who shoot with another app get
the same live view. A capture is written as ``frame_NNNNN.png`` under a temporary name and
renamed, so a crash mid-capture loses at most the frame being written.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine import project_folder
from engine.data.clips import ClipReader, frame_files
from engine.document import Clip, new_id
from engine.errors import ClipError, UserError
from engine.fileio import atomic_path

PROBE = 8  # camera indices tried where the system cannot list its devices
FRAME_NAME = "frame_{:05d}.png"
PNG_LEVEL = 1  # fast: a 1280×720 capture is written in a few tens of milliseconds


def preview(frame: np.ndarray, width: int = 960) -> np.ndarray:
    """A frame at most ``width`` wide, for onion skins and the short play (kept in memory)."""
    import cv2

    h, w = frame.shape[:2]
    if w <= width:
        return frame
    return cv2.resize(frame, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def difference(live: np.ndarray, last: np.ndarray) -> np.ndarray:
    """What moved since the last capture: |live − last|, brightened (×3) so small moves show."""
    if live.shape != last.shape:
        import cv2

        last = cv2.resize(last, (live.shape[1], live.shape[0]), interpolation=cv2.INTER_AREA)
    d = np.abs(live.astype(np.int16) - last.astype(np.int16)) * 3
    return np.clip(d, 0, 255).astype(np.uint8)


class CaptureError(UserError):
    """A camera or stand-in that cannot be opened or read; the message names it and why."""


@dataclass(frozen=True)
class CameraInfo:
    """A camera the system has: ``id`` opens it (:func:`open_source`), ``name`` is for people."""

    id: str
    name: str


def list_cameras(probe: int = PROBE) -> list[CameraInfo]:
    """The cameras that open. Linux: the V4L2 capture devices; elsewhere indices 0 … probe−1.
    No camera (or no permission) is an empty list, never an error."""
    import cv2

    if sys.platform.startswith("linux"):
        found = []
        for dev in sorted(Path("/dev").glob("video*"), key=lambda p: _number(p.name)):
            name = Path(f"/sys/class/video4linux/{dev.name}/name")
            label = name.read_text().strip() if name.is_file() else dev.name
            cap = cv2.VideoCapture(str(dev), cv2.CAP_V4L2)
            try:
                if cap.isOpened():  # metadata nodes of the same camera do not open for capture
                    found.append(CameraInfo(str(dev), f"{label} ({dev.name})"))
            finally:
                cap.release()
        return found
    found = []
    for index in range(probe):
        cap = cv2.VideoCapture(index)
        try:
            if cap.isOpened():
                found.append(CameraInfo(str(index), f"Camera {index + 1}"))
        finally:
            cap.release()
    return found


def _number(name: str) -> int:
    m = re.search(r"(\d+)$", name)
    return int(m.group(1)) if m else -1


class Source:
    """Frames as they come: :meth:`read` blocks until the next one (as a camera does) and
    returns it as uint8 (H, W, 3) RGB."""

    name: str
    size: tuple[int, int]  # (width, height)
    fps: float

    def read(self) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CameraSource(Source):
    """A camera through OpenCV, at the resolution asked for where the camera offers it."""

    def __init__(self, device: str, size: tuple[int, int] | None = None) -> None:
        import cv2

        self._cv2 = cv2
        target = int(device) if device.isdigit() else device
        self.name = f"camera {device}"
        self.cap = cv2.VideoCapture(target)
        if not self.cap.isOpened():
            raise CaptureError(f"camera {device}: cannot be opened (unplugged, or in use by "
                               "another program?)")  # fmt: skip
        if size is not None:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        first = self.read()
        self.size = (first.shape[1], first.shape[0])
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS)) or 30.0

    def read(self) -> np.ndarray:
        ok, frame = self.cap.read()
        if not ok or frame is None:
            raise CaptureError(f"{self.name}: no picture (unplugged?)")
        return self._cv2.cvtColor(frame, self._cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self.cap.release()


class FileSource(Source):
    """A video file or a frame folder standing in for a camera: its frames at its own rate (a
    folder: ``fps``), looping. The frames are read once and kept, as a camera's would stream."""

    def __init__(self, path: Path, fps: float = 24.0, size: tuple[int, int] | None = None) -> None:
        try:
            reader = ClipReader(path, fps)
            frames = [np.ascontiguousarray(f) for f in reader.frames()]
        except ClipError as e:
            raise CaptureError(str(e)) from None
        if not frames or reader.info is None:
            raise CaptureError(f"{path}: holds no frames")
        if size is not None and (frames[0].shape[1], frames[0].shape[0]) != tuple(size):
            import cv2

            frames = [cv2.resize(f, tuple(size), interpolation=cv2.INTER_AREA) for f in frames]
        self.frames, self.name = frames, path.name
        self.size = (frames[0].shape[1], frames[0].shape[0])
        self.fps = float(reader.info.fps)
        self._next, self._due = 0, time.monotonic()

    def read(self) -> np.ndarray:
        wait = self._due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._due = max(self._due + 1 / self.fps, time.monotonic() - 1 / self.fps)
        frame = self.frames[self._next]
        self._next = (self._next + 1) % len(self.frames)
        return frame


def open_source(spec: str, size: tuple[int, int] | None = None, fps: float = 24.0) -> Source:
    """A camera (its id from :func:`list_cameras`, or an index) or a file standing in for one
    (a video, an image, a folder of frames). ``size``: (width, height) asked for."""
    path = Path(spec)
    if spec.isdigit() or (spec.startswith("/dev/video") and not path.is_file()):
        return CameraSource(spec, size)
    if not path.exists():
        raise CaptureError(f"{spec}: no such camera or file (cameras: {_describe_cameras()})")
    return FileSource(path, fps, size)


def _describe_cameras() -> str:
    cams = list_cameras()
    return ", ".join(f"{c.id} — {c.name}" for c in cams) if cams else "none found"


class LiveView:
    """A source read continuously on a thread of its own; the newest frame is kept for whoever
    draws it (:meth:`latest`), so nothing that paints ever waits on the camera. ``on_frame`` is
    called on that thread after each frame (the studio turns it into a queued signal)."""

    def __init__(self, source: Source, on_frame=None) -> None:
        self.source, self.on_frame = source, on_frame
        self.error: str | None = None
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._count = 0
        self._times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zoetrope-live", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                now = time.monotonic()
                with self._lock:
                    self._frame, self._count = frame, self._count + 1
                    self._times = [*self._times[-47:], now]
                if self.on_frame is not None:
                    self.on_frame()
        except UserError as e:
            self.error = str(e)
        except Exception as e:  # noqa: BLE001 — a driver's failure is a message, not a hang
            self.error = f"{self.source.name}: {type(e).__name__}: {e}"
        finally:
            self.source.close()

    def latest(self) -> tuple[np.ndarray | None, int]:
        """The newest frame (None before the first) and how many frames have come so far."""
        with self._lock:
            return self._frame, self._count

    @property
    def fps(self) -> float:
        """The rate frames have been arriving at, over the last two seconds or so."""
        with self._lock:
            t = self._times
            return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


class Take:
    """The frames captured so far: a folder of ``frame_NNNNN.png`` in the project's media/,
    new (:meth:`start`) or an existing frame clip's, continued (:meth:`resume`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = frame_files(folder) if folder.is_dir() else []
        self.size: tuple[int, int] | None = None  # (width, height) of its frames, once known
        self.pattern = FRAME_NAME  # a continued folder's own: img_0041.jpg goes on img_0042.png
        if self.files:
            m = re.fullmatch(r"(.*?)(\d+)", self.files[-1].stem)
            if m is None:
                raise CaptureError(f"{folder}: its frames are not numbered ({self.files[-1].name})"
                                   ", so captures cannot be put after them")  # fmt: skip
            prefix = m[1].replace("{", "{{").replace("}", "}}")
            self.pattern = f"{prefix}{{:0{len(m[2])}d}}.png"
            try:
                with Image.open(self.files[-1]) as last:  # the header only
                    self.size = last.size
            except (OSError, ValueError) as e:
                raise CaptureError(f"{self.files[-1]}: cannot be read as an image ({e})") from None

    @classmethod
    def start(cls, project_root: Path, name: str) -> Take:
        """A new, empty take in ``media/`` of the project at ``project_root``, named after
        ``name`` (a number added where that folder exists)."""
        safe = re.sub(r"[^\w\- ]+", "_", name).strip() or "Take"
        folder = project_folder.unique(project_root / "media" / safe)
        folder.mkdir(parents=True)
        return cls(folder)

    @classmethod
    def resume(cls, folder: Path) -> Take:
        """An existing frame folder, continued: new frames are numbered after its last."""
        if not folder.is_dir():
            raise CaptureError(f"{folder}: not a folder of frames (only a frame clip can be "
                               "continued)")  # fmt: skip
        return cls(folder)

    def __len__(self) -> int:
        return len(self.files)

    def close(self) -> None:
        """Done with: a take started and emptied again leaves no folder behind."""
        if not self.files:
            with contextlib.suppress(OSError):
                self.folder.rmdir()  # only if empty: anything put there meanwhile stays

    def _next_number(self) -> int:
        return _number(self.files[-1].stem) + 1 if self.files else 1

    def append(self, frame: np.ndarray) -> Path:
        """Write ``frame`` (uint8 RGB, full resolution) as the next frame; returns its file."""
        self.expect((frame.shape[1], frame.shape[0]))
        path = self.folder / self.pattern.format(self._next_number())
        with atomic_path(path) as tmp:
            Image.fromarray(frame).save(tmp, format="PNG", compress_level=PNG_LEVEL)
        self.files.append(path)
        return path

    def as_clip(self, project_root: Path, name: str, fps: float) -> Clip:
        """The take as a new clip record of the project at ``project_root`` (not added): its
        frames are known, so none is read. Call when every capture is on disk."""
        if not self.files or self.size is None:
            raise CaptureError(f"{self.folder.name}: no frame captured yet")
        rel = self.folder.resolve().relative_to(project_root.resolve()).as_posix()
        w, h = self.size
        return Clip(new_id("c"), name, rel, "frames", len(self.files), float(fps), w, h)

    def expect(self, size: tuple[int, int]) -> None:
        """Frames of ``size`` come next: refused if the take's are another size (one clip, one
        size); the take's size from now on if it had none."""
        if self.size is None:
            self.size = tuple(size)
        elif tuple(size) != self.size:
            w, h = self.size
            raise CaptureError(f"{self.folder.name}: the camera gives {size[0]}×{size[1]}, the "
                               f"take's frames are {w}×{h}: choose that size or start a new take")

    def delete_last(self) -> tuple[Path, bytes]:
        """Remove the last frame; returns what :meth:`restore` needs to put it back (undo)."""
        if not self.files:
            raise CaptureError(f"{self.folder.name}: no frame to delete")
        path = self.files.pop()
        data = path.read_bytes()
        path.unlink()
        return path, data

    def restore(self, path: Path, data: bytes) -> None:
        """Put back a frame :meth:`delete_last` removed (redo of a capture, undo of a delete)."""
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        self.files = frame_files(self.folder)

    def frame(self, index: int) -> np.ndarray:
        """A captured frame, RGB (onion skin, the short play)."""
        with Image.open(self.files[index]) as im:
            return np.asarray(im.convert("RGB"))

    def tail(self, count: int, width: int = 960) -> list[np.ndarray]:
        """The last ``count`` frames as previews (:func:`preview`), oldest first: what a
        continued take's onion skin and short play start from."""
        return [preview(self.frame(k), width) for k in range(max(0, len(self) - count), len(self))]


@dataclass(frozen=True)
class Continuable:
    """A frame folder in the project's media/ that captures can go on from: a frame clip of the
    project (``clip``: its id), or a take never made a clip (a window closed before Use as Clip:
    ``clip`` None)."""

    folder: Path
    name: str
    frames: int
    clip: str | None


def continuable(project) -> list[Continuable]:
    """The project's frame clips in media/, then the take folders there that no clip uses."""
    media = (project.root / "media").resolve()
    found, used = [], set()
    for clip in project.clips.values():
        folder = (project.root / clip.source).resolve()
        used.add(folder)
        if clip.kind == "frames" and folder.parent == media and folder.is_dir():
            found.append(Continuable(folder, clip.name, clip.frames, clip.id))
    if media.is_dir():
        for folder in sorted(media.iterdir()):
            if folder.is_dir() and folder.resolve() not in used:
                files = frame_files(folder)
                if files and all(f.name.startswith("frame_") for f in files):
                    found.append(Continuable(folder.resolve(), folder.name, len(files), None))
    return found


def shoot(project, source: Source, take: Take, frames: int, every: float,
          clip_id: str | None = None, report=print) -> Clip | None:  # fmt: skip
    """Headless capture (a time-lapse rig): ``frames`` captures (0: until interrupted), one
    every ``every`` seconds, of the newest frame the source gives, into ``take``; then the take
    into ``project`` — a new clip, or the clip ``clip_id`` grown — and the project saved.
    Ctrl+C ends the shoot early; what was captured is kept all the same. Returns the clip (None
    when nothing was captured)."""
    from dataclasses import replace

    live = LiveView(source)
    before = len(take)
    try:
        while live.latest()[0] is None:  # the first frame
            if not live.running:
                raise CaptureError(live.error or f"{source.name}: no picture")
            time.sleep(0.01)
        due = time.monotonic()
        while frames == 0 or len(take) - before < frames:
            time.sleep(max(0.0, due - time.monotonic()))
            if not live.running:
                raise CaptureError(live.error or f"{source.name}: no picture")
            take.append(live.latest()[0])
            due += every
            report(f"captured {len(take) - before}" + (f"/{frames}" if frames else ""))
    except KeyboardInterrupt:
        report(f"interrupted: {len(take) - before} frames captured, kept")
    finally:
        live.stop()
    if len(take) == before:
        take.close()
        return None
    if clip_id is None:
        clip = take.as_clip(project.root, take.folder.name, project.fps)
        project.add_clip(clip)
    else:
        old = project.clip(clip_id)
        clip = replace(take.as_clip(project.root, old.name, old.fps), id=old.id)
        project.replace_clip(clip)
    project.save()
    return clip


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.capture``: the cameras (--list), or a headless shoot into a project —
    a new take, or after one of its frame clips (--after) — that becomes a clip of it."""
    import argparse

    from engine.document import Project

    p = argparse.ArgumentParser(prog="python -m engine.capture", description=main.__doc__)
    p.add_argument("project", nargs="?", help="the project folder (not needed with --list)")
    p.add_argument("--list", action="store_true", help="list the cameras and exit")
    p.add_argument("--camera", default="0",
                   help="a camera id (from --list), or a video or frame folder standing in")
    p.add_argument("--size", help="WIDTHxHEIGHT asked of the camera, e.g. 1280x720")
    p.add_argument("--frames", type=int, default=0, help="how many to capture (0: until Ctrl+C)")
    p.add_argument("--every", type=float, default=1.0, help="seconds between two captures")
    into = p.add_mutually_exclusive_group()
    into.add_argument("--take", default="Take", help="the new take's name (default: Take)")
    into.add_argument("--after", metavar="CLIP",
                      help="go on after this frame clip of the project (its name or id)")
    args = p.parse_args(argv)
    if args.list:
        cams = list_cameras()
        for cam in cams:
            print(f"{cam.id}\t{cam.name}")
        if not cams:
            print("no camera found", file=sys.stderr)
        return 0
    if args.project is None:
        p.error("a project folder is needed to shoot into (or --list)")
    if args.frames < 0 or not 0 < args.every <= 24 * 3600:
        p.error("--frames is 0 or more, --every is above 0 and at most a day (86400 s)")
    signal.signal(signal.SIGTERM, _interrupt)  # a service stopped: the shoot ends as on Ctrl+C
    try:
        size = None
        if args.size:
            m = re.fullmatch(r"(\d+)[x×](\d+)", args.size.strip())
            if m is None:
                raise CaptureError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1280x720")
            size = (int(m[1]), int(m[2]))
        project = Project.open(args.project)
        clip_id = None
        if args.after:
            named = [c for c in project.clips.values() if args.after in (c.id, c.name)]
            if not named:
                raise CaptureError(f"--after {args.after!r}: no such clip in {project.file}")
            found = [c for c in continuable(project) if c.clip == named[0].id]
            if not found:
                raise CaptureError(f"--after {args.after!r}: a {named[0].kind} clip; only a "
                                   "folder of frames in the project's media can be continued")
            take, clip_id = Take.resume(found[0].folder), named[0].id
        source = open_source(args.camera, size, project.fps)
        if not args.after:
            take = Take.start(project.root, args.take)
        take.expect(source.size)
        print(f"{source.name} · {source.size[0]}×{source.size[1]} → {take.folder}",
              file=sys.stderr)  # fmt: skip
        clip = shoot(project, source, take, args.frames, args.every, clip_id,
                     report=lambda text: print(text, file=sys.stderr))  # fmt: skip
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if clip is None:
        print("nothing captured", file=sys.stderr)
    else:
        print(f"{clip.name}: {clip.frames} frames, a clip of {project.file}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
