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

Length: the camera, the take and the headless time-lapse that shoots into it
(``python -m engine.capture``), which keeps the take's rules.
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

from engine.data.clips import ClipReader, frame_files
from engine.document import Clip, new_id
from engine.document import folder as project_folder
from engine.errors import ClipError, UserError
from engine.fileio import atomic_path, remove_stale_in

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


MAX_FOLDER_NAME = 100
"""Characters of a take's folder name (its clip keeps the whole name): 255 bytes is the most
most file systems take, and a 300-character --take ended in "File name too long"."""


def _why(e: OSError) -> str:
    return "the disk is full" if e.errno == 28 else e.strerror or str(e)


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
    folder: ``fps``), looping. The frames are decoded as they are shown, a camera's worth at a
    time — a two-minute 1080p file is never held whole (it took 18 GB, and running out was told
    as "video is damaged")."""

    def __init__(self, path: Path, fps: float = 24.0, size: tuple[int, int] | None = None) -> None:
        self.path, self.name, self._fps, self._size = path, path.name, fps, size
        self._frames = self._open()
        try:
            self._first = next(self._frames)
        except StopIteration:
            raise CaptureError(f"{path}: holds no frames") from None
        self.size = (self._first.shape[1], self._first.shape[0])
        self._next, self._due = self._first, time.monotonic()

    def _open(self):
        try:
            reader = ClipReader(self.path, self._fps)
        except ClipError as e:
            raise CaptureError(str(e)) from None
        self.fps = float(reader.info.fps) if reader.info else self._fps

        def frames():
            try:
                for f in reader.frames():
                    self.fps = float(reader.info.fps)
                    if self._size is not None and (f.shape[1], f.shape[0]) != tuple(self._size):
                        import cv2

                        f = cv2.resize(f, tuple(self._size), interpolation=cv2.INTER_AREA)
                    yield np.ascontiguousarray(f)
            except ClipError as e:
                raise CaptureError(str(e)) from None

        return frames()

    def read(self) -> np.ndarray:
        wait = self._due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._due = max(self._due + 1 / self.fps, time.monotonic() - 1 / self.fps)
        frame = self._next
        try:
            self._next = next(self._frames)
        except StopIteration:  # the end: round again from the first frame
            self._frames = self._open()
            self._next = next(self._frames, self._first)
        return frame


MIN_SIDE, MAX_SIDE = 16, 8192
"""The sizes asked of a camera: from a thumbnail to 8K."""


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise CaptureError(f"size {w}×{h}: each side must be {MIN_SIDE}…{MAX_SIDE} pixels")
    return int(w), int(h)


def open_source(spec: str, size: tuple[int, int] | None = None, fps: float = 24.0) -> Source:
    """A camera (its id from :func:`list_cameras`, or an index) or a file standing in for one
    (a video, an image, a folder of frames). ``size``: (width, height) asked for."""
    path = Path(spec)
    if size is not None:
        size = check_size(size)
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
        except Exception as e:
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
        remove_stale_in(folder, (".tmp",))  # a capture being written when a shoot was killed
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
        ``name`` (cut to a length every file system takes; a number added where that folder
        exists). A media folder that cannot be written is a CaptureError naming it."""
        safe = re.sub(r"[^\w\- ]+", "_", name).strip()[:MAX_FOLDER_NAME].strip() or "Take"
        folder = project_folder.unique(project_root / "media" / safe)
        try:
            folder.mkdir(parents=True)
        except OSError as e:
            raise CaptureError(f"{folder.parent}: cannot make the take's folder there "
                               f"({_why(e)})") from None  # fmt: skip
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


class ShootError(CaptureError):
    """A shoot that stopped early on a fault (a full disk, a camera unplugged): what it captured
    is kept all the same; ``clip`` is it as a clip of the project (None: nothing captured)."""

    def __init__(self, text: str, clip: Clip | None) -> None:
        super().__init__(text)
        self.clip = clip


