"""The studio against what broke it (issue 13): every job ends with a message, a closed dialog
leaves no connection behind, Open checks a folder before asking to save, an export asks before
it replaces anything, huge timelines stay responsive, a missing X11 library is named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.conftest import demo, loaded, messages, png_claiming

Button = QMessageBox.StandardButton


def flush_deletes() -> None:
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def test_a_job_always_ends_with_exactly_one_outcome(qtbot):
    from engine.errors import Cancelled, UserError
    from studio.jobs import Job

    def run(work):
        job = Job(work)
        seen = []
        job.succeeded.connect(lambda r: seen.append(("succeeded", r)))
        job.failed.connect(lambda m: seen.append(("failed", m)))
        job.cancelled.connect(lambda: seen.append(("cancelled", None)))
        with qtbot.waitSignal(job.finished, timeout=5000):
            job.start()
        return seen

    assert run(lambda job: 42) == [("succeeded", 42)]
    assert run(lambda job: 1 / 0) == [
        ("failed", "internal error: ZeroDivisionError: division by zero")
    ]
    assert run(lambda job: (_ for _ in ()).throw(UserError("x.png: unreadable"))) == [
        ("failed", "x.png: unreadable")
    ]
    assert run(lambda job: open("/nonexistent/file")) == [  # noqa: SIM115
        ("failed", "/nonexistent/file: No such file or directory")
    ]

    def cancelled(job):
        job.cancel()
        job.check()

    assert run(cancelled) == [("cancelled", None)]

    def engine_cancel(job):
        raise Cancelled()

    assert run(engine_cancel) == [("cancelled", None)]


def test_import_of_a_decompression_bomb_and_a_pipe_ends_with_a_message(
    qtbot, make_window, tmp_path
):
    """Issue 13.4: a 400-Mpx PNG or a FIFO named .mp4 killed the import's worker silently and
    left its progress dialog up."""
    w = make_window()
    w.life.create_project(tmp_path / "Film")
    bomb = png_claiming(tmp_path / "poster.png", 20_000, 20_000)
    fifo = tmp_path / "live.mp4"
    os.mkfifo(fifo)
    good = tmp_path / "still.png"
    from PIL import Image

    Image.new("RGB", (32, 24), (200, 40, 40)).save(good)
    job = w.library.import_paths([str(bomb), str(fifo), str(good)])
    qtbot.waitUntil(lambda: not job.running, timeout=30_000)
    qtbot.waitUntil(lambda: bool(w.messages), timeout=30_000)
    text = messages(w)
    assert "poster.png: image is too large" in text
    assert "live.mp4: not a regular file" in text
    assert [c.name for c in w.session.project.clips.values()] == ["still"]  # the good one
    assert w.library.jobs == []  # the job is over, its dialog gone
    assert sorted(p.name for p in (w.session.project.root / "media").iterdir()) == ["still.png"]


def test_closed_dialogs_leave_no_connections_behind(qtbot, make_window, tmp_path):
    """Issue 13.8: after closing Add Shot, every later import raised "Internal C++ object
    (QComboBox) already deleted" from a lambda the picker left connected to frames.ready."""
    from studio.widgets.shot_dialogs import AddShotDialog, FramePicker

    w = make_window()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    dialog = AddShotDialog(w.session, w.clip_frames, None, w)
    picker_dialog = QApplication.activeWindow() or w
    loose = FramePicker(w.session, w.clip_frames, motion=True, parent=picker_dialog)
    dialog.deleteLater()
    loose.deleteLater()
    flush_deletes()
    # everything a long-lived object announces, after the dialogs are gone: pytest-qt fails the
    # test on any exception raised in a slot
    for clip_id in w.session.project.clips:
        w.clip_frames.ready.emit(clip_id)
    s = w.session
    s.edited.emit()
    s.selection_changed.emit(None)
    s.playhead_changed.emit(3)
    s.project_opened.emit()
    s.model_loaded.emit(s.model_info)


