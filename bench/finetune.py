"""Fine-tuning from the built-in model against training from scratch, on new clips.

    python bench/finetune.py --out /tmp/ft [--init builtin --clips 24 --characters 6
                                            --backgrounds 6 --steps 1200]

Writes ``--clips`` demo-kit clips of the held-out ``test`` split (characters and backgrounds the
built-in model never saw; by default a user-sized set: 6 characters on 6 sets) as videos, then
runs ``python -m engine.train`` twice on them with the same settings and seed — from scratch,
and with ``--init`` — and compares the L_scene curves (metrics.jsonl, smoothed over
``--window`` logs): the target is the scratch run's final smoothed L_scene, and the result is
how many steps each run needed to reach it. Prints a table, writes ``finetune.json`` and
``finetune.png`` (both curves) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import plots  # noqa: E402
from engine.data import demokit  # noqa: E402
from engine.demo import TRAIN_FLAGS  # noqa: E402

RECIPE = list(TRAIN_FLAGS)  # both runs train the way the built-in model was trained


def curve(run: Path, window: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = np.array([r["step"] for r in rows])
    scene = np.array([r["scene"] for r in rows])
    kernel = np.ones(window) / window
    smooth = np.convolve(scene, kernel, mode="valid")
    return steps[window - 1:], smooth


def first_at_or_below(steps: np.ndarray, values: np.ndarray, target: float) -> int | None:
    hit = np.nonzero(values <= target)[0]
    return int(steps[hit[0]]) if len(hit) else None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--init", default="builtin")
    p.add_argument("--clips", type=int, default=24)
    p.add_argument("--characters", type=int, default=6)
    p.add_argument("--backgrounds", type=int, default=6)
    p.add_argument("--steps", type=int, default=1800, help="steps of the scratch run")
    p.add_argument("--init-steps", type=int, default=300,
                   help="steps of the fine-tuning run (its own, shorter schedule)")
    p.add_argument("--window", type=int, default=10, help="logs (of 10 steps) to smooth over")
    args = p.parse_args()
    out = Path(args.out)
    clips = out / "clips"
    if not clips.is_dir():
        specs = demokit.clip_specs("test", args.clips, 0, args.characters, args.backgrounds)
        demokit.write_clips(clips, specs)
    runs = {}
    seconds = {}
    for name, steps, extra in (("scratch", args.steps, []),
                               ("init", args.init_steps, ["--init", args.init])):
        run = out / name
        if not (run / "model.safetensors").is_file():
            subprocess.run([sys.executable, "-m", "engine.train", "--data", str(clips),
                            "--steps", str(steps), "--out", str(run), "--progress", "none",
                            *RECIPE, *extra], check=True, cwd=ROOT)  # fmt: skip
        runs[name] = curve(run, args.window)
        last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        seconds[name] = last["elapsed_s"]
    target = float(runs["scratch"][1][-1])
    reached = {k: first_at_or_below(s, v, target) for k, (s, v) in runs.items()}
    first_log = {k: float(v[0]) for k, (_, v) in runs.items()}
    result = {
        "clips": args.clips, "characters": args.characters, "backgrounds": args.backgrounds,
        "steps": {"scratch": args.steps, "init": args.init_steps}, "train_seconds": seconds,
        "recipe": RECIPE, "init": args.init,
        "target_scene": target, "steps_to_target": reached,
        "speedup": reached["scratch"] / reached["init"] if reached["init"] else None,
        "first_smoothed_scene": first_log,
        "final_smoothed_scene": {k: float(v[-1]) for k, (_, v) in runs.items()},
    }
    (out / "finetune.json").write_text(json.dumps(result, indent=2) + "\n")
    plots.curve(out / "finetune.png", {k: (list(s), list(v)) for k, (s, v) in runs.items()},
                "training step", "L_scene (smoothed)",
                f"{args.clips} held-out demo-kit clips: from scratch vs --init {args.init}",
                hlines={"scratch's final L_scene": target})
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
