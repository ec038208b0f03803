"""What corrects a clip's cut-out beyond the thresholds: the user's brush strokes, carried to
the clip's other frames, and a matte that holds steady where the frame does not change.

Data path role: inside engine.frames.layers, after cutout.Matting (and the learnt
appearance.Appearance) has made a frame's mask: :class:`Strokes` applies the user's
corrections (saved with the clip: engine.document), :class:`Steady` keeps the clip-led matte
from flickering (docs/LAYERS.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.frames.cutout import channel_max, range_distance


def stroke_mask(stroke, w: int, h: int) -> np.ndarray:
    """A brush stroke (engine.document.Stroke) as a mask (uint8 0/1, (h, w)): a line through
    its points, ``radius`` pixels on either side; one point, a dab."""
    out = np.zeros((h, w), np.uint8)
    pts = np.round(np.array(stroke.points, np.float64)).astype(np.int32).reshape(-1, 1, 2)
    r = max(1, round(stroke.radius))
    for x, y in pts[:, 0]:
        cv2.circle(out, (int(x), int(y)), r, 1, -1)
    if len(pts) > 1:
        cv2.polylines(out, [pts], False, 1, thickness=2 * r + 1)
    return out


def _colour_bins(img: np.ndarray) -> np.ndarray:
    """Each pixel's bin of a 16×16×16 RGB histogram."""
    q = (img >> 4).astype(np.int32)
    return (q[..., 0] << 8) | (q[..., 1] << 4) | q[..., 2]


def _colour_odds(subject: np.ndarray, the_set: np.ndarray) -> np.ndarray:
    """P(subject | colour bin) (4096,) from pixels (N, 3) of each, both histograms smoothed
    across neighbouring bins and weighted equally."""
    def hist(px: np.ndarray) -> np.ndarray:
        h = np.bincount(_colour_bins(px.reshape(-1, 1, 3)).ravel(), minlength=4096)
        h = h.reshape(16, 16, 16).astype(np.float32)
        for axis in range(3):  # a [1, 2, 1] blur along each axis
            h = (2 * h + np.roll(h, 1, axis) + np.roll(h, -1, axis)) / 4
        return h.ravel() / max(h.sum(), 1.0)

    s, b = hist(subject), hist(the_set)
    return (s + 1e-6) / (s + b + 2e-6)


STILL_SHARE = 0.6
"""An add stroke marks a still subject (one the plate holds) when the plate shows this share of
its pixels as its frame does, and under MOVING_SHARE of the pixels around it move then; else it
marks a subject where it was then (a moving one, the colour of the set behind it there)."""
MOVING_SHARE = 0.2
STEADY = 0.6
"""Where this share of the samples agree with the plate, the plate is the set holding steady:
a stroke on a subject that moves does not make it the subject (a walker the colour of a door
behind it: the door stays set)."""


