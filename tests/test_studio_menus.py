"""Every menu item of the main window, triggered through its QAction as a user's click or
shortcut would (issue 27: Save As…, Set Soundtrack… and Export Current Frame… did nothing but
print a TypeError, because ``triggered(checked)`` arrived as their path). File dialogs are
answered with temporary paths, questions and modal dialogs answered; each item must run without
an exception, and where it is cheap to see, do its job. The widgets' context menus hold the
window's own actions: the same objects, so the same test covers them."""

from __future__ import annotations

import pytest
from conftest import demo, loaded
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox

from engine import audio

pytestmark = pytest.mark.slow


def every_action(window) -> list:
    """The actions of every menu of the menu bar, submenus included (filled as they would be on
    opening), in menu order; separators and submenu entries left out."""
    found = []

    def walk(menu: QMenu) -> None:
        menu.aboutToShow.emit()  # Open Recent fills itself here
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu())
            elif not a.isSeparator():
                found.append((menu.title().replace("&", ""), a))

    for top in window.menuBar().actions():
        walk(top.menu())
    return found


@pytest.fixture
def answered(monkeypatch, tmp_path):
    """File dialogs answer with paths under tmp_path (per dialog title), number dialogs with a
    value, modal dialogs: Add Shot and Output Size accepted, others cancelled."""
    sound = tmp_path / "drums.wav"
    audio.write_wav(sound, audio.drum_loop(120, 8.0)[0])
    asked: list[str] = []
    paths = {
        "Save Project As": str(tmp_path / "Copy"),
        "Export Current Frame": str(tmp_path / "frame.png"),
        "Set Soundtrack": str(sound),
        "New Project": str(tmp_path / "Fresh"),
        "Load Model": "",  # cancelled
    }

    def save_name(parent, title, *a, **k):
        asked.append(title)
        return paths.get(title, ""), ""

    def open_names(parent, title, *a, **k):
        asked.append(title)
        return [], ""

    def folder(parent, title, *a, **k):
        asked.append(title)
        return str(tmp_path / "Demo.zoetrope")

    def number(parent, title, label, value, *a, **k):
        asked.append(title)
        return (12.0 if title == "Frame Rate" else 0.5), True

    def run(dialog):
        asked.append(dialog.windowTitle())
        if dialog.windowTitle() in ("Add Shot", "Output Size"):
            dialog.accept()
            return QDialog.DialogCode.Accepted
        dialog.reject()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", open_names)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder)
    monkeypatch.setattr(QInputDialog, "getDouble", number)
    monkeypatch.setattr(QDialog, "exec", run)
    return asked


def test_every_menu_item_runs_from_its_action(qtbot, make_window, tmp_path, answered, capfd):
    w = make_window(answer=QMessageBox.StandardButton.Discard)
    w.life.open_project(demo(tmp_path))
    s = w.session
    loaded(qtbot, w)
    qtbot.waitUntil(lambda: s.soundtrack.beats is not None, timeout=120_000)  # the demo's drum loop
    qtbot.waitUntil(lambda: s.frames.image(s.playhead) is not None, timeout=60_000)
    s.select(s.project.shots[0].id)
    w.library.setCurrentItem(w.library.topLevelItem(0))
    actions = every_action(w)
    texts = [a.text().replace("&", "") for _, a in actions]
    for wanted in ("Save As…", "Set Soundtrack…", "Export Current Frame…", "Quit"):
        assert wanted in texts, texts
    # the context menus offer the window's own actions (one object: one test)
    groups = w.actions.group("clip") + w.actions.group("shot")
    assert groups and all(a in [x for _, x in actions] for a in groups)

    last = ("Remove Soundtrack", "Close Project", "New Project…", "Open Project…",
            "Open Demo Project", "Quit")
    order = [x for x in actions if x[1].text().replace("&", "") not in last]
    order += sorted((x for x in actions if x[1].text().replace("&", "") in last),
                    key=lambda x: last.index(x[1].text().replace("&", "")))  # fmt: skip
    ran = []
    for menu, a in order:
        text = a.text().replace("&", "")
        if s.project is not None and s.selected is None and s.project.shots:
            s.select(s.project.shots[0].id)  # as a user clicks a shot before a Shot item
        if not a.isEnabled():
            continue
        before = s.project
        if text == "Export Current Frame…":  # as a user sees the frame before exporting it
            loaded(qtbot, w)
            qtbot.waitUntil(lambda: s.frames.image(s.playhead) is not None, timeout=60_000)
        if text.startswith("Fit to Beats"):  # found again for the new soundtrack
            qtbot.waitUntil(lambda: s.soundtrack.beats is not None, timeout=120_000)
        a.trigger()
        qtbot.wait(20)
        said = "\n".join(box.text() for box in w.messages)
        for box in list(w.messages):
            box.close()
        for dialog in list(w.dialogs):
            dialog.close()
        ran.append(f"{menu} → {text}")
        check(text, w, before, tmp_path, said)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "TypeError" not in captured.err, captured.err
    # every enabled item ran; the ones a project and a selected shot enable were among them
    for item in ("File → Save As…", "Edit → Set Soundtrack…", "File → Export Current Frame…",
                 "Shot → Fit to Beats", "Edit → Output Size…", "Shot → Add Shot…",
                 "Model → Model Info", "View → Snap to Beats", "Help → Keyboard Shortcuts",
                 "File → Quit"):  # fmt: skip
        assert item in ran, '\n'.join(ran)
    assert "Save Project As" in answered and "Set Soundtrack" in answered


def check(text: str, w, before, tmp_path, said: str) -> None:
    """What an item did, where it is cheap to see."""
    s = w.session
    if text == "Save As…":
        assert (tmp_path / "Copy.zoetrope" / "project.json").is_file()
        assert s.project.root == tmp_path / "Copy.zoetrope"
    elif text == "Set Soundtrack…":
        assert s.project.soundtrack is not None and s.project.soundtrack.name == "drums"
    elif text == "Export Current Frame…":  # written by the engine: the frame at its size
        from PIL import Image

        with Image.open(tmp_path / "frame.png") as im:
            assert im.size == s.project.frame_size
    elif text == "Frame Rate…":
        assert s.project.fps == 12.0
    elif text == "Soundtrack Offset…":
        assert s.project.soundtrack.offset == 0.5
    elif text.startswith("Fit to Beats"):
        assert s.undo.undoText().startswith("Fit shot to beats"), said
    elif text == "Remove Soundtrack":
        assert s.project.soundtrack is None
    elif text == "Add Shot…":
        assert s.undo.undoText() == "Add shot"
    elif text == "Snap to Beats":
        assert s.soundtrack.snapping == w.actions["snap"].isChecked()
    elif text == "New Project…":
        assert s.project.root == tmp_path / "Fresh.zoetrope"
    elif text == "Close Project":
        assert s.project is None
    elif text == "Quit":
        assert not w.isVisible()
