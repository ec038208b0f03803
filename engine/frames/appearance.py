"""The cut-out learnt from the clip itself: what its subject looks like against its set.

Data path role: inside engine.frames.layers, after cutout.Matting in a clip-led analysis: a
small network trained per clip on the CPU on the clip's own confident labels adds to each
frame's mask what looks like the subject though it differs from the plate by little (the
issue "real subjects", item 2; measured in docs/LAYERS.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from engine.frames.cutout import Matting, _odd, at_most, channel_max, fill_holes, ratios

APPEARANCE_FRAMES = 16
"""Samples (evenly spaced) the clip's appearance network learns from…"""
APPEARANCE_SAMPLES = 1000
"""…and the confident subject pixels drawn from each (twice as many of the set)."""
APPEARANCE_STEPS = 300
"""Training steps of the clip's appearance network (batches of 4096: about a second)."""
APPEARANCE_REACH = 8
"""How far (px at 240 lines) from a frame's mask the appearance may add to it."""
APPEARANCE_FLOOR = 3
"""A pixel within this of the plate (max over RGB) is the set: not asked (time at 720p)."""
APPEARANCE_LOGIT = 2.2
"""The network's odds (logit) a pixel needs to join the subject: about 0.9."""
SHADE_LOGIT = 1.0
"""The shadow network's odds (logit) a pixel needs to be the set in shadow: about 0.73."""
SHADE_LINES = 240
"""The shadow network looks at frames scaled down to at most this many lines."""


def _train(x: torch.Tensor, y: torch.Tensor) -> torch.nn.Module | None:
    """A small network (features → 32 → 32 → 1 logit) fitted to labels ``y`` (1/0) on the CPU,
    the same every run; None with under 200 of either label."""
    if y.sum() < 200 or (1 - y).sum() < 200:
        return None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 32), torch.nn.ReLU(),
                                  torch.nn.Linear(32, 32), torch.nn.ReLU(),
                                  torch.nn.Linear(32, 1))  # fmt: skip
        opt = torch.optim.Adam(net.parameters(), 3e-3)
        for _ in range(APPEARANCE_STEPS):
            batch = torch.randint(0, len(x), (4096,))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(x[batch])[:, 0], y[batch]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


