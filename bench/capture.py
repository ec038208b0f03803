"""Capture from a file standing in for a camera (engine.capture): the live view's frame rate
against the file's own, and the latency of a capture (a full-resolution PNG written atomically
into the take), at 640×480 and 1280×720. Results go in docs/PERFORMANCE.md ("Capture").

    python bench/capture.py [--seconds 3] [--captures 20] [--fps 30 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.capture import LiveView, Take, open_source  # noqa: E402
from engine.data.clips import write_video  # noqa: E402


def scene(w: int, h: int, n: int = 48) -> list[np.ndarray]:
    """A textured set with a puppet moving across it: PNG has real work to do."""
    rng = np.random.default_rng(0)
    base = (rng.random((h, w, 3)) * 60 + np.linspace(60, 180, w)[None, :, None]).astype(np.uint8)
    out = []
    for k in range(n):
        f = base.copy()
        x = int(k / n * (w - w // 6))
        f[h // 3 : h // 3 + h // 3, x : x + w // 6] = (220, 120, 60)
        out.append(f)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--captures", type=int, default=20)
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0, 60.0])
    args = ap.parse_args()
    print(f"{'size':>10} {'file fps':>9} {'live fps':>9} {'capture ms (median, max)':>26}")
    for w, h in ((640, 480), (1280, 720)):
        with tempfile.TemporaryDirectory() as tmp:
            frames = scene(w, h)
            for fps in args.fps:
                video = write_video(Path(tmp) / f"cam{fps:g}.mp4", frames, fps=fps)
                live = LiveView(open_source(str(video)))
                time.sleep(0.5)  # past the start
                first = live.latest()[1]
                time.sleep(args.seconds)
                rate = (live.latest()[1] - first) / args.seconds
                take = Take.start(Path(tmp), f"take{fps:g}")
                took = []
                for _ in range(args.captures):  # while the live view runs, as in the studio
                    frame = live.latest()[0]
                    t0 = time.perf_counter()
                    take.append(frame)
                    took.append(1000 * (time.perf_counter() - t0))
                    time.sleep(0.05)
                live.stop()
                print(f"{w:>5}×{h:<4} {fps:9.0f} {rate:9.1f} "
                      f"{statistics.median(took):17.1f} {max(took):7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
