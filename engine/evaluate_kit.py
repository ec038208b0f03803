"""`python -m engine.evaluate_kit`: how well a model remixes demo-kit characters and
backgrounds it has never seen — the built-in model's report card (docs/RESULTS.md).

The protocol of ``engine.evaluate`` (§4.3), on the demo kit's held-out ``test`` split (its own
cast and backgrounds, never in ``train``). Each example draws two clips that perform the *same*
motion (same motion family and parameters): clip 1 = character A on background 1, clip 2 =
character C on background 2, and two distinct frame positions (i, j). With x^v_t frame t of clip v:

- Animation transfer: h(x²_i, x¹_i, x¹_j, x²_i) — C moved like A moves from i to j — against
  x²_j, C really performing the motion's frame j (the kit's motions play on any character).
- Background swap: h(x¹_i, x¹_i, x¹_j, x²_j) against A in pose j drawn on background 2.
- Video frames: x¹_i against x¹_j. No object: background 1 alone against x¹_j.

Results are also split by the kind of character that moves (articulated puppet or rigid), since
one feature-space affine T^Z can only move a puppet's limbs together.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from engine import checkpoint
from engine import device as devices
from engine.data import demokit as kit
from engine.errors import UserError
from engine.evaluate import ratio_ci, save_png, summarize
from engine.fileio import atomic_write_text
from engine.samples import grid_image, to_tensor, to_uint8

MEASURES = ("transfer", "video_frames", "swap", "no_object")
LABELS = {"transfer": "Animation transfer", "video_frames": "Video frames",
          "swap": "Background swap", "no_object": "No object"}
RATIOS = (("transfer", "video_frames"), ("swap", "no_object"))


class KitEvaluator:
    def __init__(self, model: str, examples: int = 2000, seed: int = 0, device: str = "auto",
                 batch_size: int = 200, status=None, split: str = "test") -> None:
        self.device = devices.resolve_device(device)
        self.model, self.info = checkpoint.load(model, self.device)
        self.model.eval()
        self.size = self.model.config.image_size
        self.examples, self.seed, self.batch_size = examples, seed, batch_size
        self.status = status or (lambda text: None)
        self.split = split
        self.cast = [kit.make_character(split, i) for i in range(24)]
        self.sets = [kit.make_background(split, i) for i in range(32)]
        self._bg: dict[int, np.ndarray] = {}

    def background(self, k: int) -> np.ndarray:
        if k not in self._bg:
            self._bg[k] = kit.render_background(self.sets[k], self.size)
        return self._bg[k]

    def draw_example(self, rng: np.random.Generator) -> dict:
        a, c = rng.choice(len(self.cast), 2, replace=False)
        b1, b2 = rng.choice(len(self.sets), 2, replace=False)
        motion = kit.MOTIONS[int(rng.integers(len(kit.MOTIONS)))]
        mseed = int(rng.integers(2**31))
        i, j = (int(t) for t in rng.choice(kit.FRAMES, 2, replace=False))
        pa = kit.motion_poses(motion, self.cast[a], rng=np.random.default_rng(mseed))
        pc = kit.motion_poses(motion, self.cast[c], rng=np.random.default_rng(mseed))
        bg1, bg2 = self.background(int(b1)), self.background(int(b2))
        ca, cc = self.cast[a], self.cast[c]
        return {
            "x1i": kit.compose(ca, pa[i], bg1), "x1j": kit.compose(ca, pa[j], bg1),
            "x2i": kit.compose(cc, pc[i], bg2), "x2j": kit.compose(cc, pc[j], bg2),
            "gt_swap": kit.compose(ca, pa[j], bg2), "bg1": bg1,
            "puppet": ca.kind == "puppet", "motion": motion,
        }

    @torch.inference_mode()
    def run_batch(self, ex: list[dict]) -> tuple[dict[str, np.ndarray], dict]:
        m = self.model
        t = {k: to_tensor(np.stack([e[k] for e in ex]), self.device)
             for k in ("x1i", "x1j", "x2i", "x2j", "gt_swap", "bg1")}
        z1i, z1j, z2i = (m.encode_character(t[k]) for k in ("x1i", "x1j", "x2i"))
        theta = m.transformation(z1i, z1j)
        out = {"transfer": m.compose(z2i, theta, m.encode_background(t["x2i"])),
               "swap": m.compose(z1i, theta, m.encode_background(t["x2j"]))}

        def mse(p: torch.Tensor, q: torch.Tensor) -> np.ndarray:
            return ((p.float() - q.float()) ** 2).mean(dim=(1, 2, 3)).cpu().numpy()

        errors = {"transfer": mse(out["transfer"], t["x2j"]),
                  "video_frames": mse(t["x1i"], t["x1j"]),
                  "swap": mse(out["swap"], t["gt_swap"]),
                  "no_object": mse(t["bg1"], t["x1j"])}
        return errors, {**t, **out}

    def run(self, out_dir: str | Path, figures: bool = True) -> dict:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([self.seed, 51])
        errors: dict[str, list] = {k: [] for k in MEASURES}
        puppet, first = [], None
        done = 0
        while done < self.examples:
            batch = [self.draw_example(rng)
                     for _ in range(min(self.batch_size, self.examples - done))]
            errs, tensors = self.run_batch(batch)
            first = first or tensors
            for k in MEASURES:
                errors[k].append(errs[k])
            puppet += [e["puppet"] for e in batch]
            done += len(batch)
            self.status(f"held-out demo kit: {done}/{self.examples} examples")
        e = {k: np.concatenate(v) for k, v in errors.items()}
        is_puppet = np.array(puppet)
        srng = np.random.default_rng([self.seed, 7])
        result = {
            "model": str(self.info.path),
            "model_config": self.model.config.to_dict(),
            "training": self.info.training,
            "protocol": {"examples": self.examples, "seed": self.seed, "frames": kit.FRAMES,
                         "split": f"{self.split} (24 characters, 32 backgrounds)",
                         "device": self.device.type},
            "mse": {k: summarize(e[k], srng, 1000) for k in MEASURES},
            "ratios": {f"{a}/{b}": ratio_ci(e[a], e[b], srng, 1000) for a, b in RATIOS},
            "by_kind": {
                name: {f"{a}/{b}": ratio_ci(e[a][sel], e[b][sel], srng, 1000)
                       for a, b in RATIOS} | {"examples": int(sel.sum())}
                for name, sel in (("puppet", is_puppet), ("rigid", ~is_puppet)) if sel.any()
            },
        }
        if figures and first is not None:
            keys = ["x1i", "x1j", "x2i", "transfer", "x2j", "x2j", "swap", "gt_swap"]
            labels = ["motion from: A at i", "motion to: A at j", "character: C at i",
                      "transfer (ours)", "transfer truth", "new background", "swap (ours)",
                      "swap truth"]  # fmt: skip
            rows = [to_uint8(first[k][:8]) for k in keys]
            save_png(grid_image(rows, labels, label_width=150), out / "examples.png")
        atomic_write_text(out / "results.json", json.dumps(result, indent=2) + "\n")
        return result


def format_table(result: dict) -> str:
    lines = [f"{'':20} {'mean':>9} {'median':>9}  {'95% CI of mean':>21}"]
    for k in MEASURES:
        s = result["mse"][k]
        lines.append(f"{LABELS[k]:20} {s['mean']:9.5f} {s['median']:9.5f}  "
                     f"[{s['ci95'][0]:.5f}, {s['ci95'][1]:.5f}]")
    lines.append("")
    for group, ratios in [("all", result["ratios"]), *result["by_kind"].items()]:
        for a, b in RATIOS:
            r = ratios[f"{a}/{b}"]
            lines.append(f"{group:6} {LABELS[a]} / {LABELS[b]}: {r['ratio']:.3f}x  "
                         f"(95% CI {r['ci95'][0]:.3f}-{r['ci95'][1]:.3f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m engine.evaluate_kit",
        description="Background swap and animation transfer on held-out demo-kit characters "
        "and backgrounds, against the video-frames and no-object baselines.",
    )
    p.add_argument("model", help="model file (.safetensors)")
    p.add_argument("--out", required=True, metavar="DIR", help="results folder to write")
    p.add_argument("--examples", type=int, default=2000, help="examples (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="test: held out from training (default); train: the training cast and "
                   "sets, in new clips (how much is generalisation)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--no-figures", dest="figures", action="store_false")
    args = p.parse_args(argv)
    try:
        if args.examples < 1:
            raise UserError("--examples must be at least 1")
        result = KitEvaluator(args.model, args.examples, args.seed, args.device,
                              split=args.split).run(args.out, args.figures)
    except (UserError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_table(result))
    print(f"results: {Path(args.out) / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
