"""File → Capture… driven as an animator would, with a video file standing in for the camera:
capture 10 frames, delete one, undo, onion skin, the short play, Use as Clip — and the GUI thread
never blocked for more than 50 ms meanwhile (measured by a 5 ms timer on it)."""

import numpy as np
import pytest
from conftest import loaded
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from engine.data.clips import ClipReader, write_video


def scene(n=24, w=640, h=480):
    rng = np.random.default_rng(1)
    base = (rng.random((h, w, 3)) * 80 + 60).astype(np.uint8)
    out = []
    for k in range(n):
        f = base.copy()
        f[150:330, 20 + 20 * k : 120 + 20 * k] = (230, 120, 50)
        out.append(f)
    return out


class Stalls:
    """The longest gap between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self):
        self.clock, self.longest = QElapsedTimer(), 0
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        if self.clock.isValid():
            self.longest = max(self.longest, self.clock.restart())
        else:
            self.clock.start()

    def start(self):
        self.timer.start()

    def stop(self):
        self.timer.stop()


@pytest.mark.slow
def test_capture_ten_frames_delete_undo_and_use_them_as_a_clip(qtbot, make_window, tmp_path):
    camera = write_video(tmp_path / "camera.mp4", scene(), fps=24)
    w = make_window()
    w.create_project(tmp_path / "Shoot")
    loaded(qtbot, w)
    c = w.capture_window()
    qtbot.waitUntil(lambda: "No camera found" in c.source.itemText(0), timeout=10_000)
    assert c.open_source(str(camera))
    qtbot.waitUntil(lambda: c.live_frame() is not None, timeout=10_000)
    stalls = Stalls()
    stalls.start()
    captured = []
    for _ in range(10):
        qtbot.wait(70)  # the live view moves on between captures (the test never sleeps)
        captured.append(c.live_frame())
        qtbot.keyClick(c, Qt.Key.Key_Space)
    assert len(c.previews) == 10
    qtbot.keyClick(c, Qt.Key.Key_Backspace)  # delete the last …
    assert len(c.previews) == 9
    qtbot.keyClick(c, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # … and undo that
    assert len(c.previews) == 10
    qtbot.keyClick(c, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the 10th capture
    assert len(c.previews) == 9
    # onion skin over the live view: the last capture ghosted, then the last two
    c.onion.setChecked(True)
    assert len(c.onion_images()) == 1 and c.onion_images()[0][1] == pytest.approx(0.4)
    c.onion_frames.setValue(2)
    assert [round(a, 2) for _, a in c.onion_images()] == [0.2, 0.4]
    qtbot.keyClick(c, Qt.Key.Key_L)  # flip to the last capture and back
    assert c.view.currentData() == "last" and c.onion_images() == []
    qtbot.keyClick(c, Qt.Key.Key_L)
    qtbot.keyClick(c, Qt.Key.Key_D)
    assert c.shown_image() is not None and c.view_label() == "DIFFERENCE"
    qtbot.keyClick(c, Qt.Key.Key_D)
    qtbot.keyClick(c, Qt.Key.Key_P)  # the short play: the take, then the live frame
    qtbot.waitUntil(lambda: c.play_index == 9, timeout=5_000)
    assert "(live)" in c.view_label()
    qtbot.keyClick(c, Qt.Key.Key_P)
    assert c.play_index is None
    qtbot.wait(200)
    stalls.stop()
    c.flush()
    # on disk: the nine frames kept, at full resolution, exactly as captured
    files = sorted(c.take.folder.glob("frame_*.png"))
    assert [f.name for f in files] == [f"frame_{k:05d}.png" for k in range(1, 10)]
    on_disk = list(ClipReader(c.take.folder).frames())
    assert all(np.array_equal(a, b) for a, b in zip(on_disk, captured[:9], strict=True))
    print(f"longest GUI stall: {stalls.longest} ms")
    assert stalls.longest < 50, f"the GUI thread stalled {stalls.longest} ms"
    # Use as Clip: a clip of the project, one undoable edit
    c.use_button.click()
    qtbot.waitUntil(lambda: len(w.session.project.clips) == 1, timeout=10_000)
    clip = next(iter(w.session.project.clips.values()))
    assert (clip.name, clip.kind, clip.frames, clip.width) == ("Take 1", "frames", 9, 640)
    assert c.name.text() == "Take 2" and c.previews == []
    w.session.undo.undo()
    assert not w.session.project.clips
    c.close()


def test_no_camera_is_said_and_a_bad_file_is_named(qtbot, make_window, tmp_path):
    w = make_window()
    w.create_project(tmp_path / "Shoot")
    c = w.capture_window()
    qtbot.waitUntil(lambda: "No camera found" in c.source.itemText(0), timeout=10_000)
    assert "No camera found" in c.status.text() and not c.capture_button.isEnabled()
    (tmp_path / "notes.txt").write_text("not a video")
    assert not c.open_source(str(tmp_path / "notes.txt"))
    assert "notes.txt" in c.status.text()
    qtbot.keyClick(c, Qt.Key.Key_Space)  # nothing to capture: nothing happens
    assert c.previews == [] and c.take is None
    c.close()
