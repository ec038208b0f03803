"""The studio's controls for motion beyond the clip (issue 15): the endless walk's Reshuffle,
jumps and edge, Shot → Extend Motion…, and the path — keys in the inspector and the viewer's
path tool. Every edit is undoable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from studio.widgets.shot_dialogs import ExtendDialog
from tests.conftest import demo, loaded


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def _shot(s, word: str):
    return next(x for x in s.project.shots if word in x.name)


def test_endless_walk_controls_and_the_extension_are_undoable(qtbot, make_window, tmp_path,
                                                              monkeypatch):  # fmt: skip
    w = make_window()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    s, insp = w.session, w.inspector
    endless = _shot(s, "Endless")
    s.select(endless.id)
    assert insp.loop.currentData() == "endless" and insp.reshuffle.isEnabled()
    assert not insp.extend_button.isEnabled()  # an endless walk is not extended
    seed = endless.seed
    insp.reshuffle.click()
    assert s.project.shot(endless.id).seed != seed
    assert s.undo.undoText() == "Reshuffle endless walk"
    s.undo.undo()
    assert s.project.shot(endless.id).seed == seed
    insp.jumps.setValue(80)  # the keyboard's way: one edit per value
    assert s.project.shot(endless.id).jumps == pytest.approx(0.8)
    insp.edge.setCurrentIndex(insp.edge.findData("wrap"))
    insp.edge.activated.emit(insp.edge.currentIndex())
    assert s.project.shot(endless.id).edge == "wrap"
    assert "endless" in s.project.shot(endless.id).tags()
    # the timeline shows the walk's frames: their keys differ frame by frame past the clip
    start = s.timeline.start_of(endless.id)
    assert len({s.frames.key(i)[0] for i in range(start, start + 60)}) == 60

    # Shot → Extend Motion… on a plain shot: the demo ships the project's predictor
    plain = _shot(s, "As shot")
    s.select(plain.id)
    assert insp.extend_button.isEnabled() and not insp.take.isEnabled()
    chosen = {}

    def accept(dialog):
        dialog.frames.setValue(12)
        dialog.aim.setChecked(True)
        dialog.x.setValue(30)
        chosen["learn"] = dialog.learn.isChecked()
        return True

    monkeypatch.setattr(ExtendDialog, "exec", accept)
    assert w.commands.extend_dialog()
    assert chosen["learn"] is False  # it has a predictor: no need to learn again
    shot = s.project.shot(plain.id)
    assert (shot.extend, shot.take, shot.target) == (12, 0, (0.3, 0.5))
    assert shot.duration == plain.duration + 12  # a shot fitted to its motion stays fitted
    assert "+12 predicted" in insp.extend_label.text() or "+12" in insp.extend_label.text()
    insp.take.click()
    assert s.project.shot(plain.id).take == 1
    s.undo.undo()
    s.undo.undo()
    assert s.project.shot(plain.id).extend == 0
    # Edit → Extend Clip…: a new clip, the old one then 10 predicted frames; undoable
    w.library.setCurrentItem(w.library.items()[0])
    walk = w.library.current_clip()
    clips = len(s.project.clips)
    monkeypatch.setattr(ExtendDialog, "exec", lambda d: d.frames.setValue(10) or True)
    assert w.commands.extend_clip()
    new = next(c for c in s.project.clips.values() if c.name.endswith("extended"))
    assert len(s.project.clips) == clips + 1 and new.frames == s.project.clip(walk).frames + 10
    assert new.kind == "frames" and (s.project.root / new.source).is_dir()
    s.undo.undo()
    assert len(s.project.clips) == clips
    # frames past the clip's end render (the predictor runs on the render thread)
    s.undo.redo()
    last = s.timeline.start_of(plain.id) + s.project.shot(plain.id).duration - 1
    s.seek(last)
    qtbot.waitUntil(lambda: s.frames.image(last) is not None, timeout=60_000)


def test_the_path_tool_and_the_key_table_edit_the_path(qtbot, make_window, tmp_path):
    w = make_window()
    w.resize(1200, 800)
    w.show()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    s, insp, viewer = w.session, w.inspector, w.viewer
    shot = _shot(s, "Path")
    s.select(shot.id)
    start = s.timeline.start_of(shot.id)
    s.seek(start + 5)
    qtbot.waitUntil(lambda: s.frames.image(s.playhead) is not None, timeout=60_000)
    assert insp.keys.rowCount() == 3
    viewer.path_button.setChecked(True)
    qtbot.waitUntil(lambda: viewer.canvas.path is not None, timeout=10_000)
    curve, dots, handle, target = viewer.canvas.path
    assert len(dots) == 3 and len(curve) > 10 and handle is not None and target is None
    # a click on the frame puts a key at the playhead where the character should be
    canvas = viewer.canvas
    where = canvas.to_widget(handle[0] + 40, handle[1]).toPoint()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=where)
    path = s.project.shot(shot.id).path
    assert [k.frame for k in path] == [0, 5, 24, 47] and s.undo.undoText() == "Add path key"
    from engine.frames.motion import path_at

    width, _ = s.project.frame_size
    key = next(k for k in path if k.frame == 5)
    scale = canvas.target().width() / canvas.image.width()
    expected = path_at(shot.path, 5)[0] * width + 40  # where the path had it, 40 px right
    assert abs(key.x * width - expected) <= 2 / scale + 1
    before = shot.path[0]
    # drag the first key's dot somewhere else: one edit, the key moved
    qtbot.waitUntil(lambda: canvas.path is not None and len(canvas.path[1]) == 4, timeout=10_000)
    dot = canvas.to_widget(*canvas.path[1][0]).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=dot)
    qtbot.mouseMove(canvas, dot + QPoint(0, 30))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=dot + QPoint(0, 30))
    moved = s.project.shot(shot.id).path[0]
    assert moved.frame == 0 and moved.y > before.y and s.undo.undoText() == "Move path key"
    s.undo.undo()
    s.undo.undo()
    assert s.project.shot(shot.id).path == shot.path
    # Shift+click: where an extended motion heads (this shot has none: it says so, no edit)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     where)  # fmt: skip
    assert s.project.shot(shot.id).path == shot.path and s.undo.undoText() != "Add path key"
    extended = _shot(s, "Extended")
    s.seek(s.timeline.start_of(extended.id) + 30)
    qtbot.waitUntil(lambda: canvas.path is not None and canvas.path[3] is not None
                    and s.frames.image(s.playhead) is not None, timeout=60_000)  # fmt: skip
    spot = canvas.to_widget(100, 200).toPoint()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, spot)
    tx, ty = s.project.shot(extended.id).target
    size = s.project.frame_size
    assert abs(tx * size[0] - 100) < 3 and abs(ty * size[1] - 200) < 3
    assert s.undo.undoText() == "Set where the motion heads"
    s.undo.undo()
    assert s.project.shot(extended.id).target == extended.target
    s.select(shot.id)
    # the wheel turns the character at the playhead, Shift+wheel scales it: a gesture, one edit
    s.seek(start + 24)
    qtbot.waitUntil(lambda: s.frames.image(s.playhead) is not None and canvas.path is not None,
                    timeout=20_000)  # fmt: skip
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    for notches in (2, 1):  # a real wheel over the frame
        QApplication.sendEvent(canvas, QWheelEvent(
            QPointF(where), QPointF(canvas.mapToGlobal(where)), QPoint(0, 0),
            QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase, False))  # fmt: skip
    qtbot.waitUntil(lambda: s.undo.undoText() == "Turn path key", timeout=30_000)
    assert next(k for k in s.project.shot(shot.id).path if k.frame == 24).angle == 15
    canvas.wheeled.emit(-2.0, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: s.undo.undoText() == "Scale path key", timeout=30_000)
    key24 = next(k for k in s.project.shot(shot.id).path if k.frame == 24)
    assert key24.scale == pytest.approx(1.05**-2, abs=1e-3) and key24.y == shot.path[1].y
    s.undo.undo()
    s.undo.undo()
    assert s.project.shot(shot.id).path == shot.path
    # the inspector's table: a cell edited is one edit; Remove Key takes the selected key
    insp.keys.item(1, 3).setText("45")
    assert s.project.shot(shot.id).path[1].angle == 45 and s.undo.undoText() == "Edit path key"
    insp.keys.selectRow(2)
    insp.key_remove.click()
    assert [k.frame for k in s.project.shot(shot.id).path] == [0, 24]
    insp.keys.item(0, 0).setText("nine")  # not a frame number: refused, nothing changed
    assert [k.frame for k in s.project.shot(shot.id).path] == [0, 24]
    assert insp.keys.item(0, 0).text() == "0"
