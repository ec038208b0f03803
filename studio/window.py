"""The main window: it lays out the library, viewer, inspector, history and timeline docks and
the status bar, makes the menus of the action table (studio/actions.py) and connects each action
to what it does (studio/commands.py, studio/project_life.py). Messages and questions to the
user are the window's (``show_message``, ``ask``, ``choose``, ``run_busy``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QEventLoop, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
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

from engine.errors import UserError
from studio import settings
from studio.actions import MENUS, SEPARATOR, Actions
from studio.commands import Commands
from studio.jobs import Job
from studio.project_life import ProjectLife
from studio.session import Session
from studio.widgets.library import ClipFrames, Library
from studio.widgets.shots import Inspector
from studio.widgets.timeline import TimelineView
from studio.widgets.viewer import Viewer

APP_NAME = settings.APP_NAME
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

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the panel's rows changed: its width too
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        inner = self.widget().minimumSizeHint().width() if self.widget() else 0
        return QSize(max(hint.width(), inner + self.verticalScrollBar().sizeHint().width()),
                     hint.height())  # fmt: skip


MAX_MESSAGES = 500
"""Status-bar messages kept for View → Message Log."""


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.session = s = Session(self)
        self.clip_frames = ClipFrames(s)
        self.viewer = Viewer(s, self)
        self.library = Library(s, self.clip_frames, self)
        self.inspector = Inspector(s, self.clip_frames, self)
        self.timeline = TimelineView(s, self)
        self.undo_view = QUndoView(s.undo, self)
        self.undo_view.setEmptyLabel("<opened>")
        self.welcome = self._welcome_banner()
        self.messages: list[QMessageBox] = []
        self.dialogs: list = []  # open training / export dialogs
        self.commands = Commands(self)
        self.viewer.canvas.picked.connect(
            lambda at, add: self.commands.pick_subject(at.x(), at.y(), add))
        self.viewer.canvas.stroked.connect(self.commands.brush_stroke)
        self.life = ProjectLife(self)
        self.inspector.extend_button.clicked.connect(self.commands.extend_dialog)
        self.inspector.beat_button.clicked.connect(lambda: self.commands.fit_to_beats(False))
        self.inspector.unfit_button.clicked.connect(self.commands.clear_beat_fit)

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
        self.default_state = self.saveState()
        self.actions = Actions(self, self._resolve)
        self.actions["brush"].setIconText("Brush")  # its button in the viewer, beside Path
        self.viewer.brush_button.setDefaultAction(self.actions["brush"])
        self.library.context_actions = self.actions.group("clip")
        self.timeline.strip.context_actions = self.actions.group("shot")
        self.timeline.strip.inspect.connect(self._inspect)
        self._make_menus()
        self._make_status_bar()

        s.message.connect(self.show_message)
        s.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.library.clip_activated.connect(self.commands.add_shot)  # double-click a clip
        self.library.subject_activated.connect(self.commands.use_subject)
        s.undo.cleanChanged.connect(self.update_title)
        s.edited.connect(self.update_title)  # (the frame rate shown)
        s.project_opened.connect(self.update_title)
        s.project_opened.connect(self._opened)
        s.project_opened.connect(self._update_actions)
        s.edited.connect(self._update_actions)
        s.selection_changed.connect(self._update_actions)
        s.model_loaded.connect(self._model_loaded)
        s.engine.busy_changed.connect(self._busy)
        self.autoplay = False
        self.resize(1280, 800)
        self._restore_layout()
        self.update_title()
        self._update_actions()

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

    def _resolve(self, does: str):
        """The callable an action's spec names: "commands.NAME", "life.NAME" or "window.NAME"."""
        owner, _, name = does.partition(".")
        return getattr({"commands": self.commands, "life": self.life, "window": self}[owner], name)

    def _inspect(self) -> None:
        self.docks["inspector"].show()
        self.docks["inspector"].raise_()

    def _make_menus(self) -> None:
        """The menus of studio/actions.py's table, in its order."""
        s, bar = self.session, self.menuBar()
        for title, entries in MENUS.items():
            menu = bar.addMenu(title)
            for entry in entries:
                if entry == SEPARATOR:
                    menu.addSeparator()
                elif entry == "@recent":
                    self.recent_menu = menu.addMenu("Open &Recent")
                    self.recent_menu.aboutToShow.connect(self.life.fill_recent)
                elif entry == "@undo":
                    undo = s.undo.createUndoAction(self, "&Undo")
                    undo.setShortcut(QKeySequence("Ctrl+Z"))
                    redo = s.undo.createRedoAction(self, "&Redo")
                    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
                    menu.addActions([undo, redo])
                elif entry == "@playback":
                    menu.addActions(self.viewer.playback_actions)
                elif entry == "@docks":
                    for dock in self.docks.values():
                        menu.addAction(dock.toggleViewAction())
                else:
                    menu.addAction(self.actions[entry.id])
        self.actions["snap"].setChecked(s.soundtrack.snapping)
        self.actions["scrub_sound"].setChecked(self.viewer.transport.scrub_sound)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.fps_label = QLabel("", self, toolTip="The project's frame rate, taken from its "
                                "first clip (Edit → Frame Rate… to change it)")  # fmt: skip
        bar.addPermanentWidget(self.fps_label)
        self.status_log: list[tuple[str, str]] = []  # (time, text): View → Message Log
        self.message_log = None
        bar.messageChanged.connect(self._logged)
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

    def _analysing(self, text: str, done: int, total: int) -> None:
        for w in (self.analysis_label, self.analysis_bar, self.analysis_cancel):
            w.setVisible(bool(text))
        if text:
            self.analysis_label.setText(text)
            self.analysis_bar.setMaximum(max(total, 1))
            self.analysis_bar.setValue(done)

    def update_title(self, *_) -> None:
        p = self.session.project
        ro = " (read-only)" if p and self.session.read_only else ""
        self.setWindowTitle(f"{p.name}[*]{ro} — {APP_NAME}" if p else APP_NAME)
        self.setWindowModified(self.session.dirty)
        self.fps_label.setText(f"{p.fps:g} fps" if p else "")

    def _logged(self, text: str) -> None:
        """A status-bar message, kept whole in the message log (the bar may cut it short; its
        tooltip holds it too)."""
        self.statusBar().setToolTip(text)
        if not text:
            return
        when = time.strftime("%H:%M:%S")
        self.status_log = [*self.status_log[-(MAX_MESSAGES - 1) :], (when, text)]
        if self.message_log is not None:
            self.message_log.add(when, text)

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

    def choose(self, title: str, text: str, choices: list[str], default: str) -> str:
        """A question with named answers (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        buttons = {box.addButton(c, QMessageBox.ButtonRole.AcceptRole): c for c in choices}
        box.setDefaultButton(next(b for b, c in buttons.items() if c == default))
        box.exec()
        return buttons.get(box.clickedButton(), default)

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

    def _restore_layout(self) -> None:
        st = settings.settings()
        geometry, state = st.value("window/geometry"), st.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, e) -> None:
        # the dialogs first: the capture window may add its take to the project (and ask)
        if not all(dialog.close() for dialog in list(self.dialogs)) or not self.life.maybe_save():
            e.ignore()
            return
        st = settings.settings()
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState())
        st.sync()
        self.viewer.transport.pause()
        self.session.close()
        self.session.engine.shutdown()
        self.clip_frames.close()
        e.accept()

    def show_in_folder(self, path: str | os.PathLike) -> bool:
        """Open the folder holding ``path`` in the file manager; False where none opened (the
        caller says where the file is)."""
        path = Path(path)
        return QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))

    def _update_actions(self, *_) -> None:
        self.actions.update(self.session)

