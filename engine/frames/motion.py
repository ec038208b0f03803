"""Motion sources: what drives the character at a shot's local frame t.

Data path role: between the document (engine.document.Shot) and the renderers, through
engine.frames.drive. Every shot's motion, whatever made it, comes out as one ``Drive`` per local
frame: the frame ``k`` of the motion clip whose pose is shown, and ``extra``, a forward map (3×3,
the motion clip's normalised coordinates, [-1, 1] per axis, as in engine.model) applied on top of
the clip's own motion to frame ``k`` — the root motion carried across jumps, the user's path. The
Director turns it into one pixel map (pixels mode: composed into the single warp of the full-
resolution cut-out) or one theta (model mode: ``theta_k · extra⁻¹``).

Sources:

- the clip's frames (``once``, ``loop``, ``pingpong``): ``Shot.motion_frame``, no extra;
- ``endless``: a video texture (Schödl et al. 2000; ../shared/papers/related-abstracts.txt) — a
  random walk over a graph of transitions between frames that look alike, with a *learned* frame
  distance (:func:`frame_distance`): the model's f_c of each frame with its global motion taken
  out by T^Z (pose, not position), plus how the character moves;
- ``extend``: frames past the clip's end predicted by a small recurrent network on the motion
  alone (engine.frames.predictor; DrNet's idea, ../shared/papers/drnet-disentangled-video.txt);
- a path: keyframes of position, rotation and scale (:func:`path_matrix`) composed with any of
  the above.

No Qt; numpy (and torch for one large matrix product: :func:`frame_distance`); the model's
features are computed by the caller, engine.frames.inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.document import EDGES, Key

WINDOW = 2
"""Video textures' dynamics filter: frames i and j match when the 2·WINDOW frames around them do."""
FUTURE = 0.99
"""Discount of the future cost (how far ahead a dead end is seen)."""
MIN_JUMP = 3
"""A jump goes at least this many frames away from the natural next frame (else it is a stutter)."""


# -- the learned frame distance --------------------------------------------------------------------
def _median_off_diagonal(d: np.ndarray) -> float:
    n = len(d)
    if n < 2:
        return 1.0
    v = d[~np.eye(n, dtype=bool)]
    m = float(np.median(v))
    return m if m > 1e-12 else max(float(v.mean()), 1e-12)


def frame_distance(pose: np.ndarray, steps: np.ndarray, move_weight: float = 0.2) -> np.ndarray:
    """(N, N) distance between the frames of a motion: ``pose`` (N, D) — what the character
    looks like with its global motion taken out — and ``steps`` (N, S) — how it moves into each
    frame (the root motion's step from the frame before). Each term is scaled by its median, so
    ``move_weight`` weighs dynamics against pose."""
    # torch's matrix product, not numpy's: on the studio's render thread, beside torch's own
    # threads, numpy's OpenBLAS stalled for minutes (tests/test_studio_motion.py)
    import torch

    p = torch.as_tensor(np.asarray(pose, np.float32).reshape(len(pose), -1))
    d = (torch.cdist(p, p).double() ** 2).numpy()
    d /= _median_off_diagonal(d)
    if move_weight > 0 and steps is not None and len(steps):
        s = steps.reshape(len(steps), -1).astype(np.float64)
        m = ((s[:, None, :] - s[None, :, :]) ** 2).sum(-1)
        d = d + move_weight * m / _median_off_diagonal(m)
    np.fill_diagonal(d, 0)
    return d


def root_steps(forward: np.ndarray) -> np.ndarray:
    """How the character moves into each frame: the forward map's step from the frame before,
    F_{k−1}⁻¹ F_k, as 6 numbers less the identity's (N, 6); frame 0 takes frame 1's step."""
    forward = np.asarray(forward, np.float64)
    steps = np.zeros((len(forward), 6))
    if len(forward) > 1:
        s = np.linalg.inv(forward[:-1]) @ forward[1:]
        steps[1:] = (s[:, :2] - np.eye(3)[:2]).reshape(-1, 6)
        steps[0] = steps[1]
    return steps


