"""Cut-outs, plates and swaps on real footage with hand-drawn masks, beside the classical baseline.

    python bench/realmask.py [--data ../shared/data/realmask] [--clips Board,HighwayI]
                             [--frames 0] [--figure docs/figures/realmask.png] [--json out.json]

Each sequence of the data folder (``NAME/input/`` frames, ``NAME/groundtruth/gtNNNNNN.png``
masks: 255 subject, 0 set, 170 not scored) is analysed as a clip the way the studio analyses an
imported clip (engine.frames.layers, the built-in model, a fresh cache), and the classical baseline
runs in the same process on the same frames (the clip's median plate, colour difference over a
threshold, a 3×3 opening and a 5×5 closing). Reported per clip and overall (mean over clips):

- ``iou``: the matte (α > ½) against the mask, summed over the clip's frames, scored where the mask
  is 0 or 255;
- ``bf``: boundary F — the matte's outline against the mask's within 2 px (the unscored band counts
  as on the outline), mean over frames with a subject;
- ``plate``: PSNR of the plate against the true empty set (per pixel, the median over the frames
  whose mask says set), where any frame shows the set;
- ``swap``: a background swap with a known answer — subject A (the clip) at 8 frames over B's true
  empty set (B: the next clip, resized), the truth laid with A's mask, the method's with its own
  matte and colour over its own plate of B; ``cutout``: the same over B's true set (the cut-out
  alone); scored where A's mask is 0 or 255;
- ``asshot``: the clip's cut-out over the clip's own set (as shot, where the method keeps it;
  else its plate) against the frame itself;
- ``flicker``: the share (%) of pixels whose matte changes from one frame to the next where
  neither the frame (within 6/255) nor the mask changed;
- ``ms``: the analysis's wall time per frame (decoding included);
- ``apart`` (methods that tell subjects apart): of the mask's separate parts (at least 1/200 of
  the frame), the share (%) given a subject of their own (:func:`apart`).

``--real-swap PNG`` writes only docs/figures/realswap.png (:func:`real_swap`); ``--sign [PNG]``
only measures the set's things in front of the subject on a scene with a sign (:func:`sign`).

With ``--click`` a method may take one click per clip (the mask's centre in the middle frame),
as a user would when nothing moves.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data.clips import ClipReader, frame_files
from engine.document import Stroke
from engine.frames.appearance import Appearance
from engine.frames.layers import LayerCache, LayerSettings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "realmask"
SWAP_FRAMES = 8


@dataclass
class Analysis:
    """What a method makes of a clip: its plate and, per frame, α (0–1) and foreground colour."""

    plate: np.ndarray
    alpha: Callable[[int], np.ndarray]
    colour: Callable[[int], np.ndarray]
    ms: float
    live: Callable[[int], np.ndarray] | None = None
    """Frame k's set as shot, for the as-shot render (the plate when None)."""
    labels: Callable[[int], np.ndarray] | None = None
    """Frame k's subject of each pixel (0: none), where the method tells subjects apart."""


