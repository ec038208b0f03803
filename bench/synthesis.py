"""Synthesis and export speed: the Director's cached path against naive baselines, side by side.

(a) latency: one new timeline frame with the shot's encodings cached (one warp + one g) against
    re-encoding everything for every frame (f_c three times, f_b, T^Z, g: h computed from
    pixels), at each image size, interleaved in rounds in one process;
(b) export: N frames rendered by the Director and written to MP4 at 256² (64² model ×4, nearest)
    against ffmpeg encoding the same 256² frames alone (already rendered and scaled, piped
    straight in) — both with the exporter's encoder settings.

Untrained weights: speed does not depend on them. Results go in docs/PERFORMANCE.md.

    python bench/synthesis.py [--sizes 64 128] [--frames 200] [--export-frames 1000] [--rounds 3]
                              [--widths 32,64 --latent-channels 64] [--threads N]
                              [--precisions fp32 bf16] [--model FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data.clips import write_video
from engine.document import Project
from engine.export import ExportSettings, _ffmpeg_args, encode, export
from engine.frames.director import Director
from engine.model import ModelConfig, SceneModel
from engine.samples import to_tensor


def make_project(root: Path, frames: int) -> Project:
    """A project whose timeline shows ``frames`` distinct frames: one shot, a long motion."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    clip = [np.roll(base, k, axis=1) for k in range(frames)]
    root.mkdir(parents=True)
    write_video(root / "motion.mp4", clip, fps=24)
    p = Project.create(root / "Bench")
    m = p.import_clip(root / "motion.mp4")
    p.add_shot((m.id, 0), (m.id, frames // 2), m.id, duration=frames)
    return p


def make_model(size: int, cfg_kw: dict, weights: str | None) -> SceneModel:
    """Untrained (speed does not depend on the weights) or trained weights at any image size:
    every layer is convolutional or pools adaptively."""
    torch.manual_seed(0)
    if weights is None:
        return SceneModel(ModelConfig(image_size=size, **cfg_kw))
    trained, info = checkpoint.load(weights)
    model = SceneModel(ModelConfig(**{**info.config.to_dict(), "image_size": size}))
    model.load_state_dict(trained.state_dict())
    return model


def latency(project: Project, size: int, model: SceneModel, rounds: int, precisions) -> list:
    """Per precision: Director.frame with cached encodings against h from pixels (same
    precision), all variants interleaved in each round."""
    from engine.device import autocast

    n = project.timeline.frame_count
    shot = project.shots[0]
    variants = {}
    for precision in precisions:
        d = Director(project, model, device="cpu", precision=precision, max_frames=0,
                     mode="model")
        list(d.frames(batch_size=64))  # encodings and thetas now cached; frames are not kept
        variants[precision] = d
    clip = d.clip_frames(shot.motion.clip)
    x = lambda k: to_tensor(np.asarray(clip[[k]])).contiguous(memory_format=torch.channels_last)  # noqa: E731
    m = d.model

    def naive(i: int, precision: str) -> None:
        with torch.inference_mode(), autocast(d.device, precision):
            c, b = shot.character.frame, shot.background.frame
            img, _ = m.render(x(c), x(shot.motion.start), x(i), x(b))
            img.float().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()

    times: dict = {(p, kind): [] for p in variants for kind in ("cached", "naive")}
    for _ in range(rounds):
        for precision, director in variants.items():
            t = time.perf_counter()
            for i in range(n):
                director.frame(i)
            times[precision, "cached"].append((time.perf_counter() - t) / n * 1e3)
            t = time.perf_counter()
            for i in range(n):
                naive(i, precision)
            times[precision, "naive"].append((time.perf_counter() - t) / n * 1e3)
    rows = []
    reference = variants[precisions[0]]
    for precision, director in variants.items():
        c = statistics.median(times[precision, "cached"])
        v = statistics.median(times[precision, "naive"])
        diff = np.mean([np.abs(director.frame(i).astype(int) - reference.frame(i)).mean()
                        for i in range(0, n, 10)])  # fmt: skip
        rows.append({"size": size, "precision": precision, "cached_ms": c, "naive_ms": v,
                     "speedup": v / c, "diff": diff})  # fmt: skip
    return rows


def export_speed(project: Project, model: SceneModel, rounds: int, tmp: Path) -> dict:
    n = project.timeline.frame_count
    settings = ExportSettings(format="mp4", scale=4, filter="nearest", fps=24)
    frames = list(Director(project, model, device="cpu", mode="model").frames())
    big = [np.ascontiguousarray(f.repeat(4, 0).repeat(4, 1)) for f in frames]
    bare = ExportSettings(format="mp4", scale=1, fps=24)
    full, cached, alone = [], [], []
    for r in range(rounds):
        director = Director(project, model, device="cpu", mode="model")  # cold: all rendered
        t = time.perf_counter()
        export(director, tmp / f"full{r}.mp4", settings)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        export(director, tmp / f"cached{r}.mp4", settings)  # frames from the Director's cache
        cached.append(time.perf_counter() - t)
        t = time.perf_counter()
        encode(iter(big), n, tmp / f"alone{r}.mp4", bare)
        alone.append(time.perf_counter() - t)
    f, c, a = (statistics.median(v) for v in (full, cached, alone))
    return {"frames": n, "export_s": f, "export_cached_s": c, "ffmpeg_alone_s": a,
            "ratio": f / a, "ratio_cached": c / a,
            "encoder": " ".join(_ffmpeg_args(settings, 64)[2])}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--export-frames", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--widths", default="32,64")
    ap.add_argument("--latent-channels", type=int, default=64)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"],
                    help="for (a); the first is the reference of the pixel difference")  # fmt: skip
    ap.add_argument("--model", help="trained weights (their widths; any image size)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg_kw = {"widths": tuple(int(w) for w in args.widths.split(",")),
              "latent_channels": args.latent_channels}  # fmt: skip
    what = args.model or f"untrained {cfg_kw}"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {what}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        lat_project = make_project(tmp / "lat", args.frames)
        for size in args.sizes:
            model = make_model(size, cfg_kw, args.model)
            for r in latency(lat_project, size, model, args.rounds, args.precisions):
                print(
                    f"(a) {size}² frame, {r['precision']}: cached encodings {r['cached_ms']:.2f} "
                    f"ms, re-encoding everything {r['naive_ms']:.2f} ms ({r['speedup']:.1f}x); "
                    f"mean |difference| to {args.precisions[0]} {r['diff']:.2f} / 255"
                )
        exp_project = make_project(tmp / "exp", args.export_frames)
        r = export_speed(exp_project, make_model(64, cfg_kw, args.model), args.rounds, tmp)
        print(
            f"(b) {r['frames']} frames to MP4 at 256² (64² model ×4): export "
            f"{r['export_s']:.2f} s (frames already cached: {r['export_cached_s']:.2f} s), "
            f"ffmpeg alone {r['ffmpeg_alone_s']:.2f} s → {r['ratio']:.2f}x "
            f"({r['ratio_cached']:.2f}x cached)"
        )
        print(f"    encoder: {r['encoder']}")


if __name__ == "__main__":
    main()
