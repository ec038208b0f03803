"""Quick separation check of a trained model on held-out Moving MNIST (not the full protocol).

512 pairs of test digits on the 64 test backgrounds (disjoint from training), four numbers:
  recon         h(x_i, x_i, x_j, x_i) against x_j         ("video frames" baseline: x_i vs x_j)
  bg_swap       h(x_i, x_i, x_j, y_i) against video 1's digit at j on video 2's background
                                                          ("no object" baseline: background vs x_j)
  bg_layer      g(f_b(x_i)) against x_i's true background
Lower is better; a model that separates nothing sits at about 1.0x the baselines. The issue-3
evaluator (`python -m engine.evaluate`) is the full §4.3 protocol; this is for quick sweeps.

    python bench/quick_separation.py RUN_DIR/model.safetensors ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data.mnist import load_mnist
from engine.data.synthetic import MovingMNIST, make_backgrounds
from engine.samples import to_tensor


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="a model file (.safetensors)")
    p.add_argument("mnist", help="the MNIST folder (../shared/data/mnist)")
    args = p.parse_args()
    path, mnist = args.model, args.mnist
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model, _ = checkpoint.load(path, dev)
    model.eval()
    bgs = make_backgrounds(64, "test")
    gen = MovingMNIST(load_mnist(mnist, "test")[0], bgs)
    rng = np.random.default_rng(0)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("xi", "xj", "yi", "gt", "bg1")}
    for _ in range(512):
        d1, k1, a1 = gen.trajectory(rng)
        d2, k2, a2 = gen.trajectory(rng)
        i, j = rng.choice(5, 2, replace=False)
        rows["xi"].append(gen.render(d1, k1, a1[i]))
        rows["xj"].append(gen.render(d1, k1, a1[j]))
        rows["yi"].append(gen.render(d2, k2, a2[i]))
        rows["gt"].append(gen.render(d1, k2, a1[j]))
        rows["bg1"].append(bgs[k1])
    t = {k: to_tensor(np.stack(v), dev) for k, v in rows.items()}

    def mse(a, b) -> float:
        return float(((a - b) ** 2).mean())

    with torch.inference_mode():
        recon, _ = model.render(t["xi"], t["xi"], t["xj"], t["xi"])
        swap, _ = model.render(t["xi"], t["xi"], t["xj"], t["yi"])
        bg_layer = model.render_background(t["xi"])
    out = {
        "recon": mse(recon, t["xj"]),
        "video_frames": mse(t["xi"], t["xj"]),
        "bg_swap": mse(swap, t["gt"]),
        "no_object": mse(t["bg1"], t["xj"]),
        "bg_layer": mse(bg_layer, t["bg1"]),
    }
    out["recon_ratio"] = out["recon"] / out["video_frames"]
    out["bg_swap_ratio"] = out["bg_swap"] / out["no_object"]
    print(json.dumps({k: round(v, 5) for k, v in out.items()}))


if __name__ == "__main__":
    main()
