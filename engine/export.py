"""Export: timeline frames → MP4, WebM, GIF, APNG or a PNG sequence, through imageio-ffmpeg.

Data path role: the last arrow. One settings dataclass (:class:`ExportSettings`) says everything
(format, range, fps, scale and filter, quality, loop, alpha); :func:`ExportSettings.problems`
explains bad settings before anything starts (the studio's dialog shows them). Frames stream from
the Director into one ffmpeg process, which scales (nearest for a pixel-art look, or Lanczos),
pads to what the codec needs (never stretches) and encodes while the next frames render.

The file is written under a temporary name beside the target and renamed at the end, so a cancel,
an error or a full disk never leaves a broken file (or half a PNG folder) at the target path.
An export replaces only what it wrote itself: :func:`plan_target` says what a target would
replace (an existing file only with ``overwrite``; in a folder only frames of its own naming
pattern) and refuses a folder that holds anything else. Temporary files a killed export left
behind (``.NAME.PID-XXXXXX.part``) are removed by the next export to the same place.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine import audio
from engine.errors import Cancelled, UserError
from engine.fileio import atomic_path, remove_stale_temporaries, temporary_path
from engine.frames.director import LAYERS, Director
from engine.progress import Cancel, Progress

FORMATS = ("mp4", "webm", "gif", "apng", "png")
FORMAT_NAMES = {
    "mp4": "MP4 (H.264)",
    "webm": "WebM (VP9)",
    "gif": "GIF",
    "apng": "animated PNG",
    "png": "PNG sequence",
}
EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm", ".gif": "gif", ".apng": "apng",
              ".png": "apng"}  # fmt: skip
ALPHA_FORMATS = ("webm", "apng", "png")
QUALITY_FORMATS = ("mp4", "webm")
"""The formats whose encoder has a quality setting (GIF, APNG and PNG are lossless or
palette-bound: ``quality`` does nothing there)."""
LOOP_FORMATS = ("gif", "apng")
"""The formats that say whether they play forever (a video player decides that for MP4 and
WebM; a PNG sequence does not play)."""
FILTERS = {"nearest": "neighbor", "lanczos": "lanczos"}
SCALE_RANGE = (0.25, 16.0)
MAX_SIDE = 4096
Size = int | tuple[int, int]


@dataclass
class ExportSettings:
    """Everything an export needs besides the frames. ``range`` is (first, last), inclusive, in
    timeline frames; None exports the whole timeline. ``quality`` 1 … 10 (10 best) maps to each
    codec's own scale. ``alpha`` exports the character cut out on transparency (RGBA: WebM,
    APNG, PNG). ``loop``: GIF and APNG play forever, else once."""

    format: str = "mp4"
    range: tuple[int, int] | None = None
    fps: float = 24.0
    scale: float = 1.0
    filter: str = "nearest"
    quality: int = 8
    loop: bool = True
    alpha: bool = False
    layer: str = "composite"

    def problems(self, frame_count: int, image_size: Size) -> list[str]:
        """Why these settings cannot export a ``frame_count``-frame timeline; [] when they can."""
        out: list[str] = []
        if self.format not in FORMATS:
            out.append(f"unknown format {self.format!r} (choose from {', '.join(FORMATS)})")
        elif self.alpha and self.format not in ALPHA_FORMATS:
            out.append(
                f"{FORMAT_NAMES[self.format]} cannot store transparency: choose WebM, APNG or "
                "a PNG sequence, or turn alpha off"
            )
        if self.layer not in LAYERS or self.layer == "cutout":
            choices = ", ".join(x for x in LAYERS if x != "cutout")
            out.append(f"unknown layer {self.layer!r} (choose from {choices}; cut-out = alpha)")
        elif self.alpha and self.layer == "background":
            out.append("the background layer has no transparency: turn alpha off")
        if frame_count == 0:
            out.append("the timeline is empty: add a shot first")
        elif self.range is not None:
            first, last = self.range
            if not 0 <= first <= last < frame_count:
                out.append(
                    f"range {first}…{last} is outside the timeline (frames 0…{frame_count - 1})"
                )
        if not (isinstance(self.fps, (int, float)) and 1 <= self.fps <= 120):
            out.append(f"fps must be 1…120 (got {self.fps})")
        lo, hi = SCALE_RANGE
        if not (isinstance(self.scale, (int, float)) and lo <= self.scale <= hi):
            out.append(f"scale must be {lo:g}…{hi:g} (got {self.scale})")
        elif not all(8 <= v <= MAX_SIDE for v in self.size(image_size)):
            w, h = self.size(image_size)
            out.append(f"output size {w}×{h} px must be 8…{MAX_SIDE} on each side")
        if self.filter not in FILTERS:
            out.append(f"unknown filter {self.filter!r} (choose from {', '.join(FILTERS)})")
        if not (isinstance(self.quality, int) and 1 <= self.quality <= 10):
            out.append(f"quality must be a whole number 1…10 (got {self.quality})")
        return out

    def size(self, image_size: Size) -> tuple[int, int]:
        """(width, height) of the scaled frame in pixels (before codec padding) for rendered
        frames of ``image_size`` (a side, or width and height)."""
        w, h = (image_size, image_size) if isinstance(image_size, int) else image_size
        return max(1, round(w * self.scale)), max(1, round(h * self.scale))

    def padded_size(self, image_size: Size) -> tuple[int, int]:
        """(width, height) in the file: H.264 and VP9 in 4:2:0 need even sizes."""
        w, h = self.size(image_size)
        if self.format in ("mp4", "webm"):
            return w + w % 2, h + h % 2
        return w, h

    def span(self, frame_count: int) -> tuple[int, int]:
        """(start, stop) of the exported frames, stop exclusive."""
        first, last = self.range if self.range is not None else (0, frame_count - 1)
        return first, last + 1


def format_for(path: str | os.PathLike, explicit: str | None = None) -> str:
    """The format a target path asks for: ``explicit``, else its extension; a folder or a path
    without an extension is a PNG sequence."""
    if explicit:
        return explicit.lower()
    path = Path(path)
    if path.is_dir() or not path.suffix:
        return "png"
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise UserError(
            f"{path}: cannot tell the format from {path.suffix!r}; use .mp4, .webm, .gif, .apng "
            "(or .png for an animated PNG), a folder for a PNG sequence, or --format"
        ) from None


def _ffmpeg_args(s: ExportSettings, size: tuple[int, int]) -> tuple[str, str, list[str]]:
    """(codec, output pixel format, output parameters) for ffmpeg, frames of ``size`` in."""
    sw, sh = s.size(size)
    vf = f"scale={sw}:{sh}:flags={FILTERS[s.filter]}"
    pw, ph = s.padded_size(size)
    if (pw, ph) != (sw, sh):
        # pad in RGB: converted to 4:2:0 first, an odd frame would lose its last row and column
        rgb, colour = ("rgba", "black@0") if s.alpha else ("rgb24", "black")
        vf += f",format={rgb},pad={pw}:{ph}:0:0:color={colour}"
    q = s.quality
    if s.format == "mp4":
        crf = round(35 - 2.5 * q)  # 10 → 10 (near lossless) … 1 → 32
        params = ["-vf", vf, "-crf", str(crf), "-preset", "medium", "-movflags", "+faststart"]
        return "libx264", "yuv420p", params + ["-f", "mp4"]
    if s.format == "webm":
        crf = round(55 - 4 * q)  # 10 → 15 … 1 → 51
        params = ["-vf", vf, "-crf", str(crf), "-b:v", "0", "-deadline", "good", "-cpu-used", "4",
                  "-row-mt", "1"]  # fmt: skip
        if s.alpha:
            params += ["-auto-alt-ref", "0"]
        return "libvpx-vp9", "yuva420p" if s.alpha else "yuv420p", params + ["-f", "webm"]
    if s.format == "gif":
        graph = f"[0:v]{vf},split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse"
        if s.filter == "nearest" and (sw, sh) != tuple(size):
            # hard pixels: dithered at the source size, then each pixel scaled up whole (a
            # dither made after the upscale speckles every big pixel); the palette kept exact
            pad = vf.split(",", 1)[1] if "," in vf else "null"
            graph = ("[0:v]split[a][b];[a]palettegen=stats_mode=full,split[p][q];"
                     f"[b][p]paletteuse[d];[d]scale={sw}:{sh}:flags=neighbor,{pad}[u];"
                     "[u][q]paletteuse=dither=none")  # fmt: skip
        loop = "0" if s.loop else "-1"
        return "gif", "pal8", ["-filter_complex", graph, "-loop", loop, "-f", "gif"]
    pix = "rgba" if s.alpha else "rgb24"
    if s.format == "apng":
        return "apng", pix, ["-vf", vf, "-plays", "0" if s.loop else "1", "-f", "apng"]
    return "png", pix, ["-vf", vf, "-f", "image2"]


@dataclass(frozen=True)
class Sound:
    """The soundtrack under an export: ``seconds`` of the file ``path`` from ``start`` seconds
    into it (negative: that much silence first), padded with silence past its end — exactly
    round(seconds × RATE) samples, as long as the picture. ffmpeg reads, cuts and pads it as it
    encodes (filters, sample-exact after resampling): nothing of it is held in memory, so a
    million-frame film with a 5-second song asks for no more than a short one (decoded and cut
    in Python, it asked for 15 GB)."""

    path: Path
    start: float
    seconds: float

    def filters(self) -> str:
        rate, count = audio.RATE, round(self.seconds * audio.RATE)
        first = round(self.start * rate)
        chain = [f"aresample={rate}", "aformat=channel_layouts=stereo"]
        if first > 0:
            chain += [f"atrim=start_sample={first}", "asetpts=PTS-STARTPTS"]
        elif first < 0:
            chain.append(f"adelay=delays={-first}S:all=1")
        return ",".join([*chain, f"apad=whole_len={count}", f"atrim=end_sample={count}"])


class _Ffmpeg:
    """One ffmpeg process (imageio-ffmpeg's binary) reading raw frames on stdin. Its errors are
    captured, so a failure becomes one line naming the file instead of a stray log."""

    def __init__(self, target: Path, size: tuple[int, int], s: ExportSettings,
                 first_number: int, sound: Sound | None = None) -> None:  # fmt: skip
        import imageio_ffmpeg

        codec, pix_out, params = _ffmpeg_args(s, size)
        if s.format == "png":
            params = ["-start_number", str(first_number)] + params
        fps = Fraction(s.fps).limit_denominator(1001)
        audio_args = ["-an"]
        if sound is not None:  # cut to the picture's length: both streams end together
            codec_a = {"mp4": ["-c:a", "aac", "-b:a", "192k"],
                       "webm": ["-c:a", "libopus", "-b:a", "160k"]}[s.format]  # fmt: skip
            audio_args = ["-vn", "-i", str(sound.path), "-map", "0:v", "-map", "1:a:0",
                          "-af", sound.filters(), *codec_a]  # fmt: skip
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
               "-f", "rawvideo", "-pix_fmt", "rgba" if s.alpha else "rgb24",
               "-s", f"{size[0]}x{size[1]}", "-framerate", str(fps), "-i", "-", *audio_args,
               "-c:v", codec, "-pix_fmt", pix_out, *params, str(target)]  # fmt: skip
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 — closed in finish() / kill()
        # its own session: a Ctrl+C in the terminal reaches only us, and we stop ffmpeg (kill())
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self.log, start_new_session=True)  # fmt: skip

    def write(self, frame: np.ndarray) -> None:
        try:
            self.proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            self.proc.wait()
            raise self.failure() from None

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise self.failure()
        self.log.close()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def failure(self) -> OSError:
        self.log.seek(0)
        lines = [ln.strip() for ln in self.log.read().decode(errors="replace").splitlines()]
        lines = [ln for ln in lines if ln]
        return OSError(lines[-1] if lines else f"ffmpeg exited with {self.proc.returncode}")


FRAME_NAME = "frame_%05d.png"
FRAME_RE = re.compile(r"frame_\d{5,}\.png")
"""The frames of a PNG sequence export: the only files an export may replace in a folder."""
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".directory"})
"""Files a desktop puts in any folder it shows: neither refused nor touched."""


@dataclass
class TargetPlan:
    """What an export to ``path`` would do there (:func:`plan_target`)."""

    path: Path
    replaces: list[Path]
    """Existing files the export would replace: the old file, or earlier frames of the same
    numbers in a PNG sequence folder."""
    refused: str | None = None
    """Why nothing may be exported there (the message names the path); None when it may."""

    @property
    def needs_overwrite(self) -> bool:
        """An existing file of unknown origin would be replaced: only when the user says so."""
        return self.path in self.replaces


def plan_target(
    out: str | os.PathLike, format: str, first: int = 0, stop: int | None = None
) -> TargetPlan:
    """What exporting frames ``first`` … ``stop - 1`` in ``format`` to ``out`` would replace, or
    why it is refused. A PNG sequence goes to a folder that is new, empty, or holds only frames
    of an earlier export (those of the same numbers are replaced, the others kept); any other
    file in it refuses the folder — an export never deletes what it did not write."""
    path = Path(os.path.abspath(out))  # "." and "dir/.." name real folders
    if not path.parent.is_dir():
        return TargetPlan(path, [], f"{path.parent}: folder does not exist")
    if format != "png":
        if path.is_dir():
            return TargetPlan(path, [], f"{path}: is a folder; choose a file name")
        if path.exists() and not path.is_file():
            return TargetPlan(path, [], f"{path}: is not a regular file; choose another name")
        return TargetPlan(path, [path] if path.exists() else [])
    if not path.exists():
        return TargetPlan(path, [])
    if not path.is_dir():
        return TargetPlan(path, [], f"{path}: is a file; a PNG sequence needs a folder")
    try:
        names = sorted(os.listdir(path))
    except OSError as e:
        return TargetPlan(path, [], f"{path}: cannot read the folder ({e.strerror})")
    foreign = [n + ("/" if (path / n).is_dir() else "") for n in names
               if not FRAME_RE.fullmatch(n) and n not in SYSTEM_FILES]  # fmt: skip
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        return TargetPlan(
            path,
            [],
            f"{path}: the folder holds things that are not frames of an earlier export ({shown}); "
            "a PNG sequence goes into a new or empty folder, or one of its own earlier frames — "
            f"choose another, e.g. {path / 'frames'}",
        )
    numbers = range(first, stop) if stop is not None else None
    replaced = [
        path / n
        for n in names
        if FRAME_RE.fullmatch(n) and (numbers is None or int(n[6:-4]) in numbers)
    ]
    return TargetPlan(path, replaced)


def clean_stale_parts(out: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of exports to ``out`` whose process is gone (killed)."""
    return remove_stale_temporaries(out, ".part")


def encode(
    frames: Iterable[np.ndarray],
    count: int,
    out: str | os.PathLike,
    settings: ExportSettings,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    first_number: int = 0,
    overwrite: bool = False,
    sound: Sound | None = None,
) -> Path:
    """Encode ``count`` uint8 frames of one size (RGB, or RGBA with ``settings.alpha``) to ``out``
    (MP4 and WebM: with ``sound`` under them, as long as the frames).

    Written under a temporary name and renamed at the end; on cancel (:class:`Cancelled`) or
    any error nothing is left behind. A PNG sequence goes to the folder ``out`` as
    frame_NNNNN.png numbered from ``first_number``. An existing file at ``out`` is replaced
    only with ``overwrite``; what else may be replaced: :func:`plan_target`."""
    sequence = settings.format == "png"
    plan = _checked_plan(out, settings.format, first_number, first_number + count, overwrite)
    out = plan.path
    clean_stale_parts(out)
    tmp = temporary_path(out, ".part")
    if sequence:
        tmp.mkdir()
    ffmpeg = None
    done = 0
    try:
        for frame in frames:
            if ffmpeg is None:
                target = tmp / FRAME_NAME if sequence else tmp
                ffmpeg = _Ffmpeg(target, (frame.shape[1], frame.shape[0]), settings, first_number,
                                 sound)  # fmt: skip
            ffmpeg.write(frame)
            done += 1
            if progress is not None:
                progress(done, count)
            if cancel is not None and cancel():
                raise Cancelled()
        if ffmpeg is None:
            raise UserError("nothing to export: no frames")
        ffmpeg.finish()
        ffmpeg = None
        # the folder may have changed during a long render: look again before replacing
        _checked_plan(out, settings.format, first_number, first_number + count, overwrite)
        _put_in_place(tmp, out)
    except BaseException as e:
        if ffmpeg is not None:
            ffmpeg.kill()
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # ffmpeg failed or the disk is full: say so, in one line
            raise UserError(f"{out}: writing failed: {_disk_reason(out, e)}") from None
        raise
    return out


def _checked_plan(out, format: str, first: int, stop: int, overwrite: bool) -> TargetPlan:
    plan = plan_target(out, format, first, stop)
    if plan.refused:
        raise UserError(plan.refused)
    if plan.needs_overwrite and not overwrite:
        raise UserError(f"{plan.path}: already exists; choose another name or allow replacing it "
                        "(--overwrite)")  # fmt: skip
    return plan


def _disk_reason(out: Path, e: OSError) -> str:
    """ffmpeg's last line, unless the disk is full: ffmpeg then says something vaguer."""
    try:
        free = shutil.disk_usage(out.parent).free
    except OSError:
        free = None
    if free is not None and free < 1 << 20:
        return f"the disk is full ({free // 1024} KB free)"
    return e.strerror or str(e)


def _put_in_place(tmp: Path, out: Path) -> None:
    """Move the finished ``tmp`` to ``out``: renamed whole, or, into an existing folder, frame by
    frame (each rename replaces the earlier frame of the same number)."""
    if tmp.is_dir() and out.is_dir():
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
        tmp.rmdir()
    else:
        os.replace(tmp, out)


def export(
    director: Director,
    out: str | os.PathLike,
    settings: ExportSettings,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    batch_size: int = 16,
    overwrite: bool = False,
    sound: bool = True,
    notes: list[str] | None = None,
) -> Path:
    """Render the settings' range of the director's timeline and write it to ``out`` (an
    existing file there is replaced only with ``overwrite``: :func:`plan_target`), with the
    soundtrack under it where the format holds sound (not with ``sound=False``). What the user
    should know of a film exported anyway — its soundtrack offline (exported silent), shots
    drawn as placeholders (their clip offline) — is appended to ``notes``."""
    count = director.project.timeline.frame_count
    problems = settings.problems(count, director.size)
    if problems:
        raise UserError("cannot export: " + "; ".join(problems))
    start, stop = settings.span(count)
    layer = "cutout" if settings.alpha else settings.layer
    # Rendered inline: ffmpeg already encodes in its own process while the next batch renders.
    # A render-ahead thread was measured slower on two cores (4.3 s against 3.3 s for 1000
    # frames, docs/PERFORMANCE.md): torch's threads, ffmpeg's and the GIL then fight. A generator:
    # encode() checks the target before the first frame is rendered.
    frames = director.frames(start, stop, layer, batch_size=batch_size, cancel=cancel)
    project = director.project
    track = None
    if sound and project.soundtrack is not None and settings.format in audio.SOUND_FORMATS:
        # the sound under the exported frames: from the first one's time on the timeline,
        # exactly as long as the picture (cut, or padded with silence)
        track = _sound_of(project, *sound_span(project, settings, count), notes)
    written = encode(frames, stop - start, out, settings, progress, cancel, first_number=start,
                     overwrite=overwrite, sound=track)  # fmt: skip
    if notes is not None:
        notes += [f"shot {name}: drawn as a placeholder ({why})"
                  for name, why in _placeholders(director, start, stop)]
    return written


def sound_span(project, settings: ExportSettings, frame_count: int) -> tuple[float, float]:
    """The sound under an export: from its first frame's time on the timeline (s), exactly as
    long as the exported picture (s)."""
    start, stop = settings.span(frame_count)
    return start / project.fps, (stop - start) / settings.fps


def past_sound(project, settings: ExportSettings, frame_count: int) -> float:
    """How many seconds the exported picture runs past the end of the soundtrack under it
    (silence there), 0 where it does not (or there is no soundtrack, or the format carries
    none)."""
    s = project.soundtrack
    if s is None or settings.format not in audio.SOUND_FORMATS or not frame_count:
        return 0.0
    at, seconds = sound_span(project, settings, frame_count)
    return max(0.0, at + seconds - (s.offset + s.seconds))


def _sound_of(project, at: float, seconds: float, notes: list | None) -> Sound | None:
    """The soundtrack from timeline time ``at``, or None — said in ``notes`` — where its file
    is offline or holds no sound: the film is exported silent rather than not at all."""
    s = project.soundtrack
    why = project.sound_offline()
    if why is None:
        try:
            audio.probe(project.sound_path())
        except UserError as e:
            why = str(e)
    if why is not None:
        if notes is not None:
            notes.append(f"the soundtrack {s.source} is offline ({why}): exported without sound")
        return None
    return Sound(project.sound_path(), at - s.offset, seconds)


def _placeholders(director: Director, start: int, stop: int) -> list[tuple[str, str]]:
    """(shot name, why) of the exported shots that rendered as placeholders."""
    t = director.project.timeline
    found = []
    for i in t.visible(start, stop - 1):
        shot = t.shots[i]
        if shot.id in director.problems:
            found.append((shot.name or str(i + 1), director.problems[shot.id]))
    return found


def carries_sound(settings: ExportSettings) -> bool:
    """Whether an export in these settings' format holds the soundtrack (MP4 and WebM)."""
    return settings.format in audio.SOUND_FORMATS


def still(director: Director, index: int, out: str | os.PathLike, layer: str = "composite",
          scale: int = 1) -> Path:
    """One timeline frame as a PNG at ``out`` (its ``layer``; ``scale`` times the output size,
    each pixel a block of pixels: crisp, as the studio's Export Current Frame promises). Written
    atomically: a file that cannot be written is a UserError naming it, and nothing is left."""
    import cv2

    if not (isinstance(scale, int) and 1 <= scale <= 16):
        raise UserError(f"{out}: the scale must be a whole number 1…16 (got {scale!r})")
    frame = director.frame(index, layer)
    if scale > 1:
        frame = cv2.resize(frame, (frame.shape[1] * scale, frame.shape[0] * scale),
                           interpolation=cv2.INTER_NEAREST)  # fmt: skip
    order = cv2.COLOR_RGBA2BGRA if frame.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, data = cv2.imencode(".png", cv2.cvtColor(frame, order))
    out = Path(out)
    try:
        if not ok:
            raise OSError(0, "the frame cannot be encoded as PNG")
        with atomic_path(out) as tmp:
            tmp.write_bytes(data.tobytes())
    except OSError as e:
        raise UserError(f"{out}: cannot write the image ({e.strerror or e})") from None
    return out
