"""Motion transfer on held-out demo-kit characters (docs/MOTION.md, issue 30).

    python bench/transfer.py --size 320x240 --cases 6 [--figure docs/figures/transfer.png]
        [--real docs/figures/transfer_real.png]

Character A (a held-out puppet whose own clip walks) performs clip C's motion (walk, hop or
jump, another puppet's) on set B, through the Director's pixels mode, three ways: version 8's
**rigid** move (A's frame moved by C's tracked affine: turn and growth included), version 8's
**match** (A's frame whose silhouette is nearest C's, placed where the rigid move puts A's
centre) and the **transfer** (engine.frames.transfer: C's path over the ground, upright, the
set's size, A's own walk cycle at the path's pace). The kit knows the truth: A drawn doing C's
motion on B (kit.ClipSpec(A's character, B's set, C's motion and seed)). Per case:

- **path** — the ground point of A's cut-out as shown (its lowest row, under its middle) where
  each way puts it, against A's start moved as C's true ground point moves (C's true path mapped
  to B: the kit's sets share one frame; px at the output size; median, max); and the same for
  A's *true* ground point (its true matte's: the cut-out misses a thin foot now and then);
- **size** — how much each way scales A (B's sets are flat: the set says 1; % off);
- **turn** — how far each way turns A (upright walkers: 0°; max);
- **sliding** — the planted foot's move from frame to frame while it stays planted (the lower
  foot, on its floor: :data:`PLANTED`), in px, against A's own clip's (the kit's own walk
  slides) and the truth's;
- **pose** — the character alone on grey in a box about its ground point, against the truth's
  about its own (the pose, not where it stands: the anchor differs by design): PSNR and the
  silhouettes' IoU.

The row **transfer_match** is the transfer set to match poses (its Steps setting for a wave or
a jump). The row **true_footing** is the transfer with A's and C's ground tracks read from the
kit's true mattes instead of the cut-out (:func:`true_footing`): the plan alone.

``--real``: a strip on real footage (../shared/data: HallAndMonitor's walker performing the
shop corridor's walker's path, on HallAndMonitor's set, whose perspective it learns): A as shot,
C as shot, the transfer — for a person to judge (no masks of that transfer exist); and the path
measured where the masks allow (:func:`real_path`: HallAndMonitor's walker drives).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data import demokit as kit
from engine.data.clips import write_video
from engine.document import Project
from engine.frames import transfer as tr
from engine.frames.compositor import fit_matrix, place
from engine.frames.director import Director
from engine.geometry import homogeneous

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WAYS = ("rigid", "match", "transfer")
ROWS = ("transfer_match", "true_footing")
"""Measured beside them: the transfer set to *match poses* (its Steps setting for a wave or a
jump: A's frames nearest C's silhouettes, in time order) and on true footing."""


def cases(count: int, seed: int) -> list[tuple[kit.ClipSpec, kit.ClipSpec, kit.ClipSpec]]:
    """(A, C, B) triples of the held-out split: A a puppet that walks, C another puppet that
    walks, hops or jumps, B a third clip's set."""
    specs = kit.clip_specs("test", 400, seed=seed)
    walkers = [s for s in specs if s.character.kind == "puppet" and s.motion == "walk"]
    movers = [s for s in specs if s.character.kind == "puppet" and s.motion in ("walk", "hop",
                                                                                 "jump")]
    out = []
    for i in range(count):
        a = walkers[i % len(walkers)]
        c = next(m for m in movers[i:] + movers if m.character.name != a.character.name
                 and m.motion == ("walk", "hop", "jump")[i % 3])  # fmt: skip
        b = next(s for s in specs[3 * i + 1 :] if s.background.name not in (
            a.background.name, c.background.name))  # fmt: skip
        out.append((a, c, b))
    return out


