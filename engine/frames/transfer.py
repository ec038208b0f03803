"""Motion transfer: character A performing clip C's motion on background B's set (docs/MOTION.md,
"Motion transfer").

What belongs to the *motion* — where C's subject goes over the ground, when it speeds up, pauses
and turns back — comes from C; what belongs to the *character* — its body and its steps — from
A's own frames; what belongs to the *set* — how big a subject is at each height of the frame —
from B. C's turn and growth (its camera's slope, its approach to the lens) mean nothing on B's
set, so the character stays upright and takes its size from B unless the shot asks otherwise.

- :func:`footing`: a clip's subject's ground point (the matte's lowest row, under its middle —
  not under the planted foot, which a walk swaps each step) and height in each frame;
- :func:`perspective`: the height a subject has at each row of a set, learned from the subjects
  seen in its clip (a line h = a + b·y: the ground plane seen by a level camera), or flat;
- :class:`Plan`: per output frame of a shot, where A's ground point goes, its scale, its turn,
  A's frame shown and whether it is mirrored — grown on demand, as an endless walk is.

No Qt; numpy and OpenCV (the graph's distance uses torch: engine.frames.motion).

Length: the plan with everything only it reads — the footing, the tracks' smoothing, the set's
perspective, the character's walk — in the order a plan uses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.frames.motion import TransitionGraph, frame_distance

MIN_AREA = 12
"""A matte of fewer pixels (above half alpha) is not a subject seen."""
FRAGMENT = 0.25
"""Another subject this much smaller than the one followed, beside it, is a part of its body the
matte cut off (:func:`body`)."""
SIGMAS = (0.75, 1.0, 1.5, 2.0, 3.0)
"""Gaussian σs, in frames, a ground track's smoothing picks from (:func:`smoothed`): a walker's
lowest point swaps feet each step, a cut-out's edge flickers."""
TIE = 1.1
"""Of :data:`SIGMAS`, the smoothest whose leave-one-out error is within this of the least (the
"one standard error" rule: where a wider σ foretells the track about as well, it is taken)."""
LEVEL = 6.0
"""Gaussian σ, in frames, of a ground track's level (:func:`level`): how far a subject goes *over
the ground* leaves out what goes up and comes down faster than this (a hop, a walk's bob)."""
CYCLE_FRAMES = 160
"""A's frames a walk cycle is looked for in, from the shot's character frame on (bounds the
transition graph's N²)."""
FLOOR = 12
"""A's floor under each of its frames is the lowest its ground point goes within this many
frames (so its own jumps stay jumps)."""
LIFT = 0.05
"""Character A's ground point this far (× its height) above its floor still touches the ground
(a walk's bob); higher, it jumps."""
MAX_RATE = 3.0
"""A's walk goes on by at most this many of its strides per output frame (a path far faster than
A walks)."""
SCALE_RANGE = (0.25, 4.0)
"""The set's perspective never scales the character beyond these (a path far up or down)."""
AHEAD = 24
"""Frames a plan looks ahead for the way its path sets off (the character faces it from the
first frame, rather than turning round once the path has shown it)."""
ROW = np.dtype([("point", np.float64, 2), ("scale", np.float32), ("angle", np.float32),
                ("i", np.int32), ("mirror", np.bool_)])
"""A plan's row per output frame (:class:`Plan`)."""
MATCH_STICK = 0.25
"""Matched poses in time order: a jump in A's frames costs this many median pose distances."""


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


# -- what the clips say ---------------------------------------------------------------------------
def main_subject(layers, lo: int, hi: int) -> int:
    """The subject of a clip seen most (frames × its biggest area) between frames ``lo`` and
    ``hi``: what a transfer follows and shows where the shot picks none of several (a group's
    lowest point goes nowhere a walker goes); 0 where the clip has one subject or none."""
    lo, hi = sorted((lo, hi))
    seen = [s for s in layers.subjects if not s.get("minor") and s["first"] <= hi
            and s.get("last", hi) >= lo]  # fmt: skip
    if len(seen) < 2:
        return 0
    return int(max(seen, key=lambda s: s["frames"] * s["area"])["id"])