def shoot(project, source: Source, take: Take, frames: int, every: float,
          clip_id: str | None = None, report=print, name: str | None = None) -> Clip | None:
    """Headless capture (a time-lapse rig): ``frames`` captures (0: until interrupted), one
    every ``every`` seconds, of the newest frame the source gives, into ``take``; then the take
    into the project — a new clip (``name``, else the take's), or the clip ``clip_id`` grown —
    as the project is on disk *then* (Project.update: an editor's work of the last hours is
    kept). Ctrl+C ends the shoot early; a full disk or a camera that died ends it with a
    :class:`ShootError`: either way what was captured is kept and added. Returns the clip (None
    when nothing was captured)."""
    live = LiveView(source)
    before = len(take)
    fault = None
    try:
        while live.latest()[0] is None:  # the first frame
            if not live.running:
                raise CaptureError(live.error or f"{source.name}: no picture")
            time.sleep(0.01)
        due = time.monotonic()
        while frames == 0 or len(take) - before < frames:
            time.sleep(max(0.0, due - time.monotonic()))
            if not live.running:
                fault = live.error or f"{source.name}: no picture"
                break
            try:
                take.append(live.latest()[0])
            except OSError as e:  # the disk: what is on it stays, and goes into the project
                fault = f"{take.folder}: cannot write a capture ({_why(e)})"
                break
            due += every
            report(f"captured {len(take) - before}" + (f"/{frames}" if frames else ""))
    except KeyboardInterrupt:
        report(f"interrupted: {len(take) - before} frames captured, kept")
    finally:
        live.stop()
    clip = None
    if len(take) == before:
        take.close()
    else:
        try:
            clip = add_take(project.root, take, clip_id, name)
        except UserError as e:  # the project cannot take it now: the frames stay on disk
            how = (f"python -m engine.capture PROJECT --adopt {take.folder.name} makes them "
                   "a clip" if clip_id is None else "the clip's next --after adds them to it")
            raise ShootError(f"{e}; the {len(take) - before} frames captured are kept in "
                             f"{take.folder} ({how})", None) from None
    if fault is not None:
        kept = f"{len(take) - before} frames captured before it, kept" + (
            f" as the clip {clip.name!r}" if clip is not None else "")
        raise ShootError(f"{fault}; {kept}", clip)
    return clip


def add_take(root: Path, take: Take, clip_id: str | None = None, name: str | None = None) -> Clip:
    """The take into the project at ``root`` as it is on disk now: the clip ``clip_id`` grown
    (where it is still there), else a new clip named ``name`` (else the take's folder)."""
    from dataclasses import replace

    from engine.document import Project

    def change(p) -> Clip:
        if clip_id is not None and clip_id in p.clips:
            old = p.clip(clip_id)
            clip = replace(take.as_clip(p.root, old.name, old.fps), id=old.id)
            p.replace_clip(clip)
        else:
            clip = take.as_clip(p.root, name or take.folder.name, p.fps)
            p.add_clip(clip)
        return clip

    return Project.update(root, change)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _orphans(project) -> str:
    takes = [c for c in continuable(project) if c.clip is None]
    if not takes:
        return ""
    return "; takes not made clips yet: " + ", ".join(f"{t.name} ({t.frames} frames)"
                                                      for t in takes[:5])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.capture``: the cameras (--list), or a headless shoot into a project —
    a new take, or after one of its frame clips or of a take left by an interrupted shoot
    (--after) — that becomes a clip of it; --adopt makes such a take a clip without shooting."""
    import argparse

    from engine.document import Project, check_text
    from engine.document import lock as project_lock

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
                      help="go on after this frame clip of the project (its name or id), or "
                      "after a take an interrupted shoot left (its folder's name)")
    into.add_argument("--adopt", metavar="TAKE",
                      help="make a take an interrupted shoot left in media/ a clip, and exit")
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
            m = re.fullmatch(r"(\d{1,6})[x×](\d{1,6})", args.size.strip())
            if m is None:
                raise CaptureError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1280x720")
            size = check_size((int(m[1]), int(m[2])))
        project = Project.open(args.project)
        clip_id, name = None, None
        if args.after or args.adopt:
            wanted = args.after or args.adopt
            named = [c for c in project.clips.values() if wanted in (c.id, c.name)]
            found = [c for c in continuable(project)
                     if (named and c.clip == named[0].id) or (c.clip is None and c.name == wanted)]
            if args.adopt and (named or not found):
                raise CaptureError(f"--adopt {wanted!r}: no take of that name left in "
                                   f"{project.root / 'media'}{_orphans(project)}")
            if not named and not found:
                raise CaptureError(f"--after {wanted!r}: no such clip in {project.file}"
                                   f"{_orphans(project)}")  # fmt: skip
            if named and not found:
                raise CaptureError(f"--after {wanted!r}: a {named[0].kind} clip; only a "
                                   "folder of frames in the project's media can be continued")
            take = Take.resume(found[0].folder)
            clip_id = named[0].id if named else None
            if args.adopt:
                clip = add_take(project.root, take, None, take.folder.name)
                print(f"{clip.name}: {clip.frames} frames, a clip of {project.file}",
                      file=sys.stderr)  # fmt: skip
                return 0
        else:
            name = check_text(args.take, "--take")
        source = open_source(args.camera, size, project.fps)
        if not args.after:
            take = Take.start(project.root, args.take)
        take.expect(source.size)
        held = project_lock.other_holder(project.root)
        if held is not None:
            print(f"note: the project is open in {held}: the take is added to it as it is "
                  "when the shoot ends, and that program's next save keeps it",
                  file=sys.stderr)  # fmt: skip
        print(f"{source.name} · {source.size[0]}×{source.size[1]} → {take.folder}",
              file=sys.stderr)  # fmt: skip
        clip = shoot(project, source, take, args.frames, args.every, clip_id,
                     report=lambda text: print(text, file=sys.stderr), name=name)  # fmt: skip
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