def filtered(d: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Video textures' diagonal filter: D'(i, j) = Σ_k w_k D(i+k, j+k), k = −window … window−1,
    binomial weights (renormalised where the window runs off the clip): a jump from i to j is
    good only when the frames before and after match too, which keeps the dynamics."""
    n = len(d)
    taps = np.array([math.comb(2 * window - 1, i) for i in range(2 * window)], np.float64)
    out, weight = np.zeros_like(d), np.zeros_like(d)
    for w, k in zip(taps, range(-window, window), strict=True):
        lo, hi = max(0, -k), min(n, n - k)
        if hi <= lo:
            continue
        out[lo:hi, lo:hi] += w * d[lo + k : hi + k, lo + k : hi + k]
        weight[lo:hi, lo:hi] += w
    return out / np.maximum(weight, 1e-12)


GOOD_JUMP = 0.1
"""A jump is allowed when its cost, future included, is at most this much above going on (costs
are squared filtered distances in units of the clip's median distance between two frames)."""
SURE = 0.1
"""How clearly a jump must beat going on (same units) before the walk is sure to take it: near a
dead end, going on costs the bad jump that waits at the end."""


LOOSE = 1.0
"""How much worse than going on (same units) a jump may be when the good ones would all repeat
a run the walk has shown."""


def jump_rate(jumps: float) -> float:
    """The chance of a jump per frame, where a good one exists, for the ``jumps`` setting 0 … 1:
    1 in 50 frames … 1 in 2."""
    return 0.02 * 25 ** float(np.clip(jumps, 0, 1))


@dataclass
class TransitionGraph:
    """Where a walk may go from each frame of a motion. ``total[i, j]``: the cost of showing
    frame j right after frame i — 0 for the natural next frame, else how unlike frame i is to
    frame j − 1 (the frame j follows in the clip), the dynamics filter applied — plus the future
    cost of where j leads (video textures' Q-learning: a run towards the clip's end, which has no
    next frame, costs the jump out of it). ``jumps[i]``: the frames a jump from i may go to."""

    total: np.ndarray
    jumps: list[np.ndarray]

    @classmethod
    def build(cls, d: np.ndarray, min_jump: int = MIN_JUMP) -> TransitionGraph:
        """From an (N, N) frame distance (:func:`frame_distance`)."""
        n = len(d)
        f = filtered(d)
        cost = np.full((n, n), np.inf)
        cost[:, 1:] = f[:, :-1]
        if n == 1:
            cost[0, 0] = 0.0
        c2 = (cost / (_median_off_diagonal(f) if n > 1 else 1.0)) ** 2
        finite = np.isfinite(c2)
        future = np.zeros((n, n))
        for _ in range(5000):  # the min form of Q-learning's fixed point (video textures §3.2)
            best = np.where(finite, future, np.inf).min(axis=1)
            new = np.where(finite, c2, 0) + FUTURE * best[None, :]
            done = np.abs(new - future).max() < 1e-7
            future = new
            if done:
                break
        total = np.where(finite, future, np.inf)
        jumps = []
        idx = np.arange(n)
        for i in range(n):
            row = total[i]
            # far enough from the natural next frame (else a stutter), and the best of a run of
            # near-identical targets (a local minimum of the row)
            left, right = np.r_[np.inf, row[:-1]], np.r_[row[1:], np.inf]
            ok = np.isfinite(row) & (np.abs(idx - (i + 1)) >= min_jump)
            ok &= (row <= left) & (row <= right)
            jumps.append(np.flatnonzero(ok))
        return cls(total=total, jumps=jumps)

    def __len__(self) -> int:
        return len(self.jumps)

    def choices(self, i: int, jumps: float) -> tuple[np.ndarray, np.ndarray]:
        """The frames that may follow frame ``i`` and their probabilities."""
        n, row = len(self), self.total[i]
        cand = self.jumps[i]
        if i + 1 >= n:  # the clip's end: a jump it must be, the best ones likeliest
            if len(cand) == 0:
                cand = np.array([int(np.argmin(row))])
            w = np.exp(-(row[cand] - row[cand].min()) / GOOD_JUMP)
            keep = w > 1e-3
            return cand[keep], w[keep] / w[keep].sum()
        going_on = row[i + 1]
        good = cand[row[cand] <= going_on + GOOD_JUMP]
        if len(good) == 0:
            return np.array([i + 1]), np.array([1.0])
        best = row[good].min()
        p_jump = max(jump_rate(jumps), 1 - math.exp(-max(going_on - best, 0) / SURE))
        w = np.exp(-(row[good] - best) / GOOD_JUMP)
        return np.r_[i + 1, good], np.r_[1 - p_jump, p_jump * w / w.sum()]

    def successors(self, i: int) -> np.ndarray:
        """The frames that may follow frame ``i`` at all: the next one, and the jumps at most
        :data:`LOOSE` worse than going on (at the clip's end, than the best jump)."""
        row, n = self.total[i], len(self)
        cand = self.jumps[i]
        going_on = row[i + 1] if i + 1 < n else (row[cand].min() if len(cand) else 0.0)
        good = cand[row[cand] <= going_on + LOOSE]
        if i + 1 < n:
            return np.r_[i + 1, good]
        return good if len(good) else np.array([int(np.argmin(row))])

    def walk(self, length: int, seed: int, jumps: float = 0.5, start: int = 0) -> np.ndarray:
        """``length`` frames of a random walk from frame ``start`` (:class:`Walker`)."""
        return Walker(self, seed, jumps, start).extend(length)


class Walker:
    """A random walk over a :class:`TransitionGraph` that goes on where it stopped: ``extend``
    (n) gives its first n frames, the same ones whatever lengths were asked before (so a walk
    the playhead has outrun grows; it is not made again). Reproducible from ``seed``; ``jumps``
    0 … 1, how often it jumps (:func:`jump_rate`). It avoids showing a run of a third of the
    clip twice: where every frame allowed next would repeat one, it looks at the jumps up to
    :data:`LOOSE` worse, and past half the clip at any jump, the least bad (a clip with no good
    jump in it would otherwise go round one short loop).

    On the beat (the audio-conditioned video textures of related-abstracts.txt, with our own
    scoring): ``beats`` (L,) bool, whether step t is on a beat, and ``accent`` (N,) bool, which
    frames are motion accents (engine.beats.accents). Then the walk jumps only on beats (a jump
    as likely there as over a beat's span of frames), and every way on from a beat — going on,
    and the jumps up to :data:`LOOSE` worse — is weighted by how the accents of the run it starts
    meet the beats ahead (:meth:`_meets_beats`): a good jump keeps the motion's phase, so only a
    somewhat worse one can move its accents onto the beat; between
    beats it shows a run again up to half the clip rather than jump off the beat. Past step L,
    or where it must jump, it walks as without."""

    def __init__(self, graph: TransitionGraph, seed: int, jumps: float = 0.5, start: int = 0,
                 beats: np.ndarray | None = None, accent: np.ndarray | None = None):
        self.graph = graph
        self.beats = None if beats is None or accent is None else np.asarray(beats, bool)
        self.accent = None if accent is None else np.asarray(accent, bool)
        if self.beats is not None:
            at = np.flatnonzero(self.beats)
            self.gap = max(1, round(float(np.median(np.diff(at))))) if len(at) > 1 else 1
            near = self.beats.copy()  # a beat's own frame and those either side
            near[1:] |= self.beats[:-1]
            near[:-1] |= self.beats[1:]
            self.near = near
        n = len(graph)
        self.soft, self.hard = max(3, n // 3), max(3, (n - 1) // 2)
        self.rng = np.random.default_rng(seed)
        self.seen: dict[int, set[tuple]] = {self.soft: set(), self.hard: set()}
        self.table = [graph.choices(i, jumps) for i in range(n)]
        self.rate = jump_rate(jumps)
        self.out: list[int] = [start]

    def extend(self, length: int) -> np.ndarray:
        g, out, seen, n = self.graph, self.out, self.seen, len(self.graph)
        soft, hard = self.soft, self.hard

        def fresh(cands, size: int) -> np.ndarray:
            tail = tuple(out[len(out) - size + 1 :])
            return np.array([(*tail, int(j)) not in seen[size] for j in cands], bool)

        while len(out) < length:
            t, i = len(out), out[-1]
            idx, p = self.table[i]
            if self.beats is not None and t < len(self.beats):
                idx, p = self._on_beat(t, i, idx, p)
            limit = soft
            if self.beats is not None and t < len(self.beats) and not self.beats[t]:
                limit = hard  # between beats only a long repeat makes it jump off the beat
            if t >= limit - 1 and len(idx) and not fresh(idx, limit).all():
                ok = fresh(idx, limit)
                if ok.any():
                    idx, p = idx[ok], p[ok] / p[ok].sum()
                else:  # every allowed frame repeats a run: jumps somewhat worse, or any
                    row = g.total[i]
                    anywhere = np.flatnonzero(np.isfinite(row) & (np.arange(n) != i))
                    for cand, size in ((g.successors(i), limit), (anywhere, hard)):
                        if t < size - 1:
                            continue
                        cand = cand[fresh(cand, size)]
                        if len(cand):
                            idx, p = np.array([cand[np.argmin(row[cand])]]), np.array([1.0])
                            break
            out.append(int(idx[0]) if len(idx) == 1 else int(self.rng.choice(idx, p=p)))
            for size in (soft, hard):
                if t >= size - 1:
                    seen[size].add(tuple(out[t - size + 1 :]))
        return np.array(out[:length], np.int64)

    def _on_beat(self, t: int, i: int, idx: np.ndarray, p: np.ndarray):
        """The ways on from frame ``i`` at step ``t`` of a walk on the beat, and their chances."""
        going = idx[0] == i + 1  # else the clip ends here: a jump it must be, beat or not
        if not self.beats[t]:
            return (idx[:1], np.ones(1)) if going else (idx, p)
        # on a beat: the jumps up to LOOSE worse than going on may be taken too, if their
        # accents meet the beats ahead that much better (a good jump keeps the motion's phase:
        # only a worse one can move its accents onto the beat)
        row, cand = self.graph.total[i], self.graph.successors(i)
        jumps = cand[1:] if going else cand
        if len(jumps) == 0:
            return idx, p
        w = np.exp(-(row[jumps] - row[jumps].min()) / GOOD_JUMP)
        if going:
            jump = max(1 - p[0] ** self.gap, self.rate)
            w = np.r_[(1 - jump) / jump * w.sum(), w]
        w = w * np.exp(BEAT_PULL * np.array([self._meets_beats(int(j), t) for j in cand]))
        return cand, w / w.sum()

    def _meets_beats(self, j: int, t: int) -> float:
        """How well the run from frame ``j`` at step ``t`` (two beats long, or to the clip's end)
        puts its accents on the beats ahead: (on − off) / accents, −1 … 1; 0 without accents."""
        n = len(self.accent)
        span = min(2 * self.gap, n - j, len(self.beats) - t)
        hits = np.flatnonzero(self.accent[j : j + span])
        if len(hits) == 0:
            return 0.0
        on = self.near[t + hits]
        return float(on.sum() - (~on).sum()) / len(hits)


BEAT_PULL = 4.0
"""How strongly a walk on the beat prefers the ways on whose accents meet the beats: a way
that puts all its accents on beats is e^(2·BEAT_PULL) ≈ 3000 times likelier than one that
puts none there: as much as a jump 0.8 worse (8 × :data:`GOOD_JUMP`) weighs against it."""


# -- root motion carried across jumps --------------------------------------------------------------
SETTLE = 0.1
"""Share of a carried change of height undone each frame after a jump."""


def translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]])


