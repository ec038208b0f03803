"""Sound against picture during playback: the studio plays a timeline with a soundtrack and the
drift between the sound's clock and the frame clock is recorded at every frame shown.

    QT_QPA_PLATFORM=offscreen python bench/sound_sync.py [--seconds 120] [--audio null]

A copy of the demo project whose endless shot (Pip walks) lasts ``--seconds``, with a 120 BPM
click track as its soundtrack. ``--audio``: the miniaudio device (``null``: miniaudio's null
device, silent with a real clock — what a machine with no sound card can measure; ``default``:
the system's). Prints the drift (sound − frame, ms): its largest size while in step, and how
often the sound had to be started again (more than half a frame off).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--audio", default="null", help="null (default) or default")
    args = p.parse_args()
    if args.audio == "null":
        os.environ["ZOETROPE_AUDIO"] = "null"
    tmp = Path(tempfile.mkdtemp())
    os.environ.update({k: str(tmp / k) for k in ("ZOETROPE_DATA_DIR", "ZOETROPE_CONFIG_DIR")})
    from PySide6.QtWidgets import QApplication

    from engine import audio
    from engine.assets import DEMO_PROJECT
    from engine.document import Project
    from studio.window import MainWindow

    root = tmp / "Sync.zoetrope"
    shutil.copytree(DEMO_PROJECT, root)
    project = Project.open(root)
    keep = next(s for s in project.shots if s.loop == "endless")
    for s in list(project.shots):
        if s.id != keep.id:
            project.delete_shot(s.id)
    project.update_shot(keep.id, duration=round(args.seconds * project.fps))
    track, _ = audio.click_track(120, args.seconds + 1)
    project.set_soundtrack(project.copy_in_sound(audio.write_wav(tmp / "click.wav", track)))
    project.save()

    app = QApplication.instance() or QApplication([])
    w = MainWindow()
    w.show()
    w.life.open_project(root)
    s, t = w.session, w.viewer.transport
    deadline = time.monotonic() + 120
    while not (s.soundtrack.player.loaded and s.engine.ready) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    t.mode = "once"
    t.play()
    start = time.monotonic()
    while t.playing and time.monotonic() - start < args.seconds + 30:
        app.processEvents()
        time.sleep(0.002)
    drift = [abs(d) * 1000 for d in t.drift]
    result = {
        "audio": args.audio,
        "device": s.soundtrack.player.available,
        "seconds_played": round(time.monotonic() - start, 1),
        "frames_shown": t.shown,
        "dropped": t.dropped,
        "drift_ms_max": round(max(drift), 2) if drift else None,
        "drift_ms_mean": round(sum(drift) / len(drift), 2) if drift else None,
        "resyncs": t.resyncs,
        "half_frame_ms": round(500 / project.fps, 1),
    }
    print(json.dumps(result))
    w.session.undo.setClean()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
