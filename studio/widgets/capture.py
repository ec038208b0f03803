"""File → Capture…: shoot stop motion frame by frame. The live view of a camera (or of a file
standing in for one) with the last captured frames ghosted over it, one key to capture.

The camera is read on engine.capture's live-view thread; this window only paints the newest frame
(a 15 ms timer asks for it), so the GUI thread never waits on the camera. A capture takes the
frame on screen at the key press, shows it at once (onion skin, count, the short play) and writes
it at full resolution on a single worker (studio.jobs' executor: in order, off the GUI thread).
Captures and deletes are undoable in the window (Ctrl+Z); **Use as Clip** adds the take to the
project as a clip (one undoable edit of the project), ready for layers, training and shots. A take
can go on after a frame clip of the project (or a take never made a clip): **Update Clip** then
puts the grown clip in place of the old one, and only frames captured since can be deleted here,
so no shot loses the frames it uses.

Length: one window — the live canvas, the take's undo commands, the controls — whose parts
share the take being shot.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from engine import capture
from engine.document import MAX_TEXT, FrameRef
from engine.errors import UserError
from studio.engine_client import to_qimage
from studio.jobs import Job
from studio.session import Session

SIZES = {"As the camera gives": None, "640 × 480": (640, 480), "1280 × 720": (1280, 720),
         "1920 × 1080": (1920, 1080)}  # fmt: skip
VIEWS = ("live", "last", "difference")
ONION_OPACITY = (40, 20, 10, 6, 4)  # %, the last capture first: the default of each onion frame
CONTINUED = 48  # a continued clip's last frames loaded for the onion skin and the short play
IN_MEMORY = 120  # the most previews held (5 s at 24 fps; 960×540 RGB: 187 MB): the short play's
FLASH_MS = 150  # a capture flashes the picture's border, as a shutter would
LOOKING = "Looking for cameras…"


class LiveCanvas(QWidget):
    """The live frame (or the last capture, or their difference, or the short play), fitted or
    at 100 % / 200 % of the camera's pixels (dragged to look around: focus, a puppet's eyes), with
    the onion skin and the thirds grid drawn over it."""

    def __init__(self, window: CaptureWindow) -> None:
        super().__init__(window)
        self.w = window
        self.pan = QPoint(0, 0)  # the picture's centre off the canvas's, zoomed in
        self._drag: QPoint | None = None
        self.setMinimumSize(480, 320)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def target(self, iw: int, ih: int) -> QRect:
        """Where a picture of the camera's size (iw, ih) is drawn."""
        zoom = self.w.zoom.currentData()
        scale = min(self.width() / iw, self.height() / ih) if zoom == "fit" else zoom
        w, h = round(iw * scale), round(ih * scale)
        if zoom == "fit":
            self.pan = QPoint(0, 0)
        else:  # no further than the picture's edge
            limit_x, limit_y = max(0, (w - self.width()) // 2), max(0, (h - self.height()) // 2)
            self.pan = QPoint(min(max(self.pan.x(), -limit_x), limit_x),
                              min(max(self.pan.y(), -limit_y), limit_y))  # fmt: skip
        return QRect((self.width() - w) // 2 + self.pan.x(),
                     (self.height() - h) // 2 + self.pan.y(), w, h)  # fmt: skip

    @staticmethod
    def _tag(p: QPainter, r: QRect, text: str, align, rgb: tuple) -> None:
        """A short text in a corner of the picture, on a dark plate that any picture shows."""
        if not text:
            return
        box = p.fontMetrics().boundingRect(text).adjusted(-6, -3, 6, 3)
        inner = r.adjusted(8, 8, -8, -8)
        x = inner.right() - box.width() if align & Qt.AlignmentFlag.AlignRight else inner.left()
        box.moveTopLeft(QPoint(x, inner.top()))
        p.fillRect(box, QColor(0, 0, 0, 150))
        p.setPen(QColor(*rgb))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def mousePressEvent(self, e) -> None:
        self._drag = e.position().toPoint() - self.pan

    def mouseMoveEvent(self, e) -> None:
        if self._drag is not None and self.w.zoom.currentData() != "fit":
            self.pan = e.position().toPoint() - self._drag
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        self._drag = None

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        shown = self.w.shown_image()
        if shown is None:
            p.setPen(QColor(170, 170, 180))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.w.waiting_text())
            p.end()
            return
        r = self.target(*self.w.frame_size(shown))
        if self.w.zoom.currentData() != 2.0:  # 200 %: whole pixels, to judge focus
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(r, shown)
        for image, opacity in self.w.onion_images():
            p.setOpacity(opacity)
            p.drawImage(r, image)
        p.setOpacity(1.0)
        if self.w.grid.isChecked():
            p.setPen(QPen(QColor(255, 255, 255, 110), 1))
            for k in (1, 2):
                x = r.left() + r.width() * k // 3
                y = r.top() + r.height() * k // 3
                p.drawLine(x, r.top(), x, r.bottom())
                p.drawLine(r.left(), y, r.right(), y)
        top = Qt.AlignmentFlag.AlignTop
        self._tag(p, r, self.w.view_label(), top | Qt.AlignmentFlag.AlignLeft, (255, 220, 120))
        # the frame the next capture makes (or the one shown), as on a slate
        self._tag(p, r, self.w.frame_label(), top | Qt.AlignmentFlag.AlignRight, (255, 255, 255))
        if self.w.flashing:
            p.setPen(QPen(QColor(255, 255, 255), 6))
            p.drawRect(r.adjusted(3, 3, -3, -3))
        p.end()


class CaptureCommand(QUndoCommand):
    """One capture: redo writes the frame (again, after an undo), undo deletes it."""

    def __init__(self, window: CaptureWindow, frame) -> None:
        super().__init__(f"Capture frame {window.count + 1}")
        self.w, self.frame = window, frame

    def redo(self) -> None:
        self.w.add_frame(self.frame)

    def undo(self) -> None:
        self.w.remove_frame()


class DeleteCommand(QUndoCommand):
    """Delete the last frame: undo puts back exactly the file it was."""

    def __init__(self, window: CaptureWindow) -> None:
        super().__init__(f"Delete frame {window.count}")
        self.w, self.kept = window, {}

    def redo(self) -> None:
        self.preview = self.w.previews[-1]
        self.w.remove_frame(self.kept)

    def undo(self) -> None:
        self.w.put_back(self.preview, self.kept)


class CaptureWindow(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Capture")
        self.s = session
        self.live: capture.LiveView | None = None
        self.spec: str | None = None  # the camera id or file of the live view
        self.take: capture.Take | None = None
        self.clip_id: str | None = None  # the clip the take goes on after (Update Clip)
        self.previews: list = []  # the take's frames held in memory, preview-sized, in order
        self.base = 0  # frames of the take before the first preview (a long clip continued)
        self.kept = 0  # previews that are frames of the clip: not deleted from here
        self.unused = False  # captures or deletes not yet in the project (Use / Update)
        self.loading = False
        self.flashing = False
        self.undo = QUndoStack(self)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoetrope-capture")
        self._live_frame, self._live_image, self._live_count = None, None, -1
        self._images: dict[int, object] = {}  # id(preview) → QImage
        self.play_index: int | None = None

        self.source = QComboBox(self)
        self.source.addItem(LOOKING, None)
        self.source.addItem("A video file standing in for a camera…", "pick:file")
        self.source.addItem("A folder of frames standing in for a camera…", "pick:folder")
        self.rescan = QToolButton(self, text="↻", toolTip="Look for cameras again")
        self.size = QComboBox(self)
        for text, size in SIZES.items():
            self.size.addItem(text, size)
        self.target = QComboBox(self)
        self.target.setToolTip("Where captures go: a new take, or on after a frame clip of the "
                               "project (or a take not made a clip yet)")  # fmt: skip
        self.name = QLineEdit(self._free_name(), self)
        self.name.setMaxLength(MAX_TEXT)  # the project's limit: never more typed or pasted
        self.name.setToolTip("The take's clip name (its frames go to the project's media/ folder)")
        self.view = QComboBox(self)
        for key, text in zip(VIEWS, ("Live view", "Last capture", "Difference (live − last)"),
                             strict=True):  # fmt: skip
            self.view.addItem(text, key)
        self.zoom = QComboBox(self)
        self.zoom.addItem("Fit", "fit")
        self.zoom.addItem("100 %", 1.0)
        self.zoom.addItem("200 %", 2.0)
        self.zoom.setToolTip("100 % and 200 %: the camera's own pixels; drag the picture to look "
                             "around")  # fmt: skip
        self.onion = QCheckBox("Onion skin", self, checked=True)
        self.onion_frames = QSpinBox(self, minimum=1, maximum=len(ONION_OPACITY), value=1)
        self.opacity_button = QToolButton(self, text="Opacity",
                                          popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.opacity_button.setMinimumWidth(self.opacity_button.sizeHint().width() + 12)  # arrow
        self.onion_opacity = self._opacity_menu()
        self.grid = QCheckBox("Thirds", self)
        self.canvas = LiveCanvas(self)
        self.capture_button = QPushButton("Capture (Space)", self, enabled=False)
        self.delete_button = QPushButton("Delete Last", self, enabled=False)
        self.play_button = QPushButton("Play Take (P)", self, checkable=True, enabled=False)
        self.lapse_button = QPushButton("Time-lapse", self, checkable=True, enabled=False)
        self.lapse_button.setToolTip("Capture by itself, one frame every so many seconds")
        self.lapse_every = QDoubleSpinBox(self, minimum=0.2, maximum=3600, value=5, decimals=1,
                                          prefix="every ", suffix=" s")  # fmt: skip
        self.lapse_every.setToolTip("The time-lapse's interval")
        self.lapse_timer = QTimer(self)
        self.lapse_timer.timeout.connect(self.capture)
        self.use_button = QPushButton("Use as Clip", self, enabled=False)
        self.plate_box = QCheckBox("First frame: the empty set", self)
        self.plate_box.setToolTip("Shoot the set empty first, then the puppet: the take's first "
                                  "frame is its clean plate (its cut-outs are made against it)")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        close = QPushButton("Close", self)

        top = QHBoxLayout()
        top.addWidget(QLabel("Camera", self))
        top.addWidget(self.source, 2)
        top.addWidget(self.rescan)
        for label, w, stretch in (("Size", self.size, 0), ("Into", self.target, 2),
                                  ("Name", self.name, 1)):  # fmt: skip
            top.addWidget(QLabel(label, self))
            top.addWidget(w, stretch)
        tools = QHBoxLayout()
        for w in (self.view, self.zoom, self.onion, self.onion_frames, self.opacity_button,
                  self.grid):  # fmt: skip
            tools.addWidget(w)
        tools.addStretch(1)
        buttons = QHBoxLayout()
        for w in (self.capture_button, self.delete_button, self.play_button, self.lapse_button,
                  self.lapse_every):  # fmt: skip
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.plate_box)
        buttons.addWidget(self.use_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.capture_button.clicked.connect(self.capture)
        self.delete_button.clicked.connect(self.delete_last)
        self.play_button.toggled.connect(self._play)
        self.lapse_button.toggled.connect(self._time_lapse)
        self.lapse_every.valueChanged.connect(
            lambda: self._time_lapse(self.lapse_button.isChecked()))  # a new interval
        self.use_button.clicked.connect(self.use_as_clip)
        close.clicked.connect(self.close)
        self.source.activated.connect(self._source_chosen)
        self.rescan.clicked.connect(self._find_cameras)
        self.size.activated.connect(lambda: self.spec is not None and self.open_source(self.spec))
        self.target.activated.connect(self._target_chosen)
        for w in (self.view, self.zoom):
            w.currentIndexChanged.connect(self.canvas.update)
        for w in (self.onion, self.grid):
            w.toggled.connect(self.canvas.update)
        self.onion_frames.valueChanged.connect(self._onion_changed)
        keys = {"Space": self.capture, "Return": self.capture, "Enter": self.capture,
                "Backspace": self.delete_last, "Ctrl+Z": self.undo.undo,
                "Ctrl+Shift+Z": self.undo.redo, "P": self.play_button.toggle,
                "L": lambda: self._cycle_view("last"), "D": lambda: self._cycle_view("difference"),
                "G": self.grid.toggle}  # fmt: skip
        for key, slot in keys.items():
            QShortcut(QKeySequence(key), self, activated=slot)
        self.undo.indexChanged.connect(self._changed)
        session.project_opened.connect(self._project_gone)
        self.timer = QTimer(self, interval=15)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._next_play_frame)
        self._fill_targets()
        self._onion_changed()
        self._find_cameras()
        self.resize(1000, 760)

    def _opacity_menu(self) -> list[QSlider]:
        """The Opacity button's menu: one slider per onion frame (%), the last capture first."""
        menu = QMenu(self.opacity_button)
        panel = QWidget(menu)
        form = QFormLayout(panel)
        sliders = []
        for k, value in enumerate(ONION_OPACITY):
            slider = QSlider(Qt.Orientation.Horizontal, panel, minimum=2, maximum=90, value=value)
            slider.setMinimumWidth(160)
            slider.valueChanged.connect(self._onion_changed)
            form.addRow("Last capture" if k == 0 else f"{k + 1} back", slider)
            sliders.append(slider)
        action = QWidgetAction(menu)
        action.setDefaultWidget(panel)
        menu.addAction(action)
        self.opacity_button.setMenu(menu)
        return sliders

    def _onion_changed(self, *_) -> None:
        n = self.onion_frames.value()
        self.onion_frames.setSuffix(" frame" if n == 1 else " frames")
        for k, slider in enumerate(self.onion_opacity):
            slider.setEnabled(k < n)
        shown = ", ".join(f"{s.value()} %" for s in self.onion_opacity[:n])
        self.opacity_button.setToolTip(f"Each onion frame's opacity, the last capture first: "
                                       f"{shown}")  # fmt: skip
        self.canvas.update()

    # -- the source --------------------------------------------------------------------------------
    def _find_cameras(self) -> None:
        """List the cameras on a worker (opening each can take a while); the list is redone
        when asked (↻), for a camera plugged in since."""
        self.rescan.setEnabled(False)
        job = Job(lambda _job: capture.list_cameras(), name="cameras")
        job.succeeded.connect(self._cameras_found)
        job.failed.connect(lambda e: self._cameras_found([]))
        job.start()

    def _cameras_found(self, cameras) -> None:
        self.rescan.setEnabled(True)
        for k in reversed(range(self.source.count())):  # the last listing's cameras go
            data = self.source.itemData(k)
            if data is None or data.startswith("camera:"):
                self.source.removeItem(k)
        for k, cam in enumerate(cameras):
            self.source.insertItem(k, cam.name, f"camera:{cam.id}")
        if not cameras:
            self.source.insertItem(0, "No camera found", None)
            if self.live is None:
                self.source.setCurrentIndex(0)
                self.status.setText("No camera found. Connect one and press ↻, or choose a "
                                    "video or a folder of frames to stand in for one.")  # fmt: skip
        if self.live is None and cameras:
            self.source.setCurrentIndex(0)
            self._source_chosen()
        elif self.live is not None:
            self._select_source()

    def _select_source(self) -> None:
        for kind in ("camera", "file"):
            k = self.source.findData(f"{kind}:{self.spec}")
            if k >= 0:
                self.source.setCurrentIndex(k)
                return

    def _source_chosen(self, *_) -> None:
        data = self.source.currentData()
        if data is None:
            return
        kind, value = data.split(":", 1)
        if kind == "pick":
            if value == "file":
                path, _ = QFileDialog.getOpenFileName(self, "A video standing in for a camera")
            else:
                path = QFileDialog.getExistingDirectory(self, "A folder of frames standing in "
                                                        "for a camera")  # fmt: skip
            if path:
                self.open_source(path)
            else:
                self._select_source()
        else:
            self.open_source(value)

    def open_source(self, spec: str) -> bool:
        """Start the live view of a camera id or a file or frame folder; a failure is said in
        the window."""
        if self.live is not None:
            self.live.stop(1.0)
            self.live = None
        self._live_frame, self._live_image, self._live_count = None, None, -1
        try:
            source = capture.open_source(spec, self.size.currentData(), self.s.project.fps)
        except UserError as e:
            self.status.setText(f"<span style='color:#e66'>{e}</span>")
            self._changed()
            return False
        self.live, self.spec = capture.LiveView(source), spec
        if isinstance(source, capture.FileSource) and self.source.findData(f"file:{spec}") < 0:
            self.source.insertItem(self.source.count() - 2, Path(spec).name, f"file:{spec}")
        self._select_source()
        self._changed()
        return True

    def _poll(self) -> None:
        if self.live is None:
            return
        if self.live.error and not self.live.running:
            self.status.setText(f"<span style='color:#e66'>{self.live.error}</span>")
            self.live = None
            self._changed()
            return
        frame, count = self.live.latest()
        if frame is not None and count != self._live_count:
            self._live_frame, self._live_count = frame, count
            self._live_image = None  # converted when painted
            self.canvas.update()
            if count == 1:
                self._changed()

    # -- where captures go -------------------------------------------------------------------------
    def _fill_targets(self, folder: Path | None = None) -> None:
        """"New take", then the frame clips and unused takes captures can go on after."""
        self.target.clear()
        self.target.addItem("New take", None)
        for c in capture.continuable(self.s.project):
            more = "" if c.clip else ", not a clip yet"
            self.target.addItem(f"After “{c.name}” ({c.frames} frames{more})", c)
            if folder is not None and c.folder == folder.resolve():
                self.target.setCurrentIndex(self.target.count() - 1)

    def continue_clip(self, clip_id: str) -> bool:
        """Captures go on after the project's clip ``clip_id`` (a frame folder in media/); a
        clip that cannot be continued is said in the window."""
        for k in range(self.target.count()):
            found = self.target.itemData(k)
            if found is not None and found.clip == clip_id:
                self.target.setCurrentIndex(k)
                self._target_chosen()
                return True
        clip = self.s.project.clip(clip_id)
        self.status.setText(f"<span style='color:#e66'>“{clip.name}” is a {clip.kind} clip: only "
                            "a folder of frames in the project's media folder can be captured "
                            "into (a video or a still cannot).</span>")  # fmt: skip
        return False

    def _target_chosen(self, *_) -> None:
        found = self.target.currentData()
        self._play(False)
        self.undo.clear()
        self.take, self.clip_id, self.previews = None, None, []
        self.base = self.kept = 0
        self.unused = False
        if found is None:
            self.name.setText(self._free_name())
            self.name.setEnabled(True)
            self._changed()
            return
        try:
            take = capture.Take.resume(found.folder)
        except UserError as e:
            self.status.setText(f"<span style='color:#e66'>{e}</span>")
            self.target.setCurrentIndex(0)
            self._target_chosen()
            return
        self.take, self.clip_id, self.loading = take, found.clip, True
        self.base = len(take)
        self.name.setText(found.name)
        self.name.setEnabled(False)
        job = Job(lambda _job: take.tail(CONTINUED), name="take")
        job.succeeded.connect(lambda previews: self._tail_loaded(take, previews))
        job.failed.connect(lambda e: self._tail_loaded(take, [], e))
        self._changed()
        job.start()

    def _tail_loaded(self, take, previews: list, error: str | None = None) -> None:
        if take is not self.take:
            return  # another take was chosen meanwhile
        self.loading = False
        self.previews = previews
        self.base = len(take) - len(previews)
        self.kept = len(previews) if self.clip_id is not None else 0
        self._changed()
        if error:
            self.status.setText(f"<span style='color:#e66'>{error}</span>")

    @property
    def count(self) -> int:
        """The take's frames: on disk before the previews, and the previews."""
        return self.base + len(self.previews)

    # -- what is shown -----------------------------------------------------------------------------
    def live_frame(self):
        return self._live_frame if self.live is not None else None

    def _image_of(self, preview):
        key = id(preview)
        if key not in self._images:
            self._images[key] = to_qimage(preview)
        return self._images[key]

    def shown_image(self):
        if self.play_index is not None:
            if self.play_index < len(self.previews):
                return self._image_of(self.previews[self.play_index])
            return self._live_qimage()  # the live frame as the take's next one
        view = self.view.currentData()
        if view == "last" and self.previews:
            return self._image_of(self.previews[-1])
        if view == "difference" and self.previews and self.live_frame() is not None:
            live = capture.preview(self.live_frame())
            return to_qimage(capture.difference(live, self.previews[-1]))
        return self._live_qimage()

    def frame_size(self, shown) -> tuple[int, int]:
        """The camera's picture size (previews are smaller: drawn at the camera's size too)."""
        frame = self.live_frame()
        if frame is not None:
            return frame.shape[1], frame.shape[0]
        return shown.width(), shown.height()

    def _live_qimage(self):
        if self.live_frame() is None:
            return None
        if self._live_image is None:
            self._live_image = to_qimage(self.live_frame())
        return self._live_image

    def onion_images(self) -> list:
        """(image, opacity) of the captured frames ghosted over the live view, the oldest first
        (drawn first): each frame at its own opacity (the Opacity menu)."""
        if (not self.onion.isChecked() or self.play_index is not None
                or self.view.currentData() != "live"):  # fmt: skip
            return []
        last = self.previews[-self.onion_frames.value():][::-1]
        pairs = zip(last, self.onion_opacity, strict=False)
        return [(self._image_of(f), slider.value() / 100) for f, slider in pairs][::-1]

    def view_label(self) -> str:
        if self.play_index is not None:
            n = len(self.previews)
            return f"▶ {self.play_index + 1}/{n + 1}" + (" (live)" if self.play_index == n else "")
        return {"last": "LAST CAPTURE", "difference": "DIFFERENCE"}.get(self.view.currentData(), "")

    def frame_label(self) -> str:
        """The frame number shown on the picture: the next capture's over the live view."""
        if self.play_index is not None:
            return ""
        if self.view.currentData() == "live":
            return f"Frame {self.count + 1}" if self.live_frame() is not None else ""
        return f"Frame {self.count}" if self.previews else ""

    def waiting_text(self) -> str:
        return "Starting the live view…" if self.live is not None else "No live view"

    def _cycle_view(self, view: str) -> None:
        """L and D flip to the last capture or the difference and back to the live view."""
        now = self.view.currentData()
        self.view.setCurrentIndex(self.view.findData("live" if now == view else view))

    # -- capturing ---------------------------------------------------------------------------------
    def capture(self) -> None:
        """Capture the frame on screen now (its full resolution is written on the worker)."""
        frame = self.live_frame()
        if frame is None or self.play_index is not None or self.loading:
            return
        if self.take is None:
            try:
                self.take = capture.Take.start(self.s.project.root, self.name.text())
            except (UserError, OSError) as e:
                self.status.setText(f"<span style='color:#e66'>Cannot start the take: {e}</span>")
                return
        try:
            self.take.expect((frame.shape[1], frame.shape[0]))  # now, not when it is written
        except UserError as e:
            self.status.setText(f"<span style='color:#e66'>{e}</span>")
            return
        self.undo.push(CaptureCommand(self, frame))

    def delete_last(self) -> None:
        if len(self.previews) > self.kept and self.play_index is None:
            self.undo.push(DeleteCommand(self))

    def add_frame(self, frame) -> None:
        self.previews.append(capture.preview(frame))
        if len(self.previews) > IN_MEMORY:  # the oldest stays on disk only
            self.previews.pop(0)
            self.base += 1
            self.kept = max(0, self.kept - 1)
        self.unused = True
        self.flashing = True
        QTimer.singleShot(FLASH_MS, self, self._flash_off)
        self._write(lambda: self.take.append(frame))

    def _flash_off(self) -> None:
        self.flashing = False
        self.canvas.update()

    def remove_frame(self, kept: dict | None = None) -> None:
        self.previews.pop()
        self.unused = True

        def delete() -> None:
            path, data = self.take.delete_last()
            if kept is not None:
                kept["file"] = (path, data)

        self._write(delete)

    def put_back(self, preview, kept: dict) -> None:
        self.previews.append(preview)
        self.unused = True
        self._write(lambda: self.take.restore(*kept["file"]))

    def _write(self, work) -> None:
        """Disk work in order on the capture worker; a failure is said in the window."""
        job = Job(lambda _job: work(), name="capture")
        job.failed.connect(lambda e: self.status.setText(
            f"<span style='color:#e66'>Writing the take failed: {e}</span>"))  # fmt: skip
        job.start(self.writer)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for every write queued so far (closing, Use as Clip, tests)."""
        self.writer.submit(lambda: None).result(timeout)

    def _changed(self, *_) -> None:
        n = len(self.previews)
        live = self.live is not None
        idle = self.play_index is None and not self.loading
        self.capture_button.setEnabled(live and idle)
        self.lapse_button.setEnabled(live)
        if not live and self.lapse_timer.isActive():
            self._time_lapse(False)
        self.delete_button.setEnabled(n > self.kept and idle)
        self.play_button.setEnabled(n > 0 and not self.loading)
        self.use_button.setText("Update Clip" if self.clip_id else "Use as Clip")
        self.use_button.setEnabled(self.unused and self.count > 0 and not self.loading)
        self.target.setEnabled(not self.unused)  # use the captures (or undo them) first
        self.target.setToolTip("" if not self.unused else "Use the take (or undo its captures) "
                               "before choosing where the next ones go")  # fmt: skip
        if self.loading:
            self.status.setText(f"Loading the last frames of “{self.name.text()}”…")
        elif live and self.live.error is None:
            w, h = self.live.source.size
            take = f"“{self.name.text()}”: {self.count} frame{'s' if self.count != 1 else ''}"
            self.status.setText(f"{self.live.source.name} · {w}×{h} · {take} · Space captures, "
                                "Backspace deletes the last, Ctrl+Z undoes, P plays the take")
            if self.lapse_timer.isActive():
                self.status.setText(f"{self.live.source.name} · {take} · time-lapse: a capture "
                                    f"every {self.lapse_every.value():g} s")  # fmt: skip
        self._images = {id(f): self._images[id(f)] for f in self.previews if id(f) in self._images}
        self.canvas.update()

    # -- the short play ----------------------------------------------------------------------------
    def _time_lapse(self, on: bool) -> None:
        """A capture every ``lapse_every`` seconds while on (and a live view is there)."""
        if on and self.live is not None:
            self.lapse_timer.start(round(self.lapse_every.value() * 1000))
        else:
            self.lapse_timer.stop()
            self.lapse_button.setChecked(False)
        self._changed()

    def _play(self, on: bool) -> None:
        """The take in a loop at the project's rate, the live frame as its next one (a long
        clip continued: its last frames)."""
        if on and self.previews:
            self.play_index = 0
            self.play_timer.start(round(1000 / self.s.project.fps))
        else:
            self.play_index = None
            self.play_timer.stop()
            self.play_button.setChecked(False)
        self._changed()

    def _next_play_frame(self) -> None:
        self.play_index = (self.play_index + 1) % (len(self.previews) + 1)
        self.canvas.update()

    # -- the take into the project -----------------------------------------------------------------
    def use_as_clip(self) -> None:
        """Add the take to the project as a clip, or put the grown clip in place of the one it
        goes on after: one undoable edit, once every capture is on disk (a worker waits)."""
        if self.take is None or not self.unused or self.loading:
            return
        take, writer = self.take, self.writer
        job = Job(lambda _job: writer.submit(lambda: None).result(), name="take")
        job.succeeded.connect(lambda _: self._into_project(take))
        job.failed.connect(self._use_failed)
        self.use_button.setEnabled(False)
        job.start()

    def _use_failed(self, error: str) -> None:
        self.status.setText(f"<span style='color:#e66'>{error}</span>")
        self._changed()

    def _into_project(self, take) -> bool:
        """The take's frames (all on disk) into the project: a new clip, or the clip grown."""
        if take is not self.take or not take.files:
            return False
        p = self.s.project
        old = p.clips.get(self.clip_id) if self.clip_id else None
        if old is None:
            clip = take.as_clip(p.root, self.name.text(), p.fps)
            done = self.s.add_clips([clip])
        else:  # the same clip, grown: its id, name and rate kept (shots use it by id)
            clip = replace(take.as_clip(p.root, old.name, old.fps), id=old.id)
            done = self.s.update_clip(clip, f"Capture into {old.name}")
        if done and self.plate_box.isChecked() and p.clip(clip.id).plate is None:
            self.s.set_plates([clip.id], FrameRef(clip.id, 0), "First frame as clean plate")
        if done:
            self.clip_id, self.unused, self.kept = clip.id, False, len(self.previews)
            self.undo.clear()
            self._fill_targets(take.folder)
        self._changed()
        if done:
            self.status.setText(f"“{clip.name}” is a clip of the project: {clip.frames} frames. "
                                "Captures go on after it; Into → New take starts another.")
        return done

    def _free_name(self) -> str:
        names = {c.name for c in self.s.project.clips.values()}
        names |= {f.name for f in (self.s.project.root / "media").glob("*")}
        n = 1
        while f"Take {n}" in names:
            n += 1
        return f"Take {n}"

    def _project_gone(self) -> None:
        """Another project opened (or none): its captures not used stay in its media folder."""
        self.unused = False
        self.close()

    def ask(self, title: str, text: str, buttons, default):
        """A question that needs an answer now (tests replace this method)."""
        return QMessageBox.question(self, title, text, buttons, default)

    def closeEvent(self, e) -> None:
        button = QMessageBox.StandardButton
        if self.unused and self.count > 0 and self.s.project is not None:
            asked = self.ask("Capture", f"Add the captures of “{self.name.text()}” to the "
                             "project before closing? (If not, they stay in its media folder, "
                             "and Into offers them next time.)",
                             button.Yes | button.No | button.Cancel, button.Yes)  # fmt: skip
            if asked == button.Cancel:
                e.ignore()
                return
            if asked == button.Yes:
                self.flush()
                if not self._into_project(self.take):
                    e.ignore()
                    return
        self.timer.stop()
        self.play_timer.stop()
        self.lapse_timer.stop()
        if self.live is not None:
            self.live.stop(2.0)
            self.live = None
        self.writer.shutdown(wait=True)
        if self.take is not None:
            self.take.close()
        super().closeEvent(e)
