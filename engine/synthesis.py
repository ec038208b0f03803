"""The Director: a project's timeline and a trained model → frames at the project's output size.

Data path role: between the document and the viewer / exporter. Two renderers (a project
setting with a per-shot override, ``Project.mode_of``):

- ``pixels`` (engine.layers + engine.compositor): the character's own pixels, cut out by its
  matte at its clip's resolution, over the background clip's clean plate. When the motion is the
  character's own clip, its own frames play (a background swap is the footage on another set);
  otherwise the character frame is moved by T^Z of the motion, mapped to pixels
  (``engine.model.theta_to_pixels``).
- ``model``: g decodes each frame, as below, resized to the output size.

In ``model`` mode, per shot, the character frame,
the background frame and the motion frames are encoded once (f_c, f_b, f_c) and T^Z of every
motion frame against the motion's in-frame is computed once; an output frame then costs one warp
and one run of g:

    frame = g( T^Z(f_c(m_in), f_c(m_k)) ∘ f_c(x_char) + f_b(x_bg) )

Rendered frames go into an LRU cache keyed by what decides the pixels — the layer, the character
(clip, frame), the background (clip, frame), the motion (clip, in-frame, frame) — not by the
timeline position, so holds, loops and repeated shots cost nothing, and an edit re-renders only
frames whose inputs changed. Thread-safe: the studio calls it from worker threads.

Layers (model mode): ``composite``; ``background`` g(f_b(x_bg)); ``character`` g(T ∘ f_c(x_char))
(what the model holds of the character alone, on its own empty canvas); ``cutout`` RGBA: the
composite's colours with an alpha matte where the composite differs from the background layer;
``matte`` that alpha as grey. Pixels mode: engine.compositor.OUTPUT_LAYERS.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import torch

from engine import beats as beats_mod
from engine import checkpoint
from engine.compositor import composite, fit_image, fit_matrix, place, placeholder
from engine.data.cache import FrameCache
from engine.data.clips import ClipReader
from engine.device import (
    autocast,
    bf16_supported,
    cpu_has_native_bf16,
    resolve_device,
    resolve_precision,
    use_channels_last,
)
from engine.document import (
    PREDICTOR_FILE,
    RENDER_MODES,
    Project,
    ProjectError,
    Shot,
    fold,
)
from engine.document.shot import check_fields
from engine.errors import Cancelled, ClipError, UserError  # noqa: F401 — .Cancelled is API
from engine.frames.key import frame_key
from engine.layers import ClipLayers, LayerCache, _centroid, model_key, model_views
from engine.model import SceneModel, _normaliser, homogeneous, theta_to_pixels, warp
from engine.motion import (
    Carrier,
    Drive,
    TransitionGraph,
    Walker,
    frame_distance,
    mirror,
    path_matrix,
    root_steps,
    translate,
)
from engine.predictor import Clip as PredictorClip
from engine.predictor import MotionPredictor, roots
from engine.samples import to_tensor

LAYERS = ("composite", "background", "character", "matte", "cutout")
MOTION_SOURCES = ("tracked", "model")
MATTE_RANGE = (0.03, 0.10)
"""Cut-out alpha: 0 where composite and background layer differ by less than the first value
(max over RGB, 0–1 scale), 1 above the second, linear between."""
BUILTIN_MODEL = checkpoint.BUILTIN_MODEL

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


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


class _LRU(OrderedDict):
    """Least recently used first out, beyond ``capacity`` entries or, with ``budget``, beyond
    that many bytes of numpy arrays (a 1280×720 frame is 2.6 MiB: a count alone would let a
    cache of HD frames take gigabytes)."""

    def __init__(self, capacity: int, budget: int | None = None) -> None:
        super().__init__()
        self.capacity = capacity
        self.budget = budget
        self.bytes = 0

    def get_fresh(self, key):
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        old = self.get(key)
        if old is not None:
            self.bytes -= getattr(old, "nbytes", 0)
        self[key] = value
        self.bytes += getattr(value, "nbytes", 0)
        self.move_to_end(key)
        while len(self) > 1 and (len(self) > self.capacity or
                                 self.budget is not None and self.bytes > self.budget):  # fmt: skip
            _, gone = self.popitem(last=False)
            self.bytes -= getattr(gone, "nbytes", 0)

    def clear(self) -> None:
        super().clear()
        self.bytes = 0


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
        progress: Callable[[str, int, int], None] | None = None,
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
        self.layer_progress = progress
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
        self.clips = frame_cache or FrameCache()
        self.layer_cache = layer_cache or LayerCache(frames=self.clips)
        self._model_key: str | None = None
        self._layers: dict[str, ClipLayers] = {}
        self._epoch = 0  # bumped by clear(): layers begun before it are not kept
        self._pose_table: dict[str, np.ndarray] = {}
        self._matches: dict[tuple, int] = {}
        self._layers_lock = threading.Lock()
        self.stopping = threading.Event()
        """Set: a clip's layers being made when a frame needs them stop (Cancelled)."""
        self._clip_locks: dict[str, threading.Lock] = {}
        self._plates = _LRU(16)
        self._lock = threading.RLock()
        self._frames = _LRU(max_frames, max_bytes)
        self._zc = _LRU(256)
        self._zb = _LRU(256)
        self._thetas = _LRU(8192)
        self.centres = _LRU(4096)
        """(shot id, local frame) → the character's centre before its path, as last rendered."""
        self._walk_lock = threading.Lock()
        self._sources = _LRU(256)
        """Motion sources' working: features of motion ranges, walks, extensions (the most
        recently used; a Reshuffle makes a new walk and the old ones go in time)."""
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

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height): the project's, else the model's square."""
        return self.project.frame_size or (self.model_size, self.model_size)

    def mode_of(self, shot: Shot) -> str:
        return self.mode or self.project.mode_of(shot)

    def mode_summary(self) -> str:
        modes = sorted({self.mode_of(s) for s in self.project.shots}) or [self.project.render_mode]
        return " and ".join(modes) + " mode"

    # -- inputs ---------------------------------------------------------------------------------
    def clip_file(self, clip_id: str) -> Path:
        """A clip's file; one named outside the project folder is a ClipError (offline: its
        shots render as placeholders)."""
        try:
            return self.project.clip_path(clip_id)
        except ProjectError as e:
            raise ClipError(str(e)) from None

    def clip_frames(self, clip_id: str) -> np.ndarray:
        """A clip's frames at model resolution, (N, S, S, 3) uint8, decoded once and cached."""
        return self.clips.load(self.clip_file(clip_id), self.model_size).frames

    def layers(
        self,
        clip_id: str,
        cancel: Cancel | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ClipLayers:
        """A clip's layers (engine.layers), computed on first use if no cache holds them;
        ``progress(clip name, done, total)`` (default: the Director's) while they are."""
        found = self._layers.get(clip_id)
        if found is not None:
            return found
        with self._layers_lock:
            lock = self._clip_locks.setdefault(clip_id, threading.Lock())
        epoch = self._epoch
        # one lock per clip, not the Director's: other clips' frames render meanwhile
        with lock:
            found = self._layers.get(clip_id)
            if found is not None:
                return found
            clip = self.project.clip(clip_id)
            report = progress or self.layer_progress
            cancel = cancel or self.stopping.is_set

            def step(done: int, total: int) -> None:
                if report is not None:
                    report(clip.name, done, total)

            layers = self.layer_cache.load(self.clip_file(clip_id), self.model,
                                           progress=step, cancel=cancel,
                                           mkey=self._weights_key())  # fmt: skip
            self._check_length(clip_id, len(layers))
            with self._layers_lock:
                if epoch == self._epoch:  # else the clip changed meanwhile (clear)
                    self._layers[clip_id] = layers
        return layers

    def _weights_key(self) -> str:
        with self._layers_lock:
            if self._model_key is None:
                self._model_key = model_key(self.model)
            return self._model_key

    def analysed(self, clip_id: str) -> bool:
        """Whether a clip's layers are in memory (no file is read)."""
        return clip_id in self._layers

    def has_layers(self, clip_id: str) -> bool:
        """Whether a clip's layers are ready (in memory or in the disk cache)."""
        if clip_id in self._layers:
            return True
        try:
            path = self.project.clip_path(clip_id)
            found = self.layer_cache.cached(path, self.model, mkey=self._weights_key())
        except (UserError, OSError):
            return False
        if found is None or len(found) < self.project.clip(clip_id).frames:
            return False  # (too short: layers() says why, when a frame needs them)
        self._layers[clip_id] = found
        return True

    def _plate(self, clip_id: str) -> np.ndarray:
        key = (clip_id, self.size)
        plate = self._plates.get_fresh(key)
        if plate is None:
            plate = fit_image(self.layers(clip_id).plate, self.size)
            plate.flags.writeable = False
            self._plates.put(key, plate)
        return plate

    def _check_length(self, clip_id: str, frames: int) -> None:
        """A clip's file holds fewer frames than its record says (project.json lies, or the file
        was replaced): its shots cannot be drawn as the project says — a clear error, never an
        index past the end."""
        clip = self.project.clip(clip_id)
        if frames < clip.frames:
            raise ClipError(
                f"{self.clip_file(clip_id)}: holds {frames} frames, but the project "
                f"says clip {clip.name!r} has {clip.frames} (relink it to its file, or import "
                "it again)"
            )

    def _pixels(self, clip_id: str, frames: list[int]) -> torch.Tensor:
        data = self.clip_frames(clip_id)
        if max(frames) >= len(data):
            self._check_length(clip_id, len(data))
        x = to_tensor(np.asarray(data[frames]), self.device)
        return x.contiguous(memory_format=torch.channels_last)

    def _encoded(self, cache: _LRU, encoder, clip_id: str, frame: int) -> torch.Tensor:
        key = (clip_id, frame)
        z = cache.get_fresh(key)
        if z is None:
            z = encoder(self._pixels(clip_id, [frame]))[0]
            cache.put(key, z)
        return z

    def _thetas_for(self, shot: Shot, k: int, chunk: int = 64) -> torch.Tensor:
        """T^Z(f_c(m_in), f_c(m_k)) of motion frame ``k``: computed, with its neighbours, for
        the block of up to ``chunk`` frames of the shot's motion range holding it — a shot's
        motion is encoded once, not per output frame."""
        mo = shot.motion
        found = self._thetas.get_fresh((mo.clip, mo.start, k))
        if found is not None:
            return found
        lo, hi = min(mo.start, mo.end), max(mo.start, mo.end)
        first = lo + (k - lo) // chunk * chunk
        part = list(range(first, min(hi, first + chunk - 1) + 1))
        z_in = self._encoded(self._zc, self.model.f_c, mo.clip, mo.start)
        z = self.model.f_c(self._pixels(mo.clip, part))
        with torch.autocast(self.device.type, enabled=False):  # an affine in bf16 jitters
            thetas = self.model.transform(z_in.float().expand(len(part), -1, -1, -1), z.float())
        for j, theta in zip(part, thetas, strict=True):
            self._thetas.put((mo.clip, mo.start, j), theta)
        return self._thetas.get_fresh((mo.clip, mo.start, k))

    # -- motion sources (engine.motion) ---------------------------------------------------------
    def drive(self, shot: Shot, local: int) -> Drive:
        """What drives the character at a shot's local frame: the motion clip's frame and the
        extra forward map (motion clip's normalised coordinates) of an endless walk or an
        extension, in this shot's render mode. The path comes on top (:meth:`_path`)."""
        if not shot.generated:
            return Drive(shot.motion_frame(local))
        mo, step = shot.motion, shot.motion_step(local)
        sign = 1 if mo.end >= mo.start else -1
        if shot.loop == "endless":
            pos, extra = self._walk(shot, step).at(step)
            return Drive(mo.start + sign * pos, extra)
        if step < mo.length:
            return Drive(mo.start + sign * step)
        pos, extra = self._extension(shot).at(step - mo.length)
        return Drive(mo.start + sign * pos, extra)

    def _centres(self, shot: Shot, mode: str) -> tuple[np.ndarray, float]:
        """Where the character's centre is in each frame of the shot's motion range, in play
        order (normalised), and its half width (normalised), as a render mode sees them: the
        clip layers' mattes (pixels), or the model's matte of the first frame moved by T^Z."""
        mo = shot.motion
        sign = 1 if mo.end >= mo.start else -1
        frames = list(range(mo.start, mo.end + sign, sign))
        if mode == "pixels":
            layers = self.layers(mo.clip)
            n = _normaliser(*layers.size)
            centres = np.stack([(n @ np.append(layers.centre(k), 1))[:2] for k in frames])
            return centres, float(np.median(layers.boxes[frames, 3])) / layers.width
        forward = np.linalg.inv(homogeneous(self._features(mo.clip, mo.start, mo.end)[0]))
        centre, half = self._model_centre(shot)
        return (forward @ np.append(centre, 1.0))[:, :2], half

    def _features(self, clip: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """engine.synthesis.motion_features of a motion range, in play order (cached)."""
        key = ("features", clip, start, end)
        with self._layers_lock:
            found = self._sources.get(key)
        if found is None:
            sign = 1 if end >= start else -1
            frames = self.clip_frames(clip)[list(range(start, end + sign, sign))]
            found = motion_features(self.model, frames)
            with self._layers_lock:
                self._sources.put(key, found)
        return found

    def _graph(self, clip: str, start: int, end: int) -> TransitionGraph:
        """The video texture's transition graph of a motion range (cached)."""
        key = ("graph", clip, start, end)
        found = self._sources.get(key)
        if found is None:
            thetas, pose = self._features(clip, start, end)
            steps = root_steps(np.linalg.inv(homogeneous(thetas)))
            found = TransitionGraph.build(frame_distance(pose, steps))
            with self._layers_lock:
                self._sources.put(key, found)
        return found

    def _walk(self, shot: Shot, step: int) -> _Walk:
        """The endless walk of a shot's motion, made (or made longer) to reach ``step``."""
        mode = self.mode_of(shot)
        mo = shot.motion
        key = ("walk", mode, mo.clip, mo.start, mo.end, shot.seed, shot.jumps, shot.edge,
               shot.beats, shot.offset if shot.beats else 0, shot.speed, shot.hold)
        with self._layers_lock:
            walk = self._sources.get(key)
        if walk is None or step >= len(walk.frames):
            with self._walk_lock:  # one thread makes it longer; the others wait and use it
                walk = self._sources.get(key)
                if walk is None:
                    centres, half = self._centres(shot, mode)
                    graph = self._graph(mo.clip, mo.start, mo.end)
                    beats = accent = None
                    if shot.beats:  # on the beat: which steps of the walk are beats (as
                        # played before a fit's retime, which comes on top of the walk); the
                        # beats are bounded (document: ≤ MAX_TIMELINE_FRAMES), so is this
                        plain = dataclasses.replace(shot, timing=())
                        steps = [plain.motion_u(b - shot.offset) for b in shot.beats]
                        beats = np.zeros(max(steps) + 1, bool)
                        beats[steps] = True
                        accent = self.accents(mo.clip, mo.start, mo.end)
                    walker = Walker(graph, shot.seed, shot.jumps, beats=beats, accent=accent)
                    walk = _Walk(walker, Carrier(centres, half, shot.edge))
                if step >= len(walk.frames):
                    walk.grow(max(step + 1, 2 * len(walk.frames), 4 * len(walk.walker.graph)))
                with self._layers_lock:
                    self._sources.put(key, walk)
        return walk

    def _extension(self, shot: Shot) -> _Walk:
        """The predicted frames after a shot's motion (engine.predictor): the nearest real
        frame of each predicted pose, and the extra map that puts it at the predicted root."""
        mode, mo = self.mode_of(shot), shot.motion
        predictor, stamp = self.predictor()
        key = ("extend", mode, stamp, mo.clip, mo.start, mo.end, shot.extend, shot.take,
               shot.target)  # fmt: skip
        with self._layers_lock:
            found = self._sources.get(key)
        if found is not None:
            return found
        motion = self.predictor_clip(shot)
        target = None if shot.target is None else (2 * shot.target[0] - 1, 2 * shot.target[1] - 1)
        graph = self._graph(mo.clip, mo.start, mo.end)
        ahead = predictor.predict(motion, shot.extend, shot.take, target, graph.successors)
        centres = self._centres(shot, mode)[0]
        # the character's centre moved as the predicted root moves from the clip's last frame,
        # from where that frame has it in this mode; the shown frame's centre put there (only the
        # shift: the frames bring their own turn, as in an endless walk), mirrored about it
        # where it heads against its own way
        extras = []
        for root, k, flip in zip(ahead.roots, ahead.nearest, ahead.mirrored, strict=True):
            x, y = centres[-1] + root[:2] - motion.roots[-1][:2]
            extra = translate(x - centres[k][0], y - centres[k][1])
            extras.append(mirror(x) @ extra if flip else extra)
        nearest, extras = ahead.nearest, np.stack(extras)
        found = _Walk(frames=nearest, extras=extras)
        with self._layers_lock:
            self._sources.put(key, found)
        return found

    def extend_clip(self, clip_id: str, frames: int, out: str | os.PathLike, take: int = 0,
                    target: tuple[float, float] | None = None, progress: Progress | None = None,
                    cancel: Cancel | None = None) -> Path:  # fmt: skip
        """A new motion source: the clip's own frames followed by ``frames`` predicted ones
        (pixels mode, at the clip's own size), written losslessly as numbered PNGs into the new
        folder ``out`` — import it as a clip. ``target``: fractions of the clip's frame."""
        clip = self.project.clip(clip_id)
        shot = self._whole_clip(clip_id, extend=frames, take=take, target=target, render="pixels")
        check_fields(shot)
        layers = self.layers(clip_id, cancel=cancel)
        ahead = self._extension(shot)
        n = _normaliser(*layers.size)
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

        for k, frame in enumerate(ClipReader(self.clip_file(clip_id)).frames()):
            if k >= clip.frames:
                break
            save(k, frame)  # the footage itself, untouched
        for t in range(frames):
            k, extra = ahead.at(t)
            rgba, x0, y0 = layers.cutout(k)
            matrix = np.linalg.inv(n) @ extra @ n
            save(clip.frames + t, composite(layers.plate, place(rgba, x0, y0, matrix, layers.size)))
        return out

    # -- on the beat (engine.beats) ---------------------------------------------------------------
    def accents(self, clip: str, start: int, end: int) -> np.ndarray:
        """Which frames of a motion range (play order) are its accents: peaks of how fast T^Z
        moves the character (engine.beats.accents), cached."""
        key = ("accents", clip, start, end)
        with self._layers_lock:
            found = self._sources.get(key)
        if found is None:
            forward = np.linalg.inv(homogeneous(self._features(clip, start, end)[0]))
            found = beats_mod.accents(beats_mod.motion_speed(forward))
            with self._layers_lock:
                self._sources.put(key, found)
        return found

    def step_accents(self, shot: Shot, count: int) -> np.ndarray:
        """Whether each motion step 0 … ``count`` − 1 of a shot shows an accent (of the frame
        it shows: the clip's, the walk's, the extension's)."""
        mo = shot.motion
        acc = self.accents(mo.clip, mo.start, mo.end)
        out = np.zeros(count, bool)
        if shot.loop == "endless":
            walk = self._walk(shot, count - 1)
            return acc[walk.frames[:count]]
        n = shot.motion_length
        ext = self._extension(shot) if n > mo.length else None
        for u in range(count):
            k = fold(u, n, shot.loop)
            out[u] = acc[k] if k < mo.length else acc[ext.frames[k - mo.length]]
        return out

    def shown_accents(self, shot: Shot) -> np.ndarray:
        """The local frames of a shot where an accent is shown (a held one counts once)."""
        steps = np.array([shot.motion_u(t) for t in range(shot.duration)], np.int64)
        return beats_mod.accent_frames(steps, self.step_accents(shot, int(steps.max()) + 1))

    def fit_to_beats(self, shot: Shot, beats: np.ndarray, holds: bool = False) -> dict:
        """The shot fields that fit ``shot`` to ``beats`` (its local frames of the soundtrack's
        beats): the beats (engine.document.Shot.beats; an endless walk jumps on them) and the
        steps (engine.beats.fit) that put its accents on them — holds only where ``holds`` or
        where the shot was already held ("on 2s"). For Project.update_shot."""
        beats = np.asarray(beats, np.int64)
        beats = beats[(beats >= 0) & (beats < shot.duration)]
        plain = dataclasses.replace(shot, beats=tuple(int(b) + shot.offset for b in beats),
                                    timing=())  # fmt: skip
        u0 = plain.motion_u(0)
        count = plain.motion_length - u0 if shot.loop == "once" else 2 * shot.duration + 1
        acc = self.step_accents(plain, u0 + max(count, 1))[u0:]
        holds = holds or shot.hold > 1
        steps = beats_mod.fit(acc, beats, shot.duration, holds, shot.speed / shot.hold)
        before = [plain.motion_u(t) for t in range(-shot.offset, 0)]  # a split shot's first part
        return {"beats": plain.beats, "timing": (*before, *(int(u0 + v) for v in steps))}

    def beat_fit(self, shot_id: str, holds: bool = False, found=None) -> dict:
        """:meth:`fit_to_beats` of one of the project's shots on its soundtrack's beats
        (``found``, or engine.beats.beats_of the sound file: cached)."""
        p = self.project
        if p.soundtrack is None:
            raise ProjectError(f"{p.file}: the project has no soundtrack to fit a shot to")
        found = found if found is not None else beats_mod.beats_of(p.sound_path())
        if not found.steady:
            raise UserError(f"{p.sound_path()}: no steady beat to fit to (speech, or a sound "
                            "without a pulse)")  # fmt: skip
        frames = found.beat_frames(p.soundtrack.offset, p.fps) - p.timeline.start_of(shot_id)
        return self.fit_to_beats(p.shot(shot_id), frames, holds)

    def _whole_clip(self, clip_id: str, **fields) -> Shot:
        """A shot (on no timeline) of a clip on itself, moving as its frames do: all of them."""
        from engine.document import FrameRef, MotionRef

        last = self.project.clip(clip_id).frames - 1
        ref = FrameRef(clip_id)
        return Shot("", ref, ref, MotionRef(clip_id, 0, last), last + 1, **fields)

    def predictor_clip(self, shot: Shot) -> PredictorClip:
        """A shot's motion as the predictor sees it: roots and poses from the model."""
        mo = shot.motion
        thetas, pose = self._features(mo.clip, mo.start, mo.end)
        forward = np.linalg.inv(homogeneous(thetas))
        return PredictorClip(roots(forward, self._model_centre(shot)[0]), pose)

    def predictor(self) -> tuple[MotionPredictor, float]:
        """The project's motion predictor (``models/motion-predictor.safetensors``) and its
        file's time stamp, loaded once per version of the file."""
        path = self.project.root / PREDICTOR_FILE
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            raise ProjectError(f"{path}: the project has no motion predictor yet (Shot → Extend "
                               "Motion… or python -m engine.render --train-predictor trains "
                               "it)") from None  # fmt: skip
        with self._layers_lock:
            found = self._sources.get(("predictor", stamp))
        if found is None:
            found = MotionPredictor.load(path)
            with self._layers_lock:
                self._sources.put(("predictor", stamp), found)
        return found, stamp

    def train_predictor(self, steps: int = 400, progress: Progress | None = None,
                        cancel: Cancel | None = None) -> Path:  # fmt: skip
        """Train the project's motion predictor on all its clips (seconds on a CPU) and save
        it in the project folder. Returns the file."""
        clips = [self.predictor_clip(self._whole_clip(clip.id))
                 for clip in self.project.clips.values() if clip.frames >= 3]  # fmt: skip
        predictor = MotionPredictor.train(clips, steps, progress=progress, cancel=cancel)
        return predictor.save(self.project.root / PREDICTOR_FILE)

    def _path(self, shot: Shot, local: int, centre: np.ndarray) -> np.ndarray | None:
        """The shot's path at ``local`` as a forward map of the output's pixels, about the
        character's ``centre`` (output pixels) there; None without a path."""
        if not shot.path:
            return None
        return path_matrix(shot.path, local, tuple(centre), self.size)

    def matched_frame(self, char_clip: str, motion_clip: str, k: int) -> int:
        """The frame of ``char_clip`` whose pose is closest to frame ``k`` of ``motion_clip``,
        the motion taken out: the two characters' silhouettes (their mattes), each cut to its
        bounding box and scaled to one size, and the boxes' shapes. (f_c with the motion taken
        out by T^Z — the model's own notion of pose — was tried first and picks nearly at random
        with the built-in model: docs/LAYERS.md.)"""
        key = (char_clip, motion_clip, k)
        found = self._matches.get(key)
        if found is None:
            poses = self._poses(char_clip)
            target = pose_descriptor(self.layers(motion_clip).cutout(k)[0][..., 3])
            found = self._matches[key] = int(((poses - target) ** 2).sum(axis=1).argmin())
        return found

    def _poses(self, clip_id: str) -> np.ndarray:
        poses = self._pose_table.get(clip_id)
        if poses is None:
            layers = self.layers(clip_id)
            poses = np.stack([pose_descriptor(layers.cutout(j)[0][..., 3])
                              for j in range(len(layers))])  # fmt: skip
            self._pose_table[clip_id] = poses
        return poses

    # -- what a frame is ------------------------------------------------------------------------
    frame_key = staticmethod(frame_key)

    def _check_layer(self, layer: str) -> None:
        if layer not in LAYERS:
            raise ProjectError(f"unknown layer {layer!r} (choose from {', '.join(LAYERS)})")

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
                out[key] = self._render_pixels(shot, local, key[1])
            except ClipError as e:
                out[key] = self._offline(shot, key[1], e)
        if by_mode:
            model = by_mode["model"]
            try:
                out.update(zip(model, self._render_model(model), strict=True))
            except ClipError:  # one shot's clip: the others render, one at a time
                for key, w in model.items():
                    try:
                        out[key] = self._render_model({key: w})[0]
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

    def _render_pixels(self, shot: Shot, local: int, layer: str) -> np.ndarray:
        plate = self._plate(shot.background.clip)
        if layer == "background":
            return plate
        matrix, ch, c = self._placement(shot, local)
        centre = (matrix @ np.append(ch.centre(c), 1.0))[:2]
        self.centres.put((shot.id, local), (float(centre[0]), float(centre[1])))
        path = self._path(shot, local, centre)
        if path is not None:  # composed into the one warp of the full-resolution cut-out
            matrix = path @ matrix
        rgba, x0, y0 = ch.cutout(c)
        return composite(plate, place(rgba, x0, y0, matrix, self.size), layer)

    def _placement(self, shot: Shot, local: int) -> tuple[np.ndarray, ClipLayers, int]:
        """Pixels mode, before the path: the forward map (character clip's pixels → output),
        the character's layers and the frame of them shown."""
        mo, drive = shot.motion, self.drive(shot, local)
        k, size = drive.k, self.size
        ch = self.layers(shot.character.clip)
        moving = self.layers(mo.clip)
        extra = np.eye(3)
        if drive.extra is not None:  # the walk's root motion, in the motion clip's pixels
            n = _normaliser(*moving.size)
            extra = np.linalg.inv(n) @ drive.extra @ n
        if shot.character.clip == mo.clip:
            return fit_matrix(ch.size, size) @ extra, ch, k
        c = shot.character.frame
        if self.motion == "tracked":
            forward = homogeneous(moving.tracked_motion(mo.start, k))
        else:
            with torch.inference_mode():
                theta = self._thetas_for(shot, k).cpu().numpy()
            forward = homogeneous(theta_to_pixels(theta, *moving.size))
        fit_mo, fit_ch = fit_matrix(moving.size, size), fit_matrix(ch.size, size)
        matrix = fit_mo @ extra @ forward @ np.linalg.inv(fit_mo) @ fit_ch
        if shot.pose == "match":
            # the character's own frame of the closest pose, its centre put where the moved
            # character frame's centre goes (only moved: the pose brings its own turn)
            j = self.matched_frame(shot.character.clip, mo.clip, k)
            goes = matrix @ np.append(ch.centre(c), 1.0)
            matrix = fit_ch.copy()
            matrix[:2, 2] += goes[:2] - (fit_ch @ np.append(ch.centre(j), 1.0))[:2]
            c = j
        return matrix, ch, c

    def character_centre(self, shot_id: str, local: int) -> tuple[float, float] | None:
        """Where the character's centre was, before its path moved it, in the last rendered
        frame of a shot's local frame (output pixels); None if none was rendered. The studio's
        path tool draws the path from it (a lookup: never waits for a render)."""
        return self.centres.get((shot_id, local))

    def _render_model(self, wanted: dict[tuple, tuple[Shot, int]]) -> list[np.ndarray]:
        keys = list(wanted)
        layer = keys[0][1]
        m = self.model
        theta = None
        if layer != "background":
            with torch.inference_mode():  # motion in full precision: walks, predictions, paths
                theta = torch.stack([self._model_theta(*w) for w in wanted.values()])
        with torch.inference_mode(), autocast(self.device, self.precision):
            if layer == "background":
                zb = torch.stack([self._encoded(self._zb, m.f_b, *k[2]) for k in keys])
                images = m.g(zb)
            else:
                zc = torch.stack([self._encoded(self._zc, m.f_c, *k[2]) for k in keys])
                with torch.autocast(self.device.type, enabled=False):
                    # sampling positions in fp32: in bf16 they snap to 1/128 of the frame
                    moved = warp(zc.float(), theta)
                if layer == "character":
                    images = m.g(moved)
                else:
                    zb = torch.stack([self._encoded(self._zb, m.f_b, *k[3]) for k in keys])
                    images = m.g(moved + zb)
                    if layer in ("cutout", "matte"):
                        images = _with_matte(images, m.g(zb))
                        if layer == "matte":
                            images = images[:, 3:].expand(-1, 3, -1, -1)
            out = images.float().mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)
        # g's output is channels_last, so this permute is already contiguous (no copy)
        frames = list(out.permute(0, 2, 3, 1).cpu().numpy())
        size = self.size
        if size != (self.model_size, self.model_size):
            # stretched back: the model sees whole frames stretched to its square
            frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]
        return frames

    def _model_theta(self, shot: Shot, local: int) -> torch.Tensor:
        """Model mode: the theta that moves the character at a shot's local frame — T^Z of the
        motion frame, then the walk's extra map, then the path: theta_k · extra⁻¹ · path⁻¹ (the
        motion clip, the model's square and the output share normalised coordinates)."""
        drive = self.drive(shot, local)
        theta = self._thetas_for(shot, drive.k)
        forward = np.linalg.inv(homogeneous(theta.float().cpu().numpy()))
        if drive.extra is not None:
            forward = drive.extra @ forward
        n = _normaliser(*self.size)
        where = np.linalg.inv(n) @ forward @ np.append(self._model_centre(shot)[0], 1.0)
        self.centres.put((shot.id, local), (float(where[0]), float(where[1])))
        if drive.extra is None and not shot.path:
            return theta
        if shot.path:
            forward = n @ self._path(shot, local, where[:2]) @ np.linalg.inv(n) @ forward
        return torch.as_tensor(np.linalg.inv(forward)[:2], dtype=theta.dtype, device=theta.device)

    def _model_centre(self, shot: Shot) -> tuple[np.ndarray, float]:
        """The character's centre and half width (normalised) in the motion's first frame, from
        the model's matte (model mode has no clip layers)."""
        key = ("centre", shot.motion.clip, shot.motion.start)
        found = self._sources.get(key)
        if found is None:
            frame = self.clip_frames(shot.motion.clip)[[shot.motion.start]]
            with torch.inference_mode():
                matte = model_views(self.model, frame)[0][0]
            mask = (matte > 0.5).astype(np.uint8)
            c = _centroid(mask)
            size = self.model_size
            c = np.array([size / 2, size / 2]) if c is None else c
            width = cv2.boundingRect(mask)[2] or size / 4
            centre = (_normaliser(size, size) @ np.append(c, 1))[:2]
            found = (centre, width / size)
            self._sources.put(key, found)
        return found

    # -- rendering --------------------------------------------------------------------------------
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
        stop = timeline.frame_count if stop is None else stop
        if not 0 <= start < stop <= timeline.frame_count:
            raise ProjectError(
                f"range {start}…{stop - 1} is outside the timeline (0…{timeline.frame_count - 1})"
            )
        total = stop - start
        for first in range(start, stop, batch_size):
            if cancel is not None and cancel():
                raise Cancelled()
            wanted = [timeline.shot_at(i) for i in range(first, min(first + batch_size, stop))]
            yield from self._frames_for(wanted, layer)
            if progress is not None:
                progress(min(first + batch_size, stop) - start, total)

    def frames_of(self, wanted: list[tuple[Shot, int]], layer: str = "composite") -> list:
        """Frames of any (shot, local frame) pairs in one batch — the studio's render-ahead
        worker asks for the frames it lacks in playback order, whatever shots they belong to."""
        self._check_layer(layer)
        return self._frames_for(wanted, layer) if wanted else []

    def _frames_for(self, wanted: list[tuple[Shot, int]], layer: str) -> list[np.ndarray]:
        size = self.size
        keys = [self.frame_key(shot, local, layer, self.mode_of(shot), size)
                for shot, local in wanted]  # fmt: skip
        with self._lock:
            found = {k: self._frames.get_fresh(k) for k in keys}
            missing = {k: w for k, w in zip(keys, wanted, strict=True) if found[k] is None}
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
            if missing:
                for key, image in zip(missing, self._render(missing), strict=True):
                    image.flags.writeable = False
                    self._frames.put(key, image)
                    found[key] = image
        return [found[k] for k in keys]

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
        """Forget every cached frame and encoding (after the project's clips were replaced)."""
        with self._layers_lock:
            self._epoch += 1
            self._layers.clear()
        with self._lock:
            for cache in (self._frames, self._zc, self._zb, self._thetas, self._plates):
                cache.clear()
            for found in (self._pose_table, self._matches, self._sources, self.problems):
                found.clear()