@dataclass(frozen=True)
class Footing:
    """A subject's ``ground`` point (N, 2: x, y in its clip's pixels; NaN where it is not seen)
    and ``height`` (N,) in each frame of its clip."""

    ground: np.ndarray
    height: np.ndarray

    @property
    def seen(self) -> np.ndarray:
        return ~np.isnan(self.ground[:, 0])


def footing(layers, subjects: tuple[int, ...] = (), frames: range | None = None) -> Footing:
    """The :class:`Footing` of a clip's subject(s) (all of them together without ``subjects``),
    from its clip layers (engine.frames.layers.ClipLayers), in ``frames`` (all by default; the
    others are not seen)."""
    n = len(layers)
    ground, height = np.full((n, 2), np.nan), np.zeros(n)
    for k in range(n) if frames is None else frames:
        rgba, x0, y0 = layers.cutout(k)
        a = rgba[..., 3] > 127
        if subjects:
            a = body(layers.labels(k), a, subjects)
        if a.sum() < MIN_AREA:
            continue
        rows = np.flatnonzero(a.any(axis=1))
        top, bottom = int(rows[0]), int(rows[-1])
        tall = bottom - top + 1
        ground[k] = (x0 + np.nonzero(a)[1].mean(), y0 + bottom)
        height[k] = tall
    return Footing(ground, height)


def body(labels: np.ndarray, shown: np.ndarray, subjects: tuple[int, ...]) -> np.ndarray:
    """The pixels of ``subjects``' body in a frame's cut-out box (``labels``: its subject of
    each pixel; ``shown``: the pixels shown): theirs, and the small parts of others (less than
    :data:`FRAGMENT` of theirs) that come within an eighth of their height of their box — arms
    flung up over the head that the matte cut off from it, which the clip's subjects count
    apart."""
    own = shown & np.isin(labels, subjects)
    if not own.any():
        return own
    x, y, w, h = cv2.boundingRect(own.view(np.uint8))
    pad, area = h // 8 + 1, int(own.sum())
    for sid in np.unique(labels[shown & ~own]):
        part = shown & (labels == sid)
        px, py, pw, ph = cv2.boundingRect(part.view(np.uint8))
        if (sid and part.sum() < FRAGMENT * area and px < x + w + pad and px + pw > x - pad
                and py < y + h + pad and py + ph > y - pad):  # fmt: skip
            own |= part
    return own


def smoothed(points: np.ndarray, sigma: float | None = None, passes: int = 2,
             degree: int = 2) -> np.ndarray:
    """A track (N, 2) smoothed in time: at each frame, a polynomial of ``degree`` fitted to the
    frames around it (Gaussian weights, ``sigma`` frames), then fitted again ``passes`` times
    with the frames far off it weighed down (Cleveland's robust LOESS: a frame whose matte lost
    a foot, or took in a passer-by, does not pull the path) — and, unlike a plain average, it
    does not pull a moving subject's first and last frames towards where it goes next. NaN gaps
    are left as gaps and not bled into.

    ``sigma`` None: each axis's own, of :data:`SIGMAS`, the one whose fit best foretells each
    frame from the others (leave-one-out cross-validation): a clean track of a quick hop keeps
    its landings and tops (a line at a fixed σ = 1 cut a hop's bounce short by a third), a
    noisy cut-out's is smoothed more."""
    seen = ~np.isnan(points[:, 0])
    if seen.sum() < 2 or (sigma is not None and sigma <= 0):
        return points.copy()
    out = np.full_like(points, np.nan)
    for i in range(2):
        x = np.where(seen, points[:, i], 0.0)
        fits = [_loess(x, seen, s, passes, degree) for s in (SIGMAS if sigma is None else (sigma,))]
        best = min(miss for _, miss in fits)  # the smoothest as good as the best, or nearly
        out[:, i] = np.where(seen, [f for f, miss in fits if miss <= TIE * best][-1], np.nan)
    return out