def read_clip(folder: Path, size: tuple[int, int] | None = None, out: Path | None = None,
              ) -> tuple[np.ndarray, np.ndarray, Path]:  # fmt: skip
    """A sequence's frames, masks and the clip to analyse: its ``input/`` folder, or (``size``)
    its frames resized to (w, h) as PNGs in ``out``."""
    frames = np.stack(list(ClipReader(folder / "input").frames()))
    masks = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
                      for p in frame_files(folder / "groundtruth")])  # fmt: skip
    if size is None:
        return frames, masks, folder / "input"
    frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames])
    masks = np.stack([cv2.resize(m, size, interpolation=cv2.INTER_NEAREST) for m in masks])
    out.mkdir(parents=True)
    for k, f in enumerate(frames):
        cv2.imwrite(str(out / f"in{k:06d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return frames, masks, out


def with_sign(frames: np.ndarray, masks: np.ndarray, panel=(100, 92, 150, 120)):
    """The frames with a road sign standing in front of the subject (a blue panel with a white
    border and EXIT written on it, on a grey pole), its edges anti-aliased as a camera's are;
    the masks with the subject the sign hides taken out (170 along the sign's soft edge); and
    the sign's own mask. For the set's things in front (engine.frames.front): none of the four
    real scenes has one."""
    h, w = frames.shape[1:3]
    sign, alpha = np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = panel
    cx = (x0 + x1) // 2
    for image, pole, board in ((sign, (125, 125, 130), (30, 70, 160)), (alpha, 255, 255)):
        cv2.rectangle(image, (cx - 3, y1), (cx + 3, y1 + 66), pole, -1)
        cv2.rectangle(image, (x0, y0), (x1, y1), board, -1)
    cv2.rectangle(sign, (x0 + 2, y0 + 2), (x1 - 2, y1 - 2), (235, 235, 235), 1)
    cv2.putText(sign, "EXIT", (x0 + 8, y1 - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (240, 240, 240),
                1, cv2.LINE_AA)  # fmt: skip
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0.7)
    a = alpha[..., None] / 255.0
    out = (frames * (1 - a) + sign * a).round().astype(np.uint8)
    hidden = masks.copy()
    hidden[:, alpha > 127] = 0
    soft = (alpha > 0) & (alpha < 255)
    hidden[:, soft] = np.where(hidden[:, soft] == 255, 170, hidden[:, soft])
    return out, hidden, alpha > 127


# -- methods --------------------------------------------------------------------------------------
def baseline(clip: Path, frames: np.ndarray, click=None, threshold: int = 25) -> Analysis:
    """The clip's median plate; |frame − plate| (max over RGB) over ``threshold``; open, close."""
    t = time.perf_counter()
    frames = np.stack(list(ClipReader(clip).frames()))
    plate = np.median(frames, axis=0).astype(np.uint8)
    o, c = np.ones((3, 3), np.uint8), np.ones((5, 5), np.uint8)
    mattes = []
    for f in frames:
        m = (cv2.absdiff(f, plate).max(axis=2) > threshold).astype(np.uint8)
        mattes.append(cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_OPEN, o), cv2.MORPH_CLOSE, c))
    ms = (time.perf_counter() - t) * 1000 / len(frames)
    return Analysis(plate, lambda k: mattes[k].astype(np.float32), lambda k: frames[k], ms)


def product(settings: LayerSettings | None = None) -> Callable[..., Analysis]:
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")

    def run(clip: Path, frames: np.ndarray, click=None) -> Analysis:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            layers = LayerCache(tmp).load(clip, model, settings)
            ms = (time.perf_counter() - t) * 1000 / len(frames)
            plate = np.array(layers.plate)
            cut = [_full(*layers.cutout(k), *plate.shape[1::-1]) for k in range(len(layers))]

            def labels(k: int) -> np.ndarray:
                out = np.zeros(plate.shape[:2], np.uint16)
                _, x0, y0, w, h = (int(v) for v in layers.boxes[k])
                out[y0 : y0 + h, x0 : x0 + w] = layers.labels(k)
                return out

        # (the layers' files stay readable through their open maps after the folder goes)
        return Analysis(plate, lambda k: cut[k][..., 3] / 255.0, lambda k: cut[k][..., :3], ms,
                        lambda k: layers.live_set(k, frames[k]), labels)  # fmt: skip

    return run


def click_of(masks: np.ndarray) -> tuple[int, tuple[float, float]]:
    """One click as a user would make it: in the middle frame, on the subject's most inside
    point (its largest part's)."""
    k = len(masks) // 2
    inside = cv2.distanceTransform((masks[k] == 255).astype(np.uint8), cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(inside.argmax()), inside.shape)
    return k, (float(x), float(y))


