"""The subject's regions learnt from the clip itself, with what is around them.

Data path role: inside engine.frames.layers, after cutout.Matting and appearance.Appearance in a
clip-led analysis. A small convolutional network (a U-Net of three levels) is trained per clip on
the CPU on the clip's own cut-out of a few frames, then asked about every frame. Where the cut-out
holds a whole region the network calls the set (a car's cast shadow that the per-pixel tests
missed) that region goes; where it calls a region the subject and the cut-out surrounds it (a car's
windscreen, a shirt the colour of the wall) the region comes in. The cut-out's own edge stays
everywhere else: the network only ever moves whole regions, never the outline it was taught
(its own outline is ragged: docs/LAYERS.md, "the subject's regions").
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from engine.frames.cutout import at_most, channel_max

REGIONS_LINES = 120
"""The network sees frames scaled down to at most this many lines (its time at 720p)."""
REGIONS_WORK = 240
"""The regions are decided at most at this many lines, then scaled to the frame."""
REGIONS_FRAMES = 16
"""Frames (evenly spaced samples) it learns from…"""
REGIONS_STEPS = 100
"""…in this many steps of Adam on 8 crops of REGIONS_CROP² (about 2.5 s on 2 cores)."""
REGIONS_CROP = 64
REGIONS_LEAST = 40
"""A region (px at REGIONS_WORK lines) smaller than this is never moved."""
REGIONS_SET, REGIONS_SUBJECT = 0.2, 0.8
"""The network's odds under which a region of the cut-out is the set, over which one is added."""
REGIONS_DIFFERS = 6
"""A pixel added must differ from the plate by more than this (max over RGB)."""
REGIONS_HELD = 0.6
"""A region is added only where the cut-out holds this share of its outline (a hole, a notch)."""


def _block(i: int, o: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(o, o, 3, padding=1), torch.nn.ReLU())  # fmt: skip


