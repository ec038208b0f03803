"""Studio responsiveness: launch time and dropped frames during playback. Results go in
docs/PERFORMANCE.md.

(a) launch: ``python -m studio PROJECT --screenshot`` in a fresh process, N times: seconds from
    spawning the process to the window on screen, and to the first rendered frame in the viewer
    (the model loads on the render thread), side by side with ``python -c "import torch"``
    alone — what the window would wait for if torch were on the critical path. The studio
    reports whether torch was already imported when the window appeared.
(b) playback: an offscreen window plays 10 s of a timeline of distinct frames (nothing repeats,
    so every frame must be rendered) at 24 fps from a cold cache, with the viewer's render-ahead
    against rendering only the frame at the playhead (AHEAD = 0): in ``model`` mode at 64² and
    128², and in ``pixels`` mode at the output size ``--output`` (the clips analysed first, as
    the studio does after an import).

    python bench/studio.py [--launches 3] [--seconds 10] [--sizes 64 128] [--output 1280x720]

(a) also launches the studio with no project and fresh settings, data and caches — a first
launch, which opens a copy of the demo (its clip layers shipped: engine.demo --layers).
``--seconds 0``: the launches only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def launch(project: Path | None, tmp: Path, program: list[str] | None = None) -> dict:
    """One launch of the studio (``program``: how to start it; python -m studio by default) on
    ``project``, or with none: a first launch, which opens a copy of the demo."""
    env = dict(
        os.environ,
        ZOETROPE_TIMINGS="1",
        ZOETROPE_CONFIG_DIR=str(tmp / "c"),
        ZOETROPE_DATA_DIR=str(tmp / "d"),
        ZOETROPE_CACHE_DIR=str(tmp / "k"),
    )
    start = time.time()
    proc = subprocess.run(
        [*(program or [sys.executable, "-m", "studio"]), *([str(project)] if project else []),
         "--screenshot", str(tmp / "shot.png")],  # fmt: skip
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    end = time.time()
    events = {}
    for line in proc.stderr.splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            events[e["event"]] = e
    if proc.returncode or "window_shown" not in events:
        raise SystemExit(f"studio failed: {proc.stderr[-2000:]}")
    return {
        "window_s": events["window_shown"]["time"] - start,
        "first_frame_s": events["first_frame"]["time"] - start,
        "first_render_s": events["first_render"]["time"] - start,
        "torch_before_window": events["window_shown"]["torch"],
        "total_s": end - start,
    }


def import_torch_s() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.time() - start


def bench_project(root: Path, fps: float = 24.0):
    """The demo's clips in 10 shots of 24 distinct frames each (no key repeats)."""
    from engine.assets import DEMO_PROJECT
    from engine.document import Project

    shutil.copytree(DEMO_PROJECT, root)
    p = Project.open(root)
    for s in list(p.shots):
        p.delete_shot(s.id)
    ids = list(p.clips)
    for k in range(10):
        char, bg, motion = ids[k % 6], ids[(k + 1 + k // 6) % 6], ids[(k + 2) % 6]
        p.add_shot((char, k % 3), (bg, 5 + k), motion, duration=24)
    p.set_fps(fps)
    p.save()
    return p


def model_at(size: int, out: Path) -> Path:
    """The built-in model's weights declared at another image size (what --init does)."""
    import dataclasses

    from engine import checkpoint
    from engine.model import SceneModel

    model, info = checkpoint.load(checkpoint.BUILTIN_MODEL)
    resized = SceneModel(dataclasses.replace(info.config, image_size=size))
    resized.load_state_dict(model.state_dict())
    return checkpoint.save(out, resized, dict(info.training))


def playback(project_root: Path, model: Path, seconds: float, ahead: int, mode: str = "model",
             output: tuple[int, int] | None = None) -> dict:  # fmt: skip
    from PySide6.QtWidgets import QApplication

    from studio import transport as viewer
    from studio.window import MainWindow

    app = QApplication.instance() or QApplication([])
    old_ahead, viewer.AHEAD = viewer.AHEAD, ahead
    w = MainWindow()
    w.ask = lambda *a, **k: None
    w.show()
    try:
        w.life.open_project(project_root)
        w.session.set_model(str(model))
        w.session.set_render_mode(mode)
        w.session.set_output_size(output)
        deadline = time.time() + 300
        s = w.session
        while not (s.engine.ready and s.model_info) and time.time() < deadline:
            app.processEvents()
            time.sleep(0.005)
        while mode == "pixels" and time.time() < deadline and not all(
            s.engine.analysed(c) for c in s.project.clips
        ):
            app.processEvents()
            time.sleep(0.005)
        while not w.viewer.frame_shown and time.time() < deadline:  # frame 0 only
            app.processEvents()
            time.sleep(0.005)
        t = w.viewer.transport
        t.play()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        t.pause()
        due = int(seconds * w.session.timeline.fps)
        return {
            "mode": mode,
            "output": "{}x{}".format(*s.project.frame_size),
            "size": w.session.model_info["image_size"],
            "ahead": ahead,
            "precision": w.session.model_info["precision"],
            "frames_due": due,
            "shown": t.shown,
            "dropped": t.dropped,
            "late": t.late[:20],
        }
    finally:
        viewer.AHEAD = old_ahead
        w.session.undo.setClean()
        w.close()
        w.deleteLater()
        app.processEvents()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--launches", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--output", default="1280x720", help="pixels mode: the output size")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["ZOETROPE_CONFIG_DIR"] = str(tmp / "config")
        os.environ["ZOETROPE_DATA_DIR"] = str(tmp / "data")
        os.environ["ZOETROPE_CACHE_DIR"] = str(tmp / "cache")
        project = bench_project(tmp / "Bench.zoetrope")
        rows, torch_s, first = [], [], []
        for n in range(args.launches):  # interleaved: studio launch, then torch import alone
            rows.append(launch(project.root, tmp / f"l{n}"))
            torch_s.append(import_torch_s())
            first.append(launch(None, tmp / f"d{n}"))  # the demo, a first launch
        med = {k: statistics.median(r[k] for r in rows) for k in ("window_s", "first_frame_s")}
        t_med = statistics.median(torch_s)
        print(
            f"launch ({args.launches} runs, median): window {med['window_s']:.2f} s, first "
            f"rendered frame {med['first_frame_s']:.2f} s; `import torch` alone "
            f"{t_med:.2f} s (window ÷ torch import = {med['window_s'] / t_med:.2f}); torch "
            f"loaded before the window: {any(r['torch_before_window'] for r in rows)}"
        )
        print("  runs:", json.dumps(rows))
        print(f"first launch (the demo, empty caches; median): window "
              f"{statistics.median(r['window_s'] for r in first):.2f} s, first frame on screen "
              f"{statistics.median(r['first_frame_s'] for r in first):.2f} s, first frame the "
              f"engine rendered {statistics.median(r['first_render_s'] for r in first):.2f} s")
        print("  runs:", json.dumps(first))
        if args.seconds <= 0:
            return
        runs = [("model", size, None) for size in args.sizes]
        runs.append(("pixels", 64, tuple(int(v) for v in args.output.split("x"))))
        for mode, size, output in runs:
            model = model_at(size, tmp / f"model{size}.safetensors")
            for ahead in (48, 0):
                r = playback(project.root, model, args.seconds, ahead, mode, output)
                what = f"model {r['size']}²" if mode == "model" else f"pixels {r['output']}"
                print(
                    f"playback {what} {r['precision']}, render-ahead {ahead:2d}: "
                    f"{r['shown']} frames shown of {r['frames_due']} due in "
                    f"{args.seconds:g} s at 24 fps, {r['dropped']} dropped {r['late'] or ''}"
                )


if __name__ == "__main__":
    main()
