"""Picking subjects in the studio (issue 29): a click in the viewer picks the subject under it as
the shot's character, Shift+click adds or leaves one out, a click on nothing says so; the
inspector shows the pick, Show All undoes it and sets whose move drives. Every edit undoable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.data.clips import write_video
from engine.document import Project
from tests.conftest import loaded
from tests.test_cutout import SIZE, street


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def test_a_click_picks_the_subject_under_it(qtbot, make_window, tmp_path):
    frames = street()[0]
    project = Project.create(tmp_path / "Street")
    clip = project.import_clip(write_video(tmp_path / "street.mp4", frames, fps=12,
                                           quality=9)).id  # fmt: skip
    project.add_shot((clip, 0), (clip, 0), clip, name="Walkers")
    project.set_output_size(SIZE)
    project.save()
    w = make_window()
    w.resize(1200, 800)
    w.show()
    w.life.open_project(project.root)
    loaded(qtbot, w)
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
    # whose move drives: one of the motion clip's subjects (disabled: it moves as shot)
    assert not insp.driver.isEnabled()
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
