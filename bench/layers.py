"""Pixels vs model renderer on held-out demo-kit clips, against the kit's ground truth.

    python bench/layers.py --size 320x240 --clips 12 [--variants] [--figure docs/figures/x.png]

Writes held-out (``test`` split) kit clips as H.264 files at the given size, computes their
layers with the built-in model (engine.frames.layers, the cache in a temporary folder) and measures:

- background swap (character of clip A on the set of clip B, its own poses): PSNR and the share
  of the truth's gradient energy kept, for ``pixels`` and ``model``;
- mattes: IoU with the true masks and the mean matte error in a band around the true edge;
- motion (rigid characters): T^Z mapped to pixels and the tracked estimate, against the true
  motion from each clip's frame 0 — error of the character's centre (px) and angle (degrees);
- rigid animation transfer (§4.3's protocol on the kit: C moved like A moves from i to j,
  against C performing the same motion), PSNR for ``pixels`` (T^Z and tracked) and ``model``;
  on the articulated puppets the same through the Director: ``pixels`` rigid, ``pixels`` with
  pose matching, ``model``.

``--variants`` also measures every matte cue × edge (docs/LAYERS.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.cache import FrameCache
from engine.data.clips import write_video
from engine.frames.compositor import composite, place
from engine.frames.layers import CUES, MATTE_EDGES, LayerCache, LayerSettings
from engine.geometry import theta_to_pixels


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(mse, 1e-10)))


def grad_energy(img: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float((cv2.Sobel(g, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(g, cv2.CV_32F, 0, 1) ** 2).sum())


def edge_band(mask: np.ndarray, width: int) -> np.ndarray:
    k = np.ones((2 * width + 1,) * 2, np.uint8)
    m = (mask > 0.5).astype(np.uint8)
    return (cv2.dilate(m, k) - cv2.erode(m, k)) > 0


class ModelRenderer:
    """Today's renderer, for comparison: g(T ∘ f_c(x_c) + f_b(x_b)), resized to the frame."""

    def __init__(self, model) -> None:
        self.m = model
        self.s = model.config.image_size

    def _x(self, frames: np.ndarray) -> torch.Tensor:
        small = np.stack([cv2.resize(f, (self.s, self.s), interpolation=cv2.INTER_AREA)
                          for f in frames])  # fmt: skip
        return torch.from_numpy(small).permute(0, 3, 1, 2).float() / 255

    @torch.inference_mode()
    def render(self, x_c, x_t1, x_t2, x_b, size) -> tuple[np.ndarray, np.ndarray]:
        m = self.m
        out, theta = m.render(self._x(x_c), self._x(x_t1), self._x(x_t2), self._x(x_b))
        imgs = out.mul(255).add(0.5).clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        big = [cv2.resize(i, size, interpolation=cv2.INTER_CUBIC) for i in imgs]
        return np.stack(big), theta.numpy()


def centre_angle(m: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, float]:
    return m[:2, :2] @ centre + m[:2, 2], float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))


def rigid_transfer(size, count, model, mr, cache, tmp, seed) -> dict:
    """§4.3's animation transfer on the kit's rigid characters: C (clip 2, frame 0) moved like A
    moves from frame 0 to j (clip 1: the same motion), on clip 2's set, against C really at
    pose j. Pixels with T^Z, pixels with the tracked motion, and the model."""
    rigid = [s for s in kit.clip_specs("test", 60, seed=seed) if s.character.kind != "puppet"]
    out: dict = {"pixels_tz": [], "pixels_tracked": [], "model": []}
    for n, c in enumerate(rigid[:count]):
        a_char = rigid[(n + 1) % len(rigid)].character
        a = kit.ClipSpec(a_char, rigid[(n + 2) % len(rigid)].background, c.motion, c.motion_seed)
        clips = []
        for name, spec in (("a", a), ("c", c)):
            path = tmp / f"rigid{n}{name}.mp4"
            frames = kit.render_clip(spec, size)
            write_video(path, frames, fps=kit.FPS, quality=9)
            clips.append((frames, cache.load(path, model)))
        (fa, la), (fc, lc) = clips
        js = list(range(1, len(fa), 3))
        with torch.inference_mode():
            za = model.f_c(mr._x(fa))
            theta = model.transform(za[:1].expand(len(za), -1, -1, -1), za).numpy()
        tz = theta_to_pixels(theta, *size)
        rgba, x0, y0 = lc.cutout(0)
        model_out, _ = mr.render(fc[[0] * len(js)], fa[[0] * len(js)], fa[js], fc[[0] * len(js)],
                                 size)  # fmt: skip
        for k, j in enumerate(js):
            for name, m in (("pixels_tz", tz[j]), ("pixels_tracked", la.tracked_motion(0, j))):
                out[name].append(psnr(composite(lc.plate, place(rgba, x0, y0, m, size)), fc[j]))
            out["model"].append(psnr(model_out[k], fc[j]))
    return {k: float(np.mean(v)) for k, v in out.items()}