def grounds(spec: kit.ClipSpec, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The true ground point (T, 2) of a kit clip's character in each frame, from its true
    matte — its lowest row, under its middle (as engine.frames.transfer.footing defines it) —
    and its height (T,)."""
    out, tall = [], []
    for m in kit.true_mattes(spec, size) > 0.5:
        ys, xs = np.nonzero(m)
        out.append((xs.mean(), ys.max()))
        tall.append(ys.max() - ys.min() + 1)
    return np.array(out, np.float64), np.array(tall, np.float64)


def feet(ch: kit.Character, pose: kit.Pose, size: tuple[int, int]) -> np.ndarray:
    """The puppet's two feet (2, 2) in pixels, as the kit draws them (its limbs, turned about
    its pivot)."""
    w, h = size
    x, y, j = pose.x * w / h, pose.y, pose.joints
    hip = ch.torso[0] / 2 - ch.thick / 2
    px, py = x, y - ch.torso[1] / 2
    a = math.radians(pose.angle)
    out = []
    for side, sx in (("l", x - hip), ("r", x + hip)):
        a1, a2 = math.radians(j[f"{side}_hip"]), math.radians(j[f"{side}_hip"] + j[f"{side}_knee"])
        fx = sx + ch.leg[0] * math.sin(a1) + ch.leg[1] * math.sin(a2)
        fy = y + ch.leg[0] * math.cos(a1) + ch.leg[1] * math.cos(a2)
        dx, dy = fx - px, fy - py
        out.append(((px + math.cos(a) * dx - math.sin(a) * dy) * h - 0.5,
                    (py + math.sin(a) * dx + math.cos(a) * dy) * h - 0.5))  # fmt: skip
    return np.array(out)


PLANTED = 0.05
"""A foot is planted while it is the lower one and within this much of the character's height
of the lowest that foot goes in the frames around (:data:`engine.frames.transfer.FLOOR`): a
foot lifted with the body — a hop, a jump — is in the air, not sliding."""


def sliding(feet_px: list[np.ndarray], tall: float) -> float:
    """Mean move (px) of the planted foot between two frames it stays planted in (0: never)."""
    feet_px = np.array(feet_px)  # (T, 2 feet, x y)
    lower = feet_px[:, :, 1].argmax(axis=1)
    r = tr.FLOOR
    floor = np.array([feet_px[max(0, t - r) : t + r + 1, :, 1].max() for t in range(len(lower))])
    planted = feet_px[np.arange(len(lower)), lower, 1] >= floor - PLANTED * tall
    moves = [float(np.hypot(*(feet_px[t + 1, lower[t]] - feet_px[t, lower[t]])))
             for t in range(len(lower) - 1)
             if lower[t] == lower[t + 1] and planted[t] and planted[t + 1]]  # fmt: skip
    return float(np.mean(moves)) if moves else 0.0


@contextlib.contextmanager
def true_footing(tracks: dict[int, np.ndarray], heights: dict[int, np.ndarray]):
    """engine.frames.transfer's footing of the clips whose layers are keys of ``tracks`` (by
    ``id``) read from the kit's true mattes instead of the cut-out (ground points (T, 2) and
    heights (T,)): the transfer's plan alone, without the cut-out's errors (a lost thin foot)."""
    cut = tr.footing

    def footing(layers, subjects=(), frames=None):
        if id(layers) not in tracks:
            return cut(layers, subjects, frames)
        ground, height = np.full((len(layers), 2), np.nan), np.zeros(len(layers))
        used = list(range(len(layers)) if frames is None else frames)
        ground[used], height[used] = tracks[id(layers)][used], heights[id(layers)][used]
        return tr.Footing(ground, height)

    tr.footing = footing
    try:
        yield
    finally:
        tr.footing = cut


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


GREY = 128.0


def on_grey(rgba: np.ndarray, x0: int, y0: int, matrix: np.ndarray, at: np.ndarray,
            box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A character's cut-out (RGBA crop at (x0, y0) of its frame) moved by ``matrix``, seen in
    ``box`` (x0, y0, x1, y1 about a ground point) around ``at``, over flat grey (the pose alone:
    no set, no frame edge): RGB uint8 and its alpha."""
    bx0, by0, bx1, by1 = box
    shift = np.array([[1, 0, -at[0] - bx0], [0, 1, -at[1] - by0], [0, 0, 1.0]])
    placed = place(rgba, x0, y0, shift @ matrix, (bx1 - bx0, by1 - by0))
    colour = np.full((by1 - by0, bx1 - bx0, 3), GREY, np.float32)
    alpha = np.zeros((by1 - by0, bx1 - bx0), np.float32)
    if placed is not None:
        c, a, ox, oy = placed
        h, w = a.shape[:2]
        region = colour[oy : oy + h, ox : ox + w]
        region[...] = c + (1 - a) * region
        alpha[oy : oy + h, ox : ox + w] = a[..., 0]
    return np.clip(colour + 0.5, 0, 255).astype(np.uint8), alpha


