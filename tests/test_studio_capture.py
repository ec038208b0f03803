"""File → Capture… driven as an animator would, with a video file standing in for the camera:
capture 10 frames, delete one, undo, onion skin, the short play, Use as Clip — every capture
written off the GUI thread (how long the GUI thread stalls is bench/capture.py's to measure: a
test never times the machine)."""

import threading

import numpy as np
import pytest
from conftest import loaded
from PySide6.QtCore import QElapsedTimer, QPoint, QSize, Qt, QTimer

from engine.data.clips import ClipReader, write_video
from engine.document import FrameRef


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


def shooting(qtbot, make_window, tmp_path):
    """A new project's capture window, live on a video standing in for the camera."""
    camera = write_video(tmp_path / "camera.mp4", scene(), fps=24)
    w = make_window()
    w.life.create_project(tmp_path / "Shoot")
    loaded(qtbot, w)
    c = w.commands.capture_window()
    qtbot.waitUntil(lambda: "No camera found" in c.source.itemText(0), timeout=10_000)
    assert c.open_source(str(camera))
    qtbot.waitUntil(lambda: c.live_frame() is not None, timeout=10_000)
    return w, c, camera


@pytest.mark.slow
def test_capture_ten_frames_delete_undo_and_use_them_as_a_clip(qtbot, make_window, tmp_path,
                                                              monkeypatch):  # fmt: skip
    from engine.capture import Take

    written_on = []
    append = Take.append

    def recorded(self, frame):
        written_on.append(threading.current_thread() is threading.main_thread())
        return append(self, frame)

    monkeypatch.setattr(Take, "append", recorded)
    w, c, _ = shooting(qtbot, make_window, tmp_path)
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
    c.onion_opacity[1].setValue(30)  # each frame's own opacity (the Opacity menu)
    assert [round(a, 2) for _, a in c.onion_images()] == [0.3, 0.4]
    assert c.opacity_button.toolTip().endswith("first: 40 %, 30 %")
    assert "Shoot" not in c.source.currentText() and c.source.currentText() == "camera.mp4"
    qtbot.keyClick(c, Qt.Key.Key_L)  # flip to the last capture and back
    assert c.view.currentData() == "last" and c.onion_images() == []
    qtbot.keyClick(c, Qt.Key.Key_L)
    qtbot.keyClick(c, Qt.Key.Key_D)
    assert c.shown_image() is not None and c.view_label() == "DIFFERENCE"
    qtbot.keyClick(c, Qt.Key.Key_D)
    c.zoom.setCurrentIndex(c.zoom.findData(2.0))  # 200 %: the camera's pixels, dragged around
    before = c.canvas.target(640, 480)
    assert before.size() == QSize(1280, 960)
    qtbot.mousePress(c.canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(c.canvas, QPoint(150, 130))
    qtbot.mouseRelease(c.canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 130))
    assert c.canvas.target(640, 480).topLeft() == before.topLeft() + QPoint(50, 30)
    c.zoom.setCurrentIndex(c.zoom.findData("fit"))
    qtbot.keyClick(c, Qt.Key.Key_P)  # the short play: the take, then the live frame
    qtbot.waitUntil(lambda: c.play_index == 9, timeout=60_000)
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
    print(f"longest GUI stall: {stalls.longest} ms")  # (bench/capture.py measures it)
    assert len(written_on) == 10 and not any(written_on)  # every PNG written on the worker
    # Use as Clip: a clip of the project, one undoable edit; its first frame (shot empty) its
    # clean plate, another
    c.plate_box.setChecked(True)
    c.use_button.click()
    qtbot.waitUntil(lambda: len(w.session.project.clips) == 1, timeout=10_000)
    clip = next(iter(w.session.project.clips.values()))
    assert (clip.name, clip.kind, clip.frames, clip.width) == ("Take 1", "frames", 9, 640)
    assert clip.plate == FrameRef(clip.id, 0)
    assert w.session.undo.undoText() == "First frame as clean plate"
    w.session.undo.undo()
    assert clip.plate is None
    # captures go on after the clip; its frames are the project's now, not deleted from here
    assert c.use_button.text() == "Update Clip" and not c.use_button.isEnabled()
    assert "Take 1" in c.target.currentText() and not c.delete_button.isEnabled()
    w.session.undo.undo()
    assert not w.session.project.clips
    w.session.undo.redo()
    c.close()