def puppet_transfer(size, count, model, cache, tmp, seed) -> dict:
    """The same protocol on the kit's articulated puppets, through the Director: the character
    (clip 2, frame 0) moved by clip 1's motion as a rigid whole, with pose matching (each motion
    frame shows the character's own frame of the closest pose), and by the model."""
    from engine.document import Project
    from engine.frames.director import Director

    puppets = [s for s in kit.clip_specs("test", 60, seed=seed) if s.character.kind == "puppet"]
    out: dict = {"pixels_rigid": [], "pixels_match": [], "model": []}
    for n, c in enumerate(puppets[:count]):
        other, place_ = puppets[(n + 1) % len(puppets)], puppets[(n + 2) % len(puppets)]
        a = kit.ClipSpec(other.character, place_.background, c.motion, c.motion_seed)
        project = Project.create(tmp / f"pose{n}.zoetrope")
        ids, truth = [], None
        for name, spec in (("a", a), ("c", c)):
            path = tmp / f"pose{n}{name}.mp4"
            frames = kit.render_clip(spec, size)
            write_video(path, frames, fps=kit.FPS, quality=9)
            ids.append(project.import_clip(path).id)
            truth = frames
        a_id, c_id = ids
        project.add_shot((c_id, 0), (c_id, 0), (a_id, 0, kit.FRAMES - 1), duration=kit.FRAMES)
        shot = project.shots[0]
        ts = list(range(1, kit.FRAMES, 3))
        variants = (("pixels_rigid", "pixels", "rigid"), ("pixels_match", "pixels", "match"),
                    ("model", "model", "rigid"))
        for name, mode, pose in variants:
            project.update_shot(shot.id, pose=pose)
            d = Director(project, model, device="cpu", mode=mode, frame_cache=cache.frames,
                         layer_cache=cache)  # fmt: skip
            out[name] += [psnr(d.frame(t), truth[t]) for t in ts]
    return {k: float(np.mean(v)) for k, v in out.items()}


