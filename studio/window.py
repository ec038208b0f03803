"""The main window: library, viewer, inspector and timeline docks; menus; status bar; the
project's life (new, open, save, close, autosave and recovery)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import QByteArray, QEvent, QEventLoop, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QScrollArea,
    QToolButton,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from engine.document import PREDICTOR_FILE, SUFFIX, Project
from engine.document import lock as project_lock
from engine.document.merge import MergeConflict
from engine.errors import UserError
from engine.fileio import atomic_path
from studio import settings
from studio.jobs import Job, describe_error
from studio.library import ClipFrames, Library
from studio.session import Session
from studio.shots import AddShotDialog, ExtendDialog, Inspector
from studio.timeline import TimelineView
from studio.viewer import Viewer

APP_NAME = "Zoetrope Studio"
CLIP_FILTER = "Clips (*.mp4 *.mov *.avi *.mkv *.webm *.gif *.m4v *.png *.jpg *.jpeg);;All files (*)"
WELCOME = (
    "<b>Welcome to Zoetrope Studio.</b> This is the demo project: six short clips of puppets "
    "(left), remixed into shots on the timeline (bottom) — a background swap, a character "
    "moving like another, a ping-pong loop, a shot on twos, an endless walk, a motion path, a "
    "motion carried on past its clip. Every frame is made by the built-in "
    "model. Press <b>Space</b> to play or pause. To use your own footage: <b>File → New "
    "Project</b>, then <b>File → Import Clips</b> (or drop videos on the library), "
    "<b>Shot → Add Shot</b>, and <b>Model → Train on Clips</b> to teach the model your puppets."
)

Button = QMessageBox.StandardButton


class _TallPanel(QScrollArea):
    """A scroll area as wide as its panel needs (its rows never cut off), however tall."""

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 — Qt's name
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:  # the panel's rows changed: its width too
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 — Qt's name
        hint = super().minimumSizeHint()
        inner = self.widget().minimumSizeHint().width() if self.widget() else 0
        return QSize(max(hint.width(), inner + self.verticalScrollBar().sizeHint().width()),
                     hint.height())  # fmt: skip


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.session = s = Session(self)
        self.clip_frames = ClipFrames(s)
        self.viewer = Viewer(s, self)
        self.library = Library(s, self.clip_frames, self)
        self.inspector = Inspector(s, self.clip_frames, self)
        self.inspector.extend_button.clicked.connect(self.extend_dialog)
        self.inspector.beat_button.clicked.connect(lambda: self.fit_to_beats(False))
        self.inspector.unfit_button.clicked.connect(self.clear_beat_fit)
        self.timeline = TimelineView(s, self)
        self.undo_view = QUndoView(s.undo, self)
        self.undo_view.setEmptyLabel("<opened>")
        self.welcome = self._welcome_banner()
        self.messages: list[QMessageBox] = []
        self.open_error: str | None = None  # why the last open_project() failed
        self.dialogs: list = []  # open training / export dialogs

        centre = QWidget(self)
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.welcome)
        layout.addWidget(self.viewer, 1)
        self.setCentralWidget(centre)
        self.docks = {
            "library": self._dock("Library", self.library, Qt.DockWidgetArea.LeftDockWidgetArea),
            "inspector": self._dock(
                "Inspector", self._scrolling(self.inspector), Qt.DockWidgetArea.RightDockWidgetArea
            ),
            "history": self._dock("History", self.undo_view, Qt.DockWidgetArea.RightDockWidgetArea),
            "timeline": self._dock(
                "Timeline", self.timeline, Qt.DockWidgetArea.BottomDockWidgetArea
            ),
        }
        self.tabifyDockWidget(self.docks["inspector"], self.docks["history"])
        self.docks["inspector"].raise_()
        self._default_state = self.saveState()
        self._make_menus()
        self._make_status_bar()

        s.message.connect(self.show_message)
        s.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.library.clip_activated.connect(self.add_shot)  # double-click a clip
        s.undo.cleanChanged.connect(self._update_title)
        s.project_opened.connect(self._update_title)
        s.project_opened.connect(self._opened)
        s.project_opened.connect(self._update_actions)
        s.edited.connect(self._update_actions)
        s.selection_changed.connect(self._update_actions)
        s.model_loaded.connect(self._model_loaded)
        s.engine.busy_changed.connect(self._busy)
        self.autoplay = False
        self.resize(1280, 800)
        self._restore_layout()
        self._update_title()
        self._update_actions()

    # -- building ----------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower() + "_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _scrolling(self, widget: QWidget) -> QScrollArea:
        """``widget`` in a vertical scroll area: a tall panel never makes the window taller."""
        area = _TallPanel(self)
        area.setWidget(widget)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return area

    def _welcome_banner(self) -> QFrame:
        frame = QFrame(self)
        frame.setObjectName("welcome")
        frame.setStyleSheet(
            "#welcome { background: #2f4a66; border-radius: 4px; } "
            "#welcome QLabel { color: #f0f0f0; }"
        )
        text = QLabel(WELCOME, frame)
        text.setWordWrap(True)
        close = QToolButton(frame, text="✕", autoRaise=True, toolTip="Close the welcome note")
        close.clicked.connect(frame.hide)
        row = QHBoxLayout(frame)
        row.addWidget(text, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        frame.hide()
        return frame

    def _action(self, menu, text: str, slot, keys=None, tip: str = "",
                checkable: bool = False) -> QAction:  # fmt: skip
        """A menu item calling ``slot()`` — with no argument: ``triggered`` sends ``checked``,
        which a method whose first parameter is a path took for one (Save As…, Set Soundtrack…
        and Export Current Frame… did nothing but raise). A ``checkable`` item's slot gets
        whether it is now on."""
        a = QAction(text, self, checkable=checkable)
        if keys:
            a.setShortcut(QKeySequence(keys))
        if tip:
            a.setStatusTip(tip)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())
        menu.addAction(a)
        return a

    def _make_menus(self) -> None:
        s, bar = self.session, self.menuBar()
        f = bar.addMenu("&File")
        self._action(f, "&New Project…", self.new_project, QKeySequence.StandardKey.New)
        self._action(f, "&Open Project…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.a_save = self._action(f, "&Save", self.save, QKeySequence.StandardKey.Save)
        self.a_save_as = self._action(f, "Save &As…", self.save_as, "Ctrl+Shift+S")
        self.a_close = self._action(f, "&Close Project", self.close_project, "Ctrl+W")
        f.addSeparator()
        self.a_import = self._action(f, "&Import Clips…", self.import_dialog, "Ctrl+I")
        self.a_relink = self._action(f, "&Relink Missing Media…", self.relink_dialog,
                                     tip="Find the project's clips, soundtrack or model that "
                                     "were moved or renamed, or give them up")  # fmt: skip
        self.a_capture = self._action(f, "&Capture…", self.capture_window, "Ctrl+Shift+C",
                                      "Shoot frame by frame from a camera, with onion skin")
        self.a_export = self._action(f, "&Export…", lambda: self.export_dialog(), "Ctrl+E")
        self.a_export_frame = self._action(
            f, "Export Current &Frame…", self.export_frame, "Ctrl+Shift+E"
        )
        self.a_export_timeline = self._action(
            f, "Export &Timeline (OpenTimelineIO)…", self.export_timeline_dialog, "Ctrl+Alt+E"
        )
        f.addSeparator()
        self._action(f, "&Quit", self.close, "Ctrl+Q")

        e = bar.addMenu("&Edit")
        undo = s.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = s.undo.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        e.addActions([undo, redo])
        self._action(
            e,
            "Undo &History",
            lambda: (self.docks["history"].show(), self.docks["history"].raise_()),
        )
        e.addSeparator()
        self.a_rename = self._action(e, "Re&name Clip", self.rename_clip, "F2")
        self.a_remove_clip = self._action(e, "Re&move Clip", self.library.remove_current)
        self.a_capture_into = self._action(e, "&Capture Into Clip…", self.capture_into_clip,
                                           tip="The capture window, its captures going on after "
                                           "the selected frame clip's last frame")  # fmt: skip
        e.addSeparator()
        self.a_sound = self._action(e, "Set Sound&track…", self.soundtrack_dialog,
                                    tip="A sound file (WAV, MP3, Ogg, FLAC, M4A …) for the film: "
                                    "exported with MP4 and WebM")  # fmt: skip
        self.a_sound_offset = self._action(e, "Soundtrack O&ffset…", self.sound_offset)
        self.a_no_sound = self._action(e, "Remove Soundtrack",
                                       lambda: self.session.set_soundtrack(None))  # fmt: skip
        e.addSeparator()
        self.a_extend_clip = self._action(e, "E&xtend Clip…", self.extend_clip,
                                          tip="A new clip: this one, then predicted frames of "
                                          "how its motion goes on")  # fmt: skip
        self.a_fps = self._action(e, "Frame &Rate…", self.frame_rate)
        self.a_size = self._action(e, "Output &Size…", self.output_size,
                                   tip="The frames' size in the viewer and exports")  # fmt: skip

        sh = bar.addMenu("&Shot")
        self.a_add = self._action(sh, "&Add Shot…", self.add_shot, "Ctrl+K")
        self.a_dup = self._action(sh, "&Duplicate", lambda: s.duplicate_shot(s.selected), "Ctrl+D")
        self.a_split = self._action(sh, "&Split at Playhead", self.split, "S")
        self.a_delete = self._action(sh, "De&lete", self.delete, QKeySequence.StandardKey.Delete)
        self.a_extend = self._action(sh, "&Extend Motion…", self.extend_dialog,
                                     tip="Predict how the shot's motion goes on past its "
                                     "clip's end")  # fmt: skip
        self.a_fit_beats = self._action(sh, "Fit to &Beats", lambda: self.fit_to_beats(False),
                                        "Ctrl+B", "Retime the shot so that its motion's accents "
                                        "fall on the soundtrack's beats (no frame shown twice)")
        self.a_fit_holds = self._action(sh, "Fit to Beats with &Holds",
                                        lambda: self.fit_to_beats(True), "Ctrl+Shift+B",
                                        "As Fit to Beats, holding frames where that puts more "
                                        "accents on beats")  # fmt: skip
        self.a_unfit = self._action(sh, "Clear Beat Fit", self.clear_beat_fit)
        sh.addSeparator()
        self.a_in = self._action(sh, "Set &In", lambda: self.set_in_out(True), "I")
        self.a_out = self._action(sh, "Set &Out", lambda: self.set_in_out(False), "O")
        self.a_clear = self._action(sh, "&Clear In/Out", lambda: s.set_range(None), "Alt+X")
        self.clip_actions = [self.a_import, self.a_add, self.a_rename, self.a_extend_clip,
                             self.a_capture_into, self.a_remove_clip]  # fmt: skip
        self.shot_actions = [
            self.a_extend,
            self.a_fit_beats,
            self.a_split,
            self.a_dup,
            self.a_delete,
            self.a_in,
            self.a_out,
            self.a_clear,
        ]

        pb = bar.addMenu("&Playback")
        pb.addActions(self.viewer.playback_actions)
        pb.addSeparator()
        self.a_prev_beat = self._action(pb, "Previous Beat", lambda: s.next_beat(-1), "Alt+Left")
        self.a_next_beat = self._action(pb, "Next Beat", lambda: s.next_beat(1), "Alt+Right")

        m = bar.addMenu("&Model")
        self.a_train = self._action(m, "&Train on Clips…", self.train_dialog, "Ctrl+T")
        self.a_load_model = self._action(m, "&Load Model…", self.load_model)
        self.a_builtin = self._action(m, "Use &Built-in Model", lambda: s.set_model(None))
        self.a_info = self._action(m, "Model &Info", self.model_info)

        v = bar.addMenu("&View")
        for dock in self.docks.values():
            v.addAction(dock.toggleViewAction())
        v.addSeparator()
        self._action(v, "Zoom Timeline to &Fit", self.timeline.strip.fit, "Ctrl+0")
        self._action(v, "Zoom Timeline &In", lambda: self.timeline.strip.zoom_by(1.25), "Ctrl+=")
        self._action(v, "Zoom Timeline &Out", lambda: self.timeline.strip.zoom_by(0.8), "Ctrl+-")
        self.a_snap = self._action(v, "&Snap to Beats", self._snap_toggled, "Shift+S",
                                   "The playhead and shot edges dragged on the timeline stop "
                                   "on the soundtrack's beats", checkable=True)  # fmt: skip
        self.a_snap.setChecked(s.snapping)
        v.addSeparator()
        self._action(v, "&Reset Layout", lambda: self.restoreState(self._default_state))

        h = bar.addMenu("&Help")
        self._action(h, "Open &Demo Project", self.open_demo)
        self._action(h, "&Welcome Note", self.welcome.show)
        self._action(h, "&Keyboard Shortcuts", self.shortcuts, "F1")
        self._action(
            h,
            "&About",
            lambda: self.show_message(
                f"About {APP_NAME}",
                f"{APP_NAME} — learns backgrounds, characters and motion from "
                "your clips, and remixes them.\n"
                "The model: Resnick et al., equivariant scene synthesis.",
            ),
        )
        self._project_actions = [
            self.a_save,
            self.a_save_as,
            self.a_close,
            self.a_import,
            self.a_relink,
            self.a_capture,
            self.a_export,
            self.a_add,
            self.a_fps,
            self.a_size,
            self.a_train,
            self.a_load_model,
            self.a_builtin,
            self.a_info,
            self.a_sound,
        ]

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel("no model", self)
        self.device_label = QLabel("", self)
        self.cache_label = QLabel("", self)
        self.analysis_label = QLabel("", self)
        self.analysis_bar = QProgressBar(self, minimum=0, maximum=1000, textVisible=False)
        self.analysis_bar.setMaximumWidth(120)
        self.analysis_cancel = QToolButton(self, text="✕", autoRaise=True,
                                           toolTip="Stop analysing (clips left are analysed "
                                           "when a frame first needs them)")  # fmt: skip
        self.analysis_cancel.clicked.connect(self.session.analysis.cancel)
        self.session.analysis.changed.connect(self._analysing)
        for w in (self.analysis_label, self.analysis_bar, self.analysis_cancel):
            bar.addPermanentWidget(w)
            w.hide()
        for w in (self.model_label, self.device_label, self.cache_label):
            bar.addPermanentWidget(w)
        self._cache_timer = QTimer(self, interval=1000)
        self._cache_timer.timeout.connect(self._update_cache)
        self._cache_timer.start()

    # -- status ------------------------------------------------------------------------------------
    def _analysing(self, text: str, done: int, total: int) -> None:
        for w in (self.analysis_label, self.analysis_bar, self.analysis_cancel):
            w.setVisible(bool(text))
        if text:
            self.analysis_label.setText(text)
            self.analysis_bar.setMaximum(max(total, 1))
            self.analysis_bar.setValue(done)

    def _update_title(self, *_) -> None:
        p = self.session.project
        ro = " (read-only)" if p and self.session.read_only else ""
        self.setWindowTitle(f"{p.name}[*]{ro} — {APP_NAME}" if p else APP_NAME)
        self.setWindowModified(self.session.dirty)

    def _update_actions(self, *_) -> None:
        s = self.session
        has = s.project is not None
        for a in self._project_actions:
            a.setEnabled(has)
        has_shot = has and s.selected is not None
        for a in (self.a_dup, self.a_split, self.a_delete, self.a_extend):
            a.setEnabled(has_shot or a is self.a_delete)
        for a in (self.a_in, self.a_out, self.a_clear):
            a.setEnabled(has and s.timeline.frame_count > 0)
        self.a_export.setEnabled(has and s.timeline.frame_count > 0)
        self.a_export_frame.setEnabled(has and s.timeline.frame_count > 0)
        self.a_export_timeline.setEnabled(has and s.timeline.frame_count > 0)
        self.a_builtin.setEnabled(has and s.project.model is not None)
        sound = has and s.project.soundtrack is not None
        self.a_sound_offset.setEnabled(sound)
        self.a_no_sound.setEnabled(sound)
        for a in (self.a_fit_beats, self.a_fit_holds, self.a_prev_beat, self.a_next_beat):
            a.setEnabled(sound and (has_shot or a in (self.a_prev_beat, self.a_next_beat)))
        self.a_unfit.setEnabled(has_shot and bool(s.project.shot(s.selected).beats))

    def _model_loaded(self, info: dict) -> None:
        name = "built-in model" if info.get("builtin") else info["name"]
        self.model_label.setText(f"Model: {name} · {info['image_size']}²")
        self.model_label.setToolTip(info["path"])
        self.device_label.setText(f"{info['device'].upper()} · {info['precision']}")
        if self.autoplay:
            self.autoplay = False
            self.viewer.transport.play()

    def _busy(self, on: bool) -> None:
        if on:
            self.model_label.setText("Loading model…")
        elif not self.session.engine.ready:
            self.model_label.setText("No model: it could not be loaded")
            self.device_label.setText("")

    def _opened(self) -> None:
        if self.session.project is None:
            self.model_label.setText("No project open")
            self.device_label.setText("")
            self.cache_label.setText("")

    def _update_cache(self) -> None:
        info = self.session.engine.cache_info()
        if info:
            mib = info.get("bytes", 0) / 2**20
            self.cache_label.setText(f"Render cache {info['frames']} frames, {mib:.0f} MiB")
            self.cache_label.setToolTip(f"{info['hits']} hits, {info['misses']} renders")

    def show_message(self, title: str, text: str) -> QMessageBox:
        """A message the user must see, without blocking (tests read ``self.messages``)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, Button.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _: self.messages.remove(box) if box in self.messages else None)
        self.messages.append(box)
        box.open()
        return box

    def ask(self, title: str, text: str, buttons, default) -> Button:
        """A question that needs an answer now (tests replace this method)."""
        return QMessageBox.question(self, title, text, buttons, default)

    # -- project lifecycle -------------------------------------------------------------------------
    def open_project(self, path: str | os.PathLike) -> bool:
        """Open a project folder. It is checked first: a bad one gets a message (``open_error``
        keeps it) and nothing changes — the open project and its unsaved edits stay, and no
        question about saving them is asked. Then the unsaved-changes question."""
        self.open_error = None
        try:
            project = Project.open(path)
        except UserError as e:
            self.open_error = str(e)
            self.show_message("Cannot open project", str(e))
            return False
        current = self.session.project
        same = current is not None and project.root.resolve() == current.root.resolve()
        dirty = self.session.dirty
        if not self.maybe_save():
            return False
        if same and dirty:  # saved (or discarded) just now: read what is on disk now
            try:
                project = Project.open(path)
            except UserError as e:
                self.show_message("Cannot open project", str(e))
                return False
        read_only = False
        holder = project_lock.other_holder(project.root)
        if holder is not None and not same:
            choice = self.choose(
                "Project in use", f"{project.name} is open in {holder}.\n\nOpen it read-only "
                "(your changes go to a copy, with Save As…), or take it over (each of you "
                "then saves merged with the other's changes)?",
                ["Open Read-Only", "Take Over", "Cancel"], "Open Read-Only")  # fmt: skip
            if choice == "Cancel":
                return False
            read_only = choice == "Open Read-Only"
        self._set_project(project, read_only=read_only)
        return True

    def _set_project(self, project: Project | None, dirty: bool = False,
                     read_only: bool = False) -> None:  # fmt: skip
        if self.session.project is not None:
            settings.clear_recovery(self.session.project.root)
        self.welcome.hide()  # it is about the demo (open_demo shows it again)
        self.session.open(project, read_only)
        if project is not None:
            settings.add_recent(project.root)
            if dirty:
                self.session.undo.resetClean()
            if project.shots:
                self.session.select(project.shots[0].id)
            if project.notes:
                self._tell_notes(project)
        self._update_title()

    def _tell_notes(self, project: Project) -> None:
        """What opening the project found: parts offline, names repaired, records corrected."""
        shown = [n.removeprefix(f"{project.root}: ").removeprefix(f"{project.file}: ")
                 for n in project.notes[:12]]  # fmt: skip
        more = len(project.notes) - len(shown)
        offline = project.offline()
        text = (f"{project.name} is open, but:\n• " + "\n• ".join(shown)
                + (f"\n… and {more} more" if more > 0 else ""))
        if offline:
            text += ("\n\nShots that use a missing clip show a placeholder and a missing "
                     "soundtrack is silent until File → Relink Missing Media… finds them.")
        self.show_message("Opened with problems", text)

    def relink_dialog(self):
        """File → Relink Missing Media…: the offline parts, found again or given up."""
        from studio.relink import RelinkDialog

        return self._keep(RelinkDialog(self))

    def open_demo(self) -> None:
        if self.maybe_save():
            self.session.undo.setClean()  # already asked
            self.open_project(settings.demo_copy())
            self.welcome.show()

    def new_project(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "New Project", str(Path.home() / "Untitled"), f"Zoetrope projects (*{SUFFIX})"
        )
        if path:
            self.create_project(path)

    def create_project(self, path: str | os.PathLike) -> bool:
        try:
            project = Project.create(path)
        except (UserError, OSError) as e:
            self.show_message("Cannot create project", str(e))
            return False
        self.session.undo.setClean()
        self._set_project(project)
        return True

    def open_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open Project (a .zoetrope folder)")
        if path:
            self.open_project(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_projects()
        for n, path in enumerate(recent, 1):
            a = self.recent_menu.addAction(f"&{n % 10} {Path(path).stem}")
            a.setToolTip(path)
            a.setStatusTip(path)
            a.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent Projects", settings.clear_recent)
        else:
            self.recent_menu.addAction("No recent projects").setEnabled(False)

    def shortcuts(self) -> QMessageBox:
        """Help → Keyboard Shortcuts: every menu action that has one, by menu."""
        rows = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            entries = [
                (a.text().replace("&", ""), a.shortcut().toString(QKeySequence.NativeText))
                for a in menu.actions()
                if not a.shortcut().isEmpty()
            ]
            if entries:
                rows.append(f"<tr><td colspan=2><b>{menu.title().replace('&', '')}</b></td></tr>")
                rows += [f"<tr><td>{t}</td><td>&nbsp;&nbsp;{k}</td></tr>" for t, k in entries]
        box = self.show_message("Keyboard Shortcuts", "<table>" + "".join(rows) + "</table>")
        box.setIcon(QMessageBox.Icon.NoIcon)
        return box

    def save(self) -> bool:
        """File → Save: merged with what another program saved meanwhile (a capture's take, a
        second studio); where both changed the same thing, the user chooses."""
        s = self.session
        if s.project is None:
            return False
        if s.read_only:
            return self.save_as()
        try:
            s.save()
        except MergeConflict as e:
            keep = "Keep Mine"
            choice = self.choose("Changed on disk", f"{e}.\n\nKeep your version of these (the "
                                 "other program's save stays as project.json.bak), save yours "
                                 "as a copy, or cancel?", [keep, "Save As…", "Cancel"],
                                 "Cancel")  # fmt: skip
            if choice == "Save As…":
                return self.save_as()
            if choice != keep:
                return False
            try:
                s.save(overwrite_changes=True)
            except Exception as e:  # noqa: BLE001 — a save that failed is always said
                self.show_message("Cannot save", describe_error(e))
                return False
        except Exception as e:  # noqa: BLE001 — a save that failed is always said, never lost
            self.show_message("Cannot save", describe_error(e))
            return False
        if not s.project.merged:
            self.statusBar().showMessage(f"Saved {s.project.file}", 4000)
        self._update_title()
        return True

    def choose(self, title: str, text: str, choices: list[str], default: str) -> str:
        """A question with named answers (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        buttons = {box.addButton(c, QMessageBox.ButtonRole.AcceptRole): c for c in choices}
        box.setDefaultButton(next(b for b, c in buttons.items() if c == default))
        box.exec()
        return buttons.get(box.clickedButton(), default)

    def save_as(self, path: str | None = None) -> bool:
        if self.session.project is None:
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save Project As",
                str(self.session.project.root.parent / "Copy"),
                f"Zoetrope projects (*{SUFFIX})",
            )
            if not path:
                return False
        project, old_root = self.session.project, self.session.project.root
        try:  # copies the media: on a worker
            self.run_busy(f"Saving a copy as {Path(path).name}…", lambda: project.save_as(path))
        except UserError as e:  # (run_busy: every failure of the job is a UserError)
            self.show_message("Cannot save", str(e))
            return False
        self.session.saved_as(old_root)
        settings.add_recent(self.session.project.root)
        self._update_title()
        return True

    def run_busy(self, text: str, work=None, job: Job | None = None):
        """Run ``work()`` — or ``job``, a job not yet started (one of the engine client's) — as
        a job behind a modal busy dialog, in a local event loop (the window keeps painting).
        Returns its result; a failure raises UserError with the job's message."""
        job = job or Job(lambda _job: work(), name="busy")
        loop = QEventLoop(self)
        job.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
        dialog = QProgressDialog(text, None, 0, 0, self)
        dialog.setWindowTitle(APP_NAME)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        job.start()
        loop.exec()
        dialog.reset()
        dialog.deleteLater()
        if job.outcome != "succeeded":
            raise UserError(job.error or "stopped")
        return job.result

    def maybe_save(self) -> bool:
        """True when it is fine to drop the open project (saved, or the user said so)."""
        if not self.session.dirty:
            return True
        answer = self.ask(
            "Unsaved changes",
            f"Save the changes to {self.session.project.name}?",
            Button.Save | Button.Discard | Button.Cancel,
            Button.Save,
        )
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    def close_project(self) -> None:
        if self.maybe_save():
            self.session.close()
            self._update_title()

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest recovery copy. True when one was opened."""
        for record in settings.pending_recoveries():
            root = record["root"]
            answer = self.ask(
                "Recover unsaved changes?",
                f"Zoetrope Studio did not close normally. Recover the unsaved changes to "
                f"{Path(root).stem} ({root})?",
                Button.Yes | Button.No,
                Button.Yes,
            )
            if answer != Button.Yes:
                Path(record["file"]).unlink(missing_ok=True)
                continue
            try:
                project = Project.from_json(record["project"], Path(root))
            except Exception as e:  # noqa: BLE001 — a bad copy is said, never a failed launch
                self.show_message("Cannot recover", describe_error(e))
                settings.set_aside(record["file"])  # kept, but not offered at every launch
                continue
            self._set_project(project, dirty=True)
            return True
        return False

    # -- clips and shots ---------------------------------------------------------------------------
    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import Clips", "", CLIP_FILTER)
        if paths:
            self.library.import_paths(paths)

    def rename_clip(self) -> None:
        item = self.library.currentItem()
        if item is not None:
            self.library.editItem(item, 0)

    def frame_rate(self) -> None:
        p = self.session.project
        fps, ok = QInputDialog.getDouble(self, "Frame Rate", "Frames per second:", p.fps, 1, 120, 2)
        if ok:
            self.session.set_fps(fps)

    def output_size(self) -> None:
        from studio.exporting import OutputSizeDialog

        dialog = OutputSizeDialog(self.session, self)
        if dialog.exec():
            self.session.set_output_size(dialog.value())
        dialog.deleteLater()

    def add_shot(self, *_) -> None:
        if self.session.project is None:
            return
        if not self.session.project.clips:
            self.show_message("Add Shot", "Import a clip first (File → Import Clips…).")
            return
        dialog = AddShotDialog(self.session, self.clip_frames, self.library.current_clip(), self)
        if dialog.exec():
            v = dialog.values()
            name = v.pop("name")
            self.session.add_shot(**v, **({"name": name} if name else {}))
        dialog.deleteLater()

    # -- the soundtrack ----------------------------------------------------------------------------
    def soundtrack_dialog(self, path: str | None = None) -> bool:
        """Edit → Set Soundtrack…: a sound file copied into the project (read on a worker; a
        file that cannot be read is named and changes nothing); undoable."""
        s = self.session
        if s.project is None:
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Set Soundtrack", str(Path.home()),
                "Sound (*.wav *.mp3 *.ogg *.oga *.opus *.flac *.m4a *.aac);;All files (*)")
            if not path:
                return False
        project = s.project
        try:
            sound = self.run_busy(f"Reading {Path(path).name}…",
                                  lambda: project.copy_in_sound(path))  # fmt: skip
        except UserError as e:
            self.show_message("Set Soundtrack", str(e))
            return False
        return s.set_soundtrack(sound)

    def sound_offset(self) -> bool:
        s = self.session
        if s.project is None or s.project.soundtrack is None:
            self.show_message("Soundtrack Offset", "The project has no soundtrack (Edit → Set "
                              "Soundtrack…).")  # fmt: skip
            return False
        seconds, ok = QInputDialog.getDouble(
            self, "Soundtrack Offset", "The sound starts this many seconds after the film's "
            "first frame (negative: the film starts that far into the sound):",
            s.project.soundtrack.offset, -86_400, 86_400, 3)  # fmt: skip
        return ok and s.set_sound_offset(seconds)

    def _snap_toggled(self, on: bool) -> None:
        self.session.snapping = on

    def fit_to_beats(self, holds: bool = False) -> bool:
        """Shot → Fit to Beats: retime the selected shot so that its motion's accents fall on
        the soundtrack's beats (an endless walk also jumps on them); undoable."""
        s, title = self.session, "Fit to Beats"
        if s.project is None or s.selected is None:
            return False
        if s.project.soundtrack is None:
            self.show_message(title, "The project has no soundtrack (Edit → Set Soundtrack…).")
            return False
        shot, found = s.project.shot(s.selected), s.beats
        job = s.engine.job(lambda d, _job: d.beat_fit(shot.id, holds, found), "fit to beats")
        if job is None or found is None:
            self.show_message(title, "The model is still loading or the soundtrack's beats are "
                              "still being found; try again in a moment.")  # fmt: skip
            return False
        try:
            changes = self.run_busy(f"Fitting {shot.name or 'the shot'} to the beats…", job=job)
        except UserError as e:
            self.show_message(title, str(e))
            return False
        text = "Fit shot to beats" + (" with holds" if holds else "")
        return s.update_shot(shot.id, text=text, **changes)

    def clear_beat_fit(self) -> bool:
        s = self.session
        if s.project is None or s.selected is None or not s.project.shot(s.selected).beats:
            return False
        duration = s.project.shot(s.selected).duration  # as long as it was, not "one pass"
        return s.update_shot(s.selected, text="Clear beat fit", beats=(), timing=(),
                             duration=duration)  # fmt: skip

    def _ask_extension(self, title: str, shot) -> tuple | None:
        """The Extend dialog for ``shot`` (or a clip's whole-clip stand-in); then, when asked
        or when the project has none, the project's motion predictor learned behind a busy
        dialog. Returns the dialog's values, or None."""
        s = self.session
        if not s.engine.ready:
            self.show_message(title, "The model is still loading; try again.")
            return None
        has = (s.project.root / PREDICTOR_FILE).is_file()
        dialog = ExtendDialog(shot, has, self)
        dialog.setWindowTitle(title)
        try:
            if not dialog.exec():
                return None
            values, learn = dialog.values(), dialog.learn.isChecked()
        finally:
            dialog.deleteLater()
        if learn or not has:
            job = s.engine.job(lambda d, _job: d.train_predictor(), "motion predictor")
            try:
                if job is None:
                    raise UserError("the model is loading again; try again in a moment")
                self.run_busy("Learning how the project's clips move…", job=job)
            except UserError as e:
                self.show_message(title, str(e))
                return None
            s.forget_frames()  # frames made with the old predictor
        return values

    def extend_dialog(self, *_) -> bool:
        """Shot → Extend Motion…: the selected shot's motion goes on past its clip (undoable)."""
        s = self.session
        if s.project is None or s.selected is None:
            return False
        shot = s.project.shot(s.selected)
        asked = self._ask_extension("Extend Motion", shot)
        return asked is not None and s.update_shot(shot.id, text="Extend motion", **asked)

    def extend_clip(self, *_) -> bool:
        """Edit → Extend Clip…: a new clip, the selected one followed by predicted frames (a
        motion source for any shot; lossless PNG frames in media/; undoable like an import)."""
        s = self.session
        clip_id = self.library.current_clip()
        if s.project is None or clip_id is None:
            return False
        clip = s.project.clip(clip_id)
        stand_in = SimpleNamespace(extend=clip.frames, take=0, target=None,
                                   motion=SimpleNamespace(length=clip.frames))  # fmt: skip
        asked = self._ask_extension("Extend Clip", stand_in)
        if asked is None:
            return False
        v, name, project = asked, f"{clip.name} extended", s.project

        def work(director, _job):
            with tempfile.TemporaryDirectory() as tmp:
                folder = director.extend_clip(clip_id, v["extend"], Path(tmp) / "frames",
                                              v["take"], v["target"])  # fmt: skip
                return project.copy_in(folder, name=name)

        job = s.engine.job(work, "extend clip")
        try:
            if job is None:
                raise UserError("the model is loading again; try again in a moment")
            new = self.run_busy(f"Extending {clip.name}…", job=job)
        except UserError as e:
            self.show_message("Extend Clip", str(e))
            return False
        return s.add_clips([new])

    def split(self) -> None:
        s = self.session
        if s.project is None or s.timeline.frame_count == 0:
            return
        shot, local = s.timeline.shot_at(s.playhead)
        s.select(shot.id)
        if local == 0:
            self.statusBar().showMessage(
                "The playhead is on the shot's first frame: nothing to split", 4000
            )
            return
        s.split_shot(shot.id, local)

    def delete(self) -> None:
        if self.library.hasFocus():
            self.library.remove_current()
        elif self.session.selected is not None:
            self.session.delete_shot(self.session.selected)

    def set_in_out(self, first: bool) -> None:
        s = self.session
        lo, hi = s.project.range or (0, s.timeline.frame_count - 1)
        lo, hi = (s.playhead, max(hi, s.playhead)) if first else (min(lo, s.playhead), s.playhead)
        s.set_range((lo, hi))

    # -- model, training, export -------------------------------------------------------------------
    def load_model(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Load Model", "", "Zoetrope models (*.safetensors)"
            )
            if not path:
                return False
        return self.session.set_model(path)

    def model_info(self) -> None:
        info = self.session.model_info
        if not info:
            self.show_message("Model info", "The model is still loading.")
            return
        seconds = info.get("train_seconds")
        took = f"{float(seconds) / 60:.0f} min" if seconds else "?"
        rows = [
            ("File", info["path"] + (" (built-in)" if info.get("builtin") else "")),
            ("Image size", f"{info['image_size']} × {info['image_size']}"),
            ("Training steps", info.get("steps") or "?"),
            ("Training time", took),
            ("Trained on", info.get("trained_on") or "?"),
            ("Trained", info.get("created") or "?"),
            ("Hardware", info.get("hardware") or "?"),
            ("Renders on", f"{info['device']} · {info['precision']}"),
        ]
        text = "\n".join(f"{k}: {v}" for k, v in rows)
        box = self.show_message("Model info", text)
        box.setIcon(QMessageBox.Icon.Information)

    def export_frame(self, path: str | None = None, scale: int = 1) -> bool:
        """The frame on screen (current layer) as a PNG at the output size (``scale`` times it,
        with crisp pixels)."""
        image = self.session.image(self.session.playhead)
        if image is None:
            self.show_message("Export Current Frame", "The frame is not rendered yet.")
            return False
        if path is None:
            name = f"{self.session.project.name}_frame{self.session.playhead + 1:04d}.png"
            path, _ = QFileDialog.getSaveFileName(
                self, "Export Current Frame", str(self.session.project.root.parent / name),
                "PNG images (*.png)",
            )  # fmt: skip
            if not path:
                return False
        big = image if scale == 1 else image.scaled(
            image.width() * scale,
            image.height() * scale,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )  # fmt: skip
        with atomic_path(path) as tmp:
            ok = big.save(str(tmp), "PNG")
        if not ok:
            self.show_message("Export Current Frame", f"{path}: cannot write the image")
            return False
        self.statusBar().showMessage(f"Wrote {path}", 4000)
        return True

    def train_dialog(self):
        from studio.training import TrainDialog

        return self._keep(TrainDialog(self.session, self))

    def _keep(self, dialog):
        """Show a non-modal dialog, held in ``self.dialogs`` until it closes."""
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _: self.dialogs.remove(dialog))
        dialog.show()
        return dialog

    def capture_window(self):
        """File → Capture…: the live view of a camera, onion skin, one key per frame."""
        from studio.capture import CaptureWindow

        return self._keep(CaptureWindow(self.session, self))

    def capture_into_clip(self):
        """Edit → Capture Into Clip…: the capture window, going on after the selected clip."""
        clip_id = self.library.current_clip()
        if clip_id is None:
            self.show_message("Capture Into Clip", "Select a clip in the library first.")
            return None
        window = self.capture_window()
        window.continue_clip(clip_id)
        return window

    def export_timeline_dialog(self):
        """File → Export Timeline…: the cut as OpenTimelineIO, each shot rendered beside it."""
        return self.export_dialog(timeline=True)

    def export_dialog(self, timeline: bool = False):
        from studio.exporting import ExportDialog

        title = "Export Timeline" if timeline else "Export"
        if self.session.timeline.frame_count == 0:
            self.show_message(title, "The timeline is empty: add a shot first.")
            return None
        if not self.session.engine.ready:
            self.show_message(title, "The model is still loading; try again in a moment.")
            return None
        return self._keep(ExportDialog(self.session, self, timeline=timeline))

    # -- window state ------------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        st = settings.settings()
        geometry, state = st.value("window/geometry"), st.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, e) -> None:  # noqa: N802
        # the dialogs first: the capture window may add its take to the project (and ask)
        if not all(dialog.close() for dialog in list(self.dialogs)) or not self.maybe_save():
            e.ignore()
            return
        st = settings.settings()
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState())
        st.sync()
        self.viewer.transport.pause()
        self.session.close()
        self.session.engine.shutdown()
        e.accept()

    def show_in_folder(self, path: str | os.PathLike) -> bool:
        """Open the folder holding ``path`` in the file manager; False where none opened (the
        caller says where the file is)."""
        path = Path(path)
        return QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))
