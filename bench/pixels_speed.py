"""Speed of the pixels renderer at 1280×720 on two threads, side by side in one run.

    python bench/pixels_speed.py [--seconds 10] [--export-frames 1000]

On held-out demo-kit clips drawn at 1280×720 and written as H.264 (the test split):

- clip layers of a clip of ``--seconds`` at 24 fps (engine.frames.layers, from the decoded video);
- a new output frame with the layers cached: a background swap (the character's own frames on
  another clip's plate) and an animation transfer (a frame moved by T^Z), median of distinct
  frames (no frame-cache hits);
- a ``--export-frames`` MP4 export (engine.export, frames rendered as it encodes) against
  ffmpeg encoding the same number of ready-made frames alone: the ratio is the export's
  overhead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.cache import FrameCache
from engine.data.clips import write_video
from engine.document import Project
from engine.export import ExportSettings, encode, export
from engine.frames.director import Director
from engine.frames.layers import LayerCache

SIZE = (1280, 720)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--export-frames", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp(prefix="zoetrope-speed-"))
    frames = round(a.seconds * 24)
    specs = kit.clip_specs("test", 12)
    walker = next(s for s in specs if s.motion in ("walk", "hop"))
    other = next(s for s in specs if s is not walker and s.motion in ("walk", "hop"))
    long = dataclasses.replace(walker, frames=frames)
    paths = []
    for name, spec in (("long", long), ("set", dataclasses.replace(other, frames=48))):
        path = tmp / f"{name}.mp4"
        write_video(path, kit.render_clip(spec, SIZE), fps=24, quality=9)
        paths.append(path)
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    model.eval()
    frame_cache = FrameCache(tmp / "frames")
    for path in paths:
        frame_cache.load(path, model.config.image_size)  # decoding for the model: not layers
    layers = LayerCache(tmp / "layers", frame_cache)
    start = time.perf_counter()
    layers.load(paths[0], model)
    layer_s = time.perf_counter() - start
    layers.load(paths[1], model)

    project = Project.create(tmp / "Speed.zoetrope", fps=24)
    a_id = project.import_clip(paths[0]).id
    b_id = project.import_clip(paths[1]).id
    last = frames - 1
    project.add_shot((a_id, 0), (b_id, 0), (a_id, 0, last), duration=frames, name="swap")
    project.add_shot((b_id, 0), (b_id, 0), (a_id, 0, last), duration=frames, name="transfer")
    project.add_shot((a_id, 0), (b_id, 0), (a_id, 0, last), loop="loop",
                     duration=a.export_frames, name="export")  # fmt: skip
    director = Director(project, model, device="cpu", frame_cache=frame_cache,
                        layer_cache=layers)  # fmt: skip
    director.frame(0)  # warm: plates fitted, T^Z's first block
    timings = {}
    for name, first in (("swap", 1), ("transfer", frames + 1)):
        took = []
        for i in range(first, first + 48):
            t = time.perf_counter()
            director.frame(i)
            took.append(time.perf_counter() - t)
        timings[name] = 1000 * float(np.median(took))

    settings = ExportSettings(format="mp4", range=(2 * frames, 2 * frames + a.export_frames - 1))
    director.clear()
    t = time.perf_counter()
    export(director, tmp / "export.mp4", settings)
    export_s = time.perf_counter() - t
    ready = [director.frame(2 * frames + i) for i in range(48)]
    t = time.perf_counter()
    gen = (ready[i % len(ready)] for i in range(a.export_frames))
    encode(gen, a.export_frames, tmp / "alone.mp4", settings)
    alone_s = time.perf_counter() - t
    print(json.dumps({
        "size": f"{SIZE[0]}x{SIZE[1]}",
        "threads": a.threads,
        "layers_clip_frames": frames,
        "layers_s": round(layer_s, 2),
        "new_frame_ms": {k: round(v, 1) for k, v in timings.items()},
        "export_frames": a.export_frames,
        "export_s": round(export_s, 2),
        "ffmpeg_alone_s": round(alone_s, 2),
        "export_over_ffmpeg": round(export_s / alone_s, 2),
    }, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