def mirror(x: float) -> np.ndarray:
    """Left–right mirror about the vertical line at ``x`` (a character turning round)."""
    return translate(x, 0) @ np.diag([-1.0, 1, 1]) @ translate(-x, 0)


def carry(frames: np.ndarray, centres: np.ndarray, half_width: float,
          edge: str = "turn") -> np.ndarray:  # fmt: skip
    """The extra forward map (T, 3, 3) of each output frame of a walk ``frames`` (T,):
    :class:`Carrier`, all at once."""
    return Carrier(centres, half_width, edge).extend(frames)


class Carrier:
    """The extra forward maps of a walk over a motion whose frame k puts the character's centre
    at ``centres[k]`` (x, y normalised), frame after frame, going on where it stopped: where
    the walk jumps from i to j, the character is moved so that j continues from i as it
    continued from j − 1 — j − 1's centre put on i's (a walk keeps walking instead of snapping
    back). Only the shift is carried, not the turn or size, which the frames bring themselves
    (a tracked turn's small errors would add up jump after jump, tilting a walker over), and
    the height settles back to the clip's own by :data:`SETTLE` a frame (or a bob's small
    differences would add up, sinking the walker into the ground). ``edge`` (EDGES) says what
    happens when the centre, ``half_width`` of the character beside it, reaches the left or
    right edge."""

    def __init__(self, centres: np.ndarray, half_width: float, edge: str = "turn") -> None:
        if edge not in EDGES:
            raise ValueError(f"unknown edge {edge!r} (choose from {', '.join(EDGES)})")
        self.centres = np.c_[np.asarray(centres, np.float64), np.ones(len(centres))]
        self.half, self.edge = half_width, edge
        self.a = np.eye(3)
        self.last: int | None = None  # the frame shown before
        self.prev_x: float | None = None

    def extend(self, frames: np.ndarray) -> np.ndarray:
        """The maps of the walk's next ``frames``."""
        c, half, edge = self.centres, self.half, self.edge
        inner = 1 - half
        out = np.empty((len(frames), 3, 3))
        a, last, prev_x = self.a, self.last, self.prev_x
        for t, k in enumerate(frames):
            k = int(k)
            if last is not None and k != last + 1:
                here, there = a @ c[last], a @ c[max(k - 1, 0)]
                a = translate(*(here - there)[:2]) @ a
            elif last is not None:  # the height drifts back to the clip's own
                a = a.copy()
                a[1, 2] *= 1 - SETTLE
            x = (a @ c[k])[0]
            if edge == "wrap" and abs(x) > 1 + half:
                a = translate(-np.sign(x) * 2 * (1 + half), 0) @ a
            elif edge == "stay" and abs(x) > inner:
                a = translate(np.sign(x) * inner - x, 0) @ a
            elif edge == "turn" and abs(x) > inner and prev_x is not None and abs(x) > abs(prev_x):
                # mirrored about its own centre: from here its steps go the other way
                a = mirror(x) @ a
            prev_x = (a @ c[k])[0]
            out[t] = a
            last = k
        self.a, self.last, self.prev_x = a, last, prev_x
        return out