class Appearance:
    """What the subject looks like against the set, learnt from the clip itself: a small network
    (the frame's colour, the plate's and their difference → subject or set; 9 → 32 → 32 → 1)
    trained on the CPU on the clip's confident labels — the inside of what clearly differs
    from the plate is subject; what differs by nothing, well away from it, and cast shadows are
    set. Applied next to each frame's mask (within APPEARANCE_REACH px), it adds what looks like
    this subject though it differs from the plate by little: trousers a shade off the carpet."""

    def __init__(self, net: torch.nn.Module, reach: np.ndarray) -> None:
        self.net, self.reach = net, reach

    @staticmethod
    def _features(frame: np.ndarray, plate: np.ndarray) -> torch.Tensor:
        f = torch.from_numpy(frame.reshape(-1, 3)).float() / 255
        p = torch.from_numpy(plate.reshape(-1, 3)).float() / 255
        return torch.cat([f, p, f - p], dim=1)

    @classmethod
    def learn(cls, samples: np.ndarray, plate: np.ndarray, matting: Matting,
              ) -> Appearance | None:  # fmt: skip
        """Trained on ``samples`` (K, H, W, 3) against ``plate`` with ``matting``'s labels;
        None where the clip gives too few of either (nothing moves; it moves everywhere)."""
        h, w = plate.shape[:2]
        unit = max(1.0, min(w, h) / 240)
        inside = np.ones((_odd(5 * unit),) * 2, np.uint8)
        away = np.ones((_odd(11 * unit),) * 2, np.uint8)
        rng = np.random.default_rng(0)
        xs, ys = [], []
        for frame in samples[:: max(1, len(samples) // APPEARANCE_FRAMES)]:
            m = matting.mask(frame)
            sure = np.flatnonzero(cv2.erode(m, inside).ravel())
            calm = (cv2.dilate(m, away) == 0) & (matting.difference(frame) < matting.weak)
            if matting.last_shadow is not None:
                calm |= matting.last_shadow
            calm = np.flatnonzero(calm.ravel())
            sure = rng.choice(sure, min(len(sure), APPEARANCE_SAMPLES), replace=False)
            calm = rng.choice(calm, min(len(calm), 2 * APPEARANCE_SAMPLES), replace=False)
            pick = np.concatenate([sure, calm])
            xs.append(cls._features(frame.reshape(-1, 3)[pick], plate.reshape(-1, 3)[pick]))
            ys.append(torch.cat([torch.ones(len(sure)), torch.zeros(len(calm))]))
        net = _train(torch.cat(xs), torch.cat(ys))
        if net is None:
            return None
        size = _odd(2 * APPEARANCE_REACH * unit + 1)
        return cls(net, np.ones((size, size), np.uint8))  # (a square: fast at 720p)

    def extend(self, frame: np.ndarray, plate: np.ndarray, mask: np.ndarray,
               shadow: np.ndarray | None) -> np.ndarray:  # fmt: skip
        """``mask`` (uint8 0/1) and, joined to it, the pixels near it (within ``reach``) that
        look like the subject, and the holes that closes; never its cast ``shadow``."""
        if not mask.any():
            return mask
        zone = (cv2.dilate(mask, self.reach) > 0) & (mask == 0)
        zone &= channel_max(cv2.absdiff(frame, plate)) > APPEARANCE_FLOOR  # (the plate: set)
        if shadow is not None:
            zone &= ~shadow
        where = np.flatnonzero(zone.ravel())
        if not len(where):
            return mask
        with torch.no_grad():
            odds = self.net(self._features(frame.reshape(-1, 3)[where],
                                           plate.reshape(-1, 3)[where]))[:, 0]  # fmt: skip
        grown = mask.copy().ravel()
        grown[where[(odds > APPEARANCE_LOGIT).numpy()]] = 1
        grown = grown.reshape(mask.shape)
        n, labels = cv2.connectedComponents(grown, connectivity=8)
        keep = np.zeros(n, np.uint8)
        keep[np.unique(labels[mask > 0])] = 1
        keep[0] = 0
        out = fill_holes(keep[labels], 0.25)  # (a hole it closes may hold a shadow: not that)
        return out if shadow is None else out & ~(shadow & (mask == 0))


_GREY = np.full((1, 3), 1 / 3, np.float32)


def _relative_sd(x: np.ndarray, size: int) -> np.ndarray:
    """``x``'s standard deviation over size × size around each pixel, relative to its mean."""
    mean = cv2.blur(x, (size, size))
    sd = np.sqrt(np.maximum(cv2.blur(x * x, (size, size)) - mean * mean, 0))
    return sd / np.maximum(mean, 0.1)


class Shade:
    """What the clip's cast shadows look like, learnt from the clip itself: a small network on
    a pixel's ratios to the plate, how smooth they are around it (3, 5 and 9 px), its texture
    and the set's (Laplacian; their correlation) and both brightnesses, trained on the CPU on
    the clip's sure shadows (cutout.Matting's rule: set) against the inside of its subject
    where it looks like a shadow too (a grey car; subject). Used by cutout.Matting (its
    ``learnt`` test) to find the shadows its rule misses: a car's thin shadow, where every
    pixel is near the shadow's edge and the ratio is not smooth (HighwayI, docs/LAYERS.md).
    It looks at frames at most SHADE_LINES high (its windows are sized for that; the time at
    720p)."""

    def __init__(self, net: torch.nn.Module, mean: np.ndarray, sd: np.ndarray,
                 plate: np.ndarray) -> None:  # fmt: skip
        self.net, self.mean, self.sd = net, mean, sd
        self.plate_f = self._small(plate).astype(np.float32) + 4.0

    @staticmethod
    def _small(image: np.ndarray, nearest: bool = False) -> np.ndarray:
        h, w = image.shape[:2]
        size = at_most(w, h, SHADE_LINES)
        if size == (w, h):
            return image
        if nearest:
            return cv2.resize(image.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    @staticmethod
    def _features(frame: np.ndarray, plate_f: np.ndarray, where: np.ndarray) -> np.ndarray:
        """(N, 15) features of the pixels of ``where``, computed over their box."""
        x, y, w, h = cv2.boundingRect(where.view(np.uint8))
        H, W = where.shape
        x0, y0, x1, y1 = max(0, x - 5), max(0, y - 5), min(W, x + w + 5), min(H, y + h + 5)
        f = frame[y0:y1, x0:x1].astype(np.float32)
        p = plate_f[y0:y1, x0:x1]
        mean, spread = ratios(frame[y0:y1, x0:x1], p)
        r = (f + 4.0) / p
        g, gp = cv2.transform(f, _GREY), cv2.transform(p, _GREY) - 4.0
        k = (7, 7)
        mg, mp = cv2.blur(g, k), cv2.blur(gp, k)
        vg = np.maximum(cv2.blur(g * g, k) - mg * mg, 0)
        vp = np.maximum(cv2.blur(gp * gp, k) - mp * mp, 0)
        corr = (cv2.blur(g * gp, k) - mg * mp) / np.sqrt(vg * vp + 25.0)
        lap = cv2.blur(np.abs(cv2.Laplacian(g, cv2.CV_32F)), (5, 5))
        lap_set = cv2.blur(np.abs(cv2.Laplacian(gp, cv2.CV_32F)), (5, 5))
        columns = [r[..., 0], r[..., 1], r[..., 2], mean, spread, _relative_sd(mean, 3),
                   _relative_sd(mean, 5), _relative_sd(mean, 9), lap / 32, lap_set / 32,
                   g / 255, gp / 255, corr, np.sqrt(vg) / 32, np.sqrt(vp) / 32]  # fmt: skip
        inside = where[y0:y1, x0:x1]
        return np.stack([c[inside] for c in columns], axis=1)

    @classmethod
    def learn(cls, samples: np.ndarray, matting: Matting) -> Shade | None:
        """Trained on ``samples`` (K, H, W, 3) with ``matting``'s labels; None where the clip
        shows too few of either (no shadows; no subject)."""
        if not matting.shadows:
            return None
        plate = np.clip(matting.plate_f - 4.0, 0, 255)
        plate_f = cls._small(plate).astype(np.float32) + 4.0
        inside = np.ones((_odd(5 * max(1.0, min(matting.w, matting.h) / 240)),) * 2, np.uint8)
        rng = np.random.default_rng(0)
        xs, ys = [], []
        for frame in samples[:: max(1, len(samples) // APPEARANCE_FRAMES)]:
            mask = matting.mask(frame)
            cast, where = matting.last_shadow, matting.last_loose  # (what the test is asked)
            subject = where & (cv2.erode(mask, inside) > 0) & ~cast
            small = cls._small(frame)
            for label, part in ((1.0, cls._small(where & cast, True)),
                                (0.0, cls._small(subject, True))):  # fmt: skip
                idx = np.flatnonzero(part.ravel())
                pick = np.zeros(part.size, bool)
                pick[rng.choice(idx, min(len(idx), 2 * APPEARANCE_SAMPLES), replace=False)] = True
                xs.append(cls._features(small, plate_f, pick.reshape(part.shape)))
                ys.append(np.full(len(xs[-1]), label, np.float32))
        x, y = np.concatenate(xs), np.concatenate(ys)
        if y.sum() < 200 or (1 - y).sum() < 200:  # (as _train says; before the statistics)
            return None
        mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-3
        net = _train(torch.from_numpy((x - mean) / sd).float(), torch.from_numpy(y))
        return None if net is None else cls(net, mean, sd, plate)

    def test(self, frame: np.ndarray, where: np.ndarray) -> np.ndarray:
        """The pixels of ``where`` (bool (H, W)) that look like this clip's cast shadows."""
        small = self._small(where, True)
        if not small.any():
            return np.zeros(where.shape, bool)
        x = (self._features(self._small(frame), self.plate_f, small) - self.mean) / self.sd
        with torch.no_grad():
            odds = self.net(torch.from_numpy(x).float())[:, 0].numpy()
        out = np.zeros(small.shape, bool)
        out[small] = odds > SHADE_LOGIT
        if out.shape != where.shape:
            out = cv2.resize(out.view(np.uint8), where.shape[::-1],
                             interpolation=cv2.INTER_NEAREST) > 0  # fmt: skip
        return out & where
