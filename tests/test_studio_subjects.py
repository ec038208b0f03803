"""Picking subjects in the studio (issue 29): a click in the viewer picks the subject under it as
the shot's character, Shift+click adds or leaves one out, a click on nothing says so; the
inspector shows the pick, Show All undoes it and sets whose move drives. Every edit undoable."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.data.clips import write_video
from engine.document import Project
from tests.conftest import opened
from tests.test_cutout import SIZE, street


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def _opened(qtbot, make_window, tmp_path, shots=((0, 0),), **clips):
    """The window, shown, on a new project of ``clips`` (name → frames, written as H.264)
    with a shot of each (character and motion, background) of ``shots`` (clips by their
    order; the first named Walkers): by default one of the first clip as shot; and the clips'
    ids."""
    project = Project.create(tmp_path / "Film")
    ids = [project.import_clip(write_video(tmp_path / f"{name}.mp4", frames, fps=12,
                                           quality=9)).id for name, frames in clips.items()]
    for i, (a, b) in enumerate(shots):
        name = "Walkers" if i == 0 else f"Shot {i + 1}"
        project.add_shot((ids[a], 0), (ids[b], 0), ids[a], name=name)
    project.set_output_size(SIZE)
    w = opened(qtbot, make_window, project)
    return w, *ids


def _street(qtbot, make_window, tmp_path):
    return _opened(qtbot, make_window, tmp_path, street=street()[0])


def test_a_click_picks_the_subject_under_it(qtbot, make_window, tmp_path):
    w, clip = _street(qtbot, make_window, tmp_path)
    s, canvas, insp = w.session, w.viewer.canvas, w.inspector
    shot = s.project.shots[0]
    s.select(shot.id)
    s.seek(10)
    qtbot.waitUntil(lambda: s.frames.image(10) is not None and canvas.image is not None,
                    timeout=60_000)  # fmt: skip
    x = [(10 * 6 + i * 55) % 200 - 20 for i in range(3)]  # the walkers at frame 10
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(x[1], 60).toPoint())
    picked = s.project.shot(shot.id).subjects
    assert len(picked) == 1 and s.undo.undoText() == f"Pick subject {picked[0]}"
    assert f"subject {picked[0]}" in insp.subjects_label.text() and insp.subjects_all.isEnabled()
    # Shift+click adds the walker on the third row; again leaves it out
    third = canvas.to_widget(x[2], 80).toPoint()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, third)
    both = s.project.shot(shot.id).subjects
    assert len(both) == 2 and set(picked) < set(both) and s.undo.undoText().startswith("Add")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, third)
    assert s.project.shot(shot.id).subjects == picked
    assert s.undo.undoText().startswith("Leave out")
    # a click on nothing picks nothing, and says so
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(5, 5).toPoint())
    assert s.project.shot(shot.id).subjects == picked
    assert "Nothing to pick there" in w.statusBar().currentMessage()
    # Show All, undoable; the frame shows the pick
    insp.subjects_all.click()
    assert s.project.shot(shot.id).subjects == () and s.undo.undoText() == "Show all subjects"
    s.undo.undo()
    assert s.project.shot(shot.id).subjects == picked
    # whose move drives: one of the motion clip's subjects (disabled: it moves as shot); its
    # shadows are the set's as shot
    assert not insp.driver.isEnabled() and not insp.shadows.isEnabled()
    insp.shadows.setCurrentIndex(insp.shadows.findData("soft"))
    insp.shadows.activated.emit(insp.shadows.currentIndex())
    assert s.project.shot(shot.id).shadows == "soft" and s.undo.undoText() == "Set shadows"
    s.undo.undo()
    s.undo.undo()
    s.undo.undo()
    s.undo.undo()
    s.undo.undo()
    assert s.project.shot(shot.id).subjects == ()
    # the library lists the clip's subjects under it; a double-click makes one the character
    lib = w.library
    qtbot.waitUntil(lambda: lib.items() and lib.items()[0].childCount() >= 3, timeout=30_000)
    child = lib.items()[0].child(0)
    sid = child.data(0, Qt.ItemDataRole.UserRole + 1)
    assert child.text(0) == f"Subject {sid}" and not child.icon(0).isNull()
    lib.itemDoubleClicked.emit(child, 0)
    assert s.project.shot(shot.id).subjects == (sid,)
    assert s.undo.undoText() == f"Character: subject {sid}"


def test_the_brush_paints_strokes_on_the_clip_through_the_menu(qtbot, make_window, tmp_path):
    w, clip = _street(qtbot, make_window, tmp_path)
    s, canvas = w.session, w.viewer.canvas
    s.seek(7)
    qtbot.waitUntil(lambda: s.frames.image(7) is not None and canvas.image is not None,
                    timeout=60_000)  # fmt: skip
    w.actions["brush"].trigger()  # Shot → Brush Tool (B)
    assert canvas.brush == [] and w.viewer.brush_button.isChecked()
    w.actions["brush_bigger"].trigger()
    assert canvas.brush_radius == pytest.approx(10.0)
    w.actions["brush_smaller"].trigger()
    # a stroke across the sky: the set painted as character (what a user would correct)
    a, b = canvas.to_widget(20, 10).toPoint(), canvas.to_widget(60, 10).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=b)
    strokes = s.project.clip(clip).strokes
    assert len(strokes) == 1 and strokes[0].add and strokes[0].frame == 7
    assert strokes[0].size == SIZE and abs(strokes[0].points[0][0] - 20) < 2
    assert s.undo.undoText() == "Brush: character"
    w.actions["brush_removes"].trigger()  # X: the brush marks the set
    assert not canvas.brush_add
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=a)
    assert [x.add for x in s.project.clip(clip).strokes] == [True, False]
    assert s.undo.undoText() == "Brush: set"
    s.undo.undo()
    assert len(s.project.clip(clip).strokes) == 1
    # the frame is made again with the stroke (the strokes are not in its key: forgotten)
    qtbot.waitUntil(lambda: s.frames.image(7) is not None, timeout=60_000)
    w.library.setCurrentItem(w.library.items()[0])
    w.actions["clear_strokes"].trigger()
    assert s.project.clip(clip).strokes == () and s.undo.undoText() == "Clear brush strokes"
    w.actions["brush"].trigger()
    assert canvas.brush is None


def test_a_clip_where_nothing_moves_says_to_use_the_brush(qtbot, make_window, tmp_path):
    w, _ = _opened(qtbot, make_window, tmp_path, still=np.repeat(street()[3][None], 8, axis=0))
    qtbot.waitUntil(lambda: w.library.items()[0].childCount() == 1, timeout=60_000)
    assert "Nothing moves in this clip: mark the character with the brush" in \
        w.library.items()[0].child(0).text(0)  # fmt: skip


def test_use_as_clean_plate_through_the_menu_is_one_undoable_edit(qtbot, make_window, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    from engine.document import FrameRef
    from studio.widgets.dialogs import ChecklistDialog

    frames, _, _, the_set = street()
    w, walk, empty = _opened(qtbot, make_window, tmp_path, walk=frames,
                             empty=np.repeat(the_set[None], 3, axis=0))
    s = w.session
    monkeypatch.setattr(ChecklistDialog, "exec", lambda d: True)  # OK: every clip ticked
    w.library.setCurrentItem(next(i for i in w.library.items()
                                  if i.data(0, Qt.ItemDataRole.UserRole) == empty))  # fmt: skip
    w.actions["use_plate"].trigger()
    assert s.project.clip(walk).plate == FrameRef(empty, -1)
    assert s.undo.undoText() == "Use as clean plate"
    s.undo.undo()
    assert s.project.clip(walk).plate is None
    s.undo.redo()
    w.library.setCurrentItem(next(i for i in w.library.items()
                                  if i.data(0, Qt.ItemDataRole.UserRole) == walk))  # fmt: skip
    w.actions["clear_plate"].trigger()
    assert s.project.clip(walk).plate is None
    s.seek(5)
    w.actions["frame_plate"].trigger()  # the set as the viewer shows it now
    assert s.project.clip(walk).plate == FrameRef(walk, 5)
    assert s.undo.undoText() == "Use frame 6 as clean plate"