class UNet(torch.nn.Module):
    """Three levels, 9 → 16 → 32 → 32 channels (the frame, the plate, their difference)."""

    def __init__(self, channels: int = 9) -> None:
        super().__init__()
        self.e1, self.e2, self.e3 = _block(channels, 16), _block(16, 32), _block(32, 32)
        self.d2, self.d1 = _block(64, 32), _block(48, 16)
        self.out = torch.nn.Conv2d(16, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool, up = torch.nn.functional.max_pool2d, torch.nn.functional.interpolate
        a = self.e1(x)
        b = self.e2(pool(a, 2))
        c = self.e3(pool(b, 2))
        d = self.d2(torch.cat([up(c, size=b.shape[-2:], mode="bilinear"), b], 1))
        return self.out(self.d1(torch.cat([up(d, size=a.shape[-2:], mode="bilinear"), a], 1)))


def features(frame: np.ndarray, plate: np.ndarray) -> torch.Tensor:
    """(9, H, W): the frame, the plate and their absolute difference, 0–1."""
    f = torch.from_numpy(frame).permute(2, 0, 1).float() / 255
    p = torch.from_numpy(plate).permute(2, 0, 1).float() / 255
    return torch.cat([f, p, (f - p).abs()])


def parts(mask: np.ndarray, least: int = REGIONS_LEAST) -> np.ndarray:
    """The connected parts of ``mask`` (bool) of ``least`` pixels or more."""
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= least
    keep[0] = False
    return keep[comp]


def enclosed(add: np.ndarray, mask: np.ndarray, share: float = REGIONS_HELD,
             least: int = REGIONS_LEAST) -> np.ndarray:  # fmt: skip
    """The parts of ``add`` (bool; ``least`` px or more) whose outline ``mask`` holds for
    ``share`` or more: holes and notches of the mask, not a sliver along its outside."""
    n, comp, stats, _ = cv2.connectedComponentsWithStats(add.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(add)
    grown = cv2.dilate(comp.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
    ring = (grown > 0) & (comp == 0)
    around = np.bincount(grown[ring], minlength=n)
    held = np.bincount(grown[ring & mask], minlength=n)
    keep = (held >= share * np.maximum(around, 1)) & (stats[:, cv2.CC_STAT_AREA] >= least)
    keep[0] = False
    return keep[comp]


def _crops(t: torch.Tensor, boxes: list, side: int) -> torch.Tensor:
    return torch.stack([t[i, :, r : r + side, c : c + side] for i, r, c in boxes])


def fit(x: torch.Tensor, y: torch.Tensor, wt: torch.Tensor, balance: float,
        steps: int = REGIONS_STEPS, side: int = REGIONS_CROP, seed: int = 0,
        check: Callable[[], None] | None = None) -> UNet:  # fmt: skip
    """A :class:`UNet` fitted to labels ``y`` (K, 1, H, W; 1/0) weighted by ``wt`` (0: not
    scored) on inputs ``x`` (K, 9, H, W): ``steps`` steps of Adam, each on 8 random crops of
    ``side``², the subject's pixels weighted ``balance``; the same every run (``seed``).
    ``check()`` is called every 10 steps (it raises to cancel)."""
    h, w = x.shape[-2:]
    side = min(side, h, w)
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = UNet()
        opt = torch.optim.Adam(net.parameters(), 3e-3)
        for i in range(steps):
            if check is not None and i % 10 == 0:
                check()
            boxes = list(zip(rng.integers(0, len(x), 8), rng.integers(0, h - side + 1, 8),
                             rng.integers(0, w - side + 1, 8), strict=True))  # fmt: skip
            xb, yb, wb = (_crops(t, boxes, side) for t in (x, y, wt))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(xb), yb, reduction="none", pos_weight=torch.tensor(balance))
            loss = (loss * wb).sum() / wb.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


class Regions:
    """The clip's subject and set as regions: a U-Net trained on the clip's own cut-out of
    REGIONS_FRAMES frames (inside the mask 1 px in: subject; 2 px outside it: set; the edge
    between not scored; at REGIONS_LINES), asked about every frame by :meth:`refine`."""

    def __init__(self, net: torch.nn.Module, plate: np.ndarray) -> None:
        self.net = net
        h, w = plate.shape[:2]
        self.size, self.work = at_most(w, h, REGIONS_LINES), at_most(w, h, REGIONS_WORK)
        small = cv2.resize(plate, self.size, interpolation=cv2.INTER_AREA)
        self.plate_in = torch.from_numpy(small).permute(2, 0, 1).float() / 255
        self.plate_work = self._work(plate)
        self.near = np.ones((9, 9), np.uint8)

    def _work(self, image: np.ndarray, nearest: bool = False) -> np.ndarray:
        if image.shape[1::-1] == self.work:
            return image
        how = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        return cv2.resize(image, self.work, interpolation=how)

    @classmethod
    def learn(cls, samples: np.ndarray, plate: np.ndarray, masks: list[np.ndarray],
              check: Callable[[], None] | None = None) -> Regions | None:  # fmt: skip
        """Trained on ``samples`` (K, H, W, 3) and their ``masks`` (uint8 0/1) against
        ``plate``; None where they hold too few of either label (nothing moves). ``check()``
        is called every few steps (it raises to cancel)."""
        h, w = plate.shape[:2]
        size = at_most(w, h, REGIONS_LINES)
        small_plate = cv2.resize(plate, size, interpolation=cv2.INTER_AREA)
        inner, outer = np.ones((3, 3), np.uint8), np.ones((5, 5), np.uint8)
        xs, ys, ws = [], [], []
        for frame, mask in zip(samples, masks, strict=True):
            m = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
            pos, neg = cv2.erode(m, inner), 1 - cv2.dilate(m, outer)
            xs.append(features(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), small_plate))
            ys.append(torch.from_numpy(pos.astype(np.float32))[None])
            ws.append(torch.from_numpy((pos | neg).astype(np.float32))[None])
        x, y, wt = torch.stack(xs), torch.stack(ys), torch.stack(ws)
        positive = float(y.sum())
        if positive < 200 or float(wt.sum()) - positive < 200:
            return None
        balance = min((float(wt.sum()) - positive) / positive, 10.0)
        net = fit(x, y, wt, balance, check=check)
        return cls(net, plate)

    def odds(self, frame: np.ndarray) -> np.ndarray:
        """The network's odds that each pixel is the subject, at REGIONS_WORK lines."""
        small = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        f = torch.from_numpy(small).permute(2, 0, 1).float() / 255
        x = torch.cat([f, self.plate_in, (f - self.plate_in).abs()])[None]
        with torch.inference_mode():
            p = torch.sigmoid(self.net(x))[0, 0].numpy()
        p = cv2.resize(p, self.work, interpolation=cv2.INTER_LINEAR)
        return cv2.GaussianBlur(p, (0, 0), 1.5 * self.work[1] / 240)

    def refine(self, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``mask`` (uint8 0/1) less its regions the network calls the set, plus the regions it
        calls the subject that the mask surrounds and that differ from the plate."""
        if not mask.any():
            return mask
        p = self.odds(frame)
        small = self._work(frame)
        m = self._work(mask, nearest=True) > 0
        drop = parts(m & (p < REGIONS_SET))
        near = cv2.dilate(m.view(np.uint8), self.near) > 0
        differs = channel_max(cv2.absdiff(small, self.plate_work)) > REGIONS_DIFFERS
        add = enclosed(parts((p > REGIONS_SUBJECT) & near & ~m) & differs, m)
        if not drop.any() and not add.any():
            return mask
        h, w = mask.shape
        if (w, h) != self.work:  # (the regions' outlines scaled; the mask's own edge kept)
            drop = cv2.resize(drop.view(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR) > 0
            add = cv2.resize(add.view(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR) > 0
        return ((mask > 0) & ~drop | add).astype(np.uint8)