def _loess(x: np.ndarray, seen: np.ndarray, sigma: float, passes: int,
           degree: int) -> tuple[np.ndarray, float]:  # fmt: skip
    """:func:`smoothed`'s fit of one axis ``x`` (N,) at ``sigma``, and its leave-one-out error
    (the mean squared miss of each frame by the fit without it, robust weights)."""
    r = max(1, int(3 * sigma))
    d = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (d / sigma) ** 2)
    n, terms = len(x), degree + 1

    def around(v: np.ndarray, taps: np.ndarray) -> np.ndarray:  # Σ_d taps(d)·v[t + d]
        return np.convolve(v, taps[::-1])[r : r + n]

    weight = seen.astype(np.float64)
    for p in range(passes + 1):  # the normal equations Σ w·d^(a+b)·c_b = Σ w·x·d^a, per frame
        m = [around(weight, k * d**j) for j in range(2 * degree + 1)]
        lhs = np.stack([np.stack(m[a : a + terms], -1) for a in range(terms)], -2)
        rhs = np.stack([around(weight * x, k * d**a) for a in range(terms)], -1)
        ok = np.abs(np.linalg.det(lhs)) > 1e-9 * np.maximum(m[0], 1e-12) ** terms
        lhs[~ok] = np.eye(terms)  # too few frames about it for a curve: their mean
        fit = np.linalg.solve(lhs, rhs[..., None])[:, 0, 0]
        fit = np.where(ok, fit, rhs[:, 0] / np.maximum(m[0], 1e-12))
        if p == passes:
            break
        residual = np.abs(x - fit)[seen]
        scale = 6 * max(float(np.median(residual)), 0.5)
        u = np.minimum(np.abs(x - fit) / scale, 1.0)
        weight = np.where(seen, (1 - u * u) ** 2, 0.0)
    # the frame's own share of its fit (the hat matrix's diagonal): k(0)·w·(lhs⁻¹)₀₀
    own = weight * np.where(ok, k[r] * np.linalg.inv(lhs)[:, 0, 0], k[r] / np.maximum(m[0], 1e-12))
    use = seen & (own < 0.95) & (weight > 0)
    if not use.any():
        return fit, math.inf
    miss = (x - fit)[use] / (1 - own[use])
    return fit, float((weight[use] * miss**2).sum() / weight[use].sum())


def level(points: np.ndarray) -> np.ndarray:
    """A ground track (N, 2) with its rows' quick ups and downs taken out — a hop's bounce, a
    walk's bob — and what goes on over seconds kept (a walk towards the camera comes down the
    frame): its rows smoothed by :func:`smoothed` at σ = :data:`LEVEL`. The distance a subject
    covers over the ground is this track's, so its steps are not spent on going up and down."""
    out = points.copy()
    out[:, 1] = smoothed(points, LEVEL, degree=1)[:, 1]
    return out


