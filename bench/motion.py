"""Motion beyond the clip, on held-out demo-kit motions (docs/RESULTS.md, issue 15).

    python bench/motion.py --size 320x240 --clips 6 [--length 1000] [--figure docs/figures/x.png]

Writes held-out (``test`` split) kit clips as H.264 files, one per motion family, and measures
through the Director, pixels mode:

- **endless** (a video texture of the clip) against plain ``loop``, over ``--length`` output
  frames: the image change at each jump ÷ the median change between the clip's consecutive
  frames (mean and worst over the jumps; the loop's one jump is its seam), the jumps per 100
  frames, the longest run of clip frames shown twice, and that every frame shows a real frame's
  cut-out (frames the walk has not moved are compared with the clip's own, pixel for pixel);
- **extension** (engine.frames.predictor): each clip cut in two, the predictor trained on the first
  halves, its continuation against the true second half over 12, 24 and 48 frames — theta
  error (T^Z of the true frames, normalised units) and image PSNR — beside holding the last
  frame, constant velocity and looping.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.clips import write_video
from engine.document import Project
from engine.frames.director import Director
from engine.frames.layers import LayerCache


def change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two frames (0–255)."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def longest_repeat(seq: np.ndarray) -> int:
    """The longest run of values that occurs twice in ``seq`` (overlaps allowed)."""
    seq = np.asarray(seq)
    best = 0
    for lag in range(1, len(seq)):
        same = seq[lag:] == seq[:-lag]
        if not same.any():
            continue
        # longest run of True
        edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
        runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        best = max(best, int(runs.max()))
    return best


def held_out_specs(count: int, frames: int, seed: int) -> list[kit.ClipSpec]:
    """One clip per motion family (then round again), ``frames`` long at the kit's pace."""
    specs, seen = [], {}
    for s in kit.clip_specs("test", 400, seed=seed):
        if seen.get(s.motion, 0) * len(kit.MOTIONS) + len(seen) > count * 2:
            continue
        if sum(1 for x in specs if x.motion == s.motion) <= len(specs) // len(kit.MOTIONS):
            seen[s.motion] = seen.get(s.motion, 0) + 1
            specs.append(kit.ClipSpec(s.character, s.background, s.motion, s.motion_seed,
                                      kit.FRAMES, frames))  # fmt: skip
        if len(specs) == count:
            break
    return specs


def endless(project: Project, director: Director, clip_id: str, length: int, seed: int) -> dict:
    n = project.clip(clip_id).frames
    real = [director.shot_frames(project.shots[0], [t])[0] for t in range(n)]
    steady = float(np.median([change(real[t], real[t + 1]) for t in range(n - 1)]))
    out = {}
    for loop in ("loop", "endless"):
        shot = project.add_shot((clip_id, 0), (clip_id, 0), clip_id, loop=loop, duration=length,
                                seed=seed)  # fmt: skip
        drives = [director.drive(shot, t) for t in range(length)]
        frames = [d.k for d in drives]
        jumps = [t for t in range(length - 1) if frames[t + 1] != frames[t] + 1]
        images = {}

        def image(t: int, shot=shot, images=images):
            if t not in images:
                images[t] = director.shot_frames(shot, [t])[0]
            return images[t]

        ratios = [change(image(t), image(t + 1)) / steady for t in jumps[:60]]
        if loop == "endless":  # for the figure: the frames either side of the first jumps
            out["pairs"] = [(image(t), image(t + 1), f"{frames[t]}>{frames[t + 1]}")
                            for t in jumps[:4]]  # fmt: skip
        unmoved = [t for t in range(min(length, 200)) if drives[t].extra is None
                   or np.allclose(drives[t].extra, np.eye(3))]  # fmt: skip
        same = all(np.array_equal(image(t), real[frames[t]]) for t in unmoved[:40])
        out[loop] = out.get(loop, {}) | {
            "jump_ratio_mean": float(np.mean(ratios)) if ratios else 0.0,
            "jump_ratio_max": float(np.max(ratios)) if ratios else 0.0,
            "jumps_per_100": 100 * len(jumps) / length,
            "longest_repeat": longest_repeat(np.array(frames)),
            "unmoved_frames_identical": bool(same),
        }
        project.delete_shot(shot.id)
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