# -- motion paths ----------------------------------------------------------------------------------
def _catmull_rom(p0, p1, p2, p3, u: float) -> np.ndarray:
    u2, u3 = u * u, u * u * u
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2
                  + (-p0 + 3 * p1 - 3 * p2 + p3) * u3)  # fmt: skip


def path_at(keys: tuple[Key, ...], t: float) -> tuple[float, float, float, float]:
    """(x, y, angle, scale) of a path at local frame ``t``: a Catmull–Rom curve through the key
    positions, angle and scale straight between keys; eased where a key says so; held before the
    first key and after the last."""
    if not keys:
        return 0.0, 0.0, 0.0, 1.0
    if t <= keys[0].frame or len(keys) == 1:
        k = keys[0]
        return k.x, k.y, k.angle, k.scale
    if t >= keys[-1].frame:
        k = keys[-1]
        return k.x, k.y, k.angle, k.scale
    i = max(j for j in range(len(keys)) if keys[j].frame <= t)
    a, b = keys[i], keys[i + 1]
    u = (t - a.frame) / (b.frame - a.frame)
    # a key that eases slows the motion next to it: leaving a slowly, arriving at b slowly
    if a.ease == "ease" and b.ease == "ease":
        u = u * u * (3 - 2 * u)
    elif a.ease == "ease":
        u = u * u
    elif b.ease == "ease":
        u = u * (2 - u)
    pts = [np.array([k.x, k.y]) for k in keys]
    p0 = pts[i - 1] if i > 0 else 2 * pts[i] - pts[i + 1]
    p3 = pts[i + 2] if i + 2 < len(pts) else 2 * pts[i + 1] - pts[i]
    x, y = _catmull_rom(p0, pts[i], pts[i + 1], p3, u)
    return float(x), float(y), a.angle + (b.angle - a.angle) * u, a.scale + (b.scale - a.scale) * u


def path_matrix(keys: tuple[Key, ...], t: float, pivot: tuple[float, float],
                size: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """The path's forward map (3×3) in the output's pixels at local frame ``t``: about ``pivot``
    (the character's centre, output pixels) turned and scaled, then moved by the path's offset."""
    x, y, angle, scale = path_at(keys, t)
    r = math.radians(angle)
    c, s = scale * math.cos(r), scale * math.sin(r)
    turn = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    px, py = pivot
    return translate(px + x * size[0], py + y * size[1]) @ turn @ translate(-px, -py)
