"""The cut-out learnt from the clip itself: its set, how much the set flickers, and its subjects.

Data path role: inside engine.frames.layers, the classical half of a clip's analysis. Nothing
here needs the model; the model's matte is one more cue, weighted by how well it agrees
(engine.frames.layers).

- :func:`set_plate`: the clean plate as each pixel's **most-supported colour** over evenly spaced
  samples (the colour most other samples agree with, within the footage's noise), and the median
  of the samples that agree. A subject that stands still for a while, or passes often, does not
  smear the plate as it smears a plain median; where no colour wins a clear majority the plate is
  the plain median (never worse than it where the set shows most of the time).
- :func:`noise_map`: how far the set's own pixels stray from the plate, per pixel (flicker,
  compression, leaves): the threshold of "differs" follows it.
- :class:`Matting`: a frame's subject mask — hysteresis on the difference from the plate (strong
  seeds, weak growth), cast shadows taken out (darker, same colour and texture as the set), holes
  filled, specks dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

STRONG = 30
"""Difference (0–255, max over RGB) that says "subject" on its own, at least."""
WEAK = 12
"""Difference a pixel next to a sure one needs to join it, at least."""
SHADOW_RATIO = (0.2, 0.92)
"""A cast shadow darkens the set to this share of its brightness, keeping its colour."""
SHADOW_SPREAD = 0.25
"""How far the three channels' ratios (frame over plate) of a shadow may differ, relative."""
SHADOW_GROW = 4
"""Steps (pixels) a sure shadow grows into darker pixels of the set's colour (its edge)."""
SHADOW_SMOOTH = 0.1
"""How much a shadow's ratio may vary around a pixel (relative standard deviation, 5×5)."""
SHADOW_ON_SET = 0.25
"""The share of the pixels around a shadow that must be the set (not the subject)."""
RIM_SHARE = 0.7
"""A pixel on a mask's rim stays only where the frame differs from the plate by this share of
what the subject's inside just next to it differs (:meth:`Matting.trim_rim`)…"""
RIM_STEPS = 2
"""…tested on the rim this many times (the outermost pixel, then the next)."""
SHADOW_LINES = 240
"""The texture test looks at frames scaled down to at most this many lines (its window)."""
SHADOW_TEXTURE = 3.0
"""How much the set's chromaticity varies around a pixel (sd, 0–255 scale, 7×7) for the set
there to have a texture a cast shadow must keep (a marker's writing on a whiteboard)…"""
SHADOW_KEEPS = 0.3
"""…and the correlation (of the frame's chromaticity with the set's, 7×7) a shadow must keep
there on average: under a subject that texture is gone."""
MOVED = 20
"""Difference (0–255, max over RGB) from a few frames before that says "moved" (Stillness)."""
STILL_GAP = 3
"""Frames between the two a motion is measured on (Stillness)."""
STILL_WINDOW = 0.25
"""The window motion is pooled over, a share of the frame's short side (Stillness)."""
QUIET_SHARE = 0.3
"""The share of a pixel's samples, the quietest, whose votes for the set count in full."""
MOVING_VOTE = 0.1
"""What the vote of a sample in which things move around the pixel counts for (set_plate)."""


