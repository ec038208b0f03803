"""The first minutes with your own footage (issue 31): file dialogs that start where the user
was, export options that do nothing greyed with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine.data.clips import write_video
from engine.document import Project
from tests.conftest import demo, loaded, opened


@pytest.fixture(autouse=True)
def _studio_dirs(studio_dirs):
    """Every test here keeps its settings, recovery copies and runs in its own folders."""


def test_file_dialogs_start_where_the_user_was(qtbot, make_window, tmp_path, monkeypatch):
    """Import Clips, Set Soundtrack, Load Model, Export Current Frame, New and Open Project
    (through their menu items) start in the folder last used for that kind of file, else the
    open project's folder — never the folder the studio was started from."""
    films, footage, stills = (tmp_path / n for n in ("films", "footage", "stills"))
    for folder in (films, footage, stills, tmp_path / "started here"):
        folder.mkdir()
    monkeypatch.chdir(tmp_path / "started here")
    clip = write_video(footage / "walk.mp4", np.full((6, 48, 64, 3), 90, np.uint8), fps=12)
    project = Project.create(films / "Film")
    c = project.import_clip(clip).id
    project.add_shot((c, 0), (c, 0), c)
    project.save()
    asked: list[tuple[str, str]] = []
    answer: dict[str, object] = {}

    def dialog(kind):
        def ask(parent, title, start="", *_a, **_k):
            asked.append((title, start))
            got = answer.pop(title, "")
            return got if kind == "folder" else (got, "")

        return staticmethod(ask)

    for name, kind in (("getOpenFileNames", "files"), ("getOpenFileName", "file"),
                       ("getSaveFileName", "file"), ("getExistingDirectory", "folder")):
        monkeypatch.setattr(QFileDialog, name, dialog(kind))
    w = make_window()
    w.life.open_project(project.root)
    loaded(qtbot, w)

    def start(action: str) -> Path:
        asked.clear()
        w.actions[action].trigger()
        assert asked, action
        return Path(asked[-1][1]) if Path(asked[-1][1]).is_dir() else Path(asked[-1][1]).parent

    # nothing used yet: the project's folder (not the process's)
    assert start("import") == films
    assert start("load_model") == films and start("sound") == films
    assert start("export_frame") == films
    # a folder used for one kind is where that kind starts next time, and only that kind
    answer["Import Clips"] = [str(clip)]
    start("import")
    assert start("import") == footage and start("load_model") == films
    answer["Export Current Frame"] = str(stills / "still.png")
    start("export_frame")
    assert start("export_frame") == stills
    # a project's: the folder that holds it
    answer["Open Project (a .zoetrope folder)"] = str(project.root)
    assert start("open") == films
    assert start("new") == films
    assert all(Path(a[1]) != tmp_path / "started here" for a in asked)