def matrices(d: Director, shot, way: str) -> list[tuple[np.ndarray, int]]:
    """Per output frame, the forward map (A's pixels → output) and A's frame shown, ``way``."""
    size = d.size
    a, c = d.layers(shot.character.clip), d.layers(shot.motion.clip)
    fit_a, fit_c = fit_matrix(a.size, size), fit_matrix(c.size, size)
    if way == "transfer":
        out = []
        for t in range(shot.duration):
            p = d.place(shot, t)
            out.append((p.matrix(fit_a[0, 0], a.centre(p.frame)), p.frame))
        return out
    own = tr.describe(a, range(len(a))) if way == "match" else None
    out = []
    for t in range(shot.duration):
        k = shot.motion_frame(t)
        m = fit_c @ homogeneous(c.tracked_motion(shot.motion.start, k)) @ np.linalg.inv(fit_c) \
            @ fit_a  # fmt: skip
        j = shot.character.frame
        if way == "match":  # version 8: the nearest silhouette, its centre where A's goes
            target = tr.pose_descriptor(c.cutout(k)[0][..., 3])
            i = int(((own - target) ** 2).sum(axis=1).argmin())
            goes = m @ np.append(a.centre(j), 1.0)
            m = fit_a.copy()
            m[:2, 2] += goes[:2] - (fit_a @ np.append(a.centre(i), 1.0))[:2]
            j = i
        out.append((m, j))
    return out