HORIZONS = (12, 24, 48)
PACE, CUT = 72, 36
"""Extension: the kit's motions drawn at a third of their usual pace (a 72-frame motion), so a
walk stays in the frame for the 36 + 48 frames; the first 36 are the clip, the rest the truth."""


def extension(size, count, seed, tmp: Path, model, cache) -> dict:
    """Each held-out clip cut in two: its first CUT frames in a project (the predictor trains
    on all of them), the next 48 the truth."""
    from engine.frames.compositor import composite, fit_matrix, place
    from engine.frames.inputs import motion_features
    from engine.frames.predictor import similarity
    from engine.geometry import homogeneous, normaliser

    n, ahead = CUT, max(HORIZONS)
    specs = held_out_specs(count, PACE, seed)
    project = Project.create(tmp / "extend.zoetrope", fps=kit.FPS)
    clips, truths = [], []
    for i, spec in enumerate(specs):
        whole = kit.render_clip(kit.ClipSpec(spec.character, spec.background, spec.motion,
                                             spec.motion_seed, PACE, n + ahead), size)  # fmt: skip
        path = tmp / f"first_{i}.mp4"
        write_video(path, whole[:n], fps=kit.FPS, quality=9)
        clips.append(project.import_clip(path).id)
        truths.append(whole)
    director = Director(project, model, device="cpu", mode="pixels", layer_cache=cache,
                        frame_cache=cache.frames)  # fmt: skip
    start = time.perf_counter()
    director.train_predictor()
    train_s = time.perf_counter() - start
    s = model.config.image_size
    import cv2

    names = ("predicted", "hold", "velocity", "loop")
    err = {m: {h: {"centre": [], "theta": [], "psnr": []} for h in HORIZONS} for m in names}
    for clip, whole in zip(clips, truths, strict=True):
        shot = project.add_shot((clip, 0), (clip, 0), clip, duration=n + ahead, extend=ahead)
        small = np.stack([cv2.resize(f, (s, s), interpolation=cv2.INTER_AREA) for f in whole])
        thetas, _ = motion_features(model, small)
        centre = director.inputs.model_centre(shot.motion)[0]
        from engine.frames.predictor import roots as roots_of

        true_roots = roots_of(np.linalg.inv(homogeneous(thetas)), centre)
        motion = director.drives.predictor_motion(shot)
        layers = director.layers(clip)
        norm = normaliser(*layers.size)
        fit = fit_matrix(layers.size, director.size)
        last, prev = motion.roots[-1], motion.roots[-2]
        predicted = director.predictor()[0].predict(motion, ahead).roots
        # each method: the frame shown, its extra map (as the Director's Drive) and its root
        drives = {
            "predicted": [(director.drive(shot, n + t).k, director.drive(shot, n + t).extra,
                           predicted[t]) for t in range(ahead)],
            "hold": [(n - 1, np.eye(3), last)] * ahead,
            "velocity": [(n - 1, similarity(*(last + (t + 1) * (last - prev)), centre)
                          @ np.linalg.inv(similarity(*last, centre)),
                          last + (t + 1) * (last - prev)) for t in range(ahead)],
            "loop": [(t % n, np.eye(3), motion.roots[t % n]) for t in range(n, n + ahead)],
        }  # fmt: skip
        for name, seq in drives.items():
            for t, (k, extra, root) in enumerate(seq):
                a = np.linalg.inv(norm) @ extra @ norm
                rgba, x0, y0 = layers.cutout(k)
                image = composite(layers.plate, place(rgba, x0, y0, fit @ a, director.size))
                theta = np.linalg.inv(similarity(*root, centre))[:2]
                for h in HORIZONS:
                    if t < h:
                        e = err[name][h]
                        # centre error in fractions of the frame's width (normalised is 2 wide)
                        e["centre"].append(float(abs(root[0] - true_roots[n + t][0])) / 2)
                        e["theta"].append(float(np.abs(theta - thetas[n + t]).mean()))
                        e["psnr"].append(psnr(image, whole[n + t]))
        project.delete_shot(shot.id)
    out = {"train_seconds": train_s}
    for name in names:
        out[name] = {h: {k: float(np.mean(v)) for k, v in err[name][h].items()} for h in HORIZONS}
    return out


