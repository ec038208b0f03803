"""A probe, not a product path: would a small per-clip CNN with spatial context, trained on the
clip's own cut-out, take the real scenes' mattes towards the issue's 0.90?

    python bench/cnn_probe.py [--clips HighwayI,PeopleAndFoliage] [--seed 0] [--steps 300]
                              [--sigma 1.5]

Per clip of ../shared/data/realmask: the product's analysis (engine.frames.layers, the built-in
model, a fresh cache) gives each frame's matte; a U-Net of three levels (9 → 16 → 32 → 32
channels; inputs the frame, the plate and their difference) is trained on 16 of its frames —
the matte eroded 2 px is subject, 10 px outside it set, the band between not scored — with
Adam, 8 random 96² crops a step; then every frame is asked. Reported beside the product's matte
(IoU and boundary F as bench/realmask.py scores them):

- ``vote``: the product's matte where the network gives it odds over 0.2, plus what it calls
  subject at 0.8 within 4 px of the matte; holes the product's matte closed are closed;
- ``regions``: the product's matte, less its parts of 40 px or more the network calls set
  (under 0.2), plus parts of 40 px or more it calls subject (over 0.8) within 4 px.

The network's odds are blurred by ``--sigma`` px first. Times: the training per clip and the
asking per frame, on this machine's CPU threads (2 here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.realmask import DATA, boundary_f, read_clip
from engine import checkpoint
from engine.frames.layers import LayerCache


def _block(i: int, o: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(o, o, 3, padding=1), torch.nn.ReLU())  # fmt: skip


class UNet(torch.nn.Module):
    def __init__(self, channels: int = 9) -> None:
        super().__init__()
        self.e1, self.e2, self.e3 = _block(channels, 16), _block(16, 32), _block(32, 32)
        self.d2, self.d1 = _block(64, 32), _block(48, 16)
        self.out = torch.nn.Conv2d(16, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = torch.nn.functional.max_pool2d
        a = self.e1(x)
        b = self.e2(pool(a, 2))
        c = self.e3(pool(b, 2))

        def up(t, ref):
            return torch.nn.functional.interpolate(t, size=ref.shape[-2:], mode="bilinear")

        d = self.d2(torch.cat([up(c, b), b], 1))
        return self.out(self.d1(torch.cat([up(d, a), a], 1)))


def features(frame: np.ndarray, plate: np.ndarray) -> np.ndarray:
    f, p = frame.astype(np.float32) / 255, plate.astype(np.float32) / 255
    return np.concatenate([f, p, np.abs(f - p)], 2).transpose(2, 0, 1)


def scores(masks: np.ndarray, preds: list[np.ndarray]) -> tuple[float, float]:
    inter = union = 0
    bfs = []
    for m, p in zip(masks, preds, strict=True):
        scored, truth = m != 170, m == 255
        inter += (p & truth & scored).sum()
        union += ((p | truth) & scored).sum()
        if (b := boundary_f(p, m)) is not None:
            bfs.append(b)
    return float(inter / max(union, 1)), float(np.mean(bfs))


def parts(mask: np.ndarray, least: int = 40) -> np.ndarray:
    """The connected parts of ``mask`` of ``least`` pixels or more."""
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    big = np.nonzero(stats[:, cv2.CC_STAT_AREA] >= least)[0]
    return np.isin(comp, big[big > 0])


def train(frames: np.ndarray, plate: np.ndarray, mattes: np.ndarray, steps: int, seed: int):
    idx = np.linspace(0, len(frames) - 1, 16).round().astype(int)
    x = torch.from_numpy(np.stack([features(frames[k], plate) for k in idx]))
    k5 = np.ones((5, 5), np.uint8)
    pos = np.stack([cv2.erode(mattes[k].astype(np.uint8), k5) for k in idx])
    neg = np.stack([1 - cv2.dilate(mattes[k].astype(np.uint8), k5, iterations=2) for k in idx])
    y = torch.from_numpy(pos.astype(np.float32))[:, None]
    w = torch.from_numpy((pos | neg).astype(np.float32))[:, None]
    balance = torch.tensor(min(float(neg.sum()) / max(float(pos.sum()), 1.0), 10.0))
    torch.manual_seed(seed)
    net = UNet()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    rng = np.random.default_rng(seed)
    h, wd, side = frames.shape[1], frames.shape[2], 96
    for _ in range(steps):
        picks = zip(rng.integers(0, len(idx), 8), rng.integers(0, h - side, 8),
                    rng.integers(0, wd - side, 8), strict=True)  # fmt: skip
        crops = [(i, slice(r, r + side), slice(c, c + side)) for i, r, c in picks]
        xb = torch.stack([x[i, :, r, c] for i, r, c in crops])
        yb = torch.stack([y[i, :, r, c] for i, r, c in crops])
        wb = torch.stack([w[i, :, r, c] for i, r, c in crops])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            net(xb), yb, reduction="none", pos_weight=balance)
        loss = (loss * wb).sum() / wb.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="Board,HallAndMonitor,HighwayI,PeopleAndFoliage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--sigma", type=float, default=1.5)
    args = ap.parse_args()
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    near_k = np.ones((9, 9), np.uint8)
    for name in args.clips.split(","):
        frames, masks, clip = read_clip(DATA / name)
        with tempfile.TemporaryDirectory() as tmp:
            layers = LayerCache(tmp).load(clip, model, None)
            plate = np.array(layers.plate).astype(np.uint8)
            mattes = np.stack([layers.matte(k) > 127 for k in range(len(layers))])
        t = time.perf_counter()
        net = train(frames, plate, mattes, args.steps, args.seed)
        trained = time.perf_counter() - t
        out: dict[str, list[np.ndarray]] = {"product": list(mattes), "vote": [], "regions": []}
        t = time.perf_counter()
        with torch.inference_mode():
            for k, frame in enumerate(frames):
                odds = torch.sigmoid(net(torch.from_numpy(features(frame, plate))[None]))
                p = odds[0, 0].numpy()
                if args.sigma > 0:
                    p = cv2.GaussianBlur(p, (0, 0), args.sigma)
                near = cv2.dilate(mattes[k].astype(np.uint8), near_k) > 0
                vote = (mattes[k] & (p > 0.2)) | ((p > 0.8) & near)
                outer, _ = cv2.findContours(vote.astype(np.uint8), cv2.RETR_EXTERNAL,
                                            cv2.CHAIN_APPROX_SIMPLE)  # fmt: skip
                closed = np.zeros(vote.shape, np.uint8)
                cv2.drawContours(closed, outer, -1, 1, -1)
                out["vote"].append(vote | ((closed > 0) & mattes[k]))
                out["regions"].append((mattes[k] & ~parts(mattes[k] & (p < 0.2)))
                                      | parts((p > 0.8) & near & ~mattes[k]))  # fmt: skip
        asked = (time.perf_counter() - t) * 1000 / len(frames)
        said = " · ".join(f"{m} IoU {scores(masks, v)[0]:.3f} BF {scores(masks, v)[1]:.3f}"
                          for m, v in out.items())  # fmt: skip
        print(f"{name}: trained {trained:.1f} s, {asked:.1f} ms a frame · {said}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