def run(size: tuple[int, int], count: int, variants: bool, figure: str | None, seed: int,
        overrides: dict | None = None) -> dict:  # fmt: skip
    torch.set_num_threads(2)
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    model.eval()
    mr = ModelRenderer(model)
    specs = kit.clip_specs("test", count * 2, seed=seed)
    tmp = Path(tempfile.mkdtemp(prefix="zoetrope-bench-"))
    fc = FrameCache(tmp / "frames")
    cache = LayerCache(tmp / "layers", fc)
    settings = [LayerSettings(**(overrides or {}))]
    if variants:
        settings += [LayerSettings(cue=c, edge=e) for c in CUES for e in MATTE_EDGES
                     if (c, e) != ("both", "plate")]  # fmt: skip
    files, truth_m = [], []
    for i, spec in enumerate(specs):
        p = tmp / f"{i:03d}.mp4"
        write_video(p, kit.render_clip(spec, size), fps=kit.FPS, quality=9)
        files.append(p)
        truth_m.append(kit.true_mattes(spec, size))
    res: dict = {"size": f"{size[0]}x{size[1]}", "clips": len(specs), "mattes": {}}
    timing = []
    layers = {}
    for st in settings:
        ious, bands, per_clip = [], [], {}
        for i, p in enumerate(files):
            t0 = time.perf_counter()
            L = cache.load(p, model, st)
            timing.append((time.perf_counter() - t0) / len(L))
            if st == settings[0]:
                layers[i] = L
            for k in range(len(L)):
                m = L.matte(k).astype(np.float32) / 255
                tm = truth_m[i][k]
                ious.append(((m > 0.5) & (tm > 0.5)).sum() / max(1, ((m > 0.5) | (tm > 0.5)).sum()))
                band = edge_band(tm, max(2, size[1] // 120))
                bands.append(float(np.abs(m - tm)[band].mean()) if band.any() else 0.0)
            per_clip[specs[i].name] = round(float(np.mean(ious[-len(L):])), 3)
        res["mattes"][f"{st.cue}/{st.edge}"] = {"iou": float(np.mean(ious)),
                                                "edge_error": float(np.mean(bands))}  # fmt: skip
        if st == settings[0]:
            res["iou_per_clip"] = per_clip
    res["layer_ms_per_frame"] = 1000 * float(np.median(timing[: len(files)]))
    # -- background swap: clip 2i's character on clip 2i+1's set ------------------------------
    sw: dict = {"pixels": [], "model": [], "pixels_grad": [], "model_grad": []}
    per_pair, shots = {}, []
    for i in range(0, len(specs) - 1, 2):
        a, b = specs[i], specs[i + 1]
        truth = kit.render_clip(a, size, background=kit.render_background(b.background, size))
        frames_a = kit.render_clip(a, size)
        frames_b = kit.render_clip(b, size)
        La, Lb = layers[i], layers[i + 1]
        ks = list(range(0, len(La), 3))
        model_out, _ = mr.render(frames_a[ks], frames_a[ks], frames_a[ks], frames_b[ks], size)
        for j, k in enumerate(ks):
            rgba, x0, y0 = La.cutout(k)
            out = composite(Lb.plate, place(rgba, x0, y0, np.eye(3), size))
            sw["pixels"].append(psnr(out, truth[k]))
            sw["model"].append(psnr(model_out[j], truth[k]))
            sw["pixels_grad"].append(grad_energy(out) / grad_energy(truth[k]))
            sw["model_grad"].append(grad_energy(model_out[j]) / grad_energy(truth[k]))
            if j == len(ks) // 2 and len(shots) < 3:
                shots.append((truth[k], out, model_out[j]))
        per_pair[f"{a.name} on {b.name}"] = (round(float(np.mean(sw["pixels"][-len(ks):])), 1),
                                             round(float(np.mean(sw["pixels_grad"][-len(ks):])), 2))
    res["swap"] = {k: float(np.mean(v)) for k, v in sw.items()}
    res["swap_per_pair"] = per_pair
    res["plate_psnr_per_clip"] = {
        s.name: round(psnr(layers[i].plate, kit.render_background(s.background, size)), 1)
        for i, s in enumerate(specs)}  # fmt: skip
    # -- motion of rigid characters against the truth, from frame 0 ------------------------------
    mo: dict = {"model_px": [], "model_deg": [], "tracked_px": [], "tracked_deg": []}
    for i, spec in enumerate(specs):
        if spec.character.kind == "puppet":
            continue
        poses = spec.poses()
        frames = kit.render_clip(spec, size)
        x = mr._x(frames)
        with torch.inference_mode():
            z = model.f_c(x)
            theta = model.transform(z[:1].expand(len(z), -1, -1, -1), z).numpy()
        est = theta_to_pixels(theta, *size)
        c0 = kit.pose_matrix(spec.character, poses[0], size)[:2, 2]
        for k in range(1, len(poses)):
            true = kit.true_motion(spec.character, poses[0], poses[k], size)
            tc, ta = centre_angle(true, c0)
            for name, m in (("model", est[k]), ("tracked", layers[i].tracked_motion(0, k))):
                ec, ea = centre_angle(m, c0)
                mo[f"{name}_px"].append(float(np.linalg.norm(ec - tc)))
                mo[f"{name}_deg"].append(abs((ea - ta + 180) % 360 - 180))
    res["motion_rigid"] = {k: float(np.mean(v)) for k, v in mo.items() if v}
    res["transfer_rigid"] = rigid_transfer(size, count, model, mr, cache, tmp, seed)
    res["transfer_puppet"] = puppet_transfer(size, count, model, cache, tmp, seed)
    res["figure"] = figure
    if figure and shots:
        rows = [np.concatenate(s, axis=1) for s in shots]
        cv2.imwrite(figure, cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="320x240")
    p.add_argument("--clips", type=int, default=12, help="pairs of clips")
    p.add_argument("--variants", action="store_true")
    p.add_argument("--figure", help="PNG: truth | pixels | model, a row per example")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a LayerSettings field of the default layers: half=false")  # fmt: skip
    a = p.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    overrides = {}
    for item in a.set:
        name, _, value = item.partition("=")
        try:  # numbers and true/false as such, anything else as text
            overrides[name] = json.loads(value.lower() if value.lower() in ("true", "false")
                                         else value)  # fmt: skip
        except ValueError:
            overrides[name] = value
    print(json.dumps(run((w, h), a.clips, a.variants, a.figure, a.seed, overrides), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
