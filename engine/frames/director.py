"""The Director: renders any frame or range of a project's timeline with one model — the thin
face of engine.frames. It keeps the rendered frames (an LRU bounded in count and bytes, keyed by
engine.frames.key), sends a batch's missing frames to the renderer of their mode
(engine.frames.pixels, engine.frames.model_render), renders a shot whose clip cannot be read as
a placeholder, and passes on what sits on top of the drive (engine.frames.fitting).

Threads: any thread may call any method; renders are one at a time (a lock), the inputs' caches
are each guarded by their own lock (engine.frames.inputs). The studio calls it from its engine
client's thread only (studio/engine_client.py)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from engine import checkpoint
from engine.data.cache import FrameCache
from engine.device import (
    autocast,
    bf16_supported,
    cpu_has_native_bf16,
    resolve_device,
    resolve_precision,
    use_channels_last,
)
from engine.document import RENDER_MODES, Project, ProjectError, Shot
from engine.errors import Cancelled, ClipError, UserError
from engine.frames import fitting
from engine.frames.cache import LRU
from engine.frames.compositor import placeholder
from engine.frames.drive import Drive, Drives
from engine.frames.inputs import Inputs, LayerProgress
from engine.frames.key import frame_key
from engine.frames.layers import ClipLayers, LayerCache
from engine.frames.model_render import ModelRenderer
from engine.frames.pixels import PixelRenderer
from engine.frames.predictor import MotionPredictor
from engine.model import SceneModel
from engine.progress import Cancel, Progress

LAYERS = ("composite", "background", "character", "matte", "cutout")
MOTION_SOURCES = ("tracked", "model")
BUILTIN_MODEL = checkpoint.BUILTIN_MODEL


def resolve_model(project: Project, override: str | os.PathLike | None = None) -> Path:
    """Which model renders a project: ``override``, else the project's own, else the built-in."""
    if override is not None:
        return Path(override)
    own = project.model_path()
    if own is not None:
        return own
    if BUILTIN_MODEL.is_file():
        return BUILTIN_MODEL
    raise ProjectError(
        f"{project.file}: the project has no model and no built-in model is installed "
        f"({BUILTIN_MODEL}); train one with python -m engine.train and set it, or pass --model"
    )


