"""The studio's soundtrack (issue 16, first part): set one from a file on a worker (a bad file is
named and changes nothing), its offset, remove it — each undoable — and the export dialog says
which formats carry it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine import audio
from tests.conftest import ask, demo, loaded, messages


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def test_soundtrack_set_moved_removed_and_undone(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    w.life.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s = w.session
    assert s.project.soundtrack is not None  # the demo's drum loop: removed first
    w.actions["no_sound"].trigger()
    assert s.project.soundtrack is None and not w.actions["no_sound"].isEnabled()
    bad = tmp_path / "song.mp3"
    bad.write_text("not a sound")
    assert not w.commands.soundtrack_dialog(str(bad))
    assert "song.mp3: cannot read it as sound" in messages(w) and s.project.soundtrack is None
    track, _ = audio.click_track(120, 2.0)
    wav = audio.write_wav(tmp_path / "click.wav", track)
    assert w.commands.soundtrack_dialog(str(wav))
    sound = s.project.soundtrack
    # its waveform is read on a worker and drawn under the shots: 4 clicks in 2 s
    qtbot.waitUntil(lambda: s.soundtrack.peaks is not None, timeout=10_000)
    assert len(s.soundtrack.peaks) == 2 * audio.PEAKS_PER_SECOND
    assert (s.soundtrack.peaks[:, 1] > 0.5).sum() >= 4
    w.timeline.strip.grab()  # paints the lane without error
    assert sound.name == "click" and (s.project.root / sound.source).is_file()
    assert w.actions["no_sound"].isEnabled() and s.undo.undoText() == "Set soundtrack"
    monkeypatch.setattr("studio.commands.QInputDialog.getDouble", lambda *a: (1.5, True))
    assert w.commands.sound_offset() and s.project.soundtrack.offset == 1.5
    w.actions["no_sound"].trigger()
    assert s.project.soundtrack is None
    s.undo.undo()
    s.undo.undo()
    assert s.project.soundtrack == sound
    s.undo.undo()
    assert s.project.soundtrack is None
    s.undo.redo()
    # the export dialog says which formats carry the sound
    from studio.widgets.exporting import ExportDialog

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
    w.life.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s, t = w.session, w.viewer.transport
    track, _ = audio.click_track(120, 40.0)
    assert w.commands.soundtrack_dialog(str(audio.write_wav(tmp_path / "click.wav", track)))
    qtbot.waitUntil(lambda: s.soundtrack.player.loaded, timeout=10_000)
    s.seek(24)  # the scrub starts at once (waiting for it could miss its 0.3 s on a busy box)
    clock = s.soundtrack.player.clock()
    assert clock is not None and abs(clock - 24 / s.timeline.fps) < 0.5
    t.play()
    # (on a busy machine playback may stop its clock to wait for frames: the sound with it)
    qtbot.waitUntil(lambda: t.shown >= 30 and s.soundtrack.player.playing, timeout=30_000)
    assert s.soundtrack.player.available
    assert t.drift and max(abs(d) for d in t.drift) <= 0.5 / s.timeline.fps
    t.pause()
    assert not s.soundtrack.player.playing and s.soundtrack.player.clock() is None
    # Playback → Sound While Scrubbing off: a seek is silent (and stays off next launch)
    assert w.actions["scrub_sound"].isChecked()
    w.actions["scrub_sound"].trigger()
    s.seek(30)
    assert not s.soundtrack.player.playing
    assert not make_window().viewer.transport.scrub_sound
    w.actions["scrub_sound"].trigger()
    s.seek(36)
    assert s.soundtrack.player.playing


@pytest.mark.slow
def test_beats_ticked_snapped_to_and_a_shot_fitted_to_them(qtbot, make_window, tmp_path):
    """A 120 BPM click track at 12 fps (a beat every 6 frames): the beats are found on a worker
    and ticked; the playhead and a dragged shot edge snap to them, Alt+Right goes to the next
    one; Shot → Fit to Beats retimes the selected shot (undoable), Clear puts it back."""
    from PySide6.QtCore import QPoint

    from engine.beats import share_on_beat
    from studio.widgets.timeline import RULER

    w = make_window()
    w.life.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s = w.session
    track, _ = audio.click_track(120, 60.0, first=0.5)
    assert w.commands.soundtrack_dialog(str(audio.write_wav(tmp_path / "click.wav", track)))
    qtbot.waitUntil(lambda: s.soundtrack.beats is not None, timeout=60_000)
    beats = list(s.soundtrack.beat_frames())
    assert beats[:3] == [6, 12, 18] and s.soundtrack.beats.steady
    assert list(s.soundtrack.onset_frames()[:3]) == [6, 12, 18]  # a click is an onset too
    strip = w.timeline.strip
    strip.set_zoom(8.0)
    strip.grab()  # ticks painted without error
    # a click 1 frame from a beat puts the playhead on it; snapping off, where clicked
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(13.5 * 8), RULER // 2))
    assert s.playhead == 12
    w.actions["snap"].trigger()
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(13.5 * 8), RULER // 2))
    assert s.playhead == 13
    w.actions["snap"].trigger()
    w.actions["next_beat"].trigger()
    assert s.playhead == 18
    # the first shot's right edge dragged to 1 frame short of the beat at 30: it ends there
    first = s.project.shots[0]
    edge = QPoint(first.duration * 8, RULER + 30)
    qtbot.mousePress(strip, Qt.MouseButton.LeftButton, pos=edge)
    qtbot.mouseMove(strip, QPoint(29 * 8, RULER + 30))
    qtbot.mouseRelease(strip, Qt.MouseButton.LeftButton, pos=QPoint(29 * 8, RULER + 30))
    assert s.project.shot(first.id).duration == 30 and s.undo.undoText() == "Trim shot"
    # Fit to Beats: the loop of shot 5 retimed, more accents on beats, no frame twice
    shot = s.project.shots[4]
    s.select(shot.id)
    start = s.timeline.start_of(shot.id)
    local = [b - start for b in beats]
    acc, shown_by_engine = ask(qtbot, s.engine, lambda d: (d.step_accents(shot, 4 * shot.duration),
                                                           list(d.shown_accents(shot))))
    before = share_on_beat([shot.motion_u(t) for t in range(shot.duration)], acc, local)
    # the selected shot's accents are marked on the timeline (asked of the Director on a worker)
    qtbot.waitUntil(lambda: s.soundtrack.shot_accents(shot.id) is not None, timeout=20_000)
    shown = list(s.soundtrack.shot_accents(shot.id))
    assert shown == shown_by_engine and shown
    strip.grab()
    assert w.actions["fit_beats"].isEnabled() and w.commands.fit_to_beats()
    fitted = s.project.shot(shot.id)
    assert fitted.beats and len(fitted.timing) == shot.duration
    assert min(b - a for a, b in zip(fitted.timing, fitted.timing[1:], strict=False)) >= 1
    after = share_on_beat(fitted.timing, acc, local)
    qtbot.waitUntil(lambda: s.soundtrack.shot_accents(shot.id) is not None, timeout=20_000)
    assert list(s.soundtrack.shot_accents(shot.id)) != shown  # the fitted shot's, asked again
    assert after[0] / after[1] >= before[0] / before[1]
    assert "fitted to" in w.inspector.beat_label.text() and s.undo.undoText() == "Fit shot to beats"
    assert w.commands.clear_beat_fit() and s.project.shot(shot.id).timing == ()
    assert s.project.shot(shot.id).duration == shot.duration
    s.undo.undo()
    assert s.project.shot(shot.id).timing == fitted.timing
