"""How the model should see a non-square frame: stretched to its square, or letterboxed.

    python bench/fit_modes.py [--size 320x240] [--clips 12]

On held-out demo-kit clips at ``--size`` (4:3 by default), the built-in model's matte (what the
clip layers start from) against the true masks — recall and precision of the matte over 0.1
(the plate's "not the set here") and IoU over 0.5 — and the model renderer's background swap
(PSNR against the truth, clip 2i's character on clip 2i+1's set), each with the frame stretched
to the model's square and letterboxed into it (black bars; the model's output cropped back and
stretched to the frame).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.clips import fit_frame
from engine.frames.layers import model_views


def back(image: np.ndarray, fit: str, w: int, h: int) -> np.ndarray:
    """The model's square output brought back to the frame (undoing the fit)."""
    s = image.shape[0]
    if fit == "letterbox":
        scale = s / max(w, h)
        nw, nh = round(w * scale), round(h * scale)
        y0, x0 = (s - nh) // 2, (s - nw) // 2
        image = image[y0 : y0 + nh, x0 : x0 + nw]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="320x240")
    p.add_argument("--clips", type=int, default=12)
    a = p.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    torch.set_num_threads(2)
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    model.eval()
    s = model.config.image_size
    specs = kit.clip_specs("test", a.clips)
    frames = [kit.render_clip(spec, (w, h)) for spec in specs]
    truth = [kit.true_mattes(spec, (w, h)) > 0.5 for spec in specs]
    out = {}
    for fit in ("stretch", "letterbox"):
        rec, prec, iou, swap = [], [], [], []
        small = [np.stack([fit_frame(f, s, fit) for f in clip]) for clip in frames]
        for clip, tm in zip(small, truth, strict=True):
            mattes, _ = model_views(model, clip)
            m = np.stack([back(x, fit, w, h) for x in mattes])
            env, core = m > 0.1, m > 0.5
            rec.append((env & tm).sum() / tm.sum())
            prec.append((env & tm).sum() / max(env.sum(), 1))
            iou.append((core & tm).sum() / (core | tm).sum())
        for i in range(0, len(specs) - 1, 2):
            other_set = kit.render_background(specs[i + 1].background, (w, h))
            gt = kit.render_clip(specs[i], (w, h), background=other_set)
            xa = torch.from_numpy(small[i]).permute(0, 3, 1, 2).float() / 255
            xb = torch.from_numpy(small[i + 1]).permute(0, 3, 1, 2).float() / 255
            with torch.inference_mode():
                img, _ = model.render(xa, xa, xa, xb)
            img = img.mul(255).add(0.5).clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
            for k in range(0, len(img), 3):
                err = np.mean((back(img[k], fit, w, h).astype(float) - gt[k]) ** 2)
                swap.append(10 * np.log10(255**2 / err))
        out[fit] = {"matte_recall_0.1": float(np.mean(rec)), "matte_precision_0.1":
                    float(np.mean(prec)), "matte_iou_0.5": float(np.mean(iou)),
                    "model_swap_psnr": float(np.mean(swap))}  # fmt: skip
    print(json.dumps({"size": a.size, "clips": len(specs), **out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
