"""What stands in front of the subject in its own set: a sign the walker passes behind.

Such a thing is part of the set — it never moves, so it is in the clean plate — and the cut-out
has a hole where it hides the subject (a head over a pair of legs). Laid on another set, the hole
shows the new set through the subject; so the set's pixels that hide the subject are found, kept
beside the cut-out (``front.npy``) and laid over it on the new set (a shot's *In front*).

Found from the subject's mattes alone, at most FRONT_LINES lines high and FRONT_FRAMES frames
of the clip: a pixel of the set lies *between* two parts of the subject when the matte is found
on both sides of it along a row or a column within FRONT_REACH of the frame's height (a line
closing). Where that happens in several frames, the subject itself is never seen there, the set
has an outline around it (FRONT_EDGE; where the set shows in most frames: under a subject that
stays, the plate is a guess) and the subject moves along it (a walker passing: the
parts of the subject beside it travel), the set is in front; a gap that travels with the
subject (between legs), that keeps still with a subject that keeps still (an arm on a hip), that
the frame's edge cuts, or that lies between the bits of a small subject (a time stamp's digits)
is not. The found pixels are grown to the whole
object in the plate (OpenCV's GrabCut: the found pixels sure, where the subject was seen sure
set).
"""

from __future__ import annotations

import cv2
import numpy as np

FRONT_LINES = 240
FRONT_FRAMES = 300
FRONT_REACH = 0.2
"""How far apart (share of the frame's height) two parts of the subject may be for the set
between them to count as hiding the subject."""
FRONT_SUBJECT = 1 / 200
"""The least area (share of the frame) of a subject in a frame for its parts to count (not the
digits of a time stamp; cutout.MIN_SUBJECT_SHARE)."""
MAX_SUBJECTS = 1024
"""Subjects past this many are not told apart in what a thing in front hides."""
FRONT_AREA = 0.0015
"""The least area (share of the frame) of a thing in front."""
FRONT_EDGE = 2.0
"""A thing in front has an outline in the set: the gradient of the plate along the found part's
rim is this many times the plate's median gradient or more (a gap between a hand and a head on a
plain wall has none)."""
FRONT_EDGE_LEAST = 100.0
"""... and at least this (Sobel, 0–255 images: a step of about 25 levels), on a plain set."""
FRONT_TRAVEL = 0.3
"""How much more of the ring around a thing the subject meets over the frames than at once, for
the thing to be in front rather than a gap of the subject's own (:meth:`Front._travels`)."""


