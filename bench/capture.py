"""Capture from a file standing in for a camera, at 640×480 and 1280×720. Results go in
docs/PERFORMANCE.md ("Capture").

engine: the live view's frame rate (engine.capture.LiveView) against the file's own, and the
latency of a capture (a full-resolution PNG written atomically into the take).
window: the same through the studio's capture window (offscreen Qt, a project open, its model
loaded): the live frames it paints per second, the GUI thread's time for a capture (the key
press to the onion skin updated), the time until the frame is on disk, and the GUI thread's
longest stall meanwhile (a 5 ms timer on it).

    python bench/capture.py [--seconds 3] [--captures 20] [--fps 30 60] [--only engine|window]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
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


def _counted(window, paint, painted: set, event) -> None:
    painted.add(window._live_count)
    paint(event)


class Stalls:
    """The longest gap (ms) between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.clock, self.longest = QElapsedTimer(), 0
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        if self.clock.isValid():
            self.longest = max(self.longest, self.clock.restart())
        else:
            self.clock.start()


def in_window(args) -> None:
    """The capture window on a file camera: painted rate, capture latency, GUI stalls."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from engine.document import Project
    from studio.session import Session
    from studio.widgets.capture import CaptureWindow

    app = QApplication.instance() or QApplication([])

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    print(f"{'size':>10} {'file fps':>9} {'painted fps':>12} {'capture, GUI ms':>16} "
          f"{'on disk ms':>11} {'longest stall ms':>17}")  # fmt: skip
    for w, h in ((640, 480), (1280, 720)):
        with tempfile.TemporaryDirectory() as tmp:
            frames = scene(w, h)
            session = Session()
            session.open(Project.create(Path(tmp) / "Bench"))
            deadline = time.perf_counter() + 120
            while not session.engine.ready and time.perf_counter() < deadline:
                pump(0.1)  # the model loaded, as when the studio has been open a while
            for fps in args.fps:
                video = write_video(Path(tmp) / f"cam{fps:g}.mp4", frames, fps=fps)
                c = CaptureWindow(session)
                c.resize(1000, 760)
                c.show()
                c.open_source(str(video))
                painted: set[int] = set()  # the live frames the canvas painted
                c.canvas.paintEvent = partial(_counted, c, c.canvas.paintEvent, painted)
                pump(0.5)
                stalls = Stalls()
                painted.clear()
                pump(args.seconds)
                rate = len(painted) / args.seconds
                gui, disk = [], []
                for k in range(args.captures):
                    pump(0.1)
                    t0 = time.perf_counter()
                    c.capture()
                    gui.append(1000 * (time.perf_counter() - t0))
                    while len(c.take) < k + 1:
                        app.processEvents()
                        time.sleep(0.0005)
                    disk.append(1000 * (time.perf_counter() - t0))
                stalls.timer.stop()
                c.unused = False  # the take is left in the temporary project
                c.close()
                print(f"{w:>5}×{h:<4} {fps:9.0f} {rate:12.1f} "
                      f"{statistics.median(gui):8.1f} {max(gui):6.1f} "
                      f"{statistics.median(disk):6.1f} {max(disk):5.0f} {stalls.longest:12d}")
            session.close()
            session.engine.shutdown()


def in_engine(args) -> None:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--captures", type=int, default=20)
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0, 60.0])
    ap.add_argument("--only", choices=["engine", "window"])
    args = ap.parse_args()
    if args.only != "window":
        print("engine.capture")
        in_engine(args)
    if args.only != "engine":
        print("the capture window")
        in_window(args)


if __name__ == "__main__":
    main()
