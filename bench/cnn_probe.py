"""The probe that led to engine.frames.regions: how a small per-clip CNN with spatial context,
trained on the clip's own cut-out, may change the real scenes' mattes.

    python bench/cnn_probe.py [--clips HighwayI,PeopleAndFoliage] [--seed 0] [--steps 300]
        [--sigma 1.5] [--scale 1] [--side 96] [--inner 2] [--outer 5] [--floor 8] [--open 5]
        [--shut 0.6]

Per clip of ../shared/data/realmask: the product's analysis without its regions
(engine.frames.layers, ``regions=False``, the built-in model, a fresh cache) gives each frame's
matte; the U-Net of engine.frames.regions (inputs the frame, the plate and their difference, at
``--scale``) is trained on 16 of its frames — the matte eroded ``--inner`` px is subject,
``--outer`` px outside it set, the band between not scored — with Adam, 8 random ``--side``²
crops a step; then every frame is asked. Reported beside the product's matte (IoU and boundary F
as bench/realmask.py scores them):

- ``vote``: the product's matte where the network gives it odds over 0.2, plus what it calls
  subject at 0.8 within 4 px of the matte; holes the product's matte closed are closed;
- ``regions``: the product's matte, less its parts of 40 px or more the network calls set
  (under 0.2), plus parts of 40 px or more it calls subject (over 0.8) within 4 px;
- ``remove``: only the first half of ``regions``; ``add``: only the second;
- ``add_diff``: ``regions`` with only the added pixels that differ from the plate by over
  ``--floor``; ``add_open``: those opened by ``--open`` px; ``add_shut``: those whose outline
  the matte holds for ``--shut`` or more (engine.frames.regions, at ``--scale 0.5 --side 64
  --steps 100 --floor 14``).

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
from engine.frames.cutout import channel_max
from engine.frames.layers import LayerCache, LayerSettings
from engine.frames.regions import enclosed, fit, parts


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


def train(frames: np.ndarray, plate: np.ndarray, mattes: np.ndarray, steps: int, seed: int,
          side: int = 96, inner: int = 2, outer: int = 10):
    idx = np.linspace(0, len(frames) - 1, 16).round().astype(int)
    x = torch.from_numpy(np.stack([features(frames[k], plate) for k in idx]))
    ki = np.ones((2 * inner + 1,) * 2, np.uint8)
    ko = np.ones((2 * outer + 1,) * 2, np.uint8)
    pos = np.stack([cv2.erode(mattes[k].astype(np.uint8), ki) for k in idx])
    neg = np.stack([1 - cv2.dilate(mattes[k].astype(np.uint8), ko) for k in idx])
    y = torch.from_numpy(pos.astype(np.float32))[:, None]
    w = torch.from_numpy((pos | neg).astype(np.float32))[:, None]
    balance = min(float(neg.sum()) / max(float(pos.sum()), 1.0), 10.0)
    return fit(x, y, w, balance, steps, side, seed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="Board,HallAndMonitor,HighwayI,PeopleAndFoliage")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--sigma", type=float, default=1.5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--side", type=int, default=96)
    ap.add_argument("--inner", type=int, default=2)
    ap.add_argument("--outer", type=int, default=5)
    ap.add_argument("--floor", type=int, default=8)
    ap.add_argument("--open", type=int, default=5)
    ap.add_argument("--shut", type=float, default=0.6)
    args = ap.parse_args()
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    near_k = np.ones((9, 9), np.uint8)
    open_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (args.open, args.open))
    for name in args.clips.split(","):
        frames, masks, clip = read_clip(DATA / name)
        with tempfile.TemporaryDirectory() as tmp:
            layers = LayerCache(tmp).load(clip, model, LayerSettings(regions=False))
            plate = np.array(layers.plate).astype(np.uint8)
            mattes = np.stack([layers.matte(k) > 127 for k in range(len(layers))])
        t = time.perf_counter()
        full = frames.shape[1:3]
        small = (round(full[1] * args.scale), round(full[0] * args.scale))
        sf = np.stack([cv2.resize(f, small, interpolation=cv2.INTER_AREA) for f in frames])
        sp = cv2.resize(plate, small, interpolation=cv2.INTER_AREA)
        sm = np.stack([cv2.resize(m.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST)
                       for m in mattes]) > 0  # fmt: skip
        inner = max(1, round(args.inner * args.scale))
        outer = max(1, round(args.outer * args.scale))
        net = train(sf, sp, sm, args.steps, args.seed, args.side, inner, outer)
        trained = time.perf_counter() - t
        out: dict[str, list[np.ndarray]] = {"product": list(mattes)}
        out |= {m: [] for m in ("vote", "regions", "remove", "add", "add_diff", "add_open",
                                "add_shut")}  # fmt: skip
        t = time.perf_counter()
        with torch.inference_mode():
            for k, frame in enumerate(frames):
                odds = torch.sigmoid(net(torch.from_numpy(features(sf[k], sp))[None]))
                p = odds[0, 0].numpy()
                if args.scale != 1.0:
                    p = cv2.resize(p, full[::-1], interpolation=cv2.INTER_LINEAR)
                differs = channel_max(cv2.absdiff(frame, plate)) > args.floor
                if args.sigma > 0:
                    p = cv2.GaussianBlur(p, (0, 0), args.sigma)
                near = cv2.dilate(mattes[k].astype(np.uint8), near_k) > 0
                vote = (mattes[k] & (p > 0.2)) | ((p > 0.8) & near)
                outer, _ = cv2.findContours(vote.astype(np.uint8), cv2.RETR_EXTERNAL,
                                            cv2.CHAIN_APPROX_SIMPLE)  # fmt: skip
                closed = np.zeros(vote.shape, np.uint8)
                cv2.drawContours(closed, outer, -1, 1, -1)
                out["vote"].append(vote | ((closed > 0) & mattes[k]))
                drop, add = parts(mattes[k] & (p < 0.2)), parts((p > 0.8) & near & ~mattes[k])
                out["regions"].append((mattes[k] & ~drop) | add)
                out["remove"].append(mattes[k] & ~drop)
                out["add"].append(mattes[k] | add)
                out["add_diff"].append((mattes[k] & ~drop) | parts(add & differs))
                thick = cv2.morphologyEx((add & differs).astype(np.uint8), cv2.MORPH_OPEN,
                                         open_k) > 0  # fmt: skip
                out["add_open"].append((mattes[k] & ~drop) | parts(thick))
                out["add_shut"].append((mattes[k] & ~drop) | enclosed(add & differs,
                                                                      mattes[k], args.shut))
        asked = (time.perf_counter() - t) * 1000 / len(frames)
        said = " · ".join(f"{m} IoU {scores(masks, v)[0]:.3f} BF {scores(masks, v)[1]:.3f}"
                          for m, v in out.items())  # fmt: skip
        print(f"{name}: trained {trained:.1f} s, {asked:.1f} ms a frame · {said}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