def clip_method(clip: Path, frames: np.ndarray, click=None, shadows: bool = True,
                steady: bool = False, learn: bool = False) -> Analysis:
    """engine.frames.cutout alone (no model), with the layers' edge and colour; ``click``
    (frame, (x, y)): one dab of the add brush there."""
    from engine.frames import corrections, cutout
    from engine.frames.layers import _foreground, _plate_alpha

    t = time.perf_counter()
    frames = np.stack(list(ClipReader(clip).frames()))
    idx = np.linspace(0, len(frames) - 1, min(48, len(frames))).round().astype(int)
    plate, support = cutout.set_plate(frames[idx], cutout.Stillness.of(frames, idx))
    fine = cutout.PlateMean(plate)
    for f in frames:
        fine.add(f)
    plate = fine.result()
    sq = np.ones((3, 3), np.uint8)
    noise = cutout.noise_map(frames[idx], cv2.erode(plate, sq), cv2.dilate(plate, sq))
    matting = cutout.Matting(plate, noise, shadows)
    strokes = None
    if click is not None:
        k, point = click
        h, w = plate.shape[:2]
        strokes = corrections.Strokes((Stroke(k, True, 6.0, (point,), (w, h)),), plate,
                                 {k: frames[k]}, matting.weak,
                                 {k: matting.mask(frames[k]) > 0}, support)  # fmt: skip
    band = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    alphas, colours = [], []
    pf = plate.astype(np.float32)
    hold = corrections.Steady(matting.weak, plate) if steady else None
    look = Appearance.learn(frames[idx], plate, matting) if learn else None
    for f in frames:
        m = matting.mask(f)
        if look is not None:
            m = look.extend(f, plate, m, matting.last_shadow)
        if strokes is not None:
            m = strokes.apply(f, m)
        if hold is not None:
            m = hold.apply(f, m)
        a = _plate_alpha(f.astype(np.float32), pf, m, band)
        alphas.append(a)
        colours.append(_foreground(f.astype(np.float32), pf, a, m))
    ms = (time.perf_counter() - t) * 1000 / len(frames)
    return Analysis(plate, lambda k: alphas[k], lambda k: colours[k], ms)


def _full(rgba: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    out = np.zeros((h, w, 4), np.uint8)
    out[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba
    return out


# -- measures -------------------------------------------------------------------------------------
def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = d[where].mean() if where is not None else d.mean()
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


def outline(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))) > 0


def boundary_f(pred: np.ndarray, gt: np.ndarray, tol: int = 2) -> float | None:
    truth = gt == 255
    if not truth.any():
        return None
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1,) * 2)
    ob, gb = outline(pred), outline(truth)
    near_truth = cv2.dilate((gb | (gt == 170)).astype(np.uint8), k) > 0
    near_pred = cv2.dilate(ob.astype(np.uint8), k) > 0
    p = (ob & near_truth).sum() / max(ob.sum(), 1)
    r = (gb & near_pred).sum() / max(gb.sum(), 1)
    return 0.0 if p + r == 0 else float(2 * p * r / (p + r))


