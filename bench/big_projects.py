"""Big projects: how long the studio takes to open a project of many shots, or of the longest
timeline a project may hold, and to paint its timeline. Results go in docs/PERFORMANCE.md.

For each size, a copy of the demo project with N shots (durations 1…5 frames) is written, then
one offscreen window, in this process, measures side by side:
  load   ``Project.open`` alone (read, parse and validate project.json)
  open   File → Open in the studio: load, the library, inspector and viewer, and the first
         paint of the timeline (fitted to the window, so every shot is on screen)
  paint  one more paint of the timeline, the playhead at the end (what every playhead move costs)
The goal (issue 13): 50,000 shots open in at most 2 s.

    python bench/big_projects.py [--shots 5000 10000 20000 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def write_project(dest: Path, shots: int, duration) -> Path:
    from engine.assets import DEMO_PROJECT

    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(DEMO_PROJECT, dest)
    doc = json.loads((dest / "project.json").read_text())
    demo = doc["timeline"]["shots"]
    doc["timeline"]["shots"] = [
        dict(demo[i % len(demo)], id=f"s{i}", duration=duration(i)) for i in range(shots)
    ]
    (dest / "project.json").write_text(json.dumps(doc))
    return dest


def measure(window, app, project: Path) -> dict:
    from engine.document import Project

    t0 = time.perf_counter()
    Project.open(project)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert window.life.open_project(project)
    app.processEvents()
    window.timeline.strip.repaint()
    app.processEvents()
    opened = time.perf_counter() - t0
    window.session.seek(window.session.timeline.frame_count - 1)
    app.processEvents()
    t0 = time.perf_counter()
    window.timeline.strip.repaint()
    paint = time.perf_counter() - t0
    window.session.undo.setClean()
    return {"load_s": load, "open_s": opened, "paint_s": paint}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shots", type=int, nargs="+", default=[5000, 10000, 20000, 50000])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zoetrope-big-"))
    os.environ["ZOETROPE_CONFIG_DIR"] = str(tmp / "c")
    os.environ["ZOETROPE_DATA_DIR"] = str(tmp / "d")
    from PySide6.QtWidgets import QApplication

    from engine.document import MAX_SHOT_FRAMES
    from studio.window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    cases = [(f"{n:,} shots", write_project(tmp / f"S{n}.zoetrope", n, lambda i: 1 + i % 5))
             for n in args.shots]  # fmt: skip
    longest = write_project(tmp / "Long.zoetrope", 10, lambda i: MAX_SHOT_FRAMES)
    cases.append((f"10 shots, {10 * MAX_SHOT_FRAMES:,} frames", longest))
    print(
        f"{'project':<28} {'load s':>8} {'open s':>8} {'paint ms':>9}   (median of {args.repeat})"
    )
    for name, project in cases:
        runs = [measure(window, app, project) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:<28} {med['load_s']:8.2f} {med['open_s']:8.2f} {med['paint_s'] * 1e3:9.1f}")
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
