"""Which cue leads a clip's cut-out, and what its analysis finds in it — on held-out kit clips and
real footage side by side.

    python bench/cue_scores.py [--kit 24] [--subjects]

For each clip: the share of what clearly moves in it (over 40/255 from its own plate) that the
built-in model's matte covers (engine.frames.layers.cue_score, on 48 evenly spaced frames) —
the score ``cue="auto"`` compares with TRUST_RECALL. Kit clips: the ``test`` split at 320×240;
real: the four ``../shared/data/realmask`` scenes (also their first 120 frames) and the two
``../shared/data/clips``. With ``--subjects`` the real clips are analysed as the studio does and
the subjects it lists (not minor) are counted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.clips import ClipReader
from engine.frames.layers import TRUST_RECALL, LayerCache, cue_score, model_views

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def score(model, frames: np.ndarray) -> float:
    idx = np.linspace(0, len(frames) - 1, min(48, len(frames))).round().astype(int)
    samples = frames[idx]
    s = model.config.image_size
    small = np.stack([cv2.resize(f, (s, s), interpolation=cv2.INTER_AREA) for f in samples])
    return cue_score(model_views(model, small)[0], samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kit", type=int, default=24, help="held-out kit clips")
    ap.add_argument("--subjects", action="store_true")
    args = ap.parse_args()
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    model.eval()
    print(f"TRUST_RECALL = {TRUST_RECALL}")
    kit_scores = []
    for spec in kit.clip_specs("test", args.kit, seed=0):
        kit_scores.append((score(model, np.asarray(kit.render_clip(spec, (320, 240)))), spec.name))
    for value, name in sorted(kit_scores)[:5]:
        print(f"kit   {value:5.3f}  {name}")
    print(f"kit   lowest {min(kit_scores)[0]:.3f} of {len(kit_scores)}")
    real = [SHARED / "realmask" / n / "input" for n in
            ("Board", "HallAndMonitor", "HighwayI", "PeopleAndFoliage")]  # fmt: skip
    real += [SHARED / "clips" / "cars_on_road.avi", SHARED / "clips" / "shop_corridor.avi"]
    for path in real:
        frames = np.stack(list(ClipReader(path).frames()))
        line = f"real  {score(model, frames):5.3f}  first 120: {score(model, frames[:120]):5.3f}"
        if args.subjects:
            with tempfile.TemporaryDirectory() as tmp:
                layers = LayerCache(tmp).load(path, model)
                listed = sum(not s["minor"] for s in layers.subjects)
                line += f"  cue {layers.cue}, {listed} subjects listed"
        print(f"{line}  {path.parent.name if path.name == 'input' else path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
