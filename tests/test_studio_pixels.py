"""The studio with the pixels renderer: clip analysis on a worker with progress and cancel, the
render mode (project and shot), the viewer at the output size and aspect, the frame pickers'
preview, and a new project's frame rate taken from its first clip."""

from __future__ import annotations

import pytest

from engine import demo as demo_module
from engine.data import demokit as kit
from engine.data.clips import write_video
from tests.conftest import demo, loaded


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def test_clips_are_analysed_on_a_worker_and_the_viewer_shows_the_output_size(qtbot, make_window,
                                                                             tmp_path):  # fmt: skip
    w = make_window()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    s = w.session
    seen = []
    s.analysis.changed.connect(lambda text, done, total: seen.append((text, done, total)))
    qtbot.waitUntil(lambda: all(s.engine.analysed(c) for c in s.project.clips),
                    timeout=60_000)  # fmt: skip
    qtbot.waitUntil(lambda: not s.analysis.running, timeout=30_000)
    assert not w.analysis_bar.isVisible()
    qtbot.waitUntil(lambda: s.frames.image(s.playhead) is not None, timeout=20_000)
    image = s.frames.image(s.playhead)
    assert (image.width(), image.height()) == demo_module.SIZE
    assert w.viewer.render_mode.currentData() == "pixels"
    # the project's render mode from the viewer: one undoable edit, frames re-keyed
    key = s.frames.key(s.playhead)[0]
    w.viewer.render_mode.setCurrentIndex(w.viewer.render_mode.findData("model"))
    assert s.project.render_mode == "model" and s.frames.key(s.playhead)[0] != key
    s.undo.undo()
    assert s.project.render_mode == "pixels" and s.frames.key(s.playhead)[0] == key
    # a shot's own mode in the inspector
    shot = s.project.shots[0]
    s.select(shot.id)
    insp = w.inspector
    assert insp.render.currentText() == "As the project (pixels)"
    insp.render.setCurrentIndex(insp.render.findData("model"))
    insp.render.activated.emit(insp.render.currentIndex())
    assert s.project.shots[0].render == "model" and s.project.mode_of(s.project.shots[0]) == "model"
    # steps: only where a character is moved by another clip in pixels mode
    s.undo.undo()
    assert not insp.pose.isEnabled()  # shot 1 plays its own clip
    moved = next(x for x in s.project.shots if x.character.clip != x.motion.clip)
    s.select(moved.id)
    assert insp.pose.isEnabled() and insp.pose.currentData() == "cycle"
    insp.pose.setCurrentIndex(insp.pose.findData("match"))
    insp.pose.activated.emit(insp.pose.currentIndex())
    assert s.project.shot(moved.id).pose == "match"
    assert s.undo.undoText() == "Steps → Match poses from its clip"
    # the matte layer
    w.viewer.layer.setCurrentIndex(w.viewer.layer.findData("matte"))
    assert s.layer == "matte"


def test_analysis_can_be_cancelled_and_frames_still_come(qtbot, make_window, tmp_path):
    p = demo(tmp_path)
    w = make_window()
    w.life.open_project(p)
    loaded(qtbot, w)
    s = w.session

    def started_or_done() -> bool:
        return s.analysis.running or all(s.engine.analysed(c) for c in s.project.clips)

    qtbot.waitUntil(started_or_done, timeout=20_000)
    if s.analysis.running:
        w.analysis_cancel.click()
        qtbot.waitUntil(lambda: not s.analysis.running, timeout=20_000)
    # whatever was left is analysed when a frame needs it, off the GUI thread
    last = s.timeline.frame_count - 1
    s.seek(last)
    qtbot.waitUntil(lambda: s.frames.image(last) is not None, timeout=60_000)


def test_a_new_project_takes_its_first_clips_frame_rate(qtbot, make_window, tmp_path):
    clip = write_video(tmp_path / "ten.mp4", kit.render_clip(kit.clip_specs("test", 1)[0],
                                                              (96, 64)), fps=10)  # fmt: skip
    w = make_window()
    assert w.life.create_project(tmp_path / "Film")
    assert w.session.project.fps == 24
    w.library.import_paths([str(clip)])
    qtbot.waitUntil(lambda: len(w.session.project.clips) == 1, timeout=30_000)
    assert w.session.project.fps == 10
    assert "10 fps" in w.statusBar().currentMessage()
    assert w.session.project.frame_size == (96, 64)
    w.session.undo.undo()
    assert w.session.project.fps == 24 and not w.session.project.clips


