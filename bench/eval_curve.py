"""Metric against training time: the §4.3/§4.6 evaluator on every checkpoint of one or more runs.

    python bench/eval_curve.py RUN_DIR [RUN_DIR ...] --mnist ../shared/data/mnist \
        --out docs/figures/curve.png [--examples 2000 --pairs 4000]

Train with ``--checkpoint-every N --keep-checkpoints 1000`` so the checkpoints stay. Prints one
row per checkpoint (training minutes from the file's header), writes a JSON of the rows beside
the figure and a plot of the two ratios and r² against training minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint, plots
from engine.evaluate import EvalConfig, Evaluator


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("runs", nargs="+")
    p.add_argument("--mnist", required=True)
    p.add_argument("--out", required=True, help="PNG to write (rows go to the same name .json)")
    p.add_argument("--examples", type=int, default=2000)
    p.add_argument("--pairs", type=int, default=4000)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    rows = []
    for run in args.runs:
        for path in sorted(Path(run).glob("checkpoints/step_*.safetensors")):
            info = checkpoint.inspect(path)
            cfg = EvalConfig(model=str(path), mnist=args.mnist, out="", examples=args.examples,
                             pairs=args.pairs, bootstrap=200, device=args.device, figures=False)
            ev = Evaluator(cfg)
            errors, _ = ev.protocol()
            r2 = [ev.analyse_digit(d)["r2"] for d in cfg.digits]
            row = {
                "run": Path(run).name,
                "step": info.training.get("steps"),
                "minutes": round(info.training.get("train_seconds", 0) / 60, 2),
                "transformation_ratio": float(errors["transformation"].mean()
                                              / errors["video_frames"].mean()),
                "background_ratio": float(errors["background"].mean()
                                          / errors["no_object"].mean()),
                "r2_min": min(r2),
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    for key, label, targets in (
        ("transformation_ratio", "Transformation ÷ Video frames", {"target 0.3": 0.3}),
        ("background_ratio", "Background ÷ No object", {"target 0.25": 0.25}),
        ("r2_min", "r² of T^Z (lower of digits 5, 8)", {"target 0.995": 0.995}),
    ):
        series = {}
        for r in rows:
            x, y = series.setdefault(r["run"], ([], []))
            x.append(r["minutes"])
            y.append(r[key])
        plots.curve(out.with_name(f"{out.stem}_{key}.png"), series, "training minutes (CPU)",
                    label, f"{label} ({args.examples} examples)", targets)  # fmt: skip


if __name__ == "__main__":
    main()