class _Walk:
    """A generated motion: ``frames`` (positions in the motion range) and ``extras`` (T, 3, 3)
    — an endless walk that grows on demand (``walker``, ``carrier``), or an extension's fixed
    frames."""

    def __init__(self, walker: Walker | None = None, carrier: Carrier | None = None,
                 frames: np.ndarray | None = None, extras: np.ndarray | None = None):
        self.walker, self.carrier = walker, carrier
        self.frames = np.zeros(0, np.int64) if frames is None else frames
        self.extras = np.zeros((0, 3, 3)) if extras is None else extras

    def grow(self, length: int) -> None:
        frames = self.walker.extend(length)
        new = frames[len(self.frames) :]
        self.extras = np.concatenate([self.extras, self.carrier.extend(new)])
        self.frames = frames

    def at(self, t: int) -> tuple[int, np.ndarray]:
        return int(self.frames[t]), self.extras[t]


def motion_features(model: SceneModel, frames: np.ndarray, start: int = 0,
                    batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """What the model learned of a motion's frames (N, S, S, 3) uint8 at its resolution: theta
    (N, 2, 3), T^Z of each frame against frame ``start``, and each frame's pose (N, D): f_c where
    the model's own matte says the character is, shifted so that the matte's centre is the
    frame's — what the character looks like, not where it is (engine.motion's frame distance).
    (Warping f_c back by theta⁻¹ instead left a trace of where the character was: frames of a
    walk matched only their neighbours in time.)"""
    device = next(model.parameters()).device
    zs, thetas = [], []
    mattes = model_views(model, np.asarray(frames), batch)[0]
    # full precision whatever the caller's autocast (theta and the features are compared)
    with torch.inference_mode(), torch.autocast(device.type, enabled=False):
        z0 = model.f_c(to_tensor(np.asarray(frames[start : start + 1]), device)).float()
        for i in range(0, len(frames), batch):
            z = model.f_c(to_tensor(np.asarray(frames[i : i + batch]), device)).float()
            thetas.append(model.transform(z0.expand(len(z), -1, -1, -1), z))
            m = torch.from_numpy(mattes[i : i + batch, None]).to(device)
            m = torch.nn.functional.interpolate(m, size=z.shape[-2:], mode="area")
            mass = m.sum(dim=(1, 2, 3)).clamp(min=1e-6)
            n = z.shape[-1]
            grid = (torch.arange(n, device=device) + 0.5) / n * 2 - 1  # normalised centres
            cx = (m * grid[None, None, None, :]).sum(dim=(1, 2, 3)) / mass
            cy = (m * grid[None, None, :, None]).sum(dim=(1, 2, 3)) / mass
            shift = torch.zeros(len(z), 2, 3, device=device)
            shift[:, 0, 0] = shift[:, 1, 1] = 1
            shift[:, 0, 2], shift[:, 1, 2] = cx, cy  # output (0, 0) samples the centre
            zs.append(warp(z * m, shift))
        theta = torch.cat(thetas)
        pose = torch.cat(zs)
    return theta.cpu().numpy().astype(np.float64), pose.flatten(1).cpu().numpy()


def pose_descriptor(matte: np.ndarray, size: tuple[int, int] = (24, 32)) -> np.ndarray:
    """A character's pose without where it stands or how big it is: its matte cut to its
    bounding box and scaled to ``size``, and the box's aspect (crouching is wide, standing
    tall)."""
    x, y, w, h = cv2.boundingRect((matte > 127).astype(np.uint8))
    if w == 0 or h == 0:
        return np.zeros(size[0] * size[1] + 1, np.float32)
    crop = matte[y : y + h, x : x + w].astype(np.float32) / 255
    shape = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).ravel()
    return np.append(shape, 3.0 * np.log(h / w)).astype(np.float32)


def _with_matte(composite: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    lo, hi = MATTE_RANGE
    diff = (composite.float() - background.float()).abs().amax(dim=1, keepdim=True)
    alpha = ((diff - lo) / (hi - lo)).clamp(0, 1)
    return torch.cat([composite.float(), alpha], dim=1)