def measure(size: tuple[int, int], count: int, seed: int, figure: str | None) -> dict:
    results, strips = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (sa, sc, sb) in enumerate(cases(count, seed)):
            p = Project.create(Path(tmp) / f"T{n}.zoetrope")
            ids = []
            for name, spec in (("A", sa), ("C", sc), ("B", sb)):
                path = write_video(Path(tmp) / f"{n}{name}.mp4", kit.render_clip(spec, size),
                                   fps=kit.FPS, quality=9)  # fmt: skip
                ids.append(p.import_clip(path, name=name).id)
            p.add_shot((ids[0], 0), (ids[2], 0), ids[1], duration=kit.FRAMES)
            p.set_output_size(size)
            d = Director(p, device="cpu")
            truth = kit.ClipSpec(sa.character, sb.background, sc.motion, sc.motion_seed)
            aposes = sa.poses()
            (tg, _), (ag, ah), (cg, ch) = (grounds(x, size) for x in (truth, sa, sc))
            anchor = ag[0]
            tall = int(max(np.ptp(np.nonzero(m)[0]) for m in kit.true_mattes(truth, size) > 0.5))
            box = (-tall, -tall - 8, tall, 8)  # about the ground point: the pose's room
            true_layers = [np.asarray(kit.character_layer(sa.character, q, size))
                           for q in truth.poses()]  # fmt: skip
            a_layers = d.layers(ids[0])
            seen_ground = tr.footing(a_layers).ground  # the cut-out's own: what shows
            own_feet = [feet(sa.character, q, size) for q in aposes]
            row = {"A": sa.name, "C": sc.name, "B": sb.background.name, "motion": sc.motion,
                   "own_sliding": sliding(own_feet, tall),
                   "truth_sliding": sliding([feet(sa.character, q, size) for q in truth.poses()],
                                            tall)}  # fmt: skip
            pictures = {}
            for way in (*WAYS, *ROWS):
                if way == "transfer_match":  # the transfer's own match poses (Steps setting)
                    p.update_shot(p.shots[0].id, pose="match")
                    ms = matrices(d, p.shots[0], "transfer")
                    p.update_shot(p.shots[0].id, pose="cycle")
                elif way == "true_footing":  # the plan alone: a fresh Director (nothing cached)
                    fresh = Director(p, device="cpu")
                    la, lc = id(fresh.layers(ids[0])), id(fresh.layers(ids[1]))
                    with true_footing({la: ag, lc: cg}, {la: ah, lc: ch}):
                        ms = matrices(fresh, p.shots[0], "transfer")
                else:
                    ms = matrices(d, p.shots[0], way)
                errs, feet_errs, sizes, turns, fts, scores, ious, frames = ([] for _ in range(8))
                for t, (m, j) in enumerate(ms):
                    at = (m @ np.append(ag[j], 1.0))[:2]
                    feet_errs.append(float(np.hypot(*(at - (anchor + cg[t] - cg[0])))))
                    shown = (m @ np.append(seen_ground[j], 1.0))[:2]
                    errs.append(float(np.hypot(*(shown - (seen_ground[0] + cg[t] - cg[0])))))
                    sizes.append(abs(math.sqrt(abs(np.linalg.det(m[:2, :2]))) - 1) * 100)
                    flip = np.diag([-1.0, 1, 1]) if np.linalg.det(m[:2, :2]) < 0 else np.eye(3)
                    turns.append(abs(tr.turn_of(m @ flip)))  # (mirrored: not a turn)
                    fts.append((m @ np.c_[own_feet[j], np.ones(2)].T).T[:, :2])
                    ours, oa = on_grey(*a_layers.cutout(j), m, at, box)
                    want, wa = on_grey(true_layers[t], 0, 0, np.eye(3), tg[t], box)
                    scores.append(psnr(ours, want))
                    ious.append(float(((oa > 0.5) & (wa > 0.5)).sum() / max(
                        ((oa > 0.5) | (wa > 0.5)).sum(), 1)))  # fmt: skip
                    frames.append(ours if way != "transfer" else np.concatenate([ours, want], 0))
                row[way] = {"path_px_median": float(np.median(errs)), "path_px_max": max(errs),
                            "true_feet_px_median": float(np.median(feet_errs)),
                            "size_pct_max": max(sizes), "turn_deg_max": max(turns),
                            "sliding_px": sliding(fts, tall),
                            "pose_psnr": float(np.mean(scores)),
                            "pose_iou": float(np.mean(ious))}  # fmt: skip
                pictures[way] = frames
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
            if figure and n < 3:  # rows: rigid, match, transfer, truth; the box's middle
                ts, half = range(0, kit.FRAMES, 3), tall // 2
                strips.append(np.concatenate(
                    [np.concatenate([pictures[w][t][:, tall - half : tall + half] for t in ts], 1)
                     for w in WAYS], 0))  # fmt: skip
    summary = {way: {k: float(np.mean([r[way][k] for r in results])) for k in results[0][way]}
               for way in (*WAYS, *ROWS)}  # fmt: skip
    for key in ("own_sliding", "truth_sliding"):
        summary[key] = float(np.mean([r[key] for r in results]))
    if figure and strips:
        width = max(s.shape[1] for s in strips)
        strips = [np.pad(s, ((0, 6), (0, width - s.shape[1]), (0, 0))) for s in strips]
        out = np.concatenate(strips, 0)
        cv2.imwrite(figure, cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    return {"cases": results, "summary": summary}


def real_strip(out: str, size: tuple[int, int] = (320, 240)) -> str:
    """A as shot, C as shot, the transfer — real footage (see the module's docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        p = Project.create(Path(tmp) / "Real.zoetrope")
        hall = p.import_clip(DATA / "realmask" / "HallAndMonitor" / "input", name="hall").id
        shop = p.import_clip(DATA / "clips" / "shop_corridor.avi", name="shop").id
        shot = p.add_shot((hall, 24), (hall, 0), (shop, 20, 110))
        p.set_output_size(size)
        d = Director(p, device="cpu")
        ts = np.linspace(0, shot.duration - 1, 6).round().astype(int)
        a, c = d.clip_frames(hall), d.clip_frames(shop)
        fit = lambda im: cv2.resize(np.asarray(im), (200, 150), interpolation=cv2.INTER_AREA)  # noqa: E731
        rows = [np.concatenate([fit(a[min(24 + t, len(a) - 1)]) for t in ts], 1),
                np.concatenate([fit(c[20 + t]) for t in ts], 1),
                np.concatenate([fit(d.frame(t)) for t in ts], 1)]  # fmt: skip
        cv2.imwrite(out, cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))
        return d.transfer_note(p.shots[0]) or ""


def real_path(size: tuple[int, int] = (320, 240)) -> dict:
    """The path on real footage whose masks are known: HallAndMonitor's walker (its frames
    20…110, its hand-drawn masks: the largest subject's lowest row, under its middle) drives a
    shop-corridor walker on PeopleAndFoliage's set: where the transfer puts the character's
    ground point against its start moved as the walker's true ground point moves (px at the
    output size) beside version 8's rigid move (C's tracked affine) in the same run, how much
    the path jitters (mean |second difference|, px), and how long the transfer's plan takes to
    make (the clips analysed first) and then a frame."""
    hall = DATA / "realmask" / "HallAndMonitor"
    with tempfile.TemporaryDirectory() as tmp:
        p = Project.create(Path(tmp) / "Path.zoetrope")
        c = p.import_clip(hall / "input", name="hall").id
        a = p.import_clip(DATA / "clips" / "shop_corridor.avi", name="shop").id
        b = p.import_clip(DATA / "realmask" / "PeopleAndFoliage" / "input", name="folia").id
        shot = p.add_shot((a, 60), (b, 0), (c, 20, 110), pose="rigid", size="fixed")
        p.set_output_size(size)
        d = Director(p, device="cpu")
        fit = fit_matrix(d.layers(c).size, size)
        truth = []
        for k in range(20, 111):
            mask = cv2.imread(str(hall / "groundtruth" / f"gt{k:06d}.png"), cv2.IMREAD_GRAYSCALE)
            n, labels, stats, _ = cv2.connectedComponentsWithStats((mask == 255).astype(np.uint8))
            if n < 2:
                truth.append(None)
                continue
            ys, xs = np.nonzero(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])))
            truth.append((fit @ np.array([xs.mean(), ys.max(), 1.0]))[:2])
        first = next(t for t, g in enumerate(truth) if g is not None)
        for clip in (a, b, c):  # (analysed before the plan's clock starts)
            d.layers(clip)
        began = time.perf_counter()
        d.place(p.shots[0], 0)
        made = time.perf_counter() - began
        points = np.array([d.place(p.shots[0], t).point for t in range(shot.duration)])
        each = (time.perf_counter() - began - made) / shot.duration
        foot = tr.footing(d.layers(a), (), range(60, 61)).ground[60]  # A's, in its frame
        old = np.array([(m @ np.append(foot, 1.0))[:2] for m, _ in matrices(d, shot, "rigid")])

        def errors(at: np.ndarray) -> list[float]:
            return [float(np.hypot(*(at[t] - at[first] - (g - truth[first]))))
                    for t, g in enumerate(truth) if g is not None]

        errs, old_errs = errors(points), errors(old)
        jitter = np.abs(np.diff(points, 2, axis=0)).mean(axis=0)
        return {"path_px_median": float(np.median(errs)), "path_px_max": float(np.max(errs)),
                "jitter_px": [float(v) for v in jitter], "plan_ms": 1000 * made,
                "v8_rigid_path_px_median": float(np.median(old_errs)),
                "v8_rigid_path_px_max": float(np.max(old_errs)),
                "plan_us_a_frame": 1e6 * each, "note": d.transfer_note(p.shots[0])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="320x240")
    p.add_argument("--cases", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", help="PNG: per case, rigid / match / transfer / truth")
    p.add_argument("--real", help="PNG: the real-footage strip")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    results = measure((w, h), args.cases, args.seed, args.figure)
    print(json.dumps(results["summary"], indent=1))
    if args.real:
        print("real footage:", real_strip(args.real))
        print("real path:", json.dumps(real_path()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