class Director:
    """Renders any frame or range of a project's timeline with one model.

    ``model`` is a path (or None: :func:`resolve_model`) or an already loaded SceneModel.
    ``max_frames`` and ``max_bytes`` bound the rendered-frame cache (a 1280×720 RGB frame is
    2.6 MiB: 256 MiB hold about 95 of them)."""

    def __init__(
        self,
        project: Project,
        model: str | os.PathLike | SceneModel | None = None,
        device: str = "auto",
        precision: str = "auto",
        max_frames: int = 4096,
        max_bytes: int = 256 * 2**20,
        frame_cache: FrameCache | None = None,
        mode: str | None = None,
        progress: LayerProgress | None = None,
        layer_cache: LayerCache | None = None,
        motion: str = "tracked",
    ) -> None:
        """``mode`` forces one render mode for every shot (else each shot's own);
        ``progress(clip name, done, total)`` reports clip layers being computed; ``motion``: how
        pixels mode moves a character by another clip's motion — ``tracked`` (the clip layers'
        classical estimate, the default: closer to the truth on the demo kit, docs/LAYERS.md) or
        ``model`` (T^Z mapped to pixels)."""
        if mode is not None and mode not in RENDER_MODES:
            raise ProjectError(f"unknown render mode {mode!r} ({', '.join(RENDER_MODES)})")
        if motion not in MOTION_SOURCES:
            raise ProjectError(f"unknown motion {motion!r} ({', '.join(MOTION_SOURCES)})")
        self.motion = motion
        self.project = project
        self.mode = mode
        self.device = resolve_device(device)
        if isinstance(model, SceneModel):
            self.model, self.model_path = model.to(self.device), None
        else:
            self.model_path = resolve_model(project, model)
            self.model, _ = checkpoint.load(self.model_path, self.device)
        self.model.eval()
        if use_channels_last(self.device):
            self.model = self.model.to(memory_format=torch.channels_last)
        self.model_size = self.model.config.image_size
        self.precision = resolve_precision(precision, self.device)
        if precision == "auto" and self.precision == "fp32" and self.device.type == "cpu":
            self.precision = self._faster_on_this_cpu()
        clips = frame_cache or FrameCache()
        self.inputs = Inputs(project, self.model, self.device, clips,
                             layer_cache or LayerCache(frames=clips), progress)  # fmt: skip
        self.drives = Drives(self.inputs, self.mode_of, motion)
        self.centres = LRU(4096)
        """(shot id, local frame) → the character's centre before its path, as last rendered."""
        self.pixels = PixelRenderer(self.inputs, self.drives, lambda: self.size, motion,
                                    self.centres)  # fmt: skip
        self.model_renderer = ModelRenderer(self.inputs, self.drives, lambda: self.size,
                                            self.precision, self.centres)  # fmt: skip
        self._lock = threading.RLock()  # one render at a time; the frames and the counts
        self._frames = LRU(max_frames, max_bytes)
        self.hits = 0
        self.misses = 0
        self.problems: dict[str, str] = {}
        """Shot id → why it renders as a placeholder (its clip offline or unreadable); a
        render names these shots, the studio tells them once."""

    def _faster_on_this_cpu(self) -> str:
        """fp32 or bf16, whichever runs g faster here. On CPUs with AVX-512 BF16 but no AMX it
        depends on the model and the image size (measured: bf16 1.3x faster at 128², no faster
        or slower at 64²; docs/PERFORMANCE.md), so it is timed: ~50 ms, once per Director."""
        if not (cpu_has_native_bf16() and bf16_supported(self.device)):
            return "fp32"
        c, n = self.model.config.latent_channels, self.model.config.latent_size
        z = torch.zeros(1, c, n, n).contiguous(memory_format=torch.channels_last)
        best = {}
        with torch.inference_mode():
            for precision in ("fp32", "bf16", "fp32", "bf16"):
                with autocast(self.device, precision):
                    self.model.g(z)
                    start = time.perf_counter()
                    for _ in range(3):
                        self.model.g(z)
                    took = time.perf_counter() - start
                best[precision] = min(took, best.get(precision, took))
        return "bf16" if best["bf16"] < 0.85 * best["fp32"] else "fp32"

    # -- what it renders with ---------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height): the project's, else the model's square."""
        return self.project.frame_size or (self.model_size, self.model_size)

    @property
    def clips(self) -> FrameCache:
        return self.inputs.clips

    @property
    def stopping(self) -> threading.Event:
        """Set: a clip's layers being made when a frame needs them stop (Cancelled)."""
        return self.inputs.stopping

    def mode_of(self, shot: Shot) -> str:
        return self.mode or self.project.mode_of(shot)

    def mode_summary(self) -> str:
        modes = sorted({self.mode_of(s) for s in self.project.shots}) or [self.project.render_mode]
        return " and ".join(modes) + " mode"

    def clip_file(self, clip_id: str) -> Path:
        return self.inputs.clip_file(clip_id)

    def clip_frames(self, clip_id: str) -> np.ndarray:
        return self.inputs.clip_frames(clip_id)

    def layers(self, clip_id: str, cancel: Cancel | None = None,
               progress: LayerProgress | None = None) -> ClipLayers:  # fmt: skip
        return self.inputs.layers(clip_id, cancel, progress)

    def analysed(self, clip_id: str) -> bool:
        return self.inputs.analysed(clip_id)

    def has_layers(self, clip_id: str) -> bool:
        return self.inputs.has_layers(clip_id)

    def in_front(self, clip_id: str) -> bool | None:
        """Whether the clip's set has something in front of its subjects (a sign they pass
        behind: ClipLayers.front); None while the clip is not analysed (a lookup: never
        analyses)."""
        return self.layers(clip_id).front() is not None if self.analysed(clip_id) else None

    def drive(self, shot: Shot, local: int) -> Drive:
        return self.drives.drive(shot, local)

    def place(self, shot: Shot, local: int):
        """Where a transfer (a character moved by another clip's motion) puts its character at
        a shot's local frame, at the output size (engine.frames.transfer.Place)."""
        return self.drives.place(shot, local, self.size)

    def transfer_note(self, shot: Shot) -> str | None:
        """What the shot's transfer plan said the last time a frame of it was made (a lookup:
        never renders); None before."""
        return self.drives.notes.get(shot.id)

    def clip_point(self, index: int, points: list[tuple[float, float]]) -> tuple:
        """Where output pixels ``points`` at timeline frame ``index`` fall in the frame of the
        character's clip shown there: (clip id, its frame, the points in its pixels, how many
        of its pixels an output pixel spans) — what a brush stroke drawn on the viewer marks
        (pixels mode)."""
        self.check_range(index, index + 1)
        shot, local = self.project.timeline.shot_at(index)
        if self.mode_of(shot) != "pixels":
            raise UserError("the brush works in pixels mode (Shot → Render: Pixels)")
        clip, frame, inverse = self.pixels.inverse(shot, local)
        scale = float(np.sqrt(abs(np.linalg.det(inverse[:2, :2]))))
        return clip, frame, [tuple((inverse @ (x, y, 1.0))[:2]) for x, y in points], scale

    def subject_at(self, index: int, x: float, y: float) -> tuple[str, int]:
        """The shot at timeline frame ``index`` and the subject of its character's clip under
        output pixel (x, y) there (0: none). Subjects are the pixels renderer's: in model mode
        this is a UserError saying so."""
        self.check_range(index, index + 1)
        shot, local = self.project.timeline.shot_at(index)
        if self.mode_of(shot) != "pixels":
            raise UserError("subjects are picked in pixels mode (Shot → Render: Pixels)")
        return shot.id, self.pixels.subject_at(shot, local, x, y)

    def lost_picks(self, shot: Shot) -> str | None:
        """What a shot picks of its clips' subjects that their analysis no longer has (a clip
        analysed again, by another model): said in words; None when every pick is there, or
        when the clips are not analysed yet (a lookup: never analyses)."""
        lost = [f"{problem}: the stroke is ignored"
                for problem in self.project.clip(shot.character.clip).stroke_problems()]
        for c in dict.fromkeys((shot.character.clip, shot.background.clip)):
            clip = self.project.clip(c)
            if clip.plate is not None:
                try:
                    self.project.check_plate(clip, clip.plate)
                except UserError as e:
                    lost.append(f"{e}: its plate is estimated again")
        for ids, clip in ((shot.subjects, shot.character.clip),
                          ((shot.driver,) if shot.driver else (), shot.motion.clip)):  # fmt: skip
            if ids and self.analysed(clip):
                have = {s["id"] for s in self.layers(clip).subjects}
                lost += [f"subject {i} of {self.project.clip(clip).name}" for i in ids
                         if i not in have]  # fmt: skip
        if not lost:
            return None
        return "; ".join(x if "stroke" in x or "plate" in x else f"{x}: no longer found (the "
                         "clip was analysed again); pick again" for x in lost)  # fmt: skip

    def character_centre(self, shot_id: str, local: int) -> tuple[float, float] | None:
        """Where the character's centre was, before its path moved it, in the last rendered
        frame of a shot's local frame (output pixels); None if none was rendered. The studio's
        path tool draws the path from it (a lookup: never waits for a render)."""
        return self.centres.get((shot_id, local))

    # -- on top of the drive (engine.frames.fitting) --------------------------------------------
    def accents(self, clip: str, start: int, end: int) -> np.ndarray:
        return self.inputs.accents(clip, start, end)

    def step_accents(self, shot: Shot, count: int) -> np.ndarray:
        return fitting.step_accents(self.drives, shot, count)

    def shown_accents(self, shot: Shot) -> np.ndarray:
        return fitting.shown_accents(self.drives, shot)

    def fit_to_beats(self, shot: Shot, beats: np.ndarray, holds: bool = False) -> dict:
        return fitting.fit_to_beats(self.drives, shot, beats, holds)

    def beat_fit(self, shot_id: str, holds: bool = False, found=None) -> dict:
        return fitting.beat_fit(self.drives, shot_id, holds, found)

    def extend_clip(self, clip_id: str, frames: int, out: str | os.PathLike, take: int = 0,
                    target: tuple[float, float] | None = None, progress: Progress | None = None,
                    cancel: Cancel | None = None) -> Path:  # fmt: skip
        return fitting.extend_clip(self.drives, clip_id, frames, out, take, target, progress,
                                   cancel)  # fmt: skip

    def predictor(self) -> tuple[MotionPredictor, float]:
        return self.inputs.predictor()

    def train_predictor(self, steps: int = 400, progress: Progress | None = None,
                        cancel: Cancel | None = None) -> Path:  # fmt: skip
        return fitting.train_predictor(self.drives, steps, progress, cancel)

    # -- rendering --------------------------------------------------------------------------------
    frame_key = staticmethod(frame_key)

    def _check_layer(self, layer: str) -> None:
        if layer not in LAYERS:
            raise ProjectError(f"unknown layer {layer!r} (choose from {', '.join(LAYERS)})")

    def shot_frames(self, shot: Shot, locals_: list[int], layer: str = "composite") -> list:
        """Frames of one shot (not necessarily on the timeline) at local frame numbers."""
        self._check_layer(layer)
        return self._frames_for([(shot, t) for t in locals_], layer)

    def frame(self, index: int, layer: str = "composite") -> np.ndarray:
        """One timeline frame, uint8 (H, W, 3) at the output size, or (H, W, 4) for ``cutout``.
        Low latency: a cached frame is returned at once."""
        self._check_layer(layer)
        shot, local = self.project.timeline.shot_at(index)
        return self._frames_for([(shot, local)], layer)[0]

    def frames(
        self,
        start: int = 0,
        stop: int | None = None,
        layer: str = "composite",
        batch_size: int = 16,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Iterator[np.ndarray]:
        """Timeline frames ``start`` … ``stop − 1`` in order, rendered ``batch_size`` at a time.
        ``progress(done, total)`` after each batch; ``cancel()`` true raises :class:`Cancelled`
        between batches."""
        self._check_layer(layer)
        timeline = self.project.timeline
        stop = self.check_range(start, stop)
        total = stop - start
        for first in range(start, stop, batch_size):
            if cancel is not None and cancel():
                raise Cancelled()
            wanted = [timeline.shot_at(i) for i in range(first, min(first + batch_size, stop))]
            yield from self._frames_for(wanted, layer)
            if progress is not None:
                progress(min(first + batch_size, stop) - start, total)

    def check_range(self, start: int, stop: int | None) -> int:
        """The end (exclusive) of timeline frames ``start`` … ``stop − 1`` (None: to the end);
        a range outside the timeline is a ProjectError."""
        count = self.project.timeline.frame_count
        stop = count if stop is None else stop
        if not 0 <= start < stop <= count:
            raise ProjectError(f"range {start}…{stop - 1} is outside the timeline (0…{count - 1})")
        return stop

    def frames_of(self, wanted: list[tuple[Shot, int]], layer: str = "composite") -> list:
        """Frames of any (shot, local frame) pairs in one batch — the studio's render-ahead
        worker asks for the frames it lacks in playback order, whatever shots they belong to."""
        self._check_layer(layer)
        return self._frames_for(wanted, layer) if wanted else []

    def _frames_for(self, wanted: list[tuple[Shot, int]], layer: str) -> list[np.ndarray]:
        size = self.size
        keys = [frame_key(shot, local, layer, self.mode_of(shot), size) for shot, local in wanted]
        with self._lock:
            found = {k: self._frames.get(k) for k in keys}
            missing = {k: w for k, w in zip(keys, wanted, strict=True) if found[k] is None}
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
            if missing:
                for key, image in zip(missing, self._render(missing), strict=True):
                    image.flags.writeable = False
                    self._frames.put(key, image)
                    found[key] = image
        return [found[k] for k in keys]

    def _render(self, wanted: dict[tuple, tuple[Shot, int]]) -> list[np.ndarray]:
        """Render the frames of distinct cache keys (all of one layer) in one batch. A shot
        whose inputs cannot be read (a clip offline, damaged, or not what the project says)
        renders as a placeholder (:meth:`_offline`) and the rest of the batch as usual."""
        out: dict[tuple, np.ndarray] = {}
        by_mode: dict[str, dict] = {}
        for key, w in wanted.items():
            by_mode.setdefault(key[0], {})[key] = w
        for key, (shot, local) in by_mode.pop("pixels", {}).items():
            try:
                out[key] = self.pixels.render(shot, local, key[1])
            except ClipError as e:
                out[key] = self._offline(shot, key[1], e)
        if by_mode:
            model = by_mode["model"]
            try:
                out.update(zip(model, self.model_renderer.render(model), strict=True))
            except ClipError:  # one shot's clip: the others render, one at a time
                for key, w in model.items():
                    try:
                        out[key] = self.model_renderer.render({key: w})[0]
                    except ClipError as e:
                        out[key] = self._offline(w[0], key[1], e)
        return [out[k] for k in wanted]

    def _offline(self, shot: Shot, layer: str, e: ClipError) -> np.ndarray:
        """The placeholder of a shot whose clip cannot be read, and why in :attr:`problems`: on
        the frame, the clip's name, its file and what is wrong, in a few words."""
        why = str(e)
        self.problems[shot.id] = why
        p, text = self.project, why.replace(f"{self.project.root}/", "")
        for clip_id in dict.fromkeys((shot.character.clip, shot.background.clip, shot.motion.clip)):
            clip = p.clips.get(clip_id)
            missing = clip and p.clip_offline(clip_id)
            if missing:
                text = f"{clip.name}\n{clip.source}\n{missing}"
                break
        return placeholder(self.size, text, layer)

    def cache_info(self) -> dict:
        with self._lock:
            return {
                "frames": len(self._frames),
                "capacity": self._frames.capacity,
                "bytes": self._frames.bytes,
                "budget": self._frames.budget,
                "hits": self.hits,
                "misses": self.misses,
            }

    def clear(self) -> None:
        """Forget every cached frame and everything read (after the project's clips were
        replaced)."""
        self.inputs.clear()
        with self._lock:
            self._frames.clear()
            self.drives.notes.clear()
            self.problems.clear()



