"""The studio's soundtrack (issue 16, first part): set one from a file on a worker (a bad file is
named and changes nothing), its offset, remove it — each undoable — and the export dialog says
which formats carry it."""

from __future__ import annotations

import pytest

from engine import audio
from tests.conftest import demo, loaded, messages


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def test_soundtrack_set_moved_removed_and_undone(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    w.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s = w.session
    assert not w.a_no_sound.isEnabled()
    bad = tmp_path / "song.mp3"
    bad.write_text("not a sound")
    assert not w.soundtrack_dialog(str(bad))
    assert "song.mp3: cannot read it as sound" in messages(w) and s.project.soundtrack is None
    track, _ = audio.click_track(120, 2.0)
    wav = audio.write_wav(tmp_path / "click.wav", track)
    assert w.soundtrack_dialog(str(wav))
    sound = s.project.soundtrack
    # its waveform is read on a worker and drawn under the shots: 4 clicks in 2 s
    qtbot.waitUntil(lambda: s.sound_peaks is not None, timeout=10_000)
    assert len(s.sound_peaks) == 2 * audio.PEAKS_PER_SECOND
    assert (s.sound_peaks[:, 1] > 0.5).sum() >= 4
    w.timeline.strip.grab()  # paints the lane without error
    assert sound.name == "click" and (s.project.root / sound.source).is_file()
    assert w.a_no_sound.isEnabled() and s.undo.undoText() == "Set soundtrack"
    monkeypatch.setattr("studio.window.QInputDialog.getDouble", lambda *a: (1.5, True))
    assert w.sound_offset() and s.project.soundtrack.offset == 1.5
    w.a_no_sound.trigger()
    assert s.project.soundtrack is None
    s.undo.undo()
    s.undo.undo()
    assert s.project.soundtrack == sound
    s.undo.undo()
    assert s.project.soundtrack is None
    s.undo.redo()
    # the export dialog says which formats carry the sound
    from studio.exporting import ExportDialog

    dialog = ExportDialog(s, w)
    dialog.path.setText(str(tmp_path / "film.gif"))
    dialog.format.setCurrentIndex(dialog.format.findData("gif"))
    dialog.check()
    assert "GIF carries no sound" in dialog.size_note.text()
    dialog.format.setCurrentIndex(dialog.format.findData("mp4"))
    dialog.check()
    assert "with the soundtrack" in dialog.size_note.text()
    dialog.deleteLater()


def test_playback_plays_the_sound_in_step_with_the_frames(qtbot, make_window, tmp_path):
    """The transport starts the sound at the playhead's time and keeps it within half a frame
    of the frame clock (miniaudio's null device here: silent, with a real clock); a pause stops
    it; paused, a seek sounds a frame's worth of it."""
    w = make_window()
    w.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s, t = w.session, w.viewer.transport
    track, _ = audio.click_track(120, 40.0)
    assert w.soundtrack_dialog(str(audio.write_wav(tmp_path / "click.wav", track)))
    qtbot.waitUntil(lambda: s.sound.loaded, timeout=10_000)
    s.seek(24)
    qtbot.waitUntil(lambda: s.sound.clock() is not None, timeout=2_000)  # the scrub
    assert abs(s.sound.clock() - 24 / s.timeline.fps) < 0.5
    t.play()
    qtbot.waitUntil(lambda: t.shown >= 30, timeout=30_000)
    assert s.sound.playing and s.sound.available
    assert t.drift and max(abs(d) for d in t.drift) <= 0.5 / s.timeline.fps
    t.pause()
    assert not s.sound.playing and s.sound.clock() is None