def track(ground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A motion's ground track as a plan reads it (:class:`Sources`): the points smoothed
    (:func:`smoothed`) and the rows of its level (:func:`level`)."""
    return smoothed(ground), level(ground)[:, 1]


def floor(rows: np.ndarray, level_rows: np.ndarray) -> np.ndarray:
    """(N,) a ground track's floor: where its feet come down between hops — its ``level_rows``
    (:func:`level`: what goes on over seconds, a walk towards the camera coming down the frame)
    plus the lowest its rows go below them (the largest) within :data:`FLOOR` frames of each
    frame; NaN where none is seen."""
    below = rows - level_rows
    low = np.pad(np.where(np.isnan(below), -np.inf, below), FLOOR, constant_values=-np.inf)
    out = np.lib.stride_tricks.sliding_window_view(low, 2 * FLOOR + 1).max(axis=1)
    return level_rows + np.where(np.isfinite(out), out, np.nan)


def distances(points: np.ndarray) -> np.ndarray:
    """(N,) how far a ground track (N, 2, no gaps) has gone over the ground by each frame."""
    return np.r_[0.0, np.cumsum(np.hypot(*np.diff(level(points), axis=0).T))]


@dataclass(frozen=True)
class Perspective:
    """How tall a subject is at row y of a set: ``a + b·y`` pixels (its clip's); ``known`` False:
    nothing was learnt (flat: every row the same)."""

    a: float = 0.0
    b: float = 0.0
    known: bool = False

    def scale(self, y_from: float, y_to: float) -> float:
        """How much bigger a subject is at row ``y_to`` than at ``y_from`` (bounded)."""
        if not self.known:
            return 1.0
        h0, h1 = self.a + self.b * y_from, self.a + self.b * y_to
        if h0 <= 0 or h1 <= 0:  # above the horizon the line says: as small as allowed
            return SCALE_RANGE[0] if h1 <= 0 < h0 else SCALE_RANGE[1] if h0 <= 0 < h1 else 1.0
        return float(np.clip(h1 / h0, *SCALE_RANGE))


def perspective(layers, samples: int = 160, bins: int = 12) -> Perspective:
    """The set's perspective from the subjects its clip shows (each subject in up to
    ``samples`` frames; those cut by the frame's edge left out): the median height in each of
    ``bins`` bands of ground rows, a line through them. Flat (unknown) unless the subjects were
    seen standing on at least three bands spanning an eighth of the frame, taller lower down."""
    n, h = len(layers), layers.size[1]
    ys, hs = [], []
    for k in np.unique(np.linspace(0, n - 1, min(n, samples)).round().astype(int)):
        rgba, x0, y0 = layers.cutout(int(k))
        alpha = rgba[..., 3] > 127
        if alpha.sum() < MIN_AREA:
            continue
        labels = layers.labels(int(k))
        for sid in np.unique(labels[alpha]):
            m = alpha & (labels == sid)
            if m.sum() < MIN_AREA:
                continue
            rows = np.flatnonzero(m.any(axis=1))
            top, bottom = y0 + int(rows[0]), y0 + int(rows[-1])
            if top <= 1 or bottom >= h - 2 or bottom - top + 1 < 0.04 * h:
                continue
            ys.append(bottom)
            hs.append(bottom - top + 1)
    if len(ys) < 6:
        return Perspective()
    ys, hs = np.array(ys, np.float64), np.array(hs, np.float64)
    band = np.minimum((ys / h * bins).astype(int), bins - 1)
    by, bh, bw = [], [], []
    for i in range(bins):
        sel = band == i
        if sel.sum() >= 3:
            by.append(np.median(ys[sel]))
            bh.append(np.median(hs[sel]))
            bw.append(math.sqrt(sel.sum()))
    if len(by) < 3 or max(by) - min(by) < h / 8:
        return Perspective()
    b, a = np.polyfit(by, bh, 1, w=bw)
    fit = a + b * np.array(by)
    if b <= 0 or fit.min() <= 0 or np.median(np.abs(fit - bh) / fit) > 0.25:
        return Perspective()
    return Perspective(float(a), float(b), True)


@dataclass(frozen=True)
class Walker:
    """How character A walks in its own clip: its frames ``frames`` (clip indices, from the
    shot's character frame on), the frame (index into them) its cycle goes back to after the
    last (``loop``), its ``stride`` (ground pixels per frame, its clip's; 0: it does not go
    anywhere) and ``heading`` (+1 right, −1 left, 0 neither), and its ``ground`` (clip pixels:
    x under it, y where it meets the path — its lowest row, or its floor where it jumps:
    :data:`FLOOR`, :data:`LIFT`) and ``centre`` in each of those frames."""

    frames: np.ndarray
    loop: int
    stride: float
    heading: int
    ground: np.ndarray
    centre: np.ndarray

    travelled: np.ndarray
    """(n,) how far its ground point has gone over the ground by each of its frames (its clip's
    pixels; :func:`distances`: its bob left out)."""
    depth: np.ndarray | None = None
    """(n,) how much bigger its own set's perspective makes it in each of its frames than in
    the first (it walks towards its camera: its frames grow); None: the same in every frame."""
    turning: float = 2.0
    """How far (its pixels) a path must go back the other way to turn it round: a third of its
    height, at least 2 (a walk towards the camera sways, a subject spinning on its spot wobbles
    — they go nowhere sideways)."""
    poses: np.ndarray | None = None
    """(n, D) the silhouette (:func:`pose_descriptor`) of each of its frames."""
    lifted: np.ndarray | None = None
    """(n,) how far (its pixels) each of its frames keeps it off the path: its own jump, above
    :data:`LIFT` of its height (its :attr:`ground` is lowered by as much); None: nowhere."""

    def frame(self, phase: float) -> int:
        """Index into :attr:`frames` at ``phase`` frames of A's walk: its frames in order, then
        round its cycle."""
        i, n = int(math.floor(phase + 1e-9)), len(self.frames)
        return i if i < n else self.loop + (i - n) % (n - self.loop)

    def frame_at(self, distance: float) -> int:
        """Index into :attr:`frames` of the frame A reached when its feet had carried it
        ``distance`` pixels (its clip's): its frames in order, then round its cycle — so its
        feet do not slide, whatever the pace."""
        d, n = self.travelled, len(self.frames)
        if distance > d[-1] and n - self.loop > 1:
            lap = d[-1] - d[self.loop] + self.stride  # round the cycle, and the jump back
            distance = d[self.loop] + (distance - d[-1] - self.stride) % lap
        return int(np.clip(np.searchsorted(d, distance, side="right") - 1, 0, n - 1))


def walker(layers, first: int, subjects: tuple[int, ...], foot: Footing | None = None,
           own: Perspective | None = None) -> Walker:  # fmt: skip
    """Character A's :class:`Walker` from its clip layers, its frames from ``first`` on (up to
    :data:`CYCLE_FRAMES`): the cycle is where the video texture's transition graph
    (engine.frames.motion), on their silhouettes (:func:`pose_descriptor`), jumps back from
    the last of them; ``own``: its own set's perspective, which its frames' sizes are taken out
    of (a transfer's size is the new set's)."""
    foot = foot or footing(layers, subjects)
    frames = np.arange(first, min(len(layers), first + CYCLE_FRAMES))
    ground = smoothed(foot.ground[frames])
    seen = ~np.isnan(ground[:, 0])
    if seen.any():  # a frame it is not seen in stands where it was last (or first) seen
        idx = np.where(seen, np.arange(len(frames)), 0)
        np.maximum.accumulate(idx, out=idx)
        idx[: np.argmax(seen)] = np.argmax(seen)
        ground = ground[idx]
    else:
        w, h = layers.size
        ground = np.tile([w / 2, h - 1.0], (len(frames), 1))
    travelled = distances(ground)
    # its feet stand on the path where they touch its floor (:func:`floor`: a walk away from
    # its camera moves it slowly); lifted higher than LIFT of its height (a jump of its own), it
    # is lifted off the path as far, less that
    tall = np.nanmedian(foot.height[frames]) if foot.seen[frames].any() else 0.0
    lifted = np.maximum(floor(ground[:, 1], level(ground)[:, 1]) - ground[:, 1] - LIFT * tall, 0)
    ground = np.column_stack([ground[:, 0], ground[:, 1] + lifted])
    centre = np.array([layers.centre(int(k), subjects) for k in frames])
    poses = describe(layers, frames)
    loop = 0
    if len(frames) > 3:
        d = frame_distance(poses, None, 0.0)
        graph = TransitionGraph.build(d)
        last = len(frames) - 1
        cand = graph.jumps[last]
        cand = cand[cand < last] if len(cand) else cand
        loop = int(cand[np.argmin(graph.total[last, cand])]) if len(cand) else 0
    stride = travelled[-1] / max(len(frames) - 1, 1)
    w = layers.size[0]
    drift = float(ground[-1, 0] - ground[0, 0]) if len(ground) > 1 else 0.0
    moving = stride > 0.002 * w and abs(drift) > 0.05 * w
    heading = int(np.sign(drift)) if moving else 0
    depth = None
    if own is not None and own.known:
        depth = np.array([own.scale(ground[0, 1], y) for y in ground[:, 1]])
    return Walker(frames, loop, stride if moving else 0.0, heading, ground, centre, travelled,
                  depth, max(2.0, float(tall) / 3), poses, lifted)  # fmt: skip


def describe(layers, frames) -> np.ndarray:
    """:func:`pose_descriptor` of each of a clip's ``frames`` (its whole cut-out's matte)."""
    return np.stack([pose_descriptor(layers.cutout(int(k))[0][..., 3]) for k in frames])


# -- the plan of a shot ---------------------------------------------------------------------------
@dataclass
class Place:
    """Where one output frame puts character A: its clip frame ``frame`` (index ``i`` into the
    walker's frames), A's ground point there (``foot``, A's pixels) at ``point`` (output
    pixels), ``scale`` (on top of fitting A's frame into the output), ``angle`` (degrees,
    clockwise on screen, about A's centre) and ``mirror``."""

    frame: int
    i: int
    foot: np.ndarray
    point: np.ndarray
    scale: float
    angle: float
    mirror: bool

    def matrix(self, fit: float, centre: np.ndarray) -> np.ndarray:
        """The forward map (3×3) of A's frame's pixels → output pixels: A's ground point to
        :attr:`point`, scaled by ``fit`` (A's frame fitted into the output) × :attr:`scale`,
        mirrored about it, turned about where A's ``centre`` (A's pixels) goes."""
        s = fit * self.scale
        m = np.array([[-s if self.mirror else s, 0, 0], [0, s, 0], [0, 0, 1.0]])
        m[:2, 2] = self.point - m[:2, :2] @ self.foot
        if self.angle:
            c = (m @ np.append(centre, 1.0))[:2]
            r = math.radians(self.angle)
            rot = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0],
                            [0, 0, 1.0]])  # fmt: skip
            m = _about(rot, c) @ m
        return m


def _about(m: np.ndarray, c) -> np.ndarray:
    t = np.array([[1, 0, c[0]], [0, 1, c[1]], [0, 0, 1.0]])
    return t @ m @ np.linalg.inv(t)


@dataclass
class Sources:
    """What a plan reads. ``motion`` (C's ground track, smoothed, in its clip's pixels, (N, 2),
    NaN where not seen) and ``to_output`` (C's pixels → output, 3×3); ``drive(local)`` → (C's
    frame, the drive's extra map in C's pixels or None); ``walker`` (A) and ``fit`` (A's pixels
    → output, 3×3); ``set_rows`` (output y → B's row) and ``perspective`` (B's); ``turn(k)``:
    C's turn at its frame k (degrees), for ``turns`` "follow"; ``poses``: for ``steps``
    "match", C's silhouettes of its frames ``first`` on (:func:`describe`) and ``first``;
    ``size``: the output's (w, h); ``level``: C's ground rows without their quick ups and downs
    (:func:`level`, (N,)), what its steps are measured on (None: ``motion``'s rows)."""

    motion: np.ndarray
    to_output: np.ndarray
    drive: Callable[[int], tuple[int, np.ndarray | None]]
    walker: Walker
    fit: np.ndarray
    set_rows: Callable[[float], float]
    perspective: Perspective
    turn: Callable[[int], float]
    size: tuple[int, int]
    poses: tuple[np.ndarray, int] | None = None
    level: np.ndarray | None = None


@dataclass
class Plan:
    """A shot's transfer, one :class:`Place` per output frame, grown on demand (:meth:`at`).
    ``steps``: "cycle" (A's frames in order, at the pace of the path), "match" (A's frame whose
    pose is closest to C's, in time order) or "rigid" (A's character frame throughout);
    ``size``: "set" or "fixed"; ``turns``: "upright" or "follow". ``notes``: what the user
    should know (said in the inspector)."""

    src: Sources
    steps: str
    size: str
    turns: str
    subjects: tuple[int, ...] = ()
    """The character's subjects it shows (all: empty)."""
    notes: list[str] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, ROW))
    """One row per output frame made so far (29 bytes: a million frames take 29 MB)."""
    made: int = 0
    _phase: float = 0.0
    _heading: int = 0
    _turned: float = 0.0
    """The furthest x the path went its way (where it started, before it had one)."""
    _last: np.ndarray | None = None
    _lift: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """C's ground point's way up from its level, now (output pixels; where it was last seen)."""
    _walked: np.ndarray | None = None
    """The last frame's point on C's level: how far the path went over the ground is measured
    between these (a hop's bounce does not spend the character's steps)."""
    _rise: float = 0.0
    """How far C's ground point is up from its floor, now (output pixels; as last seen)."""
    _floor: np.ndarray = field(init=False)
    """C's floor (:func:`floor` of its track's rows)."""
    _origin: np.ndarray | None = None
    _lost_at: int | None = None
    _out_at: int | None = None

    def __post_init__(self) -> None:
        src = self.src
        on_level = level(src.motion)[:, 1] if src.level is None else src.level
        self._floor = floor(src.motion[:, 1], on_level)
        if not (~np.isnan(src.motion[:, 0])).any():
            self.notes.append("nothing moves in the motion's clip: the character stands still")
        wk = src.walker
        if len(wk.frames) == 1:
            self.notes.append("the character's clip is one frame: its pose is held")
        elif self.steps == "cycle" and wk.stride == 0:
            self.notes.append("the character does not walk in its own clip: its frames play at "
                              "their own pace while the path moves")  # fmt: skip
        if self.size == "set" and not src.perspective.known:
            self.notes.append("the set shows no subject at different depths: the size stays "
                              "fixed")  # fmt: skip

    def at(self, local: int) -> Place:
        if local >= len(self.rows):
            grown = np.zeros(max(local + 1, 2 * len(self.rows), 64), ROW)
            grown[: self.made] = self.rows[: self.made]
            self.rows = grown
        while self.made <= local:
            self.rows[self.made] = self._next(self.made)
            self.made += 1
        return self._place(self.rows[local])

    def _place(self, row) -> Place:
        i = int(row["i"])
        wk = self.src.walker
        return Place(int(wk.frames[i]), i, wk.ground[i], row["point"].copy(),
                     float(row["scale"]), float(row["angle"]), bool(row["mirror"]))

    def note(self) -> str:
        """What the user should know, in one line ("" when all is well)."""
        extra = []
        if self._lost_at is not None:
            extra.append(f"the motion's subject is out of sight from frame {self._lost_at + 1}: "
                         "the character waits where it was")  # fmt: skip
        if self._out_at is not None:
            extra.append(f"the path leaves the frame at frame {self._out_at + 1}")
        return "; ".join(self.notes + extra)

    def _seen(self, t: int) -> tuple[int, np.ndarray | None]:
        """C's frame at output frame t, and there its ground point, that point on its level
        (:func:`level`) and on its floor (:func:`floor`) — (3, 2), the output's pixels — or None
        where it is not seen."""
        src = self.src
        k, extra = src.drive(t)
        if not 0 <= k < len(src.motion) or np.isnan(src.motion[k, 0]):
            return k, None
        x, y = src.motion[k]
        p = np.array([[x, x, x], [y, y if src.level is None else src.level[k], self._floor[k]],
                      [1.0, 1.0, 1.0]])  # fmt: skip
        if extra is not None:
            p = extra @ p
        return k, (src.to_output @ p)[:2].T

    def _ground(self, t: int) -> np.ndarray | None:
        """C's ground point at output frame t, in the output's pixels (before the anchor); where
        C's subject is out of sight, where it was last seen."""
        k, seen = self._seen(t)
        if seen is None:
            if self._last is None:
                shown = np.flatnonzero(~np.isnan(self.src.motion[:, 0]))
                if not len(shown):
                    return None
                g = np.append(self.src.motion[shown[np.argmin(np.abs(shown - k))]], 1.0)
                return (self.src.to_output @ g)[:2]
            if self._lost_at is None and t > 0:
                self._lost_at = t
            return self._last
        self._last, self._lift = seen[0], seen[1] - seen[0]
        self._rise = max(0.0, float(seen[2, 1] - seen[0, 1]))
        return seen[0]

    def _next(self, t: int) -> tuple:
        src, wk = self.src, self.src.walker
        fit = src.fit[0, 0]
        anchor = (src.fit @ np.append(wk.ground[0], 1.0))[:2]
        q = self._ground(t)
        if t == 0:
            self._origin = q
            if q is not None:  # which way it sets off: the first that goes far enough
                for h in range(1, AHEAD + 1):
                    a = self._seen(h)[1]
                    if a is not None and abs(a[0, 0] - q[0]) >= wk.turning * fit:
                        self._heading = int(np.sign(a[0, 0] - q[0]))
                        break
            self._turned = float(anchor[0])
        point = anchor if q is None or self._origin is None else anchor + q - self._origin
        w, h = src.size
        if self._out_at is None and not (0 <= point[0] < w and 0 <= point[1] < h + 2):
            self._out_at = t
        scale = 1.0
        if self.size == "set":
            scale = src.perspective.scale(src.set_rows(anchor[1]), src.set_rows(point[1]))
        prev = self._place(self.rows[t - 1]) if t else None
        walked = point + self._lift  # on C's level: the ground it covers
        moved = float(np.hypot(*(walked - self._walked))) if self._walked is not None else 0.0
        self._walked = walked
        # which way it heads: it turns round once it has gone back far enough from the
        # furthest it went its way (a sway, a wobble does not turn it)
        far = wk.turning * fit * scale
        x = float(point[0])
        if self._heading >= 0 and x <= self._turned - far:
            self._heading, self._turned = -1, x
        elif self._heading <= 0 and x >= self._turned + far:
            self._heading, self._turned = 1, x
        elif self._heading:
            self._turned = max(self._turned, x) if self._heading > 0 else min(self._turned, x)
        if self.steps == "cycle" and t > 0:
            if wk.stride > 0:  # as far as the path went, in A's own pixels
                self._phase += min(moved / (fit * scale), MAX_RATE * wk.stride)
            else:  # it walks on the spot: at its own pace while the path moves
                self._phase += 0.0 if moved < 0.001 * w else 1.0
        if self.steps == "cycle":  # A's frame where its feet carried it as far as the path
            i = wk.frame_at(self._phase) if wk.stride > 0 else wk.frame(self._phase)
        elif self.steps == "match" and src.poses is not None and len(wk.frames) > 1:
            i = self._matched(t, None if prev is None else prev.i)
        else:
            i = 0
        mirror = bool(wk.heading and self._heading and self._heading != wk.heading)
        if wk.depth is not None:  # A as big as in its first frame, whatever its own depth
            scale /= float(wk.depth[i])
        if wk.lifted is not None and self._rise:  # A's own jump and C's, the higher: not both
            point = point + (0.0, min(self._rise, float(wk.lifted[i]) * fit * scale))
        angle = src.turn(src.drive(t)[0]) if self.turns == "follow" else 0.0
        return point, scale, angle, i, mirror

    def _matched(self, t: int, prev: int | None) -> int:
        """A's frame whose pose is closest to C's at output frame t, a jump away from going on
        (the same frame, or the next one or two) costing :data:`MATCH_STICK` median distances."""
        motion_poses, first = self.src.poses
        k = int(np.clip(self.src.drive(t)[0] - first, 0, len(motion_poses) - 1))
        d = ((self.src.walker.poses - motion_poses[k]) ** 2).sum(axis=1)
        if prev is not None:
            scale = float(np.median(d)) or 1.0
            near = (np.arange(len(d)) - prev)
            d = d + MATCH_STICK * scale * ~((near >= 0) & (near <= 2))
        return int(d.argmin())


def turn_of(forward: np.ndarray) -> float:
    """The turn (degrees, clockwise on screen) of a forward map's linear part."""
    return math.degrees(math.atan2(forward[1, 0], forward[0, 0]))