class Front:
    """Collects a clip's subjects frame by frame (:meth:`add`) and finds what is in front of
    them (:meth:`find`)."""

    def __init__(self, w: int, h: int, n: int) -> None:
        self.size = (w, h)
        s = min(1.0, FRONT_LINES / h)
        self.small = (max(1, round(w * s)), max(1, round(h * s)))
        self.kept = set(np.linspace(0, n - 1, min(n, FRONT_FRAMES)).round().astype(int).tolist())
        sw, sh = self.small
        reach = max(3, int(FRONT_REACH * sh) | 1)
        self.lines = np.ones((1, reach), np.uint8), np.ones((reach, 1), np.uint8)
        self.between = np.zeros((sh, sw), np.int32)
        self.seen = np.zeros((sh, sw), np.int32)
        self.packed: list[tuple[np.ndarray, np.ndarray]] = []  # (matte, gap) of kept frames
        self.gaps: dict[int, np.ndarray] = {}  # each subject's gaps, all frames (packed)

    def add(self, k: int, labels: np.ndarray, x0: int, y0: int) -> None:
        """Frame k's subjects where they are opaque: uint16 (h, w), 0 elsewhere, of the box
        whose top-left is (x0, y0) in the frame."""
        if k not in self.kept:
            return
        sw, sh = self.small
        whole = np.zeros((sh, sw), np.uint16)
        if labels.any():  # the box scaled as the frame is
            s, (h, w) = sw / self.size[0], labels.shape
            bx0, by0 = min(sw - 1, int(x0 * s)), min(sh - 1, int(y0 * s))
            bx1 = max(bx0 + 1, min(sw, round((x0 + w) * s)))
            by1 = max(by0 + 1, min(sh, round((y0 + h) * s)))
            whole[by0:by1, bx0:bx1] = cv2.resize(labels, (bx1 - bx0, by1 - by0),
                                                 interpolation=cv2.INTER_NEAREST)  # fmt: skip
        labels = whole
        matte = (labels > 0).view(np.uint8)
        gap = np.zeros_like(matte)
        pad = self.lines[1].shape[0]
        ids, areas = np.unique(labels[labels > 0], return_counts=True)
        for sid in ids[areas >= FRONT_SUBJECT * sw * sh].tolist():  # between parts of one subject
            one = (labels == sid).view(np.uint8)
            x, y, w, h = cv2.boundingRect(one)
            box = (slice(max(0, y - pad), y + h + pad), slice(max(0, x - pad), x + w + pad))
            own = np.zeros_like(matte)
            for line in self.lines:
                own[box] |= cv2.morphologyEx(one[box], cv2.MORPH_CLOSE, line)
            own &= 1 - matte
            if own.any() and (sid in self.gaps or len(self.gaps) < MAX_SUBJECTS):
                bits = np.packbits(own)
                self.gaps[sid] = bits if sid not in self.gaps else self.gaps[sid] | bits
            gap |= own
        self.between += gap
        self.seen += matte
        self.packed.append((np.packbits(matte), np.packbits(gap)))

    def find(self, plate: np.ndarray) -> tuple[np.ndarray, list[int]] | None:
        """What is in front of the subjects: alpha (uint8 (H, W) at the clip's size) and the
        subjects it hides; None where nothing is in front."""
        if len(self.packed) < 3:
            return None
        w, h = self.small
        if plate.shape[1::-1] != self.small:
            plate = cv2.resize(plate, self.small, interpolation=cv2.INTER_AREA)
        plate = np.ascontiguousarray(plate.astype(np.uint8))
        edges = _edges(plate)
        usual = max(FRONT_EDGE * float(np.median(edges)), FRONT_EDGE_LEAST)
        often = max(3, int(0.02 * len(self.packed)))
        set_shown = 2 * self.seen < len(self.packed)
        unseen = (self.seen * 10 <= self.between).view(np.uint8)  # (the subject all but never)
        candidate = (self.between >= often).view(np.uint8) & unseen
        # (a subject that moves fast leaves a few frames' stripes: one thing)
        candidate = cv2.morphologyEx(candidate, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        candidate &= unseen
        n, comp, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
        found = np.zeros((h, w), np.uint8)
        for c in range(1, n):
            x, y, bw, bh, area = stats[c]
            if area >= FRONT_AREA * w * h and x > 0 and y > 0 and x + bw < w and y + bh < h:
                part = (comp == c).astype(np.uint8)
                rim = cv2.dilate(part, np.ones((3, 3), np.uint8)) != cv2.erode(part, None)
                shown = rim & set_shown  # (where the subject stands, the plate is a guess)
                if (2 * shown.sum() >= rim.sum() and edges[shown].mean() >= usual
                        and self._travels(part)):
                    found |= _grown(part, plate, self.seen)
        if not found.any():
            return None
        bits = np.packbits(found)
        hidden = sorted(sid for sid, gaps in self.gaps.items() if (gaps & bits).any())
        alpha = found * np.uint8(255)
        if self.small != self.size:
            alpha = cv2.resize(alpha, self.size, interpolation=cv2.INTER_LINEAR)
        return alpha, hidden

    def _travels(self, part: np.ndarray) -> bool:
        """Whether the subject moves along ``part`` while it lies between the subject's parts:
        of the ring around it, the share the subject meets over those frames less the share it
        meets at once (a walker passing meets all of it, a bit at a time; a hand on a hip, all
        of the gap's ring all the time)."""
        w, h = self.small
        ring = ((cv2.dilate(part, np.ones((5, 5), np.uint8)) > 0) & (part == 0)).ravel()
        inside = part.ravel() > 0
        met = np.zeros(int(ring.sum()), bool)
        shares = []
        for matte, gap in self.packed:
            if not np.unpackbits(gap, count=w * h)[inside].any():
                continue
            on = np.unpackbits(matte, count=w * h)[ring] > 0
            met |= on
            shares.append(on.mean())
        if len(shares) < 3:
            return False
        return float(met.mean() - np.mean(shares)) >= FRONT_TRAVEL


def _edges(image: np.ndarray) -> np.ndarray:
    """The image's gradient magnitude (Sobel), the largest of its channels'."""
    f = image.astype(np.float32)
    gx, gy = cv2.Sobel(f, cv2.CV_32F, 1, 0), cv2.Sobel(f, cv2.CV_32F, 0, 1)
    return np.sqrt(gx * gx + gy * gy).max(axis=2)


def _grown(part: np.ndarray, image: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``part`` grown to the whole object it is of in ``image`` (the plate; GrabCut in a box
    twice its size, where the subject was ever seen sure set), as uint8 0/1."""
    h, w = part.shape
    x, y, bw, bh = cv2.boundingRect(part)
    pad = max(bw, bh)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(w, x + bw + pad), min(h, y + bh + pad)
    mask = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
    mask[seen[y0:y1, x0:x1] > 0] = cv2.GC_BGD
    mask[part[y0:y1, x0:x1] > 0] = cv2.GC_FGD
    out = part.copy()
    if (mask == cv2.GC_PR_BGD).sum() >= 16:  # else there is nothing to grow into
        try:
            cv2.grabCut(image[y0:y1, x0:x1], mask, None, np.zeros((1, 65)), np.zeros((1, 65)),
                        3, cv2.GC_INIT_WITH_MASK)  # fmt: skip
        except cv2.error:  # (one colour only: nothing to tell apart)
            return out
        grown = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
        # only what joins the found part
        n, comp = cv2.connectedComponents(grown, connectivity=8)
        keep = np.unique(comp[part[y0:y1, x0:x1] > 0])
        out[y0:y1, x0:x1] |= np.isin(comp, keep[keep > 0]).astype(np.uint8)
    return out