def _odd(n: float) -> int:
    return max(1, int(n) // 2 * 2 + 1)


def set_plate(samples: np.ndarray, still: np.ndarray | None = None, tol: float = 14.0,
              ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The clean plate (H, W, 3) uint8 of samples (K, H, W, 3) uint8 and each pixel's support
    (H, W) float32: the share of samples within ``tol`` (max over RGB) of the chosen colour.

    ``still`` (K, H, W) bool, from :class:`Stillness`: the samples in which little moves around
    each pixel. Their votes count in full, the others' at MOVING_VOTE: the set is what shows
    where nothing moves, so a man who gestures on his spot for most of the clip does not become
    the set behind him (he moves, the wall he leaves uncovered does not)."""
    k, h, w = samples.shape[:3]
    out = np.empty((h, w, 3), np.uint8)
    support = np.empty((h, w), np.float32)
    rows = max(1, (1 << 22) // (w * k * k))
    for y in range(0, h, rows):
        s = torch.from_numpy(samples[:, y : y + rows]).to(torch.int16)  # K, r, W, 3
        weight = torch.ones(s.shape[:3]) if still is None else \
            torch.from_numpy(still[:, y : y + rows]).float() * (1 - MOVING_VOTE) + MOVING_VOTE
        med = s.float().median(dim=0).values
        # votes[i] = the weight of the samples within tol of sample i (in every channel; one
        # plane of channel at a time: 5× faster than a max over a last axis of 3)
        planes = s.permute(3, 0, 1, 2).contiguous()  # 3, K, r, W
        near = (planes[0][:, None] - planes[0][None]).abs() <= tol  # K, K, r, W
        for c in (1, 2):
            near &= (planes[c][:, None] - planes[c][None]).abs() <= tol
        votes = (near * weight[None]).sum(dim=1)  # K, r, W
        best = votes.argmax(dim=0)  # r, W
        agree = near.gather(0, best[None, None].expand(1, k, *best.shape))[0]  # K, r, W
        # the plate: median of the samples agreeing with the best-supported one
        part = s.float().masked_fill(~agree[..., None], float("nan"))
        mode = torch.nanmedian(part, dim=0).values
        by_med = (s.float() - med).abs().amax(dim=-1) <= tol
        top = votes.gather(0, best[None])[0]
        use_mode = top > (by_med * weight).sum(dim=0) + torch.clamp(weight.sum(dim=0) / 8, min=2)
        plate = torch.where(use_mode[..., None], mode, med)
        out[y : y + rows] = plate.add(0.5).clamp(0, 255).byte().numpy()
        support[y : y + rows] = (torch.where(use_mode, agree.sum(0), by_med.sum(0)).float()
                                 / k).numpy()  # fmt: skip
    return out, support


class Stillness:
    """Which samples show little moving around each pixel: fed every frame of the clip in
    order, it measures at each sampled frame the share of pixels that changed (over MOVED) since
    STILL_GAP frames before (after, for the first frames) in a window of STILL_WINDOW of the
    frame's short side around each pixel (LaBGen's motion-weighted selection, Laugraud et al.
    2017). A pixel's quietest QUIET_SHARE of the samples are still."""

    def __init__(self, wanted: set[int]) -> None:
        self.wanted = wanted
        self.recent: dict[int, np.ndarray] = {}
        self.energy: dict[int, np.ndarray] = {}
        self.small: tuple[int, int] | None = None

    @classmethod
    def of(cls, frames: np.ndarray, idx) -> np.ndarray | None:
        """:meth:`still` of the samples ``idx`` of frames (N, H, W, 3) held in memory."""
        stillness = cls({int(k) for k in idx})
        for k, frame in enumerate(frames):
            stillness.add(k, frame)
        return stillness.still(frames.shape[2:0:-1])

    def _measure(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        h, w = a.shape[:2]
        if self.small is None:
            f = min(1.0, 320 / max(w, h))
            self.small = (max(1, round(w * f)), max(1, round(h * f)))
        sw, sh = self.small
        moved = (channel_max(cv2.absdiff(a, b)) > MOVED).astype(np.uint8) * 255
        moved = (cv2.resize(moved, self.small, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        moved = cv2.dilate(moved, np.ones((3, 3), np.uint8))
        moved = fill_holes(moved, 1.0)  # (inside a moving outline, a plain coat moves too)
        size = _odd(min(sw, sh) * STILL_WINDOW)
        return cv2.blur(moved.astype(np.float32), (size, size))

    def add(self, k: int, frame: np.ndarray) -> None:
        early = k - STILL_GAP
        if k in self.wanted and early >= 0:
            self.energy[k] = self._measure(frame, self.recent[early])
        if early in self.wanted and early not in self.energy:
            self.energy[early] = self._measure(frame, self.recent[early])
        self.recent.pop(early, None)
        if k + STILL_GAP in self.wanted or (k in self.wanted and k < STILL_GAP):
            self.recent[k] = frame.copy()  # (only those a sample needs; a decoder may reuse
            # its buffer)

    def still(self, size: tuple[int, int]) -> np.ndarray | None:
        """(K, H, W) bool at ``size`` (w, h), the samples in order; None where it has none
        (a clip too short to tell)."""
        ks = sorted(self.wanted)
        if len(ks) < 3 or any(k not in self.energy for k in ks):
            return None
        e = torch.from_numpy(np.stack([self.energy[k] for k in ks]))
        cut = torch.quantile(e.reshape(len(ks), -1), QUIET_SHARE, dim=0).reshape(e.shape[1:])
        still = (e <= cut + 1e-6).numpy().astype(np.uint8)
        return np.stack([cv2.resize(x, size, interpolation=cv2.INTER_NEAREST) for x in still]
                        ).astype(bool)  # fmt: skip


class PlateMean:
    """The plate made finer from every frame: per pixel, the mean of the frames within ``tol``
    of it (max over RGB) — the set as it shows in all of them, not in a few samples."""

    def __init__(self, plate: np.ndarray, tol: float = 14.0) -> None:
        self.plate, self.tol = plate, tol
        self.sum = np.zeros(plate.shape, np.float32)
        self.count = np.zeros(plate.shape[:2], np.float32)

    def add(self, frame: np.ndarray) -> None:
        near = (channel_max(cv2.absdiff(frame, self.plate)) <= self.tol).astype(np.float32)
        self.count += near
        self.sum += frame * near[..., None]

    def result(self) -> np.ndarray:
        ok = self.count >= 3
        mean = self.sum / np.maximum(self.count, 1)[..., None]
        return np.where(ok[..., None], mean + 0.5, self.plate).clip(0, 255).astype(np.uint8)


def at_most(w: int, h: int, lines: int) -> tuple[int, int]:
    """(w, h) scaled down so the short side is at most ``lines`` (unchanged when it is)."""
    f = min(1.0, lines / min(w, h))
    return max(1, round(w * f)), max(1, round(h * f))


def channel_max(image: np.ndarray) -> np.ndarray:
    """Each pixel's largest channel (H, W) of an (H, W, 3) image (OpenCV: numpy's reduction
    over a last axis of 3 is several times slower at 720p)."""
    r, g, b = cv2.split(image)
    return cv2.max(cv2.max(r, g), b)


def ratios(frame: np.ndarray, plate_f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame over the plate (``plate_f``: float, + 4): the three channels' mean ratio and
    how far they spread, relative to it (a shadow keeps the set's colour: one ratio)."""
    r0, r1, r2 = cv2.split((frame.astype(np.float32) + 4.0) / plate_f)
    mean = (r0 + r1 + r2) / 3
    top, low = cv2.max(cv2.max(r0, r1), r2), cv2.min(cv2.min(r0, r1), r2)
    return mean, (top - low) / np.maximum(mean, 0.05)


def range_distance(frame: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Max over RGB of each pixel's distance to the range [lo, hi] (uint8 (H, W))."""
    return channel_max(cv2.max(cv2.subtract(frame, hi), cv2.subtract(lo, frame)))


def noise_map(samples: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per pixel, how far the set strays from the plate's range where it shows (float32 (H, W)):
    the median over the samples of those within STRONG of the plate, smoothed."""
    d = np.stack([range_distance(x, lo, hi) for x in samples]).astype(np.float32)
    d[d > STRONG] = np.nan
    with np.errstate(all="ignore"):
        n = torch.nanmedian(torch.from_numpy(d), dim=0).values.nan_to_num(0.0).numpy()
    h, w = n.shape
    return cv2.blur(n, (_odd(min(w, h) / 40),) * 2)


class Matting:
    """A frame's subject mask (uint8 0/1 (H, W)) against a clean plate."""

    def __init__(self, plate: np.ndarray, noise: np.ndarray | None = None,
                 shadows: bool = True) -> None:  # fmt: skip
        h, w = plate.shape[:2]
        self.w, self.h = w, h
        square = np.ones((3, 3), np.uint8)
        self.lo, self.hi = cv2.erode(plate, square), cv2.dilate(plate, square)
        self.plate_f = plate.astype(np.float32) + 4.0
        noise = np.zeros((h, w), np.float32) if noise is None else noise
        self.strong = np.maximum(STRONG, 5 * noise).astype(np.float32)
        self.weak = np.maximum(WEAK, 2.5 * noise).astype(np.float32)
        self.shadows = shadows
        self.learnt: Callable[..., np.ndarray] | None = None
        """A test learnt from the clip (appearance.Shade.test: the frame and the pixels to ask
        about → those in shadow), or None."""
        self._texture: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._grid: tuple[np.ndarray, np.ndarray] | None = None
        self.last_difference: np.ndarray | None = None
        """How much :meth:`mask`'s last frame differs from the plate (float32 (H, W))."""
        self.last_loose = np.zeros((h, w), bool)
        """The pixels of :meth:`mask`'s last frame that may be shadow (they differ, darker, in
        the set's colour, loosely): what the ``learnt`` test is asked about."""
        self.last_shadow: np.ndarray | None = None
        """The cast shadow :meth:`mask` took out of its last frame (bool (H, W)), or None."""
        unit = max(1.0, min(w, h) / 240)
        self.open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(5 * unit),) * 2)
        self.min_area = max(4, int(w * h / 4000))

    def difference(self, frame: np.ndarray) -> np.ndarray:
        return range_distance(frame, self.lo, self.hi)

    def shadow(self, frame: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Pixels of ``where`` that are the set in shadow. Sure: the frame over the plate is
        one ratio in all three channels (the set's colour kept), darker by a plausible amount,
        and smooth around the pixel (the set's texture kept: a dark car's ratio is not smooth);
        or what the clip's ``learnt`` test says is like its sure shadows. Then grown
        (SHADOW_GROW) into darker pixels of the set's colour next to sure ones (a shadow's
        edge, where the ratio changes); a patch that hides the set's texture
        (:meth:`_keeps_texture`) or that the subject surrounds (:meth:`_on_set`) is not one."""
        mean, spread = ratios(frame, self.plate_f)
        mu = cv2.blur(mean, (5, 5))
        sd = np.sqrt(np.maximum(cv2.blur(mean * mean, (5, 5)) - mu * mu, 0)) / np.maximum(mu, 0.1)
        lo, hi = SHADOW_RATIO
        dark = where & (mean > lo) & (mean < hi)
        sure = dark & (spread < SHADOW_SPREAD) & (sd < SHADOW_SMOOTH)
        loose = dark & (spread < 1.6 * SHADOW_SPREAD)
        if self.learnt is not None:
            sure |= self.learnt(frame, loose)
        sure = cv2.morphologyEx(sure.astype(np.uint8), cv2.MORPH_OPEN, self.open)
        self.last_loose = loose
        loose = loose.astype(np.uint8)
        for _ in range(SHADOW_GROW):
            sure = cv2.dilate(sure, self.open) & loose
        return self._on_set(self._keeps_texture(frame, sure), where)

    @staticmethod
    def _chroma(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Red's and blue's share of the brightness (0–255): what a shadow does not change."""
        img = image.astype(np.float32)
        total = img[..., 0] + img[..., 1] + img[..., 2] + 30.0
        return 255 * img[..., 0] / total, 255 * img[..., 2] / total

    def _keeps_texture(self, frame: np.ndarray, shade: np.ndarray) -> np.ndarray:
        """``shade`` (uint8 0/1) without its patches that hide the set's texture: where the
        set's chromaticity varies (SHADOW_TEXTURE), a shadow keeps it (correlation over 7×7 at
        least SHADOW_KEEPS on average over the patch's textured pixels, when it has some); a
        grey shirt over a written-on whiteboard does not. Looked at SHADOW_LINES high."""
        n, labels = cv2.connectedComponents(shade, connectivity=8)
        if n <= 1:
            return shade
        k = (7, 7)
        if self._texture is None or self._grid is None:  # the set's side, once
            w, h = at_most(self.w, self.h, SHADOW_LINES)
            f = min(1.0, SHADOW_LINES / min(self.w, self.h))
            self._grid = (np.minimum(((np.arange(h) + 0.5) / f).astype(int), self.h - 1),
                          np.minimum(((np.arange(w) + 0.5) / f).astype(int), self.w - 1))
            plate = np.clip(self.plate_f - 4.0, 0, 255)
            if (w, h) != (self.w, self.h):
                plate = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
            self._texture = []
            for c in self._chroma(plate):
                mean = cv2.blur(c, k)
                self._texture.append((c, mean, np.maximum(cv2.blur(c * c, k) - mean * mean, 0)))
        rows, cols = self._grid
        small = labels[np.ix_(rows, cols)]  # (nearest)
        x, y, w, h = cv2.boundingRect((small > 0).view(np.uint8))
        if w == 0:
            return shade
        H, W = small.shape
        x0, y0, x1, y1 = max(0, x - 4), max(0, y - 4), min(W, x + w + 4), min(H, y + h + 4)
        if frame.shape[:2] != (H, W):
            frame = cv2.resize(frame, (W, H), interpolation=cv2.INTER_AREA)
        cov = var = var_set = 0.0
        for c, (cs, ms, vs) in zip(self._chroma(frame[y0:y1, x0:x1]), self._texture, strict=True):
            cs, ms, vs = cs[y0:y1, x0:x1], ms[y0:y1, x0:x1], vs[y0:y1, x0:x1]
            mean = cv2.blur(c, k)
            var = var + np.maximum(cv2.blur(c * c, k) - mean * mean, 0)
            cov = cov + cv2.blur(c * cs, k) - mean * ms
            var_set = var_set + vs
        corr = cov / np.sqrt(var * var_set + 25.0)
        small = small[y0:y1, x0:x1]
        textured = (np.sqrt(var_set) > SHADOW_TEXTURE) & (small > 0)
        count = np.bincount(small[textured], minlength=n)
        kept = np.bincount(small[textured], weights=corr[textured], minlength=n)
        least = max(20, self.min_area * (H * W) / (self.h * self.w))
        keep = (count < least) | (kept >= SHADOW_KEEPS * count)
        keep[0] = False
        return keep[labels].astype(np.uint8)

    def _on_set(self, shade: np.ndarray, where: np.ndarray) -> np.ndarray:
        """The parts of ``shade`` that lie on the set: at least SHADOW_ON_SET of the pixels
        around each touch no part of ``where`` (a patch the subject surrounds — a van's grey
        bumper — is a part of it, not its shadow)."""
        n, labels = cv2.connectedComponents(shade, connectivity=8)
        if n <= 1:
            return shade > 0
        around = cv2.dilate(labels.astype(np.uint16), self.open).astype(np.int64)
        ring = (around > 0) & (shade == 0)
        total = np.bincount(around[ring], minlength=n)
        free = np.bincount(around[ring & ~where], minlength=n)
        keep = free >= SHADOW_ON_SET * np.maximum(total, 1)
        keep[0] = False
        return keep[labels]

    def trim_rim(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` (uint8 0/1) of :meth:`mask`'s last frame without the rim pixels that differ
        from the plate by less than RIM_SHARE of the subject's inside next to them (mean over
        7×7 of the pixels a 3×3 cross away from the rim), RIM_STEPS times. "Differs at all"
        takes the pixels a blurred edge mixes a little of the subject into: the mask sat a
        pixel or two outside the subject's edge (boundary F 0.70 → 0.76 on the real scenes,
        docs/LAYERS.md). A part with no inside (a limb two pixels wide) keeps its rim."""
        x, y, w, h = cv2.boundingRect(mask)
        if w == 0 or self.last_difference is None:
            return mask
        x0, y0 = max(0, x - 4), max(0, y - 4)
        x1, y1 = min(self.w, x + w + 4), min(self.h, y + h + 4)
        part = mask[y0:y1, x0:x1].copy()
        d = self.last_difference[y0:y1, x0:x1]
        cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        for _ in range(RIM_STEPS):
            inner = cv2.erode(part, cross)
            weight = cv2.blur(inner.astype(np.float32), (7, 7))
            contrast = cv2.blur(d * inner, (7, 7)) / np.maximum(weight, 1e-3)
            part[(part > inner) & (weight > 0) & (d < RIM_SHARE * contrast)] = 0
        out = mask.copy()
        out[y0:y1, x0:x1] = part
        return out

    def cast_shadow(self, opaque: np.ndarray) -> np.ndarray | None:
        """The last frame's cast shadow (bool (H, W)) where the subject is not ``opaque``:
        the shadow :meth:`mask` took out, and next to it the pixels darker in the set's colour
        that the subject's mask took but its edge (:meth:`trim_rim`, the edge's α) leaves
        mostly uncovered — where the shadow meets the feet. None without shadows."""
        if self.last_shadow is None:
            return None
        shade = self.last_shadow.astype(np.uint8)
        loose = (self.last_loose & ~opaque).astype(np.uint8) | shade
        for _ in range(SHADOW_GROW):
            shade = cv2.dilate(shade, self.open) & loose
        return (shade > 0) & ~opaque

    def mask(self, frame: np.ndarray) -> np.ndarray:
        d = self.difference(frame).astype(np.float32)
        self.last_difference = d
        weak = d > self.weak
        strong = d > self.strong
        self.last_shadow = None
        if self.shadows:
            shade = self.shadow(frame, weak)
            weak &= ~shade
            strong &= ~shade
            self.last_shadow = shade
        seeds = cv2.morphologyEx(strong.astype(np.uint8), cv2.MORPH_OPEN, self.open)
        grown = cv2.morphologyEx(weak.astype(np.uint8), cv2.MORPH_CLOSE, self.open)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        keep = np.zeros(n, np.uint8)
        keep[np.unique(labels[seeds > 0])] = 1
        keep[0] = 0
        keep[stats[:, cv2.CC_STAT_AREA] < self.min_area] = 0
        mask = cv2.morphologyEx(keep[labels], cv2.MORPH_CLOSE, self.close)
        return fill_holes(mask, 0.25)


def darkening(frame: np.ndarray, plate: np.ndarray, shadow: np.ndarray,
              ) -> tuple[np.ndarray, int, int]:  # fmt: skip
    """A frame's cast shadow as how much it darkens the set (uint8 (h, w), 255 = black) over
    its box, softened at its edge, and the box's top-left (x0, y0); a (1, 1) zero where none."""
    x, y, w, h = cv2.boundingRect(shadow.astype(np.uint8))
    if w == 0:
        return np.zeros((1, 1), np.uint8), 0, 0
    H, W = shadow.shape
    x0, y0, x1, y1 = max(0, x - 2), max(0, y - 2), min(W, x + w + 2), min(H, y + h + 2)
    total = np.ones((1, 3), np.float32)  # (the channels' sum through OpenCV: fast at 720p)
    f = cv2.transform(frame[y0:y1, x0:x1].astype(np.float32), total) + 12
    p = cv2.transform(plate[y0:y1, x0:x1].astype(np.float32), total) + 12
    dark = np.clip(1 - f / p, 0, 1) * shadow[y0:y1, x0:x1]
    dark = cv2.GaussianBlur(dark.astype(np.float32), (5, 5), 1.2)
    return np.clip(dark * 255 + 0.5, 0, 255).astype(np.uint8), int(x0), int(y0)


def fill_holes(mask: np.ndarray, share: float) -> np.ndarray:
    """``mask`` (uint8 0/1) with its enclosed holes filled where a hole is under ``share`` of
    its part's area: a car's windscreen, a shirt the colour of the wall behind it. A bigger
    hole (an arm on a hip leaves a small one) stays a hole."""
    if share <= 0:
        return mask
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return mask
    out = mask.copy()
    for i, (*_, parent) in enumerate(hierarchy[0]):
        if parent < 0:  # an outer contour, not a hole
            continue
        if cv2.contourArea(contours[i]) < share * cv2.contourArea(contours[parent]):
            cv2.drawContours(out, contours, i, 1, thickness=cv2.FILLED)
    return out


MIN_SUBJECT_FRAMES = 3
"""A part seen in fewer frames than this is a flicker of the matte, not a subject to pick…"""
MIN_SUBJECT_TIME = 1 / 50
"""…nor one seen in fewer than this share of the clip's frames (a leaf that comes and goes)…"""
MIN_SUBJECT_SHARE = 1 / 200
"""…nor one never bigger than this share of the frame (a speck: at 320×240, 20×20 px)."""
MEET_SHARE = 0.15
"""A part of the matte that overlaps two remembered subjects, each by this share of it or more
(and a quarter of MIN_SUBJECT_SHARE of the frame), is both of them met: it is split between
them."""


class SubjectTracker:
    """Splits each frame's cut-out into its separate subjects and follows them from frame to
    frame. A part of the matte takes the subject it overlaps most in the tracker's memory (where
    each subject was last seen, up to MEMORY frames ago, grown by 1/40 of the frame to bridge a
    fast step or a gap); parts that overlap one subject are that subject (legs the matte cut off
    from their body), and a part overlapping none is a new subject. Two subjects that meet stay
    two: the part they make is split between them, each pixel to the one remembered nearest it
    (MEET_SHARE). Subjects are numbered 1, 2, … as they appear."""

    MEMORY = 6

    def __init__(self, w: int, h: int) -> None:
        self.memory = np.zeros((h, w), np.uint16)
        self.age = np.zeros((h, w), np.uint8)
        self.grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(min(w, h) / 40),) * 2)
        self.next_id = 1
        self.min_area = MIN_SUBJECT_SHARE * w * h
        self.stats: dict[int, dict] = {}
        self.centres: list[dict[int, tuple[float, float, float]]] = []

    def label(self, alpha: np.ndarray, x0: int, y0: int) -> np.ndarray:
        """The subject (uint16, 0 = none) of each pixel of a frame's cut-out box, whose alpha
        (uint8) is given and whose top-left is (x0, y0) in the frame."""
        h, w = alpha.shape
        shown = (alpha > 0).view(np.uint8)
        # parts a pixel or two apart (a neck the edge's trim cut) are one part
        n, comp = cv2.connectedComponents(cv2.dilate(shown, np.ones((3, 3), np.uint8)),
                                          connectivity=8)  # fmt: skip
        comp[shown == 0] = 0
        areas = np.bincount(comp.ravel(), minlength=n)
        # grey dilation: each remembered subject a little bigger (the higher id wins a tie)
        before = cv2.dilate(self.memory, self.grow)[y0 : y0 + h, x0 : x0 + w]
        ids = np.zeros(n, np.uint16)
        met: dict[int, list[int]] = {}  # each part's remembered subjects, each a fair share
        if n > 1:
            both = (comp > 0) & (before > 0)
            codes, counts = np.unique(comp[both].astype(np.int64) * 65536 + before[both],
                                      return_counts=True)  # fmt: skip
            best: dict[int, tuple[int, int]] = {}
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                c, old = divmod(code, 65536)
                if count > best.get(c, (0, 0))[1]:
                    best[c] = (old, count)
                if count >= max(MEET_SHARE * areas[c], self.min_area / 4):
                    met.setdefault(c, []).append(old)
            for c in range(1, n):
                old = best.get(c, (0, 0))[0]
                if old:
                    ids[c] = old
                elif self.next_id < 65535:
                    ids[c] = self.next_id
                    self.next_id += 1
                else:
                    ids[c] = 65535  # past 65,534 subjects: the rest share one
        labels = ids[comp]
        last = self.memory[y0 : y0 + h, x0 : x0 + w]  # (not grown: where each was seen)
        for c, olds in met.items():
            if len(olds) > 1:  # subjects that met: each pixel the one that was nearest
                self._part(labels, comp == c, last, olds, self.grow.shape[0])
        self.age = np.minimum(self.age.astype(np.int16) + 1, 255).astype(np.uint8)
        self.memory[self.age > self.MEMORY] = 0
        seen = labels > 0
        box = (slice(y0, y0 + h), slice(x0, x0 + w))
        self.memory[np.isin(self.memory, np.unique(labels[seen]))] = 0  # seen now: forgets where
        self.memory[box][seen] = labels[seen]
        self.age[box][seen] = 0
        k = len(self.centres)
        ys, xs = np.nonzero(seen)
        found, which = np.unique(labels[ys, xs], return_inverse=True)
        area = np.bincount(which).astype(np.float64)
        cx, cy = np.bincount(which, xs) / area + x0, np.bincount(which, ys) / area + y0
        here = {int(i): (float(x), float(y), float(a))
                for i, x, y, a in zip(found, cx, cy, area, strict=True)}  # fmt: skip
        for i, (_, _, area) in here.items():
            s = self.stats.setdefault(i, {"id": i, "first": k, "frames": 0, "best": k, "area": 0.0})
            s["frames"] += 1
            s["last"] = k
            if area > s["area"]:
                s["best"], s["area"] = k, area
        self.centres.append(here)
        return labels

    @staticmethod
    def _part(labels: np.ndarray, part: np.ndarray, last: np.ndarray, olds: list[int],
              pad: int) -> None:  # fmt: skip
        """Split ``part`` of ``labels`` between the remembered subjects ``olds`` it overlaps:
        each pixel goes to the one remembered nearest it (``last``: where each was seen, looked
        for up to ``pad`` pixels around the part)."""
        x, y, w, h = cv2.boundingRect(part.view(np.uint8))
        y0, x0 = max(0, y - pad), max(0, x - pad)
        box = (slice(y0, y + h + pad), slice(x0, x + w + pad))
        olds = [old for old in olds if (last[box] == old).any()]
        if len(olds) < 2:  # (no pixel of one of them to be nearest to)
            return
        dist = np.stack([cv2.distanceTransform((last[box] != old).view(np.uint8), cv2.DIST_L2, 3)
                         for old in olds])  # fmt: skip
        nearest = np.asarray(olds, np.uint16)[dist.argmin(axis=0)]
        inside = part[box]
        labels[box][inside] = nearest[inside]

    def subjects(self) -> list[dict]:
        """Each subject: ``id``, ``first`` and ``last`` frame, ``frames`` seen, ``best`` (the
        frame it is biggest in), ``area`` there (pixels) and ``minor`` (seen in fewer than
        MIN_SUBJECT_FRAMES frames or MIN_SUBJECT_TIME of the frames so far, or never bigger than
        MIN_SUBJECT_SHARE of the frame: kept in the cut-out, not listed)."""
        least = max(MIN_SUBJECT_FRAMES, MIN_SUBJECT_TIME * len(self.centres))
        return [{**s, "minor": s["frames"] < least or s["area"] < self.min_area}
                for s in sorted(self.stats.values(), key=lambda s: s["id"])]  # fmt: skip

    def centre_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The subjects' ids (S,) and their centres and areas (N, S, 3) float32 (area 0: not in
        that frame)."""
        ids = np.array(sorted(self.stats), np.int64)
        col = {int(i): j for j, i in enumerate(ids)}
        table = np.zeros((len(self.centres), len(ids), 3), np.float32)
        for k, here in enumerate(self.centres):
            for i, v in here.items():
                table[k, col[i]] = v
        return ids, table