def test_no_sound_card_is_said_once_without_alsa_noise(qtbot, make_window, tmp_path,
                                                       monkeypatch):  # fmt: skip
    """Without a sound device the status bar says once that playback is silent, and the sound
    library's own complaints stay off stderr (a machine without a sound card: about 35 lines
    of ALSA errors before)."""
    import subprocess
    import sys

    probe = ("from studio.sound import SoundPlayer\nimport numpy as np\np = SoundPlayer()\n"
             "p.load(np.zeros((4800, 2), np.float32))\nprint(p.play(0.0, 0.05), p.available)")
    env = {k: v for k, v in os.environ.items() if k != "ZOETROPE_AUDIO"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, cwd=Path(__file__).parents[1], timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "ALSA" not in out.stderr and "snd_" not in out.stderr, out.stderr
    # the studio, with no device to play on
    monkeypatch.setenv("ZOETROPE_AUDIO", "off")
    w = make_window()
    said: list[str] = []
    w.session.status.connect(said.append)
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    s = w.session
    if s.project.soundtrack is None:
        from engine import audio

        track, _ = audio.click_track(120, 10.0)
        assert w.commands.soundtrack_dialog(str(audio.write_wav(tmp_path / "c.wav", track)))
    qtbot.waitUntil(lambda: s.soundtrack.player.loaded, timeout=10_000)
    s.seek(5)
    s.seek(9)  # two scrubs, then playback (the test's clock: no test times the machine)
    t = w.viewer.transport
    now = [100.0]
    t.clock = lambda: now[0]
    qtbot.waitUntil(lambda: s.frames.image(9) is not None, timeout=60_000)
    t.play()
    now[0] += 3.0  # past the pre-roll's wait: its first frame is there, the clock starts
    t._tick()  # (and the sound is asked for)
    assert t._rolling
    t.pause()
    assert [m for m in said if m.startswith("Playback is silent")] == [
        "Playback is silent: sound is off (ZOETROPE_AUDIO=off)"]


def test_a_long_name_changes_no_layout(qtbot, make_window, tmp_path):
    """Selecting a shot whose name and clips' names are long resizes nothing (the window, the
    docks): the names elide, the whole name in a tooltip."""
    long = "A walk in the park on a sunny afternoon, take seven, the one with the dog " * 2
    project = Project.create(tmp_path / "Film")
    frames = np.full((6, 48, 64, 3), 90, np.uint8)
    short = project.import_clip(write_video(tmp_path / "walk.mp4", frames, fps=12)).id
    clip = project.import_clip(write_video(tmp_path / "park.mp4", frames, fps=12)).id
    project.rename_clip(clip, long[:120])
    project.add_shot((short, 0), (short, 0), short, name="Short")
    project.add_shot((clip, 0), (clip, 0), clip, name=long[:120])
    w = opened(qtbot, make_window, project, (1280, 800))
    s = w.session
    s.select(s.project.shots[0].id)
    qtbot.wait(100)
    before = (w.width(), *(d.width() for d in w.docks.values()))
    s.select(s.project.shots[1].id)
    qtbot.wait(100)
    assert (w.width(), *(d.width() for d in w.docks.values())) == before
    insp = w.inspector
    assert insp.char_clip.toolTip() == s.project.clip(clip).name
    # (offscreen the docks kept their width either way; what could widen them is a clip combo
    # asking for the whole name: 753 px before)
    assert all(c.sizeHint().width() < 250 for c in (insp.char_clip, insp.bg_clip, insp.mo_clip))


def test_where_the_soundtrack_ends_shows_on_the_timeline_and_in_the_export(qtbot, make_window,
                                                                          tmp_path):  # fmt: skip
    """A film longer than its soundtrack: the sound's lane past its end is marked (the rest of
    the film is silent), and the export dialog says by how much the film runs past it."""
    from engine import audio
    from studio.widgets.timeline import RULER, SILENT, TRACK

    w = make_window()
    w.resize(1200, 800)
    w.show()
    w.life.open_project(demo(tmp_path / "d"))
    loaded(qtbot, w)
    s = w.session
    track, _ = audio.click_track(120, 2.0)
    assert w.commands.soundtrack_dialog(str(audio.write_wav(tmp_path / "two.wav", track)))
    qtbot.waitUntil(lambda: s.soundtrack.peaks is not None, timeout=20_000)
    strip = w.timeline.strip
    strip.update()
    qtbot.wait(50)
    image = strip.grab().toImage()
    end = 2.0 * s.timeline.fps * strip.ppf
    lane = RULER + TRACK + 6 + 2
    assert image.pixelColor(int(end) + 40, lane) == SILENT
    assert image.pixelColor(int(end) - 40, lane) != SILENT  # (the sound plays there)
    d = w.commands.export_dialog()
    past = s.timeline.frame_count / s.timeline.fps - 2.0
    assert f"the film runs {past:.1f} s past its soundtrack" in d.size_note.text()
    d.close()


def test_messages_stay_readable_in_the_log_and_the_rate_in_the_status_bar(
        qtbot, make_window, tmp_path):  # fmt: skip
    """The message that says which frame rate the project took from its first clip reads
    whole in View → Message Log… (and in the status bar's tooltip), however narrow the bar;
    the rate stays shown in the status bar."""
    w = opened(qtbot, make_window, Project.create(tmp_path / "Film"), (700, 600))
    s = w.session
    clip = write_video(tmp_path / "a rather long clip name, shot at ten.mp4",
                       np.full((6, 48, 64, 3), 90, np.uint8), fps=10)  # fmt: skip
    w.library.import_paths([str(clip)])
    qtbot.waitUntil(lambda: bool(s.project.clips), timeout=30_000)
    said = next(text for _, text in w.status_log if text.startswith("Frame rate set to 10 fps"))
    assert "Edit → Frame Rate…" in said and w.fps_label.text() == "10 fps"
    w.statusBar().showMessage(said)
    assert w.statusBar().toolTip() == said
    w.actions["messages"].trigger()  # View → Message Log…
    log = w.message_log
    assert log is not None and log.isVisible() and said in log.text.toPlainText()
    w.statusBar().showMessage("and one more")
    assert log.text.toPlainText().rstrip().endswith("and one more")  # it follows
    w.actions["messages"].trigger()
    assert w.message_log is log  # one window
    log.close()
    s.set_fps(24.0)
    assert w.fps_label.text() == "24 fps"


def test_training_shows_its_preparing_stage(qtbot, make_window, tmp_path):
    """Model → Train on Clips: while the clips are read (a minute and more on long footage)
    the dialog says which clip, how far into it, and its bar moves (the events as
    ``engine.train --progress json`` writes them: tests/test_train.py)."""
    w = make_window()
    w.life.open_project(demo(tmp_path))
    loaded(qtbot, w)
    w.actions["train"].trigger()  # Model → Train on Clips…
    d = next(x for x in w.dialogs if hasattr(x, "start_button"))
    d._event({"event": "prepare", "index": 2, "count": 6, "path": "/films/walk.mp4", "frame": 0,
              "frames": None, "fraction": 1 / 6})  # fmt: skip
    assert d.status.text() == "Preparing clips 2/6: walk.mp4" and d.bar.value() == 166
    d._event({"event": "prepare", "index": 2, "count": 6, "path": "/films/walk.mp4",
              "frame": 40, "frames": 100, "fraction": (1 + 0.4) / 6})  # fmt: skip
    assert d.status.text() == "Preparing clips 2/6: walk.mp4 · frame 40 of 100"
    assert d.bar.value() == 233
    d.close()


def test_another_model_says_why_the_clips_are_analysed_again(qtbot, make_window, tmp_path,
                                                             model_file):  # fmt: skip
    """Model → Load Model…: every clip is analysed again with it, the status bar says so
    ("Re-analysing 2 clips with the new model: 1/2"), the clip of the shot under the playhead
    first; meanwhile the frames of the model before stay on show until theirs arrive."""

    project = Project.create(tmp_path / "Film")
    frames = np.full((8, 48, 64, 3), 90, np.uint8)
    for name in ("a", "b"):
        c = project.import_clip(write_video(tmp_path / f"{name}.mp4", frames, fps=12)).id
        project.add_shot((c, 0), (c, 0), c)
    w = opened(qtbot, make_window, project)
    s = w.session
    qtbot.waitUntil(lambda: not s.analysis.running and all(
        s.engine.analysed(c) for c in s.project.clips), timeout=60_000)  # fmt: skip
    texts: list[str] = []
    s.analysis.changed.connect(lambda text, *_: texts.append(text))
    s.seek(s.timeline.start_of(s.project.shots[1].id) + 2)  # on b's shot: b comes first
    at = s.playhead
    qtbot.waitUntil(lambda: s.frames.image(at) is not None, timeout=60_000)
    old = s.frames.image(at)
    assert w.commands.load_model(str(model_file))  # (its dialog: tests/test_studio_menus.py)
    # the old model's frame stays on show until the new one's arrives (not a blank viewer)
    key = s.frames.key(at)[0]
    assert key not in s.frames.store and s.frames.image(at) is old
    qtbot.waitUntil(lambda: any(t.startswith("Re-analysing") for t in texts), timeout=60_000)
    assert next(t for t in texts if t).startswith(
        "Re-analysing 2 clips with the new model: 1/2 (b)")
    qtbot.waitUntil(lambda: key in s.frames.store, timeout=60_000)  # the new one, when it comes
    assert s.frames.image(at) is s.frames.store.get(key)
    qtbot.waitUntil(lambda: not s.analysis.running, timeout=60_000)


def test_playback_waits_for_frames_that_do_not_exist_yet(qtbot, make_window, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """Playback does not run ahead of the frames that exist: it waits on its first frame
    however long it takes (a clip still being analysed), and when the frames ahead stop
    coming it stops its clock until they do, as a video player buffers. (Which frames exist is
    set by the test; the clock is the test's: no test times the machine.)"""
    from studio.transport import STALL

    w = opened(qtbot, make_window, Project.open(demo(tmp_path)))
    s, t = w.session, w.viewer.transport
    real = s.frames.image
    gone: set[int] = set(range(0, 200))
    monkeypatch.setattr(s.frames, "image",
                        lambda i, layer=None: None if i in gone else real(i, layer))  # fmt: skip
    now = [100.0]
    t.clock = lambda: now[0]
    fps = s.timeline.fps
    s.seek(0)
    t.play()
    for _ in range(100):  # ten seconds and more: still waiting on frame 0
        now[0] += 0.1
        t._tick()
    assert s.playhead == 0 and t.shown == 0 and t.playing
    gone.clear()
    qtbot.waitUntil(lambda: all(real(f) is not None for f in range(24)), timeout=60_000)
    t._tick()  # frame 0 and the pre-roll are there: the clock starts
    start = now[0]
    for k in range(1, 6):
        now[0] = start + (k + 0.5) / fps
        t._tick()
    assert s.playhead == 5 and t.buffered == 0
    gone.update(range(8, 200))  # the frames ahead are not there (yet)
    for k in range(6, 60):
        now[0] = start + (k + 0.5) / fps
        t._tick()
    assert t.buffered == 1 and 8 <= s.playhead < 8 + STALL and t.playing  # waiting there
    at = s.playhead
    gone.clear()
    qtbot.waitUntil(lambda: all(real(f) is not None for f in range(at, at + 12)),
                    timeout=60_000)  # fmt: skip
    t._tick()
    again = now[0]
    now[0] = again + 3.5 / fps
    t._tick()
    assert s.playhead == at + 3  # on from where it waited
    t.pause()


def test_the_demo_opens_on_its_shipped_layers_and_shows_only_the_playheads_frame(
        qtbot, make_window, tmp_path, monkeypatch):  # fmt: skip
    """A first launch (an empty cache) analyses none of the demo's clips — their layers ship
    with it — and the viewer shows the playhead's frame or none: the last frame of the same
    shot stays up while the next renders (a scrub does not flicker), a frame of another shot
    never stands in for the playhead's."""
    from engine.frames import layers

    monkeypatch.setenv("ZOETROPE_CACHE_DIR", str(tmp_path / "empty"))

    def compute(*a, **k):
        raise AssertionError("a demo clip was analysed")

    monkeypatch.setattr(layers, "compute_layers", compute)
    w = opened(qtbot, make_window, Project.open(demo(tmp_path)))
    s, v = w.session, w.viewer
    qtbot.waitUntil(lambda: v.frame_shown, timeout=60_000)
    qtbot.waitUntil(lambda: all(s.engine.analysed(c) for c in s.project.clips), timeout=60_000)
    made = [p for p in (tmp_path / "empty" / "layers").iterdir() if not p.name.startswith(".")]
    assert len(made) == len(s.project.clips)  # each opened from its seed
    first = v.canvas.image
    real = s.frames.image
    shown = {0}
    monkeypatch.setattr(s.frames, "image",
                        lambda i, layer=None: real(i, layer) if i in shown else None)  # fmt: skip
    s.seek(3)  # the same shot, its frame not rendered: the last one stays up, "Rendering…"
    assert v.canvas.image is first and not v.frame_shown and v.canvas.note
    other = s.timeline.starts[2] + 1  # in the third shot
    s.seek(other)
    assert v.canvas.image is None and v.canvas.note  # never the first shot's frame
    shown.add(other)
    qtbot.waitUntil(lambda: real(other) is not None, timeout=60_000)
    v.refresh()
    assert v.canvas.image is not None and v.frame_shown


def test_clip_names_are_readable_and_renamed_in_place(qtbot, make_window, tmp_path):
    """On a 1200-px window the demo's clip names are whole in the library (the viewer's option
    row folds in two to leave the room; a narrow library shows the names, its other columns
    in the tooltip), and a name is edited where it is shown (F2), an undoable edit."""
    from PySide6.QtWidgets import QLineEdit

    w = opened(qtbot, make_window, Project.open(demo(tmp_path)), size=(1200, 800))
    lib = w.library
    qtbot.waitUntil(lambda: lib.width() > 0)
    metrics = lib.fontMetrics()
    for item in lib.items():
        rect = lib.visualItemRect(item)
        need = metrics.horizontalAdvance(item.text(0)) + lib.iconSize().width() + 16
        assert rect.width() >= need, (item.text(0), rect.width(), need)
    assert lib.isColumnHidden(1) == (lib.width() < 380)
    item = lib.items()[0]
    clip = item.data(0, Qt.ItemDataRole.UserRole)
    lib.setCurrentItem(item)
    lib.setFocus()
    qtbot.keyClick(lib, Qt.Key.Key_F2)
    editor = lib.findChild(QLineEdit)  # the editor in the name's place
    assert editor is not None and editor.text() == "Pip walks"
    editor.setText("Pip takes a walk")
    lib.commitData(editor)  # (what its delegate does on Return)
    assert w.session.project.clip(clip).name == "Pip takes a walk"
    assert w.session.undo.undoText() == "Rename clip"
    w.session.undo.undo()
    assert w.session.project.clip(clip).name == "Pip walks"


def test_before_the_model_loads_a_shot_as_shot_shows_its_footage(qtbot, make_window, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    """While the model loads (torch: about a second) the viewer shows the playhead's frame
    when it is the footage itself — a shot as shot in pixels mode, decoded without the model
    (engine.frames.poster) — and for any other frame says the model is loading."""
    import threading

    from studio import engine_client

    gate = threading.Event()
    real_open = engine_client.EngineClient._open

    def held_open(self, *a):
        gate.wait(60)
        return real_open(self, *a)

    monkeypatch.setattr(engine_client.EngineClient, "_open", held_open)
    w = make_window()
    w.resize(1200, 800)
    w.show()
    w.life.open_project(demo(tmp_path))
    s, v = w.session, w.viewer
    assert s.project.shots[0].as_shot
    try:
        qtbot.waitUntil(lambda: v.canvas.image is not None, timeout=30_000)
        assert not s.engine.ready and v.frame_shown and not v.canvas.note
        assert (v.canvas.image.width(), v.canvas.image.height()) == s.project.frame_size
        s.seek(s.timeline.starts[1])  # a background swap: not the footage
        qtbot.wait(300)
        assert v.canvas.image is None and v.canvas.note == "Loading the model…"
    finally:
        gate.set()
    loaded(qtbot, w)
    qtbot.waitUntil(lambda: v.frame_shown, timeout=60_000)
