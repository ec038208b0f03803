"""What sits on top of the drive: fitting a shot to the soundtrack's beats (its accents put on
them, engine.beats), a clip extended by predicted frames written as a new clip, and the
project's motion predictor trained on its clips (engine.frames.predictor). The Director's
``beat_fit``, ``extend_clip`` and ``train_predictor`` call these."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import cv2
import numpy as np

from engine import beats as beats_mod
from engine.data.clips import ClipReader
from engine.document import PREDICTOR_FILE, FrameRef, MotionRef, ProjectError, Shot, fold
from engine.document.shot import check_fields
from engine.errors import Cancelled, UserError
from engine.frames.compositor import composite, place
from engine.frames.drive import Drives
from engine.frames.predictor import MotionPredictor
from engine.geometry import normaliser
from engine.progress import Cancel, Progress


def step_accents(drives: Drives, shot: Shot, count: int) -> np.ndarray:
    """Whether each motion step 0 … ``count`` − 1 of a shot shows an accent (of the frame it
    shows: the clip's, the walk's, the extension's)."""
    mo = shot.motion
    acc = drives.inputs.accents(mo.clip, mo.start, mo.end)
    out = np.zeros(count, bool)
    if shot.loop == "endless":
        walk = drives.walk(shot, count - 1)
        return acc[walk.frames[:count]]
    n = shot.motion_length
    ext = drives.extension(shot) if n > mo.length else None
    for u in range(count):
        k = fold(u, n, shot.loop)
        out[u] = acc[k] if k < mo.length else acc[ext.frames[k - mo.length]]
    return out


def shown_accents(drives: Drives, shot: Shot) -> np.ndarray:
    """The local frames of a shot where an accent is shown (a held one counts once)."""
    steps = np.array([shot.motion_u(t) for t in range(shot.duration)], np.int64)
    return beats_mod.accent_frames(steps, step_accents(drives, shot, int(steps.max()) + 1))


def fit_to_beats(drives: Drives, shot: Shot, beats: np.ndarray, holds: bool = False) -> dict:
    """The shot fields that fit ``shot`` to ``beats`` (its local frames of the soundtrack's
    beats): the beats (engine.document.Shot.beats; an endless walk jumps on them) and the steps
    (engine.beats.fit) that put its accents on them — holds only where ``holds`` or where the
    shot was already held ("on 2s"). For Project.update_shot."""
    beats = np.asarray(beats, np.int64)
    beats = beats[(beats >= 0) & (beats < shot.duration)]
    plain = dataclasses.replace(shot, beats=tuple(int(b) + shot.offset for b in beats),
                                timing=())  # fmt: skip
    u0 = plain.motion_u(0)
    count = plain.motion_length - u0 if shot.loop == "once" else 2 * shot.duration + 1
    acc = step_accents(drives, plain, u0 + max(count, 1))[u0:]
    holds = holds or shot.hold > 1
    steps = beats_mod.fit(acc, beats, shot.duration, holds, shot.speed / shot.hold)
    before = [plain.motion_u(t) for t in range(-shot.offset, 0)]  # a split shot's first part
    return {"beats": plain.beats, "timing": (*before, *(int(u0 + v) for v in steps))}


def beat_fit(drives: Drives, shot_id: str, holds: bool = False, found=None) -> dict:
    """:func:`fit_to_beats` of one of the project's shots on its soundtrack's beats (``found``,
    or engine.beats.beats_of the sound file: cached)."""
    p = drives.inputs.project
    if p.soundtrack is None:
        raise ProjectError(f"{p.file}: the project has no soundtrack to fit a shot to")
    found = found if found is not None else beats_mod.beats_of(p.sound_path())
    if not found.steady:
        raise UserError(f"{p.sound_path()}: no steady beat to fit to (speech, or a sound "
                        "without a pulse)")  # fmt: skip
    frames = found.beat_frames(p.soundtrack.offset, p.fps) - p.timeline.start_of(shot_id)
    return fit_to_beats(drives, p.shot(shot_id), frames, holds)


def whole_clip(drives: Drives, clip_id: str, **fields) -> Shot:
    """A shot (on no timeline) of a clip on itself, moving as its frames do: all of them."""
    last = drives.inputs.project.clip(clip_id).frames - 1
    ref = FrameRef(clip_id)
    return Shot("", ref, ref, MotionRef(clip_id, 0, last), last + 1, **fields)


def extend_clip(drives: Drives, clip_id: str, frames: int, out: str | os.PathLike, take: int = 0,
                target: tuple[float, float] | None = None, progress: Progress | None = None,
                cancel: Cancel | None = None) -> Path:  # fmt: skip
    """A new motion source: the clip's own frames followed by ``frames`` predicted ones (pixels
    mode, at the clip's own size), written losslessly as numbered PNGs into the new folder
    ``out`` — import it as a clip. ``target``: fractions of the clip's frame."""
    inputs = drives.inputs
    clip = inputs.project.clip(clip_id)
    shot = whole_clip(drives, clip_id, extend=frames, take=take, target=target, render="pixels",
                      name=clip.name)
    check_fields(shot, only=("extend", "take", "target"))
    layers = inputs.layers(clip_id, cancel=cancel)
    ahead = drives.extension(shot)
    n = normaliser(*layers.size)
    out = Path(out)
    out.mkdir(parents=True)
    total = clip.frames + frames

    def save(index: int, image: np.ndarray) -> None:
        if cancel is not None and cancel():
            raise Cancelled()
        if not cv2.imwrite(str(out / f"{index:06d}.png"), image[..., ::-1]):
            raise UserError(f"{out}: cannot write frame {index} (is the disk full?)")
        if progress is not None:
            progress(index + 1, total)

    for k, frame in enumerate(ClipReader(inputs.clip_file(clip_id)).frames()):
        if k >= clip.frames:
            break
        save(k, frame)  # the footage itself, untouched
    for t in range(frames):
        k, extra = ahead.at(t)
        rgba, x0, y0 = layers.cutout(k)
        matrix = np.linalg.inv(n) @ extra @ n
        save(clip.frames + t, composite(layers.plate, place(rgba, x0, y0, matrix, layers.size)))
    return out


def train_predictor(drives: Drives, steps: int = 400, progress: Progress | None = None,
                    cancel: Cancel | None = None) -> Path:  # fmt: skip
    """Train the project's motion predictor on all its clips (seconds on a CPU) and save it in
    the project folder. Returns the file."""
    project = drives.inputs.project
    clips = [drives.predictor_motion(whole_clip(drives, clip.id))
             for clip in project.clips.values() if clip.frames >= 3]  # fmt: skip
    predictor = MotionPredictor.train(clips, steps, progress=progress, cancel=cancel)
    return predictor.save(project.root / PREDICTOR_FILE)
