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

from engine.frames.cutout import Matting, _odd, channel_max, fill_holes

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
        x, y = torch.cat(xs), torch.cat(ys)
        if y.sum() < 200 or (1 - y).sum() < 200:
            return None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = torch.nn.Sequential(torch.nn.Linear(9, 32), torch.nn.ReLU(),
                                      torch.nn.Linear(32, 32), torch.nn.ReLU(),
                                      torch.nn.Linear(32, 1))  # fmt: skip
            opt = torch.optim.Adam(net.parameters(), 3e-3)
            for _ in range(APPEARANCE_STEPS):
                batch = torch.randint(0, len(x), (4096,))
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    net(x[batch])[:, 0], y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
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