class Strokes:
    """The user's brush strokes on a clip, carried to its other frames.

    - Where an ``add`` stroke lies on what the plate shows (a subject that never moved, so the
      plate holds it), OpenCV's GrabCut finds that subject's whole extent in the plate from the
      stroke (its box grown 2.5 times; outside it, the set): the **still subject**. In a frame
      where it is (nothing moved around the stroke when it was made: every frame; else where a
      moving part of the matte touches it) it is the subject where the frame still shows the
      plate; where the frame differs
      there (it moved off, or something passed), the pixel is the subject only if its colour is
      the subject's more than the set's (colour histograms of the still subject and of the
      plate around it: a model of this clip's subject and set, learnt from the stroke).
    - Any stroke also holds on its own pixels in every frame that shows there what its frame
      showed (within the footage's noise): a patch of set the difference keeps finding is set
      in every frame, a piece of subject the difference keeps missing is subject."""

    def __init__(self, strokes: tuple, plate: np.ndarray,
                 shown: dict[int, np.ndarray], weak: np.ndarray,
                 moving: dict[int, np.ndarray], support: np.ndarray) -> None:  # fmt: skip
        h, w = plate.shape[:2]
        self.weak = weak
        square = np.ones((3, 3), np.uint8)
        lo, hi = cv2.erode(plate, square), cv2.dilate(plate, square)
        self.held = []  # (stroke mask, its frame's pixels, add)
        self.never_moves = False
        """Whether a still subject was marked where nothing moved around the stroke: it is then
        the subject in every frame; else only in frames where a moving part touches it."""
        seeds = np.zeros((h, w), np.uint8)
        against = np.zeros((h, w), np.uint8)
        for s in strokes:
            if s.frame not in shown:
                continue
            m = stroke_mask(s, w, h)
            frame = shown[s.frame]
            self.held.append((m > 0, frame, s.add))
            on_plate = (range_distance(frame, lo, hi) <= weak) & (m > 0)
            if on_plate.sum() >= STILL_SHARE * (m > 0).sum():  # the plate shows what it marks
                (seeds if s.add else against)[on_plate] = 1
                near = cv2.dilate(m, np.ones((2 * int(s.radius) + 5,) * 2, np.uint8)) > 0
                self.never_moves |= s.add and moving[s.frame][near].mean() < MOVING_SHARE
        self.still = np.zeros((h, w), bool)
        self.odds = None
        if seeds.any():
            found = self._grabcut(plate, seeds, against).astype(np.uint8)
            n, parts = cv2.connectedComponents(found, connectivity=8)
            keep = np.zeros(n, bool)
            keep[np.unique(parts[(seeds > 0) & (found > 0)])] = True
            keep[0] = False
            self.still = keep[parts]  # only what holds the stroke
            if not self.never_moves:  # a subject that moves is not where the set holds steady
                self.still &= support < STEADY
            self.touch = cv2.dilate(self.still.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            around = cv2.dilate(self.still.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
            ring = cv2.dilate(around.astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
            self.odds = _colour_odds(plate[self.still], plate[ring & ~around])
        self.plate_lo, self.plate_hi = lo, hi

    @staticmethod
    def _grabcut(plate: np.ndarray, seeds: np.ndarray, against: np.ndarray) -> np.ndarray:
        h, w = plate.shape[:2]
        x, y, bw, bh = cv2.boundingRect(seeds)
        cx, cy = x + bw / 2, y + bh / 2
        gw, gh = max(bw * 2.5, w / 4), max(bh * 2.5, h / 4)
        x0, x1 = int(max(0, cx - gw)), int(min(w, cx + gw))
        y0, y1 = int(max(0, cy - gh)), int(min(h, cy + gh))
        gc = np.full((h, w), cv2.GC_BGD, np.uint8)
        gc[y0:y1, x0:x1] = cv2.GC_PR_FGD  # GrabCut's box: its colours it sorts out itself
        gc[seeds > 0] = cv2.GC_FGD
        gc[against > 0] = cv2.GC_BGD
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.setRNGSeed(0)
        try:
            cv2.grabCut(np.ascontiguousarray(plate), gc, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # too few pixels of one kind to learn its colours
            return seeds > 0
        return (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)

    def apply(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``mask`` (uint8 0/1) of ``frame`` corrected by the strokes."""
        out = mask.astype(bool)
        if self.still.any() and (self.never_moves or (out & self.touch & ~self.still).any()):
            d = range_distance(frame, self.plate_lo, self.plate_hi)
            there = self.still & (d <= self.weak)
            moved = self.still & (d > self.weak)
            looks = self.odds[_colour_bins(frame)] > 0.5
            out |= there
            out &= ~(moved & ~looks)
            out |= moved & looks
        for m, shown, add in self.held:
            same = m & (channel_max(cv2.absdiff(frame, shown)) <= self.weak)
            if add:
                out |= same
            else:
                out &= ~same
        return out.astype(np.uint8)


class Steady:
    """A matte that does not flicker where the footage does not change: frame by frame, in
    order, each pixel that shows what it showed the frame before (within a quarter of the
    "differs" threshold) keeps the last frame's answer — but never "subject" where it shows
    the plate (within as much): a static thing the matte once took (a sign between a walker's
    head and legs) is not held for the rest of the clip. On the four real scenes it takes the
    flicker from 1.10 % to 0.64 % of the still pixels, IoU 0.72 → 0.73, boundary F 0.60 → 0.59
    (docs/LAYERS.md; at half the threshold: 0.32 %, but boundary F 0.56)."""

    def __init__(self, weak: np.ndarray, plate: np.ndarray) -> None:
        self.same = weak / 4
        self.plate = plate
        self.prev: tuple[np.ndarray, np.ndarray] | None = None

    def apply(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.prev is not None:
            before, was = self.prev
            unchanged = channel_max(cv2.absdiff(frame, before)) <= self.same
            unchanged &= (mask > 0) | (channel_max(cv2.absdiff(frame, self.plate)) > self.same)
            mask = np.where(unchanged, was, mask).astype(np.uint8)
        self.prev = (frame, mask)
        return mask
