"""A probe, not a product path: would a shape carried from the frame before (optical flow) find
what the clip's cut-out misses where the subject looks like the set — beige trousers on a beige
carpet, a black jacket over a black sill?

    python bench/flow_probe.py [--clips HallAndMonitor,PeopleAndFoliage] [--floor 14]
                               [--move 0.5] [--preset ultrafast|fast|medium]

Per clip of ../shared/data/realmask: the product's mattes (engine.frames.layers, the built-in
model, a fresh cache); then, frame by frame, the mask before (as carried so far) is warped into
this frame by OpenCV's DIS optical flow (this frame → the one before), and its pixels are added
where the flow there moves (over ``--move`` px), going back and forth lands within 1 px, the
frame differs from the plate by under ``--floor`` (what the cut-out cannot see) and the
product's mask is within 4 px. IoU and boundary F beside the product's, as bench/realmask.py
scores them; the flow's time a frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cnn_probe import scores
from bench.realmask import DATA, read_clip
from engine import checkpoint
from engine.frames.cutout import channel_max
from engine.frames.layers import LayerCache

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
           "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def carried(frames, plate, mattes, floor: float, move: float, preset: str) -> list[np.ndarray]:
    dis = cv2.DISOpticalFlow_create(PRESETS[preset])
    h, w = plate.shape[:2]
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    near_k = np.ones((9, 9), np.uint8)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    out = [mattes[0]]
    for k in range(1, len(frames)):
        back, fwd = dis.calc(grey[k], grey[k - 1], None), dis.calc(grey[k - 1], grey[k], None)
        mx, my = gx + back[..., 0], gy + back[..., 1]
        was = cv2.remap(out[-1].astype(np.uint8), mx, my, cv2.INTER_NEAREST) > 0
        fx = cv2.remap(fwd[..., 0], mx, my, cv2.INTER_LINEAR)
        fy = cv2.remap(fwd[..., 1], mx, my, cv2.INTER_LINEAR)
        steady = np.hypot(back[..., 0] + fx, back[..., 1] + fy) < 1.0
        moving = np.hypot(back[..., 0], back[..., 1]) > move
        m = mattes[k]
        near = cv2.dilate(m.astype(np.uint8), near_k) > 0
        quiet = channel_max(cv2.absdiff(frames[k], plate)) < floor
        out.append(m | (was & moving & steady & quiet & near))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="Board,HallAndMonitor,HighwayI,PeopleAndFoliage")
    ap.add_argument("--floor", type=float, default=14)
    ap.add_argument("--move", type=float, default=0.5)
    ap.add_argument("--preset", default="ultrafast", choices=sorted(PRESETS))
    args = ap.parse_args()
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    for name in args.clips.split(","):
        frames, masks, clip = read_clip(DATA / name)
        with tempfile.TemporaryDirectory() as tmp:
            layers = LayerCache(tmp).load(clip, model)
            plate = np.array(layers.plate)
            mattes = [layers.matte(k) > 127 for k in range(len(layers))]
        t = time.perf_counter()
        out = carried(frames, plate, mattes, args.floor, args.move, args.preset)
        ms = (time.perf_counter() - t) * 1000 / len(frames)
        (a_iou, a_bf), (b_iou, b_bf) = scores(masks, mattes), scores(masks, out)
        print(f"{name}: product IoU {a_iou:.3f} BF {a_bf:.3f} · carried IoU {b_iou:.3f} "
              f"BF {b_bf:.3f} · {ms:.1f} ms a frame", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