def test_open_project_checks_the_folder_before_asking_to_save(qtbot, make_window, tmp_path):
    """Issue 13.9: Open asked to save first; after "Discard" the open failed and the discarded
    edits were still there."""
    w = make_window()
    w.life.open_project(demo(tmp_path))
    asked = []
    w.ask = lambda *a, **k: asked.append(a) or Button.Discard
    shot = w.session.project.shots[0].id
    w.session.update_shot(shot, name="unsaved edit")
    not_a_project = tmp_path / "Holiday photos"
    not_a_project.mkdir()
    assert not w.life.open_project(not_a_project)
    assert asked == [] and "not a Zoetrope project" in w.life.open_error
    assert w.session.project.shot(shot).name == "unsaved edit" and w.session.dirty
    # a real project: now the question, and "Discard" drops the edit
    other = tmp_path / "Other"
    shutil.copytree(tmp_path / "Demo.zoetrope", other.with_suffix(".zoetrope"))
    assert w.life.open_project(other.with_suffix(".zoetrope"))
    assert len(asked) == 1 and w.session.project.root.name == "Other.zoetrope"
    assert not w.session.dirty
    # re-opening the open project after Save reads what was just saved
    w.session.update_shot(w.session.project.shots[0].id, name="saved now")
    w.ask = lambda *a, **k: Button.Save
    assert w.life.open_project(other.with_suffix(".zoetrope"))
    assert w.session.project.shots[0].name == "saved now" and not w.session.dirty


def test_export_dialog_refuses_a_folder_of_other_files_and_asks_before_replacing(
    qtbot, make_window, tmp_path
):
    """Issue 13.1 in the studio: "Export PNG Sequence to Folder" emptied the folder."""
    w = make_window()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    w.session.set_range((0, 2))
    d = w.commands.export_dialog()
    d.format.setCurrentIndex(d.format.findData("png"))
    videos = tmp_path / "MyVideos"
    (videos / "holiday").mkdir(parents=True)
    (videos / "holiday" / "wedding.mov").write_bytes(b"precious")
    d.path.setText(str(videos))
    problems = d.check()
    assert any("holds things that are not frames of an earlier export" in p for p in problems)
    assert not d.export_button.isEnabled()
    # an existing file: asked, and "Cancel" writes nothing
    film = tmp_path / "film.mp4"
    film.write_bytes(b"the user's film")
    d.format.setCurrentIndex(d.format.findData("mp4"))
    d.path.setText(str(film))
    assert d.check() == []
    questions = []
    d.ask = lambda title, text: questions.append(text) or False
    d.start()
    assert questions == [f"film.mp4 already exists in {tmp_path}. Replace it?"]
    assert not d.running and film.read_bytes() == b"the user's film"
    d.ask = lambda title, text: questions.append(text) or True
    d.start()
    qtbot.waitUntil(lambda: not d.running, timeout=60_000)
    assert d.written == film and film.stat().st_size > 1000, d.status.text()
    # frames of an earlier export: asked too, then replaced
    seq = tmp_path / "seq"
    d.format.setCurrentIndex(d.format.findData("png"))
    d.path.setText(str(seq))
    d.start()
    qtbot.waitUntil(lambda: not d.running, timeout=60_000)
    assert len(questions) == 2  # a new folder: nothing to ask
    d.start()
    assert questions[-1] == f"{seq} holds 3 frames of an earlier export with the same numbers. " \
        "Replace them?"  # fmt: skip
    qtbot.waitUntil(lambda: not d.running, timeout=60_000)
    assert sorted(p.name for p in seq.iterdir()) == [f"frame_0000{k}.png" for k in range(3)]
    assert (videos / "holiday" / "wedding.mov").read_bytes() == b"precious"
    d.close()


def many_shots(tmp_path: Path, count: int, duration=lambda i: 1 + i % 5) -> Path:
    from bench.big_projects import write_project

    return write_project(tmp_path / "Many.zoetrope", count, duration)


