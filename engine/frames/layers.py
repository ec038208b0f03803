"""Clip layers: what the pixels renderer needs of a clip, at the clip's own resolution.

Data path role: between the clip (and the model that learned from it) and the compositor. Per clip
and model (and the user's brush strokes and marked clean plate), computed once, cached on disk
(content-keyed) and memory-mapped. Which cue leads is decided per clip (``cue="auto"``): the
model's matte where it sees what clearly moves (the demo kit's puppets), else the cut-out learnt
from the clip itself (engine.frames.cutout: real footage) — docs/LAYERS.md measures both.

- the **clean plate**: the set without the character — the empty set the user marked, or
  estimated: the clip's most-supported colours refined from every frame (clip-led), or a
  per-pixel median of the samples that show the set by the model's matte, pixels no sample
  shows filled from around (model-led).
- a **soft matte** and the **foreground colour** of every frame, kept as an RGBA cut-out of the
  character's bounding box, split into its **subjects** (a label per pixel); its edge solved
  against the known plate: ``I = αF + (1 − α)P`` with F the colour just inside the edge gives
  α, and then F itself, so no fringe of the old set travels with the character.
- its **cast shadow** (how much it darkened the set) and, up to LIVE_BYTES, the clip's frames:
  the set as shot.
- the **tracked motion**: a classical estimate of the character's motion (corners tracked inside
  the matte, a similarity transform fitted with RANSAC) from frame to frame, chained; compared
  with T^Z in docs/LAYERS.md. T^Z itself is computed at render time (it depends on the shot's
  in-frame) and mapped to pixels with :func:`engine.geometry.theta_to_pixels`.

Length: the cut-out's pipeline in the order it runs (model views, matting, plate, the write
pass: cut-outs, subjects, shadows, frames, tracking) and its disk cache and reader; the steps
share the matting's settings. The clip's own cut-out is engine.frames.cutout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from engine import assets, disk_cache
from engine.data.cache import FrameCache
from engine.data.clips import ClipReader
from engine.errors import Cancelled, ClipError, UserError
from engine.frames import corrections, cutout
from engine.frames.appearance import Appearance, Shade
from engine.frames.front import Front
from engine.frames.regions import REGIONS_FRAMES, Regions
from engine.geometry import homogeneous
from engine.model import SceneModel
from engine.progress import Cancel, Progress

LAYERS_VERSION = 22
"""Bumped whenever the way layers are made changes: older caches are then made again (and the
demo's shipped layers with ``python -m engine.demo --layers``: tests/test_demo.py says so)."""
CUES = ("auto", "clip", "difference", "model", "both")
MATTE_EDGES = ("hard", "guided", "plate")
"""How a matte's edge is made (not a walk's edges, engine.document.EDGES)."""
TRUST_RECALL = 0.77
"""With ``cue="auto"`` the model's matte leads when it covers this share of the pixels that
clearly moved (the clip's own confident labels; :func:`cue_score`): 0.79–1.0 on 24 held-out kit
clips, 0.31–0.757 on the four real scenes with masks and the two real clips (``python
bench/cue_scores.py``)."""
CUE_WIDTH = 320
"""The width the cue's score is measured at (:func:`cue_score`)."""
FILLS = ("inpaint", "model")
HOLE_SHARE = 0.25
"""Holes in a character's mask smaller than this share of it are filled (cutout.fill_holes)."""
LIVE_BYTES = 512 << 20
"""A clip's frames are kept beside its layers (for :meth:`ClipLayers.live_set`) up to this size."""
SPOOL_BYTES = 2 << 30
"""An analysis reads a clip three or four times at full size (its frame cache at the model's
size, its samples, the plate of its own where the clip leads, its cut-out); up to this size its
frames are decoded once and read back from a file on disk the other times (a PNG frame at
1280×720 takes ~12 ms to decode, ~1 ms to read back): the file kept as the live frames
(``frames.bin``) where they are kept, else removed when the analysis ends."""
REACH = 0.07
"""The cut-out goes on from the model's matte along what differs from the plate this share of
the frame's height (:meth:`_Matting._reach`)."""
GRABCUT_SIZE = 200
"""GrabCut works on the character's region shrunk towards this many pixels across (speed)."""




@dataclass(frozen=True)
class LayerSettings:
    """How mattes and plates are made (docs/LAYERS.md measures each choice)."""

    cue: str = "auto"
    """What says "character": ``auto`` (``both`` where the model's matte covers what clearly
    moves in the clip's samples — it knows this kind of character — else ``clip``), ``clip``
    (learnt from the clip alone, engine.frames.cutout: its
    most-supported colours for the plate, hysteresis on the difference, shadows taken out),
    ``difference`` from the plate, the ``model``'s matte (upsampled), or ``both`` (the
    difference, kept only near where the model sees the character)."""
    edge: str = "plate"
    """The matte's edge: ``hard`` (binary, 1-px feather), ``guided`` (a guided filter on the
    frame, kornia) or ``plate`` (α solved against the known clean plate)."""
    threshold: float = 0.1
    """Difference (0–1, max over RGB) above which a pixel differs from the plate; raised where
    the footage is noisier (five times the frame's typical difference)."""
    samples: int = 48
    """Frames the plate is the median of (evenly spaced)."""
    fill: str = "inpaint"
    """Where no sample shows the set: ``inpaint`` or ``model`` (see :func:`clean_plate`)."""
    passes: int = 3
    """Plate passes: the first from the model's coarse matte, the others from the last
    pass's own tight masks."""
    still_parts: bool = True
    """Drop the parts of a mask that look as the clip always looks, when another part moves."""
    half: bool = True
    """The refining plate passes at half size on frames of 480 lines or more (speed)."""
    grabcut: bool = True
    """Decide by colour (GrabCut) where the character stands on set no frame showed."""
    steady: bool = True
    """With ``cue="both"``, the model's matte averaged over the clip counts too, beside each
    frame's own: it finds the body of a character that never leaves its spot (a spinning ball,
    a wave), where one frame's matte misses parts."""
    regions: bool = True
    """With ``cue="clip"``, the subject's regions learnt from the clip (engine.frames.regions)
    take out whole regions of the set the cut-out holds and fill the subject's holes."""

    def __post_init__(self) -> None:
        if self.cue not in CUES or self.edge not in MATTE_EDGES or self.fill not in FILLS:
            raise ValueError(f"unknown layer settings {self.key()}")

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def model_key(model: SceneModel) -> str:
    """A hash of a model's weights: layers made with other weights are other layers."""
    h = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:32]


