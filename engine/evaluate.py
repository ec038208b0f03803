"""`python -m engine.evaluate`: the paper's Moving MNIST protocol (§4.3, Figure 3; §4.6).

Given a model file and the MNIST folder, writes a results folder and prints a table:

- ``results.json``: the four per-pixel MSE distributions over ``--examples`` test examples (mean,
  median, quartiles, 95% bootstrap interval of the mean), the manipulation / baseline ratios
  with paired bootstrap intervals, and the T^Z analysis per digit.
- ``per_example_mse.npz``: the raw per-example MSEs (for anyone's own statistics).
- ``boxplot.png`` (Figure 3), ``layers.png`` (Figure 10), ``manipulation.png`` (Figure 2),
  ``tz_digit5.png`` / ``tz_digit8.png`` (Figures 11-13).

Protocol. Unseen test digits (the exact MNIST test set) on the 64 *test* backgrounds (§4.2,
disjoint from the training ones). Each example draws two (digit, background) videos of M = 5
frames and two distinct positions (i, j), the same in both videos. With x^v_t frame t of video v:

- Transformation: h(x²_i, x¹_i, x¹_j, x²_i) against video 2's digit moved by video 1's
  transformation i → j (the same image-space affine map, which is what one feature-space affine
  T^Z can do) on video 2's background. The paper's wording ("transformed like seen in
  x¹_i → x¹_j") also allows the same rotation about video 2's *own* digit centre with the same
  shift; that reading is reported beside it as "own-centre" (a global T^Z cannot know where
  digit 2 is, so it is not expected to reach it for rotations).
- Background: h(x¹_i, x¹_i, x¹_j, x²_j) against video 1's digit at j on video 2's background.
- Video frames: x¹_i against x¹_j. No object: video 1's background alone against x¹_j.

T^Z analysis (§4.6): frame pairs of one fixed digit instance (the first 5 and the first 8 of the
test set) on one fixed test background. T^Z is compared with the true transformation T^X *in the
same convention*: T^X is converted to the ``affine_grid`` theta that moves content as the digit
moved (:func:`engine.data.synthetic.pixel_affine_to_theta`; engine/model.py explains why that is
the inverse map in normalised coordinates). The regression r² is also reported against the raw
forward pixel map ("naive"), which is not linearly related to theta.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from engine import checkpoint
from engine import device as devices
from engine.data.clips import fit_frame
from engine.data.mnist import load_mnist, load_mnist_labels
from engine.data.synthetic import (
    MovingMNIST,
    apply_motion,
    make_backgrounds,
    own_centre_motion,
    pixel_affine_to_theta,
    relative_affine,
)
from engine.errors import UserError, one_line
from engine.fileio import atomic_path, atomic_write_text
from engine.samples import grid_image, to_tensor, to_uint8

MANIPULATIONS = ("transformation", "video_frames", "background", "no_object")
# a second reading of "transformed like x¹_i → x¹_j", reported beside the first (see docstring)
MEASURES = (*MANIPULATIONS, "transformation_own_centre")
LABELS = {
    "transformation": "Transformation",
    "transformation_own_centre": "  own-centre",
    "video_frames": "Video frames",
    "background": "Background",
    "no_object": "No object",
}
RATIOS = (
    ("transformation", "video_frames"),
    ("background", "no_object"),
    ("transformation_own_centre", "video_frames"),
)
FIGURE_EXAMPLES = 8


@dataclass
class EvalConfig:
    model: str = ""
    mnist: str = ""
    out: str = ""
    examples: int = 10_000
    pairs: int = 40_000
    digits: tuple[int, ...] = (5, 8)
    seed: int = 0
    bootstrap: int = 1000
    batch_size: int = 250
    device: str = "auto"
    figures: bool = True


# ---------------------------------------------------------------------------------------------
# Statistics (numpy only)


def summarize(values: np.ndarray, rng: np.random.Generator, rounds: int) -> dict:
    """Mean, median, quartiles, whiskers and a 95% percentile-bootstrap interval of the mean."""
    v = np.asarray(values, np.float64)
    idx = rng.integers(len(v), size=(rounds, len(v)))
    boot = v[idx].mean(axis=1)
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    return {
        "mean": float(v.mean()),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "ci95": [float(x) for x in np.percentile(boot, [2.5, 97.5])],
        "n": len(v),
    }


def ratio_ci(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, rounds: int) -> dict:
    """mean(a) / mean(b) with a paired bootstrap 95% interval (a, b from the same examples)."""
    idx = rng.integers(len(a), size=(rounds, len(a)))
    boot = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    return {
        "ratio": float(a.mean() / b.mean()),
        "ci95": [float(x) for x in np.percentile(boot, [2.5, 97.5])],
    }


def r2_linear(x: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares y ≈ x·W + c; r² per output column and their plain average (what sklearn's
    LinearRegression.score reports), and the variance-weighted average."""
    design = np.hstack([x, np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    res = ((y - design @ coef) ** 2).sum(axis=0)
    tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    per = 1 - res / np.maximum(tot, 1e-300)
    return {
        "r2": float(per.mean()),
        "r2_variance_weighted": float(1 - res.sum() / tot.sum()),
        "r2_per_output": [float(p) for p in per],
    }


def rotation_angle(m: np.ndarray) -> np.ndarray:
    """Degrees of the rotation nearest to each 2x2 block (SVD, R = U Vᵀ), in the same frame as
    the matrices (normalised image coordinates, y down)."""
    u, _, vt = np.linalg.svd(m[:, :, :2])
    r = u @ vt
    return np.degrees(np.arctan2(r[:, 1, 0], r[:, 0, 0]))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


# ---------------------------------------------------------------------------------------------
# The protocol


class Evaluator:
    def __init__(self, cfg: EvalConfig, status=None) -> None:
        self.cfg = cfg
        self.status = status or (lambda text: None)
        self.device = devices.resolve_device(cfg.device)
        self.model, self.info = checkpoint.load(cfg.model, self.device)
        self.model.eval()
        self.size = self.model.config.image_size
        digits, self.digit_note = load_mnist(cfg.mnist, "test")
        self.labels = load_mnist_labels(cfg.mnist, "test")
        self.gen = MovingMNIST(digits, make_backgrounds(64, "test"))

    def _tensor(self, frames: list[np.ndarray]) -> torch.Tensor:
        if self.size != self.gen.size:
            frames = [fit_frame(f, self.size) for f in frames]
        return to_tensor(np.stack(frames), self.device)

    # -- §4.3 -------------------------------------------------------------------------------------
    def draw_example(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One protocol example: the model inputs, the two ground truths, the baseline frames."""
        gen = self.gen
        d1, b1, a1 = gen.trajectory(rng)
        d2, b2, a2 = gen.trajectory(rng)
        i, j = (int(t) for t in rng.choice(gen.length, 2, replace=False))
        return {
            "x1i": gen.render(d1, b1, a1[i]),
            "x1j": gen.render(d1, b1, a1[j]),
            "x2i": gen.render(d2, b2, a2[i]),
            "x2j": gen.render(d2, b2, a2[j]),
            "gt_transformation": gen.render(d2, b2, apply_motion(a1[i], a1[j], a2[i])),
            "gt_own_centre": gen.render(d2, b2, own_centre_motion(a1[i], a1[j], a2[i])),
            "gt_background": gen.render(d1, b2, a1[j]),
            "bg1": gen.backgrounds[b1],
        }

    @torch.inference_mode()
    def run_batch(self, ex: list[dict]) -> tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]:
        m = self.model
        t = {k: self._tensor([e[k] for e in ex]) for k in ex[0]}
        z1i, z1j, z2i = (m.encode_character(t[k]) for k in ("x1i", "x1j", "x2i"))
        theta = m.transformation(z1i, z1j)  # video 1's motion i → j, shared by both
        out = {
            "transformation": m.compose(z2i, theta, m.encode_background(t["x2i"])),
            "background": m.compose(z1i, theta, m.encode_background(t["x2j"])),
        }

        def mse(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
            return ((a.float() - b.float()) ** 2).mean(dim=(1, 2, 3)).cpu().numpy()

        errors = {
            "transformation": mse(out["transformation"], t["gt_transformation"]),
            "transformation_own_centre": mse(out["transformation"], t["gt_own_centre"]),
            "video_frames": mse(t["x1i"], t["x1j"]),
            "background": mse(out["background"], t["gt_background"]),
            "no_object": mse(t["bg1"], t["x1j"]),
        }
        return errors, {**t, **out, "theta": theta}

    def protocol(self) -> tuple[dict[str, np.ndarray], list[dict]]:
        rng = np.random.default_rng([self.cfg.seed, 43])
        errors: dict[str, list[np.ndarray]] = {k: [] for k in MEASURES}
        first: list[dict] = []
        done = 0
        while done < self.cfg.examples:
            n = min(self.cfg.batch_size, self.cfg.examples - done)
            batch = [self.draw_example(rng) for _ in range(n)]
            if not first:
                first = batch[:FIGURE_EXAMPLES]
            errs, _ = self.run_batch(batch)
            for k in MEASURES:
                errors[k].append(errs[k])
            done += n
            self.status(f"§4.3 protocol: {done}/{self.cfg.examples} examples")
        return {k: np.concatenate(v) for k, v in errors.items()}, first

    # -- §4.6 -------------------------------------------------------------------------------------
    def pair_set(self, digit: int, rng: np.random.Generator) -> tuple[list, list]:
        """``cfg.pairs`` unique ordered frame pairs of one digit instance on test background 0:
        sequences drawn as in training, every ordered pair (i ≠ j) of each, duplicates skipped.
        Returns the sequences' affines and the pairs as (sequence, i, j)."""
        seqs, pairs, seen = [], [], set()
        for _ in range(100 * self.cfg.pairs):
            if len(pairs) >= self.cfg.pairs:
                break
            _, _, aff = self.gen.trajectory(rng, digit, 0)
            s = len(seqs)
            seqs.append(aff)
            for i in range(len(aff)):
                for j in range(len(aff)):
                    key = (np.round(aff[i], 6).tobytes(), np.round(aff[j], 6).tobytes())
                    if i == j or key in seen or len(pairs) >= self.cfg.pairs:
                        continue
                    seen.add(key)
                    pairs.append((s, i, j))
        return seqs, pairs

    @torch.inference_mode()
    def analyse_digit(self, label: int) -> dict:
        matches = np.flatnonzero(self.labels == label)
        if not len(matches):
            raise UserError(f"{self.cfg.mnist}: no test digit of class {label}")
        digit = int(matches[0])
        rng = np.random.default_rng([self.cfg.seed, 46, label])
        seqs, pairs = self.pair_set(digit, rng)
        # encode every frame once, then run T^Z on the pairs
        frames = [(s, t) for s in range(len(seqs)) for t in range(len(seqs[s]))]
        index = {f: n for n, f in enumerate(frames)}
        z = []
        for start in range(0, len(frames), self.cfg.batch_size):
            chunk = frames[start : start + self.cfg.batch_size]
            imgs = [self.gen.render(digit, 0, seqs[s][t]) for s, t in chunk]
            z.append(self.model.encode_character(self._tensor(imgs)))
            self.status(f"§4.6 digit {label}: encoded {start + len(chunk)}/{len(frames)} frames")
        z = torch.cat(z)
        theta_z = []
        for start in range(0, len(pairs), 4 * self.cfg.batch_size):
            chunk = pairs[start : start + 4 * self.cfg.batch_size]
            zi = z[[index[(s, i)] for s, i, _ in chunk]]
            zj = z[[index[(s, j)] for s, _, j in chunk]]
            theta_z.append(self.model.transformation(zi, zj).float().cpu().numpy())
        tz = np.concatenate(theta_z).astype(np.float64)
        forward = np.stack([relative_affine(seqs[s][i], seqs[s][j]) for s, i, j in pairs])
        tx = np.stack([pixel_affine_to_theta(m, self.gen.size) for m in forward])
        angle_x, angle_z = rotation_angle(tx), rotation_angle(tz)
        norm_x, norm_z = np.linalg.norm(tx[:, :, 2], axis=1), np.linalg.norm(tz[:, :, 2], axis=1)
        fit = r2_linear(tx.reshape(len(tx), 6), tz.reshape(len(tz), 6))
        naive = r2_linear(forward.reshape(len(forward), 6), tz.reshape(len(tz), 6))
        rotated = np.abs(angle_x) > 1e-6
        return {
            "digit_class": label,
            "test_index": digit,
            "background": "test background 0",
            "pairs": len(pairs),
            "sequences": len(seqs),
            **fit,
            "r2_naive_forward_pixel_map": naive["r2"],
            "angle_pearson": pearson(angle_x, angle_z),
            "angle_mae_deg": float(np.abs(angle_z - angle_x)[rotated].mean()),
            "angle_slope": float(np.polyfit(angle_x, angle_z, 1)[0]),
            "translation_norm_pearson": pearson(norm_x, norm_z),
            "largest_singular_value_median": float(
                np.median(np.linalg.svd(tz[:, :, :2], compute_uv=False)[:, 0])
            ),
            "_arrays": {"tx": tx, "tz": tz, "angle_x": angle_x, "angle_z": angle_z,
                        "norm_x": norm_x, "norm_z": norm_z},  # fmt: skip
        }

    # -- figures ----------------------------------------------------------------------------------
    @torch.inference_mode()
    def layers_figure(self, examples: list[dict]) -> tuple[list[np.ndarray], list[str]]:
        """Figure 10 for the Transformation manipulation: inputs, background only, character
        only, both, and the ground truth (one column per example)."""
        _, t = self.run_batch(examples)
        m = self.model
        bg = m.render_background(t["x2i"])
        char = m.compose(m.encode_character(t["x2i"]), t["theta"], None)
        tiles = [t["x2i"], t["x1i"], t["x1j"], t["x2i"], bg, char, t["transformation"],
                 t["gt_transformation"]]  # fmt: skip
        labels = ["character: v2 frame i", "motion from: v1 i", "motion to: v1 j",
                  "background: v2 i", "background only", "character only", "both",
                  "ground truth"]  # fmt: skip
        return [to_uint8(x) for x in tiles], labels

    @torch.inference_mode()
    def manipulation_figure(self, blocks: int = 2) -> tuple[list[np.ndarray], list[str]]:
        """Figure 2: the character of video 1 (frame 1), moved as video 3 moves from frame 1 to
        frame k, on video 2's background: h(x¹_1, x³_1, x³_k, x²_k), k = 1..M, with the truth."""
        rng = np.random.default_rng([self.cfg.seed, 2])
        gen, rows, labels = self.gen, [], []
        for _ in range(blocks):
            (d1, b1, a1), (d2, b2, a2), (d3, b3, a3) = (gen.trajectory(rng) for _ in range(3))
            v = [[gen.render(d, b, m) for m in a] for d, b, a in ((d1, b1, a1), (d2, b2, a2),
                                                                   (d3, b3, a3))]  # fmt: skip
            truth = [
                gen.render(d1, b2, apply_motion(a3[0], a3[k], a1[0]))
                for k in range(gen.length)
            ]
            x = [self._tensor(f) for f in v]
            first = lambda t: t[:1].expand_as(t)  # noqa: E731
            out, _ = self.model.render(first(x[0]), first(x[2]), x[2], x[1])
            rows += [to_uint8(x[0]), to_uint8(x[1]), to_uint8(x[2]), to_uint8(out)]
            rows.append(to_uint8(self._tensor(truth)))
            labels += ["character (video 1)", "background (video 2)", "motion (video 3)",
                       "ours", "ground truth"]  # fmt: skip
        return rows, labels

    def run(self) -> dict:
        cfg = self.cfg
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        errors, first = self.protocol()
        stats_rng = np.random.default_rng([cfg.seed, 7])
        result = {
            "model": str(self.info.path),
            "model_config": self.model.config.to_dict(),
            "training": self.info.training,
            "protocol": {
                **{k: v for k, v in asdict(cfg).items() if k not in ("model", "out", "figures")},
                "digits_source": self.digit_note,
                "backgrounds": "64 test backgrounds (§4.2, disjoint from training)",
                "frames_per_video": self.gen.length,
                "device": self.device.type,
            },
            "mse": {k: summarize(errors[k], stats_rng, cfg.bootstrap) for k in MEASURES},
            "ratios": {
                f"{a}/{b}": ratio_ci(errors[a], errors[b], stats_rng, cfg.bootstrap)
                for a, b in RATIOS
            },
            "tz_analysis": {},
        }
        arrays = {}
        for label in cfg.digits:
            analysis = self.analyse_digit(label)
            arrays[label] = analysis.pop("_arrays")
            result["tz_analysis"][f"digit_{label}"] = analysis
        result["seconds"] = round(time.perf_counter() - t0, 1)
        with atomic_path(out / "per_example_mse.npz") as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **errors)
        if cfg.figures:
            self.status("figures")
            from engine import plots

            plots.boxplot(out / "boxplot.png", [errors[k] for k in MANIPULATIONS],
                          [LABELS[k] for k in MANIPULATIONS])  # fmt: skip
            for label, a in arrays.items():
                plots.tz_figure(out / f"tz_digit{label}.png", label, a)
            rows, labels = self.layers_figure(first)
            save_png(grid_image(rows, labels, label_width=130), out / "layers.png")
            rows, labels = self.manipulation_figure()
            save_png(grid_image(rows, labels, label_width=190), out / "manipulation.png")
        atomic_write_text(out / "results.json", json.dumps(result, indent=2) + "\n")
        return result


def save_png(image, path: Path) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def format_table(result: dict) -> str:
    mse = result["mse"]
    lines = [
        f"{'':16} {'mean':>9} {'median':>9}  {'95% CI of mean':>21}",
    ]
    for k in MEASURES:
        s = mse[k]
        lines.append(
            f"{LABELS[k]:16} {s['mean']:9.5f} {s['median']:9.5f}  "
            f"[{s['ci95'][0]:.5f}, {s['ci95'][1]:.5f}]"
        )
    lines.append("")
    size = result["model_config"]["image_size"]
    if size != 64:
        lines.append(f"note: the model runs at {size} px, so every image (ground truth and "
                     "baselines too) was resized to it; the paper's protocol is at 64 px")
    for a, b in RATIOS:
        r = result["ratios"][f"{a}/{b}"]
        lines.append(
            f"{LABELS[a]} / {LABELS[b]}: {r['ratio']:.3f}x  "
            f"(95% CI {r['ci95'][0]:.3f}-{r['ci95'][1]:.3f})"
        )
    for name, a in result["tz_analysis"].items():
        lines.append(
            f"T^Z {name.replace('_', ' ')}: r² {a['r2']:.4f} (naive forward map: "
            f"{a['r2_naive_forward_pixel_map']:.3f}), angle r {a['angle_pearson']:.4f}, "
            f"angle error {a['angle_mae_deg']:.2f}°, translation-norm r "
            f"{a['translation_norm_pearson']:.4f}, {a['pairs']} pairs"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    d = EvalConfig()
    p = argparse.ArgumentParser(
        prog="python -m engine.evaluate",
        description="Evaluate a model with the paper's Moving MNIST protocol (§4.3 and §4.6).",
    )
    p.add_argument("model", help="model file (.safetensors) from engine.train")
    p.add_argument("--mnist", required=True, metavar="DIR", help="MNIST folder (test files)")
    p.add_argument("--out", required=True, metavar="DIR", help="results folder to write")
    p.add_argument("--examples", type=int, default=d.examples,
                   help=f"protocol examples (paper: {d.examples})")  # fmt: skip
    p.add_argument("--pairs", type=int, default=d.pairs,
                   help=f"frame pairs per digit for the T^Z analysis (paper: {d.pairs})")
    p.add_argument("--digits", type=int, nargs="+", default=list(d.digits),
                   help="digit classes for the T^Z analysis (paper: 5 8)")  # fmt: skip
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help="bootstrap resamples")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, mps")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="numbers only")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = EvalConfig(**{**vars(args), "digits": tuple(args.digits)})
    interactive = sys.stderr.isatty()

    def status(text: str) -> None:
        if interactive:
            sys.stderr.write(f"\r{text:<70}")
            sys.stderr.flush()

    try:
        for name in ("examples", "pairs", "bootstrap", "batch_size"):
            if getattr(cfg, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1")
        if any(not 0 <= d <= 9 for d in cfg.digits):
            raise UserError("--digits are classes 0-9")
        result = Evaluator(cfg, status).run()
    except (UserError, OSError) as e:
        message = one_line(e)
        print(f"\nerror: {message}" if interactive else f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; nothing written beyond the files already complete", file=sys.stderr)
        return 130
    if interactive:
        sys.stderr.write("\r" + " " * 70 + "\r")
    print(format_table(result))
    print(f"results: {Path(cfg.out) / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