def true_plate(frames: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = frames.astype(np.float32)
    f[masks != 0] = np.nan
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            med = np.nanmedian(f, axis=0)
    seen = ~np.isnan(med[..., 0])
    return np.nan_to_num(med).round().astype(np.uint8), seen


def over(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    return (a * fg + (1 - a) * bg).round().clip(0, 255).astype(np.uint8)


def measure(a: Analysis, frames: np.ndarray, masks: np.ndarray, truth_plate, seen,
            b_plate_true: np.ndarray, b_plate_ours: np.ndarray) -> dict:  # fmt: skip
    inter = union = 0
    bfs, asshot, flicker = [], [], []
    prev = None
    for k in range(len(frames)):
        pred = a.alpha(k) > 0.5
        if prev is not None:  # matte changes where neither the frame nor the truth changed
            calm = (cv2.absdiff(frames[k], frames[k - 1]).max(axis=2) <= 6) & \
                (masks[k] == masks[k - 1]) & (masks[k] != 170)  # fmt: skip
            flicker.append(float((pred ^ prev)[calm].mean()) if calm.any() else 0.0)
        prev = pred
        scored = masks[k] != 170
        gt = masks[k] == 255
        inter += (pred & gt & scored).sum()
        union += ((pred | gt) & scored).sum()
        f = boundary_f(pred, masks[k])
        if f is not None:
            bfs.append(f)
        bg = None if a.live is None else a.live(k)  # (None: the frames were not kept)
        bg = a.plate if bg is None else bg
        asshot.append(psnr(over(a.colour(k), a.alpha(k), bg), frames[k]))
    swaps, cuts = [], []
    bh, bw = b_plate_true.shape[:2]
    with_subject = [k for k in range(len(frames)) if (masks[k] == 255).mean() > 0.002]
    for k in np.linspace(0, len(with_subject) - 1, SWAP_FRAMES).round().astype(int):
        k = with_subject[k]
        rs = lambda x, i=cv2.INTER_LINEAR: cv2.resize(x, (bw, bh), interpolation=i)  # noqa: E731
        m = rs(masks[k], cv2.INTER_NEAREST)
        frame = rs(frames[k])
        truth = np.where((m == 255)[..., None], frame, b_plate_true)
        fg, al = rs(a.colour(k)), rs(a.alpha(k).astype(np.float32))
        scored = m != 170
        swaps.append(psnr(over(fg, al, b_plate_ours), truth, scored))
        cuts.append(psnr(over(fg, al, b_plate_true), truth, scored))
    return {
        "iou": float(inter / max(union, 1)),
        "bf": float(np.mean(bfs)) if bfs else float("nan"),
        "plate": psnr(a.plate, truth_plate, seen),
        "swap": float(np.mean(swaps)),
        "cutout": float(np.mean(cuts)),
        "asshot": float(np.mean(asshot)),
        "asshot_min": float(np.min(asshot)),
        "flicker": 100 * float(np.mean(flicker)),
        "ms": a.ms,
        **({} if a.labels is None else {"apart": apart(a, masks)}),
    }


def apart(a: Analysis, masks: np.ndarray) -> float:
    """How often the subjects a person would pick are told apart: over the frames, of the
    mask's separate parts at least 1/200 of the frame, the share (%) whose most common subject
    label is no other such part's most common one (a part that gets no label counts against)."""
    own = total = 0
    for k in range(len(masks)):
        n, comp, stats, _ = cv2.connectedComponentsWithStats((masks[k] == 255).astype(np.uint8))
        big = [c for c in range(1, n) if stats[c, cv2.CC_STAT_AREA] >= masks[k].size / 200]
        if not big:
            continue
        labels = a.labels(k)
        tops = []
        for c in big:
            found = labels[comp == c]
            found = found[found > 0]
            tops.append(int(np.bincount(found).argmax()) if len(found) else 0)
        total += len(big)
        own += sum(1 for t in tops if t and tops.count(t) == 1)
    return 100 * own / max(total, 1)


def figure(path: Path, rows: list[tuple[str, np.ndarray, np.ndarray, dict[str, np.ndarray]]]):
    """Crops at 2×: source, mask, then each method's cut-out over grey."""
    tiles = []
    for name, frame, mask, cuts in rows:
        n, labels, stats, cents = cv2.connectedComponentsWithStats((mask == 255).astype(np.uint8))
        if n < 2:
            continue
        biggest = 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())
        cx, cy = (int(v) for v in cents[biggest])
        h, w = frame.shape[:2]
        s = min(120, h, w)
        x0, y0 = min(max(0, cx - s // 2), w - s), min(max(0, cy - s // 2), h - s)

        def crop(im, x0=x0, y0=y0, s=s):
            return cv2.resize(im[y0 : y0 + s, x0 : x0 + s], (2 * s, 2 * s),
                              interpolation=cv2.INTER_NEAREST)
        row = [crop(frame), crop(np.dstack([mask] * 3))]
        for name_m, rgba in cuts.items():
            grey = np.full_like(frame, 128)
            row.append(crop(over(rgba[..., :3], rgba[..., 3] / 255.0, grey)))
            cv2.putText(row[-1], name_m, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
        cv2.putText(row[0], name, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
        tiles.append(np.hstack([cv2.resize(t, (240, 240)) for t in row]))
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(tiles), cv2.COLOR_RGB2BGR))


def real_swap(path: Path, data: Path = DATA) -> None:
    """docs/figures/realswap.png: HallAndMonitor's longest-seen subject, picked alone and moving
    as it was shot, on HighwayI's plate, its shadow soft: timeline frames 20, 60, 100, 140."""
    from engine.document import Project
    from engine.frames.director import Director

    with tempfile.TemporaryDirectory() as tmp:
        p = Project.create(Path(tmp) / "Swap")
        a = p.import_clip(data / "HallAndMonitor" / "input").id
        b = p.import_clip(data / "HighwayI" / "input").id
        p.set_output_size((352, 240))
        d = Director(p, device="cpu", precision="fp32")
        best = max((s for s in d.layers(a).subjects if not s["minor"]), key=lambda s: s["frames"])
        p.add_shot((a, 0), (b, 0), (a, best["first"], best["last"]), subjects=[best["id"]],
                   shadows="soft")  # fmt: skip
        tiles = [d.frame(t) for t in (20, 60, 100, 140)]
    grid = np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])])
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def sign(figure_path: Path | None, data: Path = DATA) -> dict:
    """The set's things in front (engine.frames.front), on HallAndMonitor with a road sign
    stood in front of the walkers (:func:`with_sign`): the sign found (IoU against its mask),
    and the walkers on HighwayI's true empty set with it kept in front or left out, against the
    picture where it stays in front of them (PSNR where the walkers are, the sign's hole
    included; masks' 170 band not scored); and on the four real scenes as they are (none has a
    thing in front), what is found (it should be nothing). ``figure_path``: the shot, frames
    36, 44 and 150, left out (top) and kept (bottom)."""
    from engine.document import Project
    from engine.frames.director import Director

    frames, masks, _ = read_clip(data / "HallAndMonitor")
    signed, hidden, truth = with_sign(frames, masks)
    b_true = cv2.resize(true_plate(*read_clip(data / "HighwayI")[:2])[0], truth.shape[::-1])
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "sign"
        clip.mkdir()
        for k, f in enumerate(signed):
            cv2.imwrite(str(clip / f"in{k:06d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        p = Project.create(Path(tmp) / "Sign")
        a = p.import_clip(clip).id
        b = p.import_clip(data / "HighwayI" / "input").id
        real = {n: p.import_clip(data / n / "input").id for n in sorted(
            q.name for q in data.iterdir() if (q / "groundtruth").is_dir())}  # fmt: skip
        p.set_output_size(truth.shape[::-1])
        d = Director(p, device="cpu", precision="fp32")
        front = d.layers(a).front()
        found = np.zeros(truth.shape, bool)
        if front is not None:
            rgba, x0, y0 = front
            found[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba[..., 3] > 127
        out["sign_iou"] = float((found & truth).sum() / (found | truth).sum())
        for name, r in real.items():  # pixels found in front (none is)
            f = d.layers(r).front()
            out[name] = 0 if f is None else int((f[0][..., 3] > 127).sum())
        # the set B as the true empty set: the shot's background is B's clip, its plate swapped
        # for the truth (what is scored is the character, not B's plate)
        shot = p.add_shot((a, 0), (b, 0), (a, 0, len(frames) - 1))
        pictures = {}
        for mode in ("drop", "keep"):
            p.update_shot(shot.id, front=mode)
            scores = []
            for k in range(0, len(frames), 4):
                walker = masks[k] == 255
                if walker.sum() < 200:
                    continue
                layer = d.frame(k, "cutout")
                mine = over(layer[..., :3], layer[..., 3] / 255.0, b_true)
                shown = (walker | truth) & (hidden[k] != 170)
                right = np.where(((masks[k] == 255) | truth)[..., None], signed[k], b_true)
                scores.append(psnr(mine, right, walker & shown))
            out[mode] = float(np.mean(scores))
            pictures[mode] = [d.frame(k) for k in (36, 44, 150)]
    if figure_path is not None:
        grid = np.vstack([np.hstack(pictures["drop"]), np.hstack(pictures["keep"])])
        cv2.imwrite(str(figure_path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--clips", default="")
    ap.add_argument("--methods", default="baseline,product")
    ap.add_argument("--figure", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--click", action="store_true", help="methods that take one get one click")
    ap.add_argument("--size", default="", help="WxH: the frames resized to it first (timing)")
    ap.add_argument("--real-swap", type=Path, metavar="PNG",
                    help="only write the real swap figure (docs/figures/realswap.png)")
    ap.add_argument("--sign", type=Path, metavar="PNG", nargs="?", const=False,
                    help="only measure what stands in front (:func:`sign`), PNG its figure")
    args = ap.parse_args()
    if args.sign is not None:
        print(json.dumps(sign(args.sign or None, args.data), indent=1))
        return 0
    if args.real_swap:
        real_swap(args.real_swap, args.data)
        return 0
    names = args.clips.split(",") if args.clips else sorted(
        p.name for p in args.data.iterdir() if (p / "groundtruth").is_dir())  # fmt: skip
    makers = {"baseline": lambda: baseline, "product": product, "clip": lambda: clip_method,
              "noshadow": lambda: lambda *a: clip_method(*a, shadows=False),
              "clickless": lambda: lambda f, fr, click=None: clip_method(f, fr),
              "steady": lambda: lambda *a: clip_method(*a, steady=True),
              "learnt": lambda: lambda *a: clip_method(*a, steady=True, learn=True),
              "guided": lambda: product(LayerSettings(edge="guided")),
              "hard": lambda: product(LayerSettings(edge="hard")),
              "no_regions": lambda: product(LayerSettings(regions=False))}
    methods = {m: makers[m]() for m in args.methods.split(",")}
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    scratch = Path(tempfile.mkdtemp(prefix="zoetrope-realmask-"))
    data = {n: read_clip(args.data / n, size, scratch / n) for n in names}
    plates = {n: true_plate(*data[n][:2]) for n in names}
    analyses = {m: {} for m in methods}
    for name in names:
        for m, fn in methods.items():
            click = click_of(data[name][1]) if args.click else None
            analyses[m][name] = fn(data[name][2], data[name][0], click)
        print(f"{name}: analysed", file=sys.stderr)
    results: dict[str, dict[str, dict]] = {m: {} for m in methods}
    rows = []
    for i, name in enumerate(names):
        frames, masks, _ = data[name]
        b = names[(i + 1) % len(names)]
        mid = len(frames) // 2
        rows.append((name, frames[mid], masks[mid], {
            m: np.dstack([a[name].colour(mid), (a[name].alpha(mid) * 255).round().astype(np.uint8)])
            for m, a in analyses.items()}))  # fmt: skip
        for m in methods:
            b_ours = cv2.resize(analyses[m][b].plate, plates[b][0].shape[1::-1])
            r = measure(analyses[m][name], frames, masks, *plates[name], plates[b][0], b_ours)
            results[m][name] = r
            print(f"{m:>9} {name:<18} " + " ".join(f"{k} {v:6.2f}" for k, v in r.items()))
    table = {}
    for m in methods:
        per = dict(results[m])
        first = next(iter(per.values()))
        per["overall"] = {k: float(np.mean([r[k] for r in per.values()])) for k in first}
        table[m] = per
        summary = " ".join(f"{k} {v:6.2f}" for k, v in per["overall"].items())
        print(f"{m:>9} {'overall':<18} {summary}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    if args.figure:
        figure(args.figure, rows)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
