"""What a render reads, each read once and kept (engine.frames.cache): a clip's frames at the
model's size, its layers (engine.frames.layers: matte, clean plate, tracked motion), its plate
at the output size, the model's encodings of frames (f_c, f_b), T^Z of motion frames, and what
the model learned of a motion range (its features, the video texture's graph, the accents, the
character's centre) and the project's motion predictor.

Threads: any thread may call any method. Every cache holds its own lock; a clip's layers are
made by one thread while the others wait for that clip only (other clips' frames render
meanwhile); :meth:`clear` makes layers begun before it be thrown away."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from engine import beats as beats_mod
from engine.data.cache import FrameCache
from engine.data.clips import FrameSeeker
from engine.document import PREDICTOR_FILE, MotionRef, Project, ProjectError
from engine.errors import ClipError, UserError
from engine.frames.cache import LRU
from engine.frames.compositor import fit_image
from engine.frames.layers import ClipLayers, LayerCache, centroid, model_key, model_views
from engine.frames.motion import TransitionGraph, frame_distance, root_steps
from engine.frames.predictor import MotionPredictor
from engine.geometry import homogeneous, normaliser
from engine.model import SceneModel, warp
from engine.progress import Cancel
from engine.samples import to_tensor

LayerProgress = Callable[[str, int, int], None]
"""``progress(clip name, done, total)`` while a clip's layers are made."""