def test_frame_picker_previews_any_frame_large_at_the_clips_aspect(qtbot, make_window, tmp_path):
    from studio.widgets.shot_dialogs import FramePicker

    w = make_window()
    w.life.open_project(demo(tmp_path))
    clip_id = next(iter(w.session.project.clips))
    picker = FramePicker(w.session, w.clip_frames, motion=True)
    qtbot.addWidget(picker)
    picker.set_value(clip_id, 3, 20)
    qtbot.waitUntil(lambda: picker.preview.pixmap() is not None
                    and not picker.preview.pixmap().isNull(), timeout=30_000)  # fmt: skip
    width, height = demo_module.SIZE
    assert picker.preview.width() == picker.PREVIEW_W
    assert picker.preview.height() == round(picker.PREVIEW_W * height / width)
    picker.scrub.setValue(11)
    assert picker.shown == 11 and "frame 11 of 23 · inside the motion" in picker.caption.text()
    picker.set_in.click()
    assert picker.value() == (clip_id, 11, 20)
    picker.scrub.setValue(17)
    picker.set_out.click()
    assert picker.value() == (clip_id, 11, 17)
    tile = picker.strip.item(5)
    picker._hovered(tile)
    assert picker.shown == 5 and "frame 5 of 23" in picker.caption.text()


def test_a_newer_demo_replaces_an_untouched_copy_and_keeps_an_edited_one(tmp_path, monkeypatch):
    import shutil

    from engine.assets import DEMO_PROJECT
    from studio import settings

    shipped = tmp_path / "ship" / "Demo.zoetrope"
    shutil.copytree(DEMO_PROJECT, shipped)
    monkeypatch.setattr(settings, "DEMO_PROJECT", shipped)
    mine = settings.demo_copy()
    assert (mine / "project.json").read_bytes() == (shipped / "project.json").read_bytes()
    # a newer app ships another demo: the untouched copy follows it
    (shipped / "project.json").write_text((shipped / "project.json").read_text() + " ")
    assert settings.demo_copy() == mine
    assert (mine / "project.json").read_bytes() == (shipped / "project.json").read_bytes()
    # the user edits their copy; then another demo ships: theirs is kept beside the new one
    (mine / "project.json").write_text((mine / "project.json").read_text() + "  ")
    edited = (mine / "project.json").read_bytes()
    (shipped / "project.json").write_text((shipped / "project.json").read_text() + "\n")
    assert settings.demo_copy() == mine
    assert (mine / "project.json").read_bytes() == (shipped / "project.json").read_bytes()
    assert (mine.with_name("Demo-2.zoetrope") / "project.json").read_bytes() == edited


def test_output_size_dialog_sets_any_even_size_and_back_to_the_first_clips(qtbot, make_window,
                                                                          tmp_path):  # fmt: skip
    from studio.widgets.exporting import OutputSizeDialog

    w = make_window()
    w.life.open_project(demo(tmp_path))
    s = w.session
    d = OutputSizeDialog(s, w)
    assert d.value() is None and d.preset.currentText().endswith("(640 × 360)")
    d.preset.setCurrentIndex(d.preset.findData("1280x720"))
    assert d.value() == (1280, 720)
    d.preset.setCurrentIndex(d.preset.findData("custom"))
    d.width_box.setValue(301)
    d.height_box.setValue(200)
    assert d.value() == (300, 200)
    assert s.set_output_size(d.value())
    assert s.project.frame_size == (300, 200) and s.frames.key(0)[0][-1] == (300, 200)
    d.deleteLater()
    again = OutputSizeDialog(s, w)
    assert again.preset.currentData() == "custom" and again.width_box.value() == 300
    s.undo.undo()
    assert s.project.output_size is None and s.project.frame_size == demo_module.SIZE