def sheet(pairs, out: str) -> None:
    """One row per clip: the frames either side of its endless walk's first jumps, each pair
    labelled "from>to" (clip frames)."""
    import cv2

    rows = []
    for motion, row in pairs:
        tiles = []
        for before, after, label in row:
            for image, text in ((before, label), (after, "")):
                tile = cv2.resize(image, (200, 150), interpolation=cv2.INTER_AREA)
                cv2.putText(tile, f"{motion} {text}" if text else "", (4, 14),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)  # fmt: skip
                tiles.append(tile)
        tiles += [np.zeros_like(tiles[0])] * (8 - len(tiles))
        rows.append(np.concatenate(tiles, axis=1))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(out, cv2.cvtColor(np.concatenate(rows), cv2.COLOR_RGB2BGR))


def speed() -> dict:
    """Seconds to build a clip's transition graph and walk 10,000 frames of it, for clips of
    24 and 240 frames (a distance of a periodic pose; the model's features are not timed)."""
    from engine.frames.motion import TransitionGraph, frame_distance

    out = {}
    for n in (24, 240):
        t = np.arange(n)
        pose = np.stack([np.cos(t / 3), np.sin(t / 3), 0.01 * t], axis=1)
        start = time.perf_counter()
        graph = TransitionGraph.build(frame_distance(pose, None, 0))
        built = time.perf_counter()
        graph.walk(10_000, 0)
        out[n] = {"graph_s": built - start, "walk_10k_s": time.perf_counter() - built}
    return out


def run(size, count, frames, length, seed, figure=None) -> dict:
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL)
    model.eval()
    specs = held_out_specs(count, frames, seed)
    results = {"size": f"{size[0]}x{size[1]}", "frames": frames, "length": length, "clips": []}
    pairs: list = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = LayerCache(tmp / "layers")
        for i, spec in enumerate(specs):
            project = Project.create(tmp / f"p{i}.zoetrope", fps=kit.FPS)
            path = tmp / f"{i}_{spec.motion}.mp4"
            write_video(path, kit.render_clip(spec, size), fps=kit.FPS, quality=9)
            clip_id = project.import_clip(path).id
            project.add_shot((clip_id, 0), (clip_id, 0), clip_id)
            director = Director(project, model, device="cpu", mode="pixels", layer_cache=cache,
                                frame_cache=cache.frames)  # fmt: skip
            start = time.perf_counter()
            r = {"motion": spec.motion, "kind": spec.character.kind,
                 **endless(project, director, clip_id, length, seed)}  # fmt: skip
            pairs.append((spec.motion, r.pop("pairs")))
            r["seconds"] = time.perf_counter() - start
            results["clips"].append(r)
            print(json.dumps(r), flush=True)
        if figure:
            sheet(pairs, figure)
        results["extension"] = extension(size, count, seed, tmp, model, cache)
        print(json.dumps(results["extension"]), flush=True)
    for loop in ("loop", "endless"):
        rows = [c[loop] for c in results["clips"]]
        results[loop] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        results[loop]["jump_ratio_worst"] = float(max(r["jump_ratio_max"] for r in rows))
        results[loop]["longest_repeat_worst"] = int(max(r["longest_repeat"] for r in rows))
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="320x240")
    p.add_argument("--clips", type=int, default=6)
    p.add_argument("--frames", type=int, default=kit.FRAMES, help="frames per held-out clip")
    p.add_argument("--length", type=int, default=1000, help="output frames generated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", help="PNG: the frames either side of each clip's first jumps")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    results = run((w, h), args.clips, args.frames, args.length, args.seed, args.figure)
    results["speed"] = speed()
    print(json.dumps({k: v for k, v in results.items() if k != "clips"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