@pytest.mark.slow
def test_a_clip_continued_grows_under_its_shots_and_closing_asks(
    qtbot, make_window, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    from studio.widgets import capture
    from studio.widgets.capture import CaptureWindow

    monkeypatch.setattr(capture, "IN_MEMORY", 5)  # the oldest previews dropped past 5

    w, c, camera = shooting(qtbot, make_window, tmp_path)
    p = w.session.project
    for _ in range(4):
        qtbot.wait(50)
        qtbot.keyClick(c, Qt.Key.Key_Space)
    c.use_button.click()
    qtbot.waitUntil(lambda: len(p.clips) == 1, timeout=10_000)
    clip = next(iter(p.clips.values()))
    assert w.session.add_shot((clip.id, 0), (clip.id, 3), (clip.id, 0, 3))
    c.ask = lambda *a: QMessageBox.StandardButton.Yes
    c.close()
    assert clip.frames == 4
    # Edit → Capture Into Clip…: on after the clip, its last frames loaded for the onion skin
    w.library.setCurrentItem(w.library.topLevelItem(0))
    c = w.commands.capture_into_clip()
    assert "Take 1" in c.target.currentText() and not c.name.isEnabled()
    assert c.open_source(str(camera))
    qtbot.waitUntil(lambda: c.live_frame() is not None, timeout=10_000)
    qtbot.waitUntil(lambda: len(c.previews) == 4, timeout=10_000)
    assert c.count == 4 and c.use_button.text() == "Update Clip"
    qtbot.keyClick(c, Qt.Key.Key_Backspace)  # the clip's own frames are not deleted here
    assert len(c.previews) == 4
    for _ in range(3):
        qtbot.wait(50)
        qtbot.keyClick(c, Qt.Key.Key_Space)
    qtbot.keyClick(c, Qt.Key.Key_Backspace)  # … one captured since is
    assert c.count == 6 and c.delete_button.isEnabled()
    assert (len(c.previews), c.base, c.frame_label()) == (4, 2, "Frame 7")
    assert not c.target.isEnabled()  # the captures are used (or undone) before going elsewhere
    # closing asks; Yes updates the clip in place: the same id, the shot still on it
    c.ask = lambda *a: QMessageBox.StandardButton.Yes
    c.close()
    grown = p.clip(clip.id)
    assert grown.frames == 6 and grown.name == "Take 1" and len(p.shots) == 1
    assert [f.name for f in sorted((p.root / grown.source).iterdir())] == [
        f"frame_{k:05d}.png" for k in range(1, 7)
    ]
    assert w.session.undo.undoText() == "Capture into Take 1"
    # the frames made from the old clip are forgotten, and the render thread goes on
    assert len(w.session.frames.store) == 0
    qtbot.waitUntil(lambda: len(w.session.frames.store) > 0, timeout=30_000)
    qtbot.waitUntil(lambda: w.session.engine.analysed(clip.id), timeout=30_000)
    w.session.undo.undo()
    assert p.clip(clip.id).frames == 4
    w.session.undo.redo()
    # a take left out of the project is offered next time; Cancel keeps the window open
    c = CaptureWindow(w.session, w)
    qtbot.addWidget(c)
    c.show()
    assert c.open_source(str(camera))
    qtbot.waitUntil(lambda: c.live_frame() is not None, timeout=10_000)
    qtbot.keyClick(c, Qt.Key.Key_Space)
    c.lapse_every.setValue(0.2)  # time-lapse: captures by itself until turned off
    c.lapse_button.setChecked(True)
    qtbot.waitUntil(lambda: c.count >= 3, timeout=60_000)
    assert "time-lapse: a capture every 0.2 s" in c.status.text()
    c.lapse_button.setChecked(False)
    shot = c.count
    qtbot.wait(500)
    assert c.count == shot
    c.ask = lambda *a: QMessageBox.StandardButton.Cancel
    c.close()
    assert c.isVisible()
    c.ask = lambda *a: QMessageBox.StandardButton.No
    c.close()
    assert not c.isVisible() and len(p.clips) == 1
    c = CaptureWindow(w.session, w)
    qtbot.addWidget(c)
    c.show()
    assert any("Take 2" in c.target.itemText(i) and "not a clip yet" in c.target.itemText(i)
               for i in range(c.target.count()))  # fmt: skip
    video = p.import_clip(camera)  # a video cannot be captured into: said, nothing changes
    assert not c.continue_clip(video.id) and "is a video clip" in c.status.text()
    assert c.target.currentData() is None
    c.close()


def test_no_camera_is_said_and_a_bad_file_is_named(qtbot, make_window, tmp_path):
    w = make_window()
    w.life.create_project(tmp_path / "Shoot")
    c = w.commands.capture_window()
    qtbot.waitUntil(lambda: "No camera found" in c.source.itemText(0), timeout=10_000)
    assert "No camera found" in c.status.text() and not c.capture_button.isEnabled()
    (tmp_path / "notes.txt").write_text("not a video")
    assert not c.open_source(str(tmp_path / "notes.txt"))
    assert "notes.txt" in c.status.text()
    qtbot.keyClick(c, Qt.Key.Key_Space)  # nothing to capture: nothing happens
    assert c.previews == [] and c.take is None
    c.close()