class ClipLayers:
    """A clip's layers, read back from the cache folder (memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        meta = json.loads((folder / "meta.json").read_text())
        self.width, self.height = int(meta["width"]), int(meta["height"])
        self.cue = str(meta.get("cue", ""))
        """What said "character" (``clip`` or ``both``; see LayerSettings.cue)."""
        self.plate = np.load(folder / "plate.npy", allow_pickle=False)
        self.boxes = np.load(folder / "boxes.npy", allow_pickle=False)
        """(N, 5) int64: byte offset, x0, y0, width, height of each frame's cut-out."""
        self.tracked = np.load(folder / "tracked.npy", allow_pickle=False)
        """(N, 2, 3): forward pixel map from frame 0 to each frame (classical estimate)."""
        size = int(self.boxes[-1, 0] + self.boxes[-1, 3] * self.boxes[-1, 4] * 4)
        self._data = np.memmap(folder / "cutouts.bin", np.uint8, "r", shape=(max(size, 1),))
        self.plate.flags.writeable = False
        self._labels = np.memmap(folder / "labels.bin", np.uint16, "r",
                                 shape=(max(size // 4, 1),))
        self.subjects: list[dict] = json.loads((folder / "subjects.json").read_text())
        """The clip's separate subjects (cutout.SubjectTracker.subjects): ``id``, ``first``,
        ``last``, ``frames``, ``best``, ``area``, ``minor``."""
        self.shadow_boxes = np.load(folder / "shadow_boxes.npy", allow_pickle=False)
        """(N, 5) int64: byte offset, x0, y0, width, height of each frame's cast shadow."""
        last = self.shadow_boxes[-1]
        self._shadows = np.memmap(folder / "shadows.bin", np.uint8, "r",
                                  shape=(max(int(last[0] + last[3] * last[4]), 1),))
        self._subject_ids = np.load(folder / "subject_ids.npy", allow_pickle=False)
        self._subject_centres = np.load(folder / "subject_centres.npy", allow_pickle=False)
        self._front: tuple[np.ndarray, int, int] | None = None  # RGBA of its box, top-left
        self.front_hides: list[int] = [int(v) for v in meta.get("front") or ()]
        """The subjects the set's things in front hide (engine.frames.front)."""
        if (folder / "front.npy").is_file():
            alpha = np.load(folder / "front.npy", allow_pickle=False)
            x, y, w, h = cv2.boundingRect((alpha > 0).view(np.uint8))
            rgba = np.dstack([self.plate[y : y + h, x : x + w], alpha[y : y + h, x : x + w]])
            rgba = rgba.astype(np.uint8)
            rgba.flags.writeable = False
            self._front = rgba, x, y
        self._frames = None
        if meta.get("live"):
            self._frames = np.memmap(folder / "frames.bin", np.uint8, "r",
                                     shape=(len(self.boxes), self.height, self.width, 3))

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def cutout(self, k: int, subjects: tuple[int, ...] = ()) -> tuple[np.ndarray, int, int]:
        """Frame k's character: RGBA uint8 (h, w, 4) — the foreground colour and the matte of
        its bounding box — and the box's top-left corner (x0, y0) in the frame; with
        ``subjects``, only those of the clip's subjects (the others transparent)."""
        offset, x0, y0, w, h = (int(v) for v in self.boxes[k])
        rgba = self._data[offset : offset + w * h * 4].reshape(h, w, 4)
        if subjects:
            rgba = rgba.copy()
            rgba[..., 3][~np.isin(self.labels(k), subjects)] = 0
        return rgba, x0, y0

    def thumbnail(self, sid: int, size: int = 64) -> np.ndarray:
        """Subject ``sid`` in the frame it is biggest in, cut to its box and fitted into
        ``size``×``size``: RGBA uint8."""
        best = next(s["best"] for s in self.subjects if s["id"] == sid)
        rgba = np.ascontiguousarray(self.cutout(best, (sid,))[0])
        x, y, w, h = cv2.boundingRect((rgba[..., 3] > 0).astype(np.uint8))
        out = np.zeros((size, size, 4), np.uint8)
        if w and h:
            f = size / max(w, h)
            tw, th = max(1, round(w * f)), max(1, round(h * f))
            small = cv2.resize(rgba[y : y + h, x : x + w], (tw, th), interpolation=cv2.INTER_AREA)
            ox, oy = (size - tw) // 2, (size - th) // 2
            out[oy : oy + th, ox : ox + tw] = small
        return out

    def shadow(self, k: int) -> tuple[np.ndarray, int, int]:
        """Frame k's cast shadow (the character's, taken out of its matte): how much it darkens
        the set, uint8 (h, w) (255: black), over its box, and the box's top-left (x0, y0)."""
        offset, x0, y0, w, h = (int(v) for v in self.shadow_boxes[k])
        return self._shadows[offset : offset + w * h].reshape(h, w), x0, y0

    def front(self, subjects: tuple[int, ...] = ()) -> tuple[np.ndarray, int, int] | None:
        """What the set has in front of the character (a sign it passes behind), as the
        character's own layers are kept: RGBA uint8 of its box (the plate's colour) and the
        box's top-left; None where nothing is (or, with ``subjects``, nothing hides them)."""
        if self._front is None or (subjects and not set(subjects) & set(self.front_hides)):
            return None
        return self._front

    def labels(self, k: int) -> np.ndarray:
        """Frame k's subject of each pixel of its cut-out's box (uint16, 0 = none)."""
        offset, _, _, w, h = (int(v) for v in self.boxes[k])
        return self._labels[offset // 4 : offset // 4 + w * h].reshape(h, w)

    def subject_at(self, k: int, x: float, y: float, reach: int = 3) -> int:
        """The subject under the frame's pixel (x, y) in frame k (the nearest within ``reach``
        pixels, a click being not quite on it), or 0 where there is none."""
        offset, x0, y0, w, h = (int(v) for v in self.boxes[k])
        labels = self.labels(k)
        cx, cy = round(x) - x0, round(y) - y0
        y_lo, y_hi = max(0, cy - reach), min(h, cy + reach + 1)
        x_lo, x_hi = max(0, cx - reach), min(w, cx + reach + 1)
        if y_hi <= y_lo or x_hi <= x_lo:  # outside the cut-out's box: nothing there
            return 0
        ys, xs = np.mgrid[y_lo:y_hi, x_lo:x_hi]
        found = labels[ys, xs]
        if not found.any():
            return 0
        d = (ys - cy) ** 2 + (xs - cx) ** 2
        d[found == 0] = 1 << 30
        return int(found.flat[int(d.argmin())])

    def subject_motion(self, sid: int, start: int, k: int) -> np.ndarray | None:
        """Subject ``sid``'s move (2, 3) from frame ``start`` to frame ``k``: its centre's shift
        from where it was first seen from ``start`` on to where it was last seen up to ``k``
        (held while it is out of sight); None when it is not seen between them."""
        col = np.nonzero(self._subject_ids == sid)[0]
        if not len(col):
            return None
        lo, hi = sorted((start, k))
        seen = np.nonzero(self._subject_centres[lo : hi + 1, col[0], 2] > 0)[0] + lo
        if not len(seen):
            return None
        first, last = (seen[0], seen[-1]) if k >= start else (seen[-1], seen[0])
        a, b = self._subject_centres[first, col[0]], self._subject_centres[last, col[0]]
        return np.array([[1.0, 0, b[0] - a[0]], [0, 1.0, b[1] - a[1]]])

    def matte(self, k: int) -> np.ndarray:
        """Frame k's matte at the clip's size, uint8 (H, W)."""
        rgba, x0, y0 = self.cutout(k)
        out = np.zeros((self.height, self.width), np.uint8)
        out[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba[..., 3]
        return out

    def centre(self, k: int, subjects: tuple[int, ...] = ()) -> np.ndarray:
        """The centroid (x, y) of frame k's matte (of ``subjects`` only, if given) in the frame's
        pixels (the frame's centre when the matte is empty), from the cut-out alone."""
        rgba, x0, y0 = self.cutout(k, subjects)
        c = centroid(np.ascontiguousarray(rgba[..., 3]), binary=False)
        return np.array([self.width / 2, self.height / 2]) if c is None else c + (x0, y0)

    def live_set(self, k: int, frame: np.ndarray | None = None) -> np.ndarray | None:
        """Frame k's set as it was shot (its light, its leaves, its shadows), the character
        taken out: the frame where α = 0, the plate where α ≈ 1, and between them the set
        solved from I = αF + (1 − α)B — so the cut-out laid back on it gives the frame again.
        The frame is the one kept beside the layers, or ``frame`` (decoded by the caller);
        None when neither is there (the clip's frames too big to keep: LIVE_BYTES)."""
        if frame is None and self._frames is None:
            return None
        out = np.array(self._frames[k] if frame is None else frame)
        rgba, x0, y0 = self.cutout(k)
        h, w = rgba.shape[:2]
        a = rgba[..., 3:].astype(np.float32) / 255
        region = out[y0 : y0 + h, x0 : x0 + w]
        solved = (region - a * rgba[..., :3]) / np.maximum(1 - a, 1e-3)
        mixed = np.where(a < 0.98, solved, self.plate[y0 : y0 + h, x0 : x0 + w])
        region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return out

    def tracked_motion(self, start: int, k: int) -> np.ndarray:
        """Classical forward pixel map (2, 3) from frame ``start`` to frame ``k``."""
        g = homogeneous(self.tracked)
        return (g[k] @ np.linalg.inv(g[start]))[:2]


LAYER_FILES = frozenset({"meta.json", "plate.npy", "boxes.npy", "tracked.npy", "cutouts.bin",
                         "labels.bin", "shadows.bin", "shadow_boxes.npy", "subject_ids.npy",
                         "subject_centres.npy", "subjects.json", "front.npy"})  # fmt: skip
"""What a layers folder holds beside its frames (``frames.bin``): what a seed may hold."""


class LayerCache:
    """Clip layers on disk, keyed by the clip's content, the model's weights and the settings.
    A key missing from the cache is looked for among the ``seeds`` (``KEY.zip``: layers made
    beforehand and shipped, the demo's: engine.assets.DEMO_LAYERS) before it is computed."""

    def __init__(self, root: str | os.PathLike | None = None, frames: FrameCache | None = None,
                 seeds: Path | None = assets.DEMO_LAYERS):  # fmt: skip
        self.frames = frames or FrameCache()
        self.root = Path(root) if root else disk_cache.root("layers")
        self.seeds = seeds

    def key(self, path: Path, settings: LayerSettings, mkey: str, strokes: tuple = (),
            plate: tuple[Path, int] | None = None) -> str:  # fmt: skip
        ClipReader(path)  # a missing or unusable clip: its own clear error, before hashing
        drawn = json.dumps([[s.frame, s.add, s.radius, s.points] for s in strokes])
        given = [] if plate is None else [self.frames.content_hash(plate[0]), str(plate[1])]
        return disk_cache.key(f"v{LAYERS_VERSION}", settings.key(), mkey,
                              self.frames.content_hash(path),
                              *([drawn] if strokes else []), *given)  # fmt: skip

    def cached(self, path, model: SceneModel, settings: LayerSettings | None = None,
               mkey: str | None = None, strokes: tuple = (),
               plate: tuple[Path, int] | None = None) -> ClipLayers | None:  # fmt: skip
        """The layers if they are on disk already, else None (never computes)."""
        folder = self.root / self.key(Path(path), settings or LayerSettings(),
                                      mkey or model_key(model), strokes, plate)  # fmt: skip
        try:
            return ClipLayers(folder)
        except (OSError, ValueError, KeyError):
            return self._seeded(Path(path), folder)

    def load(
        self,
        path: str | os.PathLike,
        model: SceneModel,
        settings: LayerSettings | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        mkey: str | None = None,
        strokes: tuple = (),
        plate: tuple[Path, int] | None = None,
    ) -> ClipLayers:
        """The clip's layers, computed (``progress(done, total)``, ``cancel()``) if needed;
        ``strokes``: the user's brush strokes on it (engine.document.Stroke) that fit it;
        ``plate``: the empty set it was shot on, marked by the user — (a clip of its size,
        its frame; -1: its median) — in place of the estimated plate."""
        path, settings = Path(path), settings or LayerSettings()
        folder = self.root / self.key(path, settings, mkey or model_key(model), strokes, plate)
        try:
            return ClipLayers(folder)
        except (OSError, ValueError, KeyError):
            pass
        if (seeded := self._seeded(path, folder)) is not None:
            return seeded
        self._remove_stale()
        return self._made(folder, lambda tmp: compute_layers(
            path, model, tmp, settings, self.frames, progress, cancel, strokes,
            None if plate is None else empty_set(*plate)))

    def _made(self, folder: Path, make: Callable[[Path], None]) -> ClipLayers:
        """``folder``'s layers, written by ``make`` into a folder of their own beside it first,
        then moved in whole (made meanwhile by another worker: theirs kept)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=self.root))
        try:
            make(tmp)
            with contextlib.suppress(OSError):
                tmp.rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return ClipLayers(folder)

    def _seeded(self, path: Path, folder: Path) -> ClipLayers | None:
        """The layers of ``folder``'s key from a seed (its frames decoded from ``path`` again,
        as a computation keeps them), moved into the cache; None without a usable seed (a
        name it may not hold, a damaged zip: then they are computed)."""
        seed = None if self.seeds is None else self.seeds / f"{folder.name}.zip"
        if seed is None or not seed.is_file():
            return None

        def unpack(tmp: Path) -> None:
            with zipfile.ZipFile(seed) as z:
                names = z.namelist()
                if not set(names) <= LAYER_FILES or "meta.json" not in names:
                    raise ValueError(f"{seed}: not a seed of clip layers")
                for name in names:
                    (tmp / name).write_bytes(z.read(name))
            meta = json.loads((tmp / "meta.json").read_text())
            if meta.get("live"):
                with open(tmp / "frames.bin", "wb") as fh:
                    for frame in _frames(path, int(meta["frames"])):
                        fh.write(frame.tobytes())
            ClipLayers(tmp)  # (they open)

        try:
            return self._made(folder, unpack)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UserError):
            return None

    def seed(self, folder: Path, dest: Path) -> Path:
        """Write the layers ``folder`` (of this cache) as a seed into ``dest``, without its
        frames: ``KEY.zip``."""
        dest.mkdir(parents=True, exist_ok=True)
        out = dest / f"{folder.name}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_LZMA) as z:
            for name in sorted(LAYER_FILES):
                if (folder / name).is_file():
                    z.write(folder / name, name)
        return out

    def _remove_stale(self, age_s: float = 24 * 3600) -> None:
        """Folders of a computation killed before it could clean up (SIGKILL, a power cut):
        gone after a day (a younger one may be another process's, still at work)."""
        now = time.time()
        for stale in self.root.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - stale.stat().st_mtime > age_s:
                    shutil.rmtree(stale, ignore_errors=True)


# -- computing ------------------------------------------------------------------------------------
@torch.inference_mode()
def model_views(model: SceneModel, frames: np.ndarray, batch: int = 32,
                check: Callable[[], None] = lambda: None) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The model's matte (N, S, S) float32 and its background layer (N, S, S, 3) uint8 of
    frames at its resolution: where g(f_c(x) + f_b(x)) differs from g(f_b(x))."""
    device = next(model.parameters()).device
    mattes, backgrounds = [], []
    for i in range(0, len(frames), batch):
        check()
        x = torch.from_numpy(np.array(frames[i : i + batch])).to(device)
        x = x.permute(0, 3, 1, 2).float().div(255)
        zb = model.f_b(x)
        bg = model.g(zb)
        full = model.g(model.f_c(x) + zb)
        diff = (full - bg).abs().amax(dim=1)
        # float: under bf16 autocast (the Director's model mode) numpy takes no bfloat16
        mattes.append(((diff.float() - 0.03) / 0.07).clamp(0, 1).cpu().numpy())
        backgrounds.append(bg.float().mul(255).add(0.5).clamp(0, 255).byte()
                           .permute(0, 2, 3, 1).cpu().numpy())  # fmt: skip
    return np.concatenate(mattes), np.concatenate(backgrounds)


def _up(image: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def _odd(n: float) -> int:
    return max(1, int(n) // 2 * 2 + 1)


class _Matting:
    """Turns one full-resolution frame into its cut-out, against the plate."""

    def __init__(self, plate: np.ndarray, unseen: np.ndarray, settings: LayerSettings,
                 usual: np.ndarray | None = None,
                 steady: np.ndarray | None = None) -> None:  # fmt: skip
        self.plate = plate
        self.unseen = unseen
        self.any_unseen = bool(unseen.any())
        self.steady_unseen = None
        """The model's matte averaged over the clip, where the plate is a guess (or None)."""
        if steady is not None and self.any_unseen:
            self.steady_unseen = _up(steady, *plate.shape[1::-1])[unseen]
        self.plate_f = plate.astype(np.float32)
        square = np.ones((3, 3), np.uint8)
        self.plate_lo, self.plate_hi = cv2.erode(plate, square), cv2.dilate(plate, square)
        self.usual = usual
        """The clip's usual look (a plain median of its frames), or None."""
        if usual is not None:
            self.usual_lo, self.usual_hi = cv2.erode(usual, square), cv2.dilate(usual, square)
        self.s = settings
        h, w = plate.shape[:2]
        self.w, self.h = w, h
        unit = max(1.0, min(w, h) / 240)
        self.open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(5 * unit),) * 2)
        self.band = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(3 * unit),) * 2)
        self.min_area = max(4, int(w * h / 4000))
        self.radius = max(2, round(2 * unit))

    def difference(self, frame: np.ndarray) -> np.ndarray:
        """How far each pixel is from the plate around it, uint8 (H, W): max over RGB of the
        distance to the range of the plate's 3×3 neighbourhood. A plain |frame − plate| also
        lights up along the set's own edges (video compression, a sub-pixel shake), and those
        bits of the set would travel with the character."""
        return self._distance(frame, self.plate_lo, self.plate_hi)

    @staticmethod
    def _distance(frame: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        r, g, b = cv2.split(cv2.max(cv2.subtract(frame, hi), cv2.subtract(lo, frame)))
        return cv2.max(cv2.max(r, g), b)

    def mask(self, frame: np.ndarray, model_matte: np.ndarray) -> np.ndarray:
        """The binary character mask (uint8 0/1)."""
        s = self.s
        d = self.difference(frame)
        noise = float(np.median(d[::4, ::4]))
        thresh = max(255 * s.threshold, 5 * noise)
        diff = (d > thresh).astype(np.uint8)
        model = _up(model_matte, self.w, self.h)
        if s.cue == "model":
            mask = (model > 0.5).astype(np.uint8)
        elif s.cue == "both":
            near = cv2.dilate((model > 0.25).astype(np.uint8), self.close, iterations=2)
            if self.any_unseen:
                # where the plate is a guess (no sample showed the set), the model must agree more
                sure = model[self.unseen]
                if self.steady_unseen is not None:
                    sure = np.maximum(sure, self.steady_unseen)
                near[self.unseen] = sure > 0.5
            mask = self._reach(diff, near)
        else:
            mask = diff
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.close)
        if self.any_unseen and s.cue == "both" and s.grabcut:
            mask = self._grabcut(frame, mask, model)
        # what is left works on the mask's box only (a character is a small part of a frame)
        x, y, w, h = cv2.boundingRect(mask)
        if w == 0:
            return mask
        box = (slice(y, y + h), slice(x, x + w))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask[box], connectivity=8)
        keep = np.zeros(n, np.uint8)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= self.min_area
        if self.usual is not None and n > 2 and s.still_parts:
            # a part that looks as the clip always looks (a rock the plate lost, next to a
            # character that moves) is set, when some other part of the mask does move
            changed = self._distance(frame[box], self.usual_lo[box], self.usual_hi[box]) > thresh
            moving = np.zeros(n, bool)
            moving[np.unique(labels[changed & (labels > 0)])] = True
            if (moving & keep.astype(bool)).any():
                keep &= moving
        out = np.zeros_like(mask)
        out[box] = cutout.fill_holes(keep[labels], HOLE_SHARE)
        return out

    def _reach(self, diff: np.ndarray, near: np.ndarray) -> np.ndarray:
        """``diff`` where the model's matte is (``near``), and the parts of it that go on from
        there up to :data:`REACH` of the frame's height further, where the plate is known: the
        model's matte, made at its own small size, stops short of a thin limb's end (a leg's
        last 5–15 px at 320×240, down to its foot), which the difference from the plate sees."""
        mask = diff & near
        x, y, w, h = cv2.boundingRect(mask)
        if w == 0:
            return mask
        r = max(1, round(REACH * self.h))
        box = (slice(max(0, y - r), y + h + r), slice(max(0, x - r), x + w + r))
        within = cv2.distanceTransform((near[box] == 0).view(np.uint8), cv2.DIST_L2, 3) <= r
        wide = diff[box] & within.view(np.uint8)  # (a disc's dilation, in linear time)
        if self.any_unseen:
            wide[self.unseen[box] & ~near[box].astype(bool)] = 0
        n, labels = cv2.connectedComponents(wide, connectivity=8)
        found = np.zeros(n, np.uint8)
        found[labels[mask[box] > 0]] = 1
        found[0] = 0
        out = mask.copy()
        out[box] |= found[labels]
        return out

    def _grabcut(self, frame: np.ndarray, mask: np.ndarray, model: np.ndarray) -> np.ndarray:
        """Where the mask reaches into what the plate only guesses (the set no frame showed),
        decide by colour: OpenCV's GrabCut, its set colours learnt from the set around and its
        character colours from the character where the plate is known."""
        guess = mask.astype(bool) & self.unseen
        if not guess.any():
            return mask
        x, y, w, h = cv2.boundingRect((mask | (self.unseen & (model > 0.25))).astype(np.uint8))
        pad = 4 * self.radius + 8
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(self.w, x + w + pad), min(self.h, y + h + pad)
        m, u, mo = mask[y0:y1, x0:x1].astype(bool), self.unseen[y0:y1, x0:x1], model[y0:y1, x0:x1]
        gc = np.full(m.shape, cv2.GC_PR_BGD, np.uint8)
        gc[m & u] = cv2.GC_PR_FGD
        gc[m & ~u] = cv2.GC_FGD
        gc[~m & ~u] = cv2.GC_BGD  # the set, seen, and matching the plate
        gc[(mo < 0.1) & ~m] = cv2.GC_BGD
        if not ((gc == cv2.GC_BGD).any() and ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).any()):
            return mask
        img = np.ascontiguousarray(frame[y0:y1, x0:x1])
        # shrunk to GRABCUT_SIZE across, but never below the 240-line frame's detail
        f = min(max(img.shape[:2]) / GRABCUT_SIZE, min(self.w, self.h) / 240)
        if f > 1:
            size = (max(1, round(img.shape[1] / f)), max(1, round(img.shape[0] / f)))
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            small = cv2.resize(gc, size, interpolation=cv2.INTER_NEAREST)
        else:
            small = gc
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.setRNGSeed(0)  # GrabCut seeds its colour models at random: the same layers every time
        try:
            cv2.grabCut(img, small, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # too few pixels of one kind to learn its colours
            return mask
        fg = ((small == cv2.GC_FGD) | (small == cv2.GC_PR_FGD)).astype(np.uint8)
        if f > 1:
            fg = cv2.resize(fg, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        out = mask.copy()
        region = out[y0:y1, x0:x1]
        region[u] = fg[u]  # only what the plate could not tell is decided by colour
        return out

    def cutout(self, frame: np.ndarray, model_matte: np.ndarray) -> tuple[np.ndarray, int, int]:
        return self.cut(frame, self.mask(frame, model_matte))

    def cut(self, frame: np.ndarray, mask: np.ndarray,
            held: np.ndarray | None = None) -> tuple[np.ndarray, int, int]:  # fmt: skip
        """The RGBA cut-out of ``mask``'s box, its edge and colour solved against the plate
        (but where ``held`` says the plate holds the subject, not the set: the mask's edge)."""
        bx, by, bw, bh = cv2.boundingRect(mask)
        if bw == 0:
            return np.zeros((1, 1, 4), np.uint8), 0, 0
        m = self.radius * 2 + 2
        x0, y0 = max(0, bx - m), max(0, by - m)
        x1, y1 = min(self.w, bx + bw + m), min(self.h, by + bh + m)
        img = frame[y0:y1, x0:x1]
        plate = self.plate_f[y0:y1, x0:x1]
        alpha = self._alpha(img, plate, mask[y0:y1, x0:x1])
        if held is not None and held[y0:y1, x0:x1].any():
            hard = cv2.GaussianBlur(mask[y0:y1, x0:x1].astype(np.float32), (3, 3), 0.6)
            alpha = np.where(held[y0:y1, x0:x1], hard, alpha)
        fg = _foreground(img.astype(np.float32), plate, alpha, mask[y0:y1, x0:x1])
        rgba = np.dstack([fg, np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
        return rgba, int(x0), int(y0)

    def _alpha(self, img: np.ndarray, plate: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.s.edge == "hard":
            return cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0.6)
        if self.s.edge == "guided":
            from kornia.filters import guided_blur

            guide = torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255
            src = torch.from_numpy(mask.astype(np.float32))[None, None]
            out = guided_blur(guide, src, 2 * self.radius + 1, 1e-3)
            return out[0, 0].clamp(0, 1).numpy()
        return _plate_alpha(img.astype(np.float32), plate, mask, self.band)


def _inner_colour(img: np.ndarray, inner: np.ndarray, size: int) -> np.ndarray:
    """Each pixel's nearby colour of the character's inside (normalised blur of the inside)."""
    k = (_odd(size), _odd(size))
    weight = cv2.blur(inner.astype(np.float32), k)[..., None]
    colour = cv2.blur(img * inner[..., None], k)
    return colour / np.maximum(weight, 1e-6)


def _plate_alpha(img: np.ndarray, plate: np.ndarray, mask: np.ndarray, band) -> np.ndarray:
    """α on the mask's edge from the compositing equation with the known plate: with F̂ the
    colour just inside, α = (I − P)·(F̂ − P) / |F̂ − P|²; 1 inside, 0 outside."""
    inner = cv2.erode(mask, band)
    outer = cv2.dilate(mask, band)
    edge = (outer > 0) & (inner == 0)
    alpha = inner.astype(np.float32)
    if not edge.any():
        return alpha
    f_hat = _inner_colour(img, inner if inner.any() else mask, 4 * band.shape[0] + 1)
    fp = (f_hat - plate)[edge]
    ip = (img - plate)[edge]
    denom = (fp * fp).sum(axis=1)
    a = (ip * fp).sum(axis=1) / np.maximum(denom, 1.0)
    # where the character's colour is too close to the set's, the equation says nothing: the
    # binary mask decides
    a = np.where(denom < 30.0**2, mask[edge].astype(np.float32), a)
    alpha[edge] = np.clip(a, 0, 1)
    return alpha


def _foreground(img: np.ndarray, plate: np.ndarray, alpha: np.ndarray, mask) -> np.ndarray:
    """The character's own colour: the frame's where α is 1; on the edge, I = αF + (1 − α)P
    solved for F where α says enough, the nearby inside colour where it does not (the pixel is
    almost all set). Where α is 0 the colour is the frame's (it never shows: every use of a
    cut-out weighs its colour by α) — so only the edge, a few pixels wide, is solved (at
    1280×720 the whole box took 27 ms a frame)."""
    fg = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    edge = (alpha > 0) & (alpha < 1)
    if not edge.any():
        return fg
    a = alpha[edge][:, None]
    solved = plate[edge] + (img[edge] - plate[edge]) / np.maximum(a, 1e-3)
    low = a[:, 0] <= 0.25
    if low.any():
        near = _inner_colour(img, cv2.erode(mask, np.ones((3, 3), np.uint8)) if mask.sum() > 9
                             else mask, 9)  # fmt: skip
        solved[low] = near[edge][low]
    fg[edge] = np.clip(solved + 0.5, 0, 255).astype(np.uint8)
    return fg


def envelope(model_matte: np.ndarray, w: int, h: int) -> np.ndarray:
    """Where the model's matte (at its resolution) puts the character, generously: upsampled,
    over 0.1, dilated by 1/40 of the frame. On held-out kit clips at 320×240 the matte over 0.1
    covers the character (recall 0.986, `bench/fit_modes.py`) at about three times its area: a
    safe "not the set here"."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(min(w, h) / 40),) * 2)
    return cv2.dilate((_up(model_matte, w, h) > 0.1).astype(np.uint8), kernel) > 0


def clean_plate(samples: np.ndarray, hidden: np.ndarray, fallback: np.ndarray,
                fill: str = "inpaint") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A clean plate (H, W, 3) uint8 and where no sample showed the set (H, W) bool, from
    full-size sample frames (K, H, W, 3) and where each hides the set (K, H, W) bool: the median
    of each pixel over the samples that show it; where none does, ``fill``: ``inpaint``
    (OpenCV's Telea inpainting from the set around) or ``model`` (``fallback``, the model's
    own background layer, upsampled)."""
    k, h, w = samples.shape[:3]
    out = np.empty((h, w, 3), np.uint8)
    unseen = np.zeros((h, w), bool)
    strip = max(1, (1 << 24) // (w * 3 * max(k, 1)))
    for y in range(0, h, strip):
        part = torch.from_numpy(samples[:, y : y + strip]).float()
        part[torch.from_numpy(hidden[:, y : y + strip])] = float("nan")
        med = torch.nanmedian(part, dim=0).values.numpy()  # 2× numpy's nanmedian, measured
        seen = ~np.isnan(med[..., 0])
        unseen[y : y + strip] = ~seen
        part = np.where(seen[..., None], np.nan_to_num(med), fallback[y : y + strip])
        out[y : y + strip] = np.clip(part + 0.5, 0, 255).astype(np.uint8)
    if fill == "inpaint" and unseen.any() and not unseen.all():
        mask = unseen.astype(np.uint8)
        out = cv2.inpaint(out, mask, max(3, min(w, h) // 60), cv2.INPAINT_TELEA)
    return out, unseen


def _steady(mattes: np.ndarray, settings: LayerSettings) -> np.ndarray | None:
    """The model's matte averaged over the clip's frames, when ``settings`` use it."""
    return mattes.mean(axis=0) if settings.steady and settings.cue == "both" else None


def _moving_parts(mask: np.ndarray, changes: np.ndarray) -> np.ndarray:
    """The connected parts of ``mask`` (bool) that hold at least one ``changes`` pixel."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[changes & (mask > 0)])] = True
    keep[0] = False
    return keep[labels]


def plate_passes(samples: np.ndarray, mattes: np.ndarray, fallback: np.ndarray,
                 settings: LayerSettings, check: Callable[[], None] = lambda: None,
                 ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The clean plate of full-size samples (K, H, W, 3) given the model's mattes of them
    (K, S, S). First from the model's coarse envelope; then ``settings.passes − 1`` times again
    with each sample's own tight mask against the last plate: more samples show the set, so less
    of the plate is a guess and the next masks are better (measured: docs/LAYERS.md). With
    ``settings.steady`` the clip's mean matte joins each frame's, and the refining masks drop
    their still parts as the final ones do. The refining passes run at half size on frames of
    480 lines or more; the last is full size."""
    k, h, w = samples.shape[:3]
    f = 2 if min(w, h) >= 480 and settings.passes > 1 and settings.half else 1
    sw, sh = w // f, h // f
    small = samples if f == 1 else np.stack([cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA)
                                             for x in samples])  # fmt: skip
    # what does not differ from the clip's usual look is the set, even where the model's matte
    # says otherwise (it fires on some bright or small set objects: a moon, the diamonds):
    # each sample's envelope keeps only its parts where that sample differs from the median
    usual = torch.from_numpy(small).median(dim=0).values.numpy()
    steady = _steady(mattes, settings)
    hidden = np.stack([
        _moving_parts(envelope(m if steady is None else np.maximum(m, steady), sw, sh),
                      cv2.absdiff(x, usual).max(axis=2) > 255 * settings.threshold)
        for x, m in zip(small, mattes, strict=True)
    ])  # fmt: skip
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(min(sw, sh) / 80),) * 2)
    for _ in range(settings.passes - 1):
        check()
        plate, unseen = clean_plate(small, hidden, _up(fallback, sw, sh), settings.fill)
        matting = _Matting(plate, unseen, settings, usual, steady)
        hidden = np.stack([cv2.dilate(matting.mask(x, m), grow) > 0
                           for x, m in zip(small, mattes, strict=True)])  # fmt: skip
    if f > 1:
        hidden = np.stack([cv2.resize(x.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
                           for x in hidden]) > 0  # fmt: skip
    check()
    return clean_plate(samples, hidden, fallback, settings.fill)


def centroid(mask: np.ndarray, binary: bool = True) -> np.ndarray | None:
    """(x, y) of a mask's centroid (of its nonzero pixels, or weighted by its values); None
    when it is empty."""
    m = cv2.moments(mask, binary)
    return np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]]) if m["m00"] > 0 else None


def track(prev: np.ndarray, cur: np.ndarray, prev_mask: np.ndarray, cur_mask: np.ndarray,
          scale: float) -> np.ndarray:  # fmt: skip
    """Forward pixel map (2, 3) of the character from one frame to the next: its turn and
    scale from corners inside ``prev_mask`` tracked by pyramidal Lucas–Kanade (a similarity
    fitted by RANSAC; none when too few corners track), its shift from the mattes' centroids.
    The corners alone drift on a character that turns on the spot (a spinning ball: the set's
    corners along its outline stay put) and one bad step moves the rest of the clip."""
    out = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    # in the region the character covers in either frame (and some), not the whole frame
    x, y, w, h = cv2.boundingRect(cv2.bitwise_or(prev_mask, cur_mask))
    pad = int(24 * scale)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(prev.shape[1], x + w + pad), min(prev.shape[0], y + h + pad)
    a = cv2.cvtColor(prev[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(cur[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    pts = None
    if w and h:
        pts = cv2.goodFeaturesToTrack(a, 200, 0.01, max(3, 4 * scale), mask=prev_mask[y0:y1, x0:x1])
    if pts is not None and len(pts) >= 6:
        nxt, ok, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(21, 21), maxLevel=3)
        ok = ok.ravel() == 1
        if ok.sum() >= 6:
            shift = np.float32([x0, y0])
            m, inl = cv2.estimateAffinePartial2D(pts[ok] + shift, nxt[ok] + shift,
                                                 method=cv2.RANSAC,
                                                 ransacReprojThreshold=2 * scale)  # fmt: skip
            if m is not None and inl is not None and inl.sum() >= 6:
                out = m
    region = (slice(y0, y1), slice(x0, x1))
    c0, c1 = centroid(prev_mask[region]), centroid(cur_mask[region])
    if c0 is not None and c1 is not None:
        out[:, 2] = c1 - out[:, :2] @ c0 + (np.eye(2) - out[:, :2]) @ (x0, y0)
    return out


def compute_layers(
    path: Path,
    model: SceneModel,
    out: Path,
    settings: LayerSettings,
    frame_cache: FrameCache,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    strokes: tuple = (),
    given: np.ndarray | None = None,
) -> None:
    """Write a clip's layers into the folder ``out`` (see :class:`ClipLayers`), corrected by
    the user's brush ``strokes`` (corrections.Strokes), on the clean plate ``given`` by the user
    (the set shot empty) if any, else on the plate estimated from the clip."""
    size = model.config.image_size
    spool = _Spool(path, out / "frames.bin")  # (out goes whole if this fails)
    small = frame_cache.load(path, size, "stretch", tee=spool.add)  # decoded: spooled too
    n = len(small)
    spool.seal(n)
    total = 2 * n + 1

    def step(done: int) -> None:
        if cancel is not None and cancel():
            raise Cancelled()
        if progress is not None:
            progress(done, total)

    wanted = set(np.linspace(0, n - 1, min(settings.samples, n)).round().astype(int).tolist())
    idx = sorted(wanted)
    shown: dict[int, np.ndarray] = {}  # the frames strokes were drawn on
    samples, still = _samples(path, n, wanted, lambda k: step(k // 4), shown,
                              {s.frame for s in strokes}, frames=spool.frames(n))  # fmt: skip
    cue, mattes, regions = settings.cue, None, None
    if given is not None and given.shape != samples.shape[1:]:
        raise ClipError(f"{path}: its clean plate is {given.shape[1]}×{given.shape[0]}, the "
                        f"clip {samples.shape[2]}×{samples.shape[1]}")  # fmt: skip
    if cue == "auto":
        views, _ = model_views(model, small.frames[idx])
        cue = "both" if cue_score(views, samples) >= TRUST_RECALL else "clip"
        settings = replace(settings, cue=cue)
    if given is not None:  # the set as the user shot it empty: sure everywhere
        own_plate, support = given, np.ones(given.shape[:2], np.float32)
    elif cue == "clip" or strokes:
        own_plate, support = cutout.set_plate(samples, still)
    if cue == "clip":
        plate = own_plate
        if given is None:
            fine = cutout.PlateMean(own_plate)
            for k, frame in enumerate(spool.frames(n)):
                fine.add(frame)
                if k % 16 == 15:
                    step(n // 4 + k // 4)
            plate = fine.result()
        square = np.ones((3, 3), np.uint8)
        noise = cutout.noise_map(samples, cv2.erode(plate, square), cv2.dilate(plate, square))
        own = cutout.Matting(plate, noise, shadows=True)
        matting = _Matting(plate, np.zeros(plate.shape[:2], bool), settings)
        shade = Shade.learn(samples, own)
        own.learnt = None if shade is None else shade.test
        look = Appearance.learn(samples, plate, own)

        def mask_of(k: int, frame: np.ndarray) -> np.ndarray:
            mask = own.mask(frame)
            if look is not None:
                mask = look.extend(frame, plate, mask, own.last_shadow)
            return mask if regions is None else regions.refine(frame, mask)

        if settings.regions:
            taught = samples[:: max(1, len(samples) // REGIONS_FRAMES)]
            regions = Regions.learn(taught, plate, [own.trim_rim(mask_of(-1, x)) for x in taught],
                                    lambda: step(n // 2))  # fmt: skip
    else:
        mattes, backgrounds = model_views(model, small.frames, check=lambda: step(n // 4))
        step(n // 2)
        h, w = samples.shape[1:3]
        model_plate = _up(np.median(backgrounds, axis=0).astype(np.uint8), w, h).astype(np.float32)
        if given is None:
            plate, unseen = plate_passes(samples, mattes[idx[: len(samples)]], model_plate,
                                         settings, lambda: step(n))  # fmt: skip
        else:
            plate, unseen = given, np.zeros(given.shape[:2], bool)
        usual = torch.from_numpy(samples).median(dim=0).values.numpy() if len(samples) > 2 else None
        matting = _Matting(plate, unseen, settings, usual, _steady(mattes, settings))

        def mask_of(k: int, frame: np.ndarray) -> np.ndarray:
            return matting.mask(frame, mattes[k])

    corrected = None
    if strokes:
        if cue == "clip":
            weak = own.weak
        else:  # (the model-led path has no noise map of its own)
            square = np.ones((3, 3), np.uint8)
            weak = cutout.Matting(plate, cutout.noise_map(samples, cv2.erode(plate, square),
                                                          cv2.dilate(plate, square))).weak
        corrected = corrections.Strokes(strokes, plate, shown, weak,
                                   {f: mask_of(f, x) > 0 for f, x in shown.items()}, support)
    del samples, still
    # (model-led: as it was)
    steady = corrections.Steady(own.weak, plate) if cue == "clip" else None

    def cut(k: int, frame: np.ndarray) -> tuple[np.ndarray, int, int]:
        mask = mask_of(k, frame)
        if corrected is not None:
            mask = corrected.apply(frame, mask)
        if steady is not None:
            mask = steady.apply(frame, mask)
        if cue == "clip":  # the edge where the subject is, not where it starts to show
            mask = own.trim_rim(mask)
        return matting.cut(frame, mask, None if corrected is None else corrected.still)

    step(n)
    h, w = plate.shape[:2]
    scale = max(1.0, min(w, h) / 240)
    boxes = np.zeros((n, 5), np.int64)
    tracked = np.zeros((n, 2, 3))
    tracked[:, 0, 0] = tracked[:, 1, 1] = 1
    offset = 0
    prev = prev_mask = None
    live = n * h * w * 3 <= LIVE_BYTES
    write_live = live and not spool.done  # (else the spool's file is the live frames already)
    if spool.done and not live:  # read back for the last time below, then gone
        spool.last = True
    tracker = cutout.SubjectTracker(w, h)
    front = Front(w, h, n)
    shadow_boxes = np.zeros((n, 5), np.int64)
    shadow_at = 0
    with open(out / "cutouts.bin", "wb") as fh, open(out / "labels.bin", "wb") as lab, \
            open(out / "shadows.bin", "wb") as shadows, \
            open(out / "frames.bin", "wb") if write_live else contextlib.nullcontext() as frames:
        for k, frame in enumerate(spool.frames(n)):
            rgba, x0, y0 = cut(k, frame)
            fh.write(rgba.tobytes())
            cast = None
            if cue == "clip":  # not where the character is
                opaque = np.zeros((h, w), bool)
                opaque[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba[..., 3] >= 128
                cast = own.cast_shadow(opaque)
                dark, sx, sy = cutout.darkening(frame, plate, cast)
            else:
                dark, sx, sy = np.zeros((1, 1), np.uint8), 0, 0
            shadows.write(dark.tobytes())
            shadow_boxes[k] = (shadow_at, sx, sy, dark.shape[1], dark.shape[0])
            shadow_at += dark.size
            labels = tracker.label(rgba[..., 3], x0, y0)
            lab.write(labels.tobytes())
            if k in front.kept:
                front.add(k, np.where(rgba[..., 3] >= 128, labels, 0), x0, y0)
            if frames is not None:
                frames.write(frame.tobytes())
            boxes[k] = (offset, x0, y0, rgba.shape[1], rgba.shape[0])
            offset += rgba.size
            mask = np.zeros((h, w), np.uint8)
            mask[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba[..., 3] > 127
            if prev is not None:
                step_map = track(prev, frame, prev_mask, mask, scale)
                tracked[k] = (homogeneous(step_map) @ homogeneous(tracked[k - 1]))[:2]
            prev, prev_mask = frame, mask
            step(n + 1 + k)
    np.save(out / "plate.npy", plate)
    in_front = front.find(plate)
    if in_front is not None:
        np.save(out / "front.npy", in_front[0])
    np.save(out / "boxes.npy", boxes)
    np.save(out / "tracked.npy", tracked)
    np.save(out / "shadow_boxes.npy", shadow_boxes)
    ids, centres = tracker.centre_table()
    np.save(out / "subject_ids.npy", ids)
    np.save(out / "subject_centres.npy", centres)
    (out / "subjects.json").write_text(json.dumps(tracker.subjects()))
    (out / "meta.json").write_text(json.dumps({
        "version": LAYERS_VERSION, "source": str(path), "width": w, "height": h, "frames": n,
        "settings": asdict(settings), "cue": cue, "live": live,
        "front": None if in_front is None else in_front[1],
    }))  # fmt: skip
    step(total)


def matte_scores(models: list[SceneModel], paths: list[Path], frames: FrameCache,
                 samples: int = 16, cancel: Cancel | None = None) -> list[list[float]]:
    """How well each model's matte sees what clearly moves in each clip (:func:`cue_score`
    on ``samples`` evenly spaced frames, against their plain-vote plate): one row per clip, one
    value per model. No ground truth needed: a trained model's mattes compared with the old
    one's on the project's own clips (the training dialog shows it)."""
    rows = []
    for path in paths:
        if cancel is not None and cancel():
            raise Cancelled()
        row = []
        for model in models:
            small = frames.load(path, model.config.image_size, "stretch")
            n = len(small)
            wanted = set(np.linspace(0, n - 1, min(samples, n)).round().astype(int).tolist())
            shots, _ = _samples(path, n, wanted, lambda _k: None, quiet=False)
            views, _ = model_views(model, small.frames[sorted(wanted)])
            row.append(cue_score(views, shots))
        rows.append(row)
    return rows


def cue_score(views: np.ndarray, samples: np.ndarray) -> float:
    """The score ``cue="auto"`` compares with TRUST_RECALL: :func:`model_recall` of the model's
    mattes (K, S, S) against the samples' (K, H, W, 3) plain-vote plate (cutout.set_plate with
    no Stillness), at most CUE_WIDTH wide. The threshold was set on these: a quiet plate is
    truer to the set, so more of a puppet that keeps to its spot differs from it and the score
    falls (the bowing kit puppet 0.79 → 0.76) while real scenes' stay put."""
    h, w = samples.shape[1:3]
    if w > CUE_WIDTH:
        size = (CUE_WIDTH, max(1, round(h * CUE_WIDTH / w)))
        samples = np.stack([cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in samples])
    return model_recall(views, samples, cutout.set_plate(samples)[0])


def model_recall(views: np.ndarray, samples: np.ndarray, plate: np.ndarray) -> float:
    """The share of the pixels that clearly moved in ``samples`` (K, H, W, 3) — far from the
    clip's own plate — where the model's mattes of them (K, S, S) see the character."""
    h, w = plate.shape[:2]
    square = np.ones((3, 3), np.uint8)
    lo, hi = cv2.erode(plate, square), cv2.dilate(plate, square)
    hit = moved = 0
    for frame, view in zip(samples, views, strict=True):
        sure = cutout.range_distance(frame, lo, hi) > 40
        hit += int((sure & (_up(view, w, h) > 0.5)).sum())
        moved += int(sure.sum())
    return hit / moved if moved else 1.0


def empty_set(path: Path, frame: int) -> np.ndarray:
    """A clean plate the user marked: frame ``frame`` of the clip at ``path``, or (-1) the
    per-pixel median of 32…64 of its frames, evenly spaced (memory stays bounded: past 64 kept,
    every other one goes and the stride doubles)."""
    frames, stride = [], 1
    for k, image in enumerate(ClipReader(path).frames()):
        if k == frame:
            return image
        if frame < 0 and k % stride == 0:
            frames.append(image)
            if len(frames) > 64:
                frames, stride = frames[::2], stride * 2
    if frame >= 0 or not frames:
        raise ClipError(f"{path}: has no frame {frame} for a clean plate")
    return torch.from_numpy(np.stack(frames)).median(dim=0).values.numpy()


def _frames(path: Path, n: int):
    """The clip's first ``n`` frames at full size; a clip that decodes to fewer is an error
    (it changed since its frames were counted)."""
    k = -1
    for k, frame in enumerate(ClipReader(path).frames()):
        if k >= n:
            return
        yield frame
    if k + 1 < n:
        raise ClipError(f"{path}: decodes to {k + 1} frames, {n} before; is it being replaced?")


class _Spool:
    """A clip's frames at full size for an analysis's passes over them: the first pass that
    decodes them (the frame cache's, given :meth:`add` as its tee, or :meth:`frames`') writes
    them to ``file`` as it goes, up to :data:`SPOOL_BYTES`; once :meth:`seal` finds them all
    there, the next passes read that file back."""

    def __init__(self, path: Path, file: Path) -> None:
        self.path, self.file = path, file
        self.fh = None
        self.written = 0
        self.off = False
        """Over :data:`SPOOL_BYTES`: every pass decodes."""
        self.done = False
        self.last = False
        """The next pass is the last: the file goes after it."""

    def add(self, frame: np.ndarray) -> None:
        """The next decoded frame, in order."""
        if self.off:
            return
        if self.fh is None:
            self.shape, self.size = frame.shape, frame.nbytes
            self.fh = open(self.file, "wb")  # noqa: SIM115 (closed by seal, or with out)
        if (self.written + 1) * self.size > SPOOL_BYTES or frame.shape != self.shape:
            self.off = True
            self.fh.close()
            self.file.unlink(missing_ok=True)
            return
        self.fh.write(frame.tobytes())
        self.written += 1

    def seal(self, n: int) -> None:
        """After a pass: whether the file holds all ``n`` frames (if not, it goes)."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        self.done = not self.off and self.written == n > 0
        if not self.done and self.written:  # (a part of them: not to be read back)
            self.file.unlink(missing_ok=True)
            self.written = 0

    def frames(self, n: int) -> Iterator[np.ndarray]:
        """The clip's first ``n`` frames: read back, or decoded (and spooled)."""
        if not self.done:
            for frame in _frames(self.path, n):
                self.add(frame)
                yield frame
            self.seal(n)
            return
        with open(self.file, "rb") as fh:
            for _ in range(n):  # (a bytearray of its own: as writable as a decoded frame)
                buf = bytearray(self.size)
                if fh.readinto(buf) != self.size:
                    raise ClipError(f"{self.path}: its decoded frames ({self.file}) were cut "
                                    "short during the analysis")  # fmt: skip
                yield np.frombuffer(buf, np.uint8).reshape(self.shape)
        if self.last:
            self.file.unlink(missing_ok=True)


def _samples(path: Path, n: int, wanted: set[int], step: Callable[[int], None],
             shown: dict[int, np.ndarray] | None = None, also: set[int] = frozenset(),
             quiet: bool = True, frames: Iterator[np.ndarray] | None = None,
             ) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """Frames ``wanted`` of the clip, stacked, and (``quiet``) which of them are still around
    each pixel (cutout.Stillness, else None); those in ``also`` put in ``shown`` too. ``frames``:
    the clip's frames as a :class:`_Spool` gives them (else decoded here)."""
    samples = []
    stillness = cutout.Stillness(wanted) if quiet else None
    for k, frame in enumerate(_frames(path, n) if frames is None else frames):
        if stillness is not None:
            stillness.add(k, frame)
        if k in wanted:
            samples.append(frame.copy())
        if shown is not None and k in also:
            shown[k] = frame.copy()
        if k % 16 == 15:
            step(k)
    if not samples:
        raise ClipError(f"{path}: holds no frames")
    h, w = samples[0].shape[:2]
    return np.stack(samples), None if stillness is None else stillness.still((w, h))