@pytest.mark.slow
def test_fifty_thousand_shots_open_and_paint_in_seconds(qtbot, make_window, tmp_path):
    """Issue 13.3: 50k shots took over 3 minutes to open (a linear Project.shot(id) per shot on
    every paint). The goal is 2 s (bench/big_projects.py measures it); here what made it slow is
    counted instead — a test never times the machine (issue 27): the shot index is built once,
    and a paint looks up no more shots than it has pixels."""
    from engine.document import Project

    root = many_shots(tmp_path, 50_000)
    w = make_window()
    builds, lookups = [], []
    lookup = Project.shot_index

    def counted(self, shot_id):
        lookups.append(shot_id)
        before = self._index
        try:
            return lookup(self, shot_id)
        finally:
            if self._index is not before:
                builds.append(shot_id)

    Project.shot_index = counted
    try:
        assert w.life.open_project(root)
        strip = w.timeline.strip
        strip.repaint()
        QApplication.processEvents()
        assert len(strip.shot_rects(0, strip.width())) <= strip.width()  # one per pixel at most
        lookups.clear()
        w.session.select("s49999")
        w.session.seek(w.session.timeline.frame_count - 1)
        strip.repaint()
        assert len(lookups) <= strip.width() and len(builds) <= 1, (len(lookups), len(builds))
    finally:
        Project.shot_index = lookup


def test_a_timeline_of_millions_of_frames_paints_only_what_shows(qtbot, make_window, tmp_path):
    """Issue 13.3: a 10⁹-frame shot froze the GUI thread in the ruler (a tick per frame). The
    loader now refuses it (test_document); the longest timeline it allows still paints at once,
    at any zoom, with ruler ticks a few pixels apart at least."""
    from engine.document import MAX_SHOT_FRAMES
    from studio.widgets.timeline import TICK_PX

    root = many_shots(tmp_path, 10, duration=lambda i: MAX_SHOT_FRAMES)
    w = make_window()
    assert w.life.open_project(root)
    strip = w.timeline.strip
    assert w.session.timeline.frame_count == 10 * MAX_SHOT_FRAMES
    for zoom in (strip.ppf, 1.0, 48.0):
        strip.set_zoom(zoom)
        assert strip.width() <= 16_000_100  # Qt's widgets end at 2**24 px
        tick, label = strip.ruler_steps()
        assert tick * strip.ppf >= TICK_PX and label % tick == 0
        w.session.seek(7_654_321)
        QApplication.processEvents()
        strip.repaint()  # (its time: bench/big_projects.py; the ticks it draws are bounded above)
    assert strip.frame_at(strip.width() - 41) < w.session.timeline.frame_count
    assert w.viewer.slider.maximum() == 10 * MAX_SHOT_FRAMES - 1


def test_screenshot_of_a_bad_project_says_why(tmp_path):
    """Issue 13.7: `--screenshot` on a bad project said "cannot open PATH" without the reason."""
    bad = tmp_path / "Bad.zoetrope"
    bad.mkdir()
    (bad / "project.json").write_text("[1, 2")
    env = dict(os.environ, ZOETROPE_CONFIG_DIR=str(tmp_path / "c"),
               ZOETROPE_DATA_DIR=str(tmp_path / "d"), QT_QPA_PLATFORM="offscreen")  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "studio", str(bad), "--screenshot",
                           str(tmp_path / "s.png")], capture_output=True, text=True, timeout=120,
                          env=env)  # fmt: skip
    assert proc.returncode == 2
    assert f"zoetrope: {bad / 'project.json'}: damaged (truncated" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "s.png").exists()


def test_missing_x11_libraries_are_named_as_the_packages_to_install():
    """Issue 13.10: the hint named only libxcb-cursor0 while Qt's xcb plugin also lacked
    libxcb-icccm4 and libxcb-keysyms1. The dynamic linker's own answer, turned into packages."""
    import PySide6

    from studio.__main__ import debian_package, display_hint, missing_libraries, parse_ldd

    ldd = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f57)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => not found
"""
    missing = parse_ldd(ldd)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]
    assert display_hint(missing).endswith(
        "sudo apt install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0; the README lists "
        "every package Qt needs)"
    )
    for soname, package in [
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libGL.so.1", "libgl1"),
    ]:
        assert debian_package(soname) == package
    # and on this machine's real plugin, what ldd reports (an empty list where all is there)
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if sys.platform == "linux" and shutil.which("ldd") and plugin.is_file():
        real = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
        assert missing_libraries(plugin) == parse_ldd(real)
