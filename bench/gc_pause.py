"""The garbage collector's pause on the studio's GUI thread: a full collection with the studio
open on the demo and its model loaded, with what was loaded frozen (as the studio does once its
model is loaded, studio/render_service.py) and unfrozen, side by side. Results go in
docs/PERFORMANCE.md ("Garbage collection").

    QT_QPA_PLATFORM=offscreen python bench/gc_pause.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def collect_ms() -> float:
    start = time.perf_counter()
    gc.collect()
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    for key in ("DATA", "CONFIG", "CACHE"):
        os.environ[f"ZOETROPE_{key}_DIR"] = str(tmp / key)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.window import MainWindow

    app = QApplication([])
    w = MainWindow()
    w.show()
    w.life.open_project(ROOT / "assets" / "demo" / "Demo.zoetrope")
    deadline = time.perf_counter() + 120
    while not (w.session.engine.ready and w.session.model_info):
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() > deadline:
            raise SystemExit("the model did not load in 2 minutes")
    frozen = gc.get_freeze_count()
    with_freeze = [collect_ms() for _ in range(args.repeat)]
    gc.unfreeze()
    without = [collect_ms() for _ in range(args.repeat)]
    print(f"objects tracked: {len(gc.get_objects())} ({frozen} frozen by the studio)")
    print(f"full collection, frozen:   median {statistics.median(with_freeze):6.1f} ms, "
          f"max {max(with_freeze):6.1f} ms")  # fmt: skip
    print(f"full collection, unfrozen: median {statistics.median(without):6.1f} ms, "
          f"max {max(without):6.1f} ms")  # fmt: skip
    os._exit(0)  # the render thread and Qt: nothing to keep


if __name__ == "__main__":
    main()