class Inputs:
    """The inputs of one project's renders with one model on one device."""

    def __init__(self, project: Project, model: SceneModel, device: torch.device,
                 frames: FrameCache, layer_cache: LayerCache,
                 progress: LayerProgress | None = None) -> None:  # fmt: skip
        self.project, self.model, self.device = project, model, device
        self.model_size = model.config.image_size
        self.clips = frames
        self.layer_cache = layer_cache
        self.layer_progress = progress
        self.stopping = threading.Event()
        """Set: a clip's layers being made when a frame needs them stop (Cancelled)."""
        self._lock = threading.Lock()  # the layers held, the epoch, the clips' locks, model key
        self._layers: dict[str, tuple[ClipLayers, tuple]] = {}  # clip → its layers, strokes
        self._clip_locks: dict[str, threading.Lock] = {}
        self._epoch = 0  # bumped by clear(): layers begun before it are not kept
        self._model_key: str | None = None
        self.plates = LRU(16)
        self.zc = LRU(256)
        self.zb = LRU(256)
        self.thetas = LRU(8192)
        self.sources = LRU(256)
        self.seekers = LRU(4)  # clips decoded for their sets as shot (engine.data.clips)
        """Motion sources' working: features of motion ranges, their graphs and accents, walks,
        extensions (the most recently used; a Reshuffle makes a new walk, old ones go in time)."""

    # -- clips ------------------------------------------------------------------------------------
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

    def check_length(self, clip_id: str, frames: int) -> None:
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

    def layers(self, clip_id: str, cancel: Cancel | None = None,
               progress: LayerProgress | None = None) -> ClipLayers:  # fmt: skip
        """A clip's layers (engine.frames.layers), computed on first use if no cache holds them;
        ``progress(clip name, done, total)`` (default: the one given at start) while they are."""
        found = self._made(clip_id)
        if found is not None:
            return found
        with self._lock:
            lock = self._clip_locks.setdefault(clip_id, threading.Lock())
            epoch = self._epoch
        with lock:
            found = self._made(clip_id)
            if found is not None:
                return found
            clip = self.project.clip(clip_id)
            made_with = self._made_with(clip_id)  # before: an edit meanwhile makes them stale
            strokes, plate = self.strokes(clip_id), self.given_plate(clip_id)
            report = progress or self.layer_progress
            cancel = cancel or self.stopping.is_set

            def step(done: int, total: int) -> None:
                if report is not None:
                    report(clip.name, done, total)

            layers = self.layer_cache.load(self.clip_file(clip_id), self.model,
                                           progress=step, cancel=cancel,
                                           mkey=self.weights_key(), strokes=strokes,
                                           plate=plate)  # fmt: skip
            self.check_length(clip_id, len(layers))
            with self._lock:
                if epoch == self._epoch:  # else the clip changed meanwhile (clear)
                    self._layers[clip_id] = (layers, made_with)
        return layers

    def given_plate(self, clip_id: str) -> tuple[Path, int] | None:
        """The clean plate the user marked for a clip (Use as Clean Plate): (its clip's file,
        its frame; -1: its median), or None (estimated). One that no longer fits (a clip
        relinked to another size) is left out: the Director's ``lost_picks`` says so."""
        clip = self.project.clip(clip_id)
        if clip.plate is None:
            return None
        try:
            self.project.check_plate(clip, clip.plate)
        except UserError:
            return None
        return self.clip_file(clip.plate.clip), clip.plate.frame

    def strokes(self, clip_id: str) -> tuple:
        """A clip's brush strokes that fit it as it is now (the others are ignored: the
        Director's ``lost_picks`` says so)."""
        clip = self.project.clip(clip_id)
        return tuple(s for s in clip.strokes if s.problem(clip) is None)

    def _made(self, clip_id: str) -> ClipLayers | None:
        """A clip's layers in memory, made with its strokes as they are now (else None)."""
        found = self._layers.get(clip_id)
        if found is None or found[1] != self._made_with(clip_id):
            return None
        return found[0]

    def _made_with(self, clip_id: str) -> tuple:
        """What a clip's layers are made with beside the clip — its strokes, its clean plate
        and what they must fit — cheap to compare on every frame (an edit sets a new strokes
        tuple: the old one compares by identity)."""
        clip = self.project.clip(clip_id)
        return clip.strokes, clip.plate, clip.width, clip.height, clip.frames

    def weights_key(self) -> str:
        with self._lock:
            if self._model_key is None:
                self._model_key = model_key(self.model)
            return self._model_key

    def analysed(self, clip_id: str) -> bool:
        """Whether a clip's layers are in memory (no file is read)."""
        return self._made(clip_id) is not None

    def has_layers(self, clip_id: str) -> bool:
        """Whether a clip's layers are ready (in memory or in the disk cache)."""
        if self._made(clip_id) is not None:
            return True
        made_with = self._made_with(clip_id)
        try:
            path = self.project.clip_path(clip_id)
            found = self.layer_cache.cached(path, self.model, mkey=self.weights_key(),
                                            strokes=self.strokes(clip_id),
                                            plate=self.given_plate(clip_id))  # fmt: skip
        except (UserError, OSError):
            return False
        if found is None or len(found) < self.project.clip(clip_id).frames:
            return False  # (too short: layers() says why, when a frame needs them)
        with self._lock:
            self._layers[clip_id] = (found, made_with)
        return True

    def plate(self, clip_id: str, size: tuple[int, int]) -> np.ndarray:
        """A clip's clean plate at the output size (read-only)."""

        layers = self.layers(clip_id)

        def make() -> np.ndarray:
            plate = fit_image(layers.plate, size)
            plate.flags.writeable = False
            return plate

        # keyed by the layers' folder too: made again (a brush stroke, a clean plate marked),
        # they are other layers
        return self.plates.kept((clip_id, size, str(layers.folder)), make)

    def live_set(self, clip_id: str, k: int, size: tuple[int, int]) -> np.ndarray:
        """Frame k's set as shot at the output size: ClipLayers.live_set, its frame kept beside
        the layers or (a long clip at a big size) decoded from the clip."""
        layers = self.layers(clip_id)
        live = layers.live_set(k)
        if live is None:
            seeker = self.seekers.kept(clip_id, lambda: FrameSeeker(self.clip_file(clip_id)))
            live = layers.live_set(k, seeker.frame(k))
        return fit_image(live, size)

    # -- the model's view -------------------------------------------------------------------------
    def pixels(self, clip_id: str, frames: list[int]) -> torch.Tensor:
        data = self.clip_frames(clip_id)
        if max(frames) >= len(data):
            self.check_length(clip_id, len(data))
        x = to_tensor(np.asarray(data[frames]), self.device)
        return x.contiguous(memory_format=torch.channels_last)

    def encoded(self, cache: LRU, encoder, clip_id: str, frame: int) -> torch.Tensor:
        """f_c (``cache`` :attr:`zc`) or f_b (:attr:`zb`) of a clip's frame."""
        return cache.kept((clip_id, frame), lambda: encoder(self.pixels(clip_id, [frame]))[0])

    def theta(self, mo: MotionRef, k: int, chunk: int = 64) -> torch.Tensor:
        """T^Z(f_c(m_in), f_c(m_k)) of motion frame ``k``: computed, with its neighbours, for
        the block of up to ``chunk`` frames of the motion range holding it — a shot's motion is
        encoded once, not per output frame."""
        found = self.thetas.get((mo.clip, mo.start, k))
        if found is not None:
            return found
        lo, hi = min(mo.start, mo.end), max(mo.start, mo.end)
        first = lo + (k - lo) // chunk * chunk
        part = list(range(first, min(hi, first + chunk - 1) + 1))
        z_in = self.encoded(self.zc, self.model.f_c, mo.clip, mo.start)
        z = self.model.f_c(self.pixels(mo.clip, part))
        with torch.autocast(self.device.type, enabled=False):  # an affine in bf16 jitters
            thetas = self.model.transform(z_in.float().expand(len(part), -1, -1, -1), z.float())
        for j, theta in zip(part, thetas, strict=True):
            self.thetas.put((mo.clip, mo.start, j), theta)
        return self.thetas.get((mo.clip, mo.start, k))

    # -- what the model learned of a motion range -------------------------------------------
    def features(self, clip: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """:func:`motion_features` of a motion range, in play order (cached)."""

        def make():
            sign = 1 if end >= start else -1
            return motion_features(self.model, self.clip_frames(clip)[list(range(start, end + sign,
                                                                                  sign))])
        return self.sources.kept(("features", clip, start, end), make)

    def graph(self, clip: str, start: int, end: int) -> TransitionGraph:
        """The video texture's transition graph of a motion range (cached)."""

        def make() -> TransitionGraph:
            thetas, pose = self.features(clip, start, end)
            steps = root_steps(np.linalg.inv(homogeneous(thetas)))
            return TransitionGraph.build(frame_distance(pose, steps))

        return self.sources.kept(("graph", clip, start, end), make)

    def accents(self, clip: str, start: int, end: int) -> np.ndarray:
        """Which frames of a motion range (play order) are its accents: peaks of how fast T^Z
        moves the character (engine.beats.accents), cached."""

        def make() -> np.ndarray:
            forward = np.linalg.inv(homogeneous(self.features(clip, start, end)[0]))
            return beats_mod.accents(beats_mod.motion_speed(forward))

        return self.sources.kept(("accents", clip, start, end), make)

    def model_centre(self, mo: MotionRef) -> tuple[np.ndarray, float]:
        """The character's centre and half width (normalised) in the motion's first frame, from
        the model's matte (model mode has no clip layers)."""

        def make() -> tuple[np.ndarray, float]:
            frame = self.clip_frames(mo.clip)[[mo.start]]
            with torch.inference_mode():
                matte = model_views(self.model, frame)[0][0]
            mask = (matte > 0.5).astype(np.uint8)
            c = centroid(mask)
            size = self.model_size
            c = np.array([size / 2, size / 2]) if c is None else c
            width = cv2.boundingRect(mask)[2] or size / 4
            centre = (normaliser(size, size) @ np.append(c, 1))[:2]
            return centre, width / size

        return self.sources.kept(("centre", mo.clip, mo.start), make)

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
        return self.sources.kept(("predictor", stamp), lambda: MotionPredictor.load(path)), stamp

    def clear(self) -> None:
        """Forget everything read (after the project's clips were replaced)."""
        with self._lock:
            self._epoch += 1
            self._layers.clear()
        for cache in (self.zc, self.zb, self.thetas, self.plates, self.sources,
                      self.seekers):
            cache.clear()


def motion_features(model: SceneModel, frames: np.ndarray, start: int = 0,
                    batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """What the model learned of a motion's frames (N, S, S, 3) uint8 at its resolution: theta
    (N, 2, 3), T^Z of each frame against frame ``start``, and each frame's pose (N, D): f_c where
    the model's own matte says the character is, shifted so that the matte's centre is the
    frame's — what the character looks like, not where it is (engine.frames.motion's frame
    distance). (Warping f_c back by theta⁻¹ instead left a trace of where the character was:
    frames of a walk matched only their neighbours in time.)"""
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
