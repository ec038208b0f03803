"""File → Capture…: shoot stop motion frame by frame. The live view of a camera (or of a file
standing in for one) with the last captured frames ghosted over it, one key to capture.

The camera is read on engine.capture's live-view thread; this window only paints the newest frame
(a 15 ms timer asks for it), so the GUI thread never waits on the camera. A capture takes the
frame on screen at the key press, shows it at once (onion skin, count, the short play) and writes
it at full resolution on a single worker (studio.jobs' executor: in order, off the GUI thread).
Captures and deletes are undoable in the window (Ctrl+Z); **Use as Clip** adds the take to the
project as a clip (one undoable edit of the project), ready for layers, training and shots.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import capture
from engine.errors import UserError
from studio.jobs import Job
from studio.render_service import to_qimage
from studio.session import Session

SIZES = {"As the camera gives": None, "640 × 480": (640, 480), "1280 × 720": (1280, 720),
         "1920 × 1080": (1920, 1080)}  # fmt: skip
VIEWS = ("live", "last", "difference")


class LiveCanvas(QWidget):
    """The live frame (or the last capture, or their difference, or the short play), fitted,
    with the onion skin and the thirds grid drawn over it."""

    def __init__(self, window: CaptureWindow) -> None:
        super().__init__(window)
        self.w = window
        self.setMinimumSize(480, 320)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def target(self, iw: int, ih: int) -> QRect:
        scale = min(self.width() / iw, self.height() / ih)
        if self.w.zoom.currentData() == "1:1":  # the camera's own pixels, centred
            scale = 1.0
        w, h = round(iw * scale), round(ih * scale)
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        shown = self.w.shown_image()
        if shown is None:
            p.setPen(QColor(170, 170, 180))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.w.waiting_text())
            p.end()
            return
        r = self.target(shown.width(), shown.height())
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
        label = self.w.view_label()
        if label:
            p.setPen(QColor(255, 220, 120))
            p.drawText(r.adjusted(8, 6, -8, -6), Qt.AlignmentFlag.AlignTop, label)
        p.end()


class CaptureCommand(QUndoCommand):
    """One capture: redo writes the frame (again, after an undo), undo deletes it."""

    def __init__(self, window: CaptureWindow, frame) -> None:
        super().__init__(f"Capture frame {len(window.previews) + 1}")
        self.w, self.frame = window, frame

    def redo(self) -> None:
        self.w.add_frame(self.frame)

    def undo(self) -> None:
        self.w.remove_frame()


class DeleteCommand(QUndoCommand):
    """Delete the last frame: undo puts back exactly the file it was."""

    def __init__(self, window: CaptureWindow) -> None:
        super().__init__(f"Delete frame {len(window.previews)}")
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
        self.take: capture.Take | None = None
        self.previews: list = []  # the captured frames, preview-sized, in order
        self.error: str | None = None
        self.undo = QUndoStack(self)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoetrope-capture")
        self._live_frame, self._live_image, self._live_count = None, None, -1
        self._images: dict[int, object] = {}  # id(preview) → QImage
        self.play_index: int | None = None

        self.source = QComboBox(self)
        self.source.addItem("Looking for cameras…", None)
        self.source.addItem("A video or frame folder standing in for a camera…", "file")
        self.size = QComboBox(self)
        for text, size in SIZES.items():
            self.size.addItem(text, size)
        self.name = QLineEdit(self._free_name(), self)
        self.name.setToolTip("The take's clip name (its frames go to the project's media/ folder)")
        self.view = QComboBox(self)
        for key, text in zip(VIEWS, ("Live view", "Last capture", "Difference (live − last)"),
                             strict=True):  # fmt: skip
            self.view.addItem(text, key)
        self.zoom = QComboBox(self)
        self.zoom.addItem("Fit", "fit")
        self.zoom.addItem("100 %", "1:1")
        self.onion = QCheckBox("Onion skin", self, checked=True)
        self.onion_frames = QSpinBox(self, minimum=1, maximum=5, value=1, suffix=" frames")
        self.onion_opacity = QDoubleSpinBox(self, minimum=0.05, maximum=0.9, value=0.4,
                                            singleStep=0.05, decimals=2)  # fmt: skip
        self.onion_opacity.setToolTip("The last frame's opacity; each older one is half as strong")
        self.grid = QCheckBox("Thirds", self)
        self.canvas = LiveCanvas(self)
        self.capture_button = QPushButton("Capture (Space)", self, enabled=False)
        self.delete_button = QPushButton("Delete Last", self, enabled=False)
        self.play_button = QPushButton("Play Take (P)", self, checkable=True, enabled=False)
        self.use_button = QPushButton("Use as Clip", self, enabled=False)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        close = QPushButton("Close", self)

        top = QHBoxLayout()
        for label, w in (("Camera", self.source), ("Size", self.size), ("Take", self.name)):
            top.addWidget(QLabel(label, self))
            top.addWidget(w, 2 if w is self.source else 1)
        tools = QHBoxLayout()
        for w in (self.view, self.zoom, self.onion, self.onion_frames, QLabel("opacity", self),
                  self.onion_opacity, self.grid):  # fmt: skip
            tools.addWidget(w)
        tools.addStretch(1)
        buttons = QHBoxLayout()
        for w in (self.capture_button, self.delete_button, self.play_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
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
        self.use_button.clicked.connect(self.use_as_clip)
        close.clicked.connect(self.close)
        self.source.activated.connect(self._source_chosen)
        self.size.activated.connect(lambda: self._source_chosen())
        for w in (self.view, self.zoom):
            w.currentIndexChanged.connect(self.canvas.update)
        for w in (self.onion, self.grid):
            w.toggled.connect(self.canvas.update)
        for w in (self.onion_frames, self.onion_opacity):
            w.valueChanged.connect(self.canvas.update)
        keys = {"Space": self.capture, "Return": self.capture, "Enter": self.capture,
                "Backspace": self.delete_last, "Ctrl+Z": self.undo.undo,
                "Ctrl+Shift+Z": self.undo.redo, "P": self.play_button.toggle,
                "L": lambda: self._cycle_view("last"), "D": lambda: self._cycle_view("difference"),
                "G": self.grid.toggle}  # fmt: skip
        for key, slot in keys.items():
            QShortcut(QKeySequence(key), self, activated=slot)
        self.undo.indexChanged.connect(self._changed)
        self.timer = QTimer(self, interval=15)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._next_play_frame)
        self._find_cameras()
        self._changed()
        self.resize(960, 760)

    # -- the source --------------------------------------------------------------------------------
    def _find_cameras(self) -> None:
        job = Job(lambda _job: capture.list_cameras(), name="cameras")
        job.succeeded.connect(self._cameras_found)
        job.failed.connect(lambda e: self._cameras_found([]))
        job.start()

    def _cameras_found(self, cameras) -> None:
        self.source.removeItem(0)
        for k, cam in enumerate(cameras):
            self.source.insertItem(k, cam.name, cam.id)
        if not cameras:
            self.source.insertItem(0, "No camera found", None)
            self.source.setCurrentIndex(0)
            if self.live is None:
                self.status.setText("No camera found. Connect one (then reopen this window), "
                                    "or choose a video or a frame folder to stand in for one.")
        elif self.live is None:
            self.source.setCurrentIndex(0)
            self._source_chosen()

    def _source_chosen(self, *_) -> None:
        data = self.source.currentData()
        if data == "file":
            path, _ = QFileDialog.getOpenFileName(self, "A video standing in for a camera")
            if path:
                self.open_source(path)
        elif data is not None:
            self.open_source(data)

    def open_source(self, spec: str) -> bool:
        """Start the live view of a camera id or a file; a failure is said in the window."""
        if self.live is not None:
            self.live.stop(1.0)
            self.live = None
        self._live_image, self._live_count = None, -1
        try:
            source = capture.open_source(spec, self.size.currentData(), self.s.project.fps)
        except UserError as e:
            self.status.setText(f"<span style='color:#e66'>{e}</span>")
            self.canvas.update()
            return False
        self.live = capture.LiveView(source)
        if Path(spec).exists() and self.source.findData(spec) < 0:
            self.source.insertItem(self.source.count() - 1, Path(spec).name, spec)
        self.source.setCurrentIndex(max(0, self.source.findData(spec)))
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

    def _live_qimage(self):
        if self.live_frame() is None:
            return None
        if self._live_image is None:
            self._live_image = to_qimage(self.live_frame())
        return self._live_image

    def onion_images(self) -> list:
        """(image, opacity) of the captured frames ghosted over the live view: the last first."""
        if (not self.onion.isChecked() or self.play_index is not None
                or self.view.currentData() != "live"):  # fmt: skip
            return []
        n = self.onion_frames.value()
        alpha = self.onion_opacity.value()
        last = self.previews[-n:][::-1]
        return [(self._image_of(f), alpha / 2**k) for k, f in enumerate(last)][::-1]

    def view_label(self) -> str:
        if self.play_index is not None:
            n = len(self.previews)
            return f"▶ {self.play_index + 1}/{n + 1}" + (" (live)" if self.play_index == n else "")
        return {"last": "LAST CAPTURE", "difference": "DIFFERENCE"}.get(self.view.currentData(), "")

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
        if frame is None or self.play_index is not None:
            return
        if self.take is None:
            try:
                self.take = capture.Take.start(self.s.project.root, self.name.text())
            except OSError as e:
                self.status.setText(f"<span style='color:#e66'>Cannot start the take: {e}</span>")
                return
            self.name.setEnabled(False)
        self.undo.push(CaptureCommand(self, frame))

    def delete_last(self) -> None:
        if self.previews and self.play_index is None:
            self.undo.push(DeleteCommand(self))

    def add_frame(self, frame) -> None:
        self.previews.append(capture.preview(frame))
        self._write(lambda: self.take.append(frame))

    def remove_frame(self, kept: dict | None = None) -> None:
        self.previews.pop()

        def delete() -> None:
            path, data = self.take.delete_last()
            if kept is not None:
                kept["file"] = (path, data)

        self._write(delete)

    def put_back(self, preview, kept: dict) -> None:
        self.previews.append(preview)
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
        self.capture_button.setEnabled(live and self.play_index is None)
        self.delete_button.setEnabled(n > 0 and self.play_index is None)
        self.play_button.setEnabled(n > 0)
        self.use_button.setEnabled(n > 0)
        if live and self.live.error is None:
            w, h = self.live.source.size
            take = f"take “{self.name.text()}”: {n} frame{'s' if n != 1 else ''}"
            self.status.setText(f"{self.live.source.name} · {w}×{h} · {take} · Space captures, "
                                "Backspace deletes the last, Ctrl+Z undoes, P plays the take")
        self._images = {id(f): self._images[id(f)] for f in self.previews if id(f) in self._images}
        self.canvas.update()

    # -- the short play ----------------------------------------------------------------------------
    def _play(self, on: bool) -> None:
        """The take in a loop at the project's rate, the live frame as its next one."""
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
        """Add the take to the project as a clip (read whole on a worker, then one edit)."""
        if self.take is None or not self.previews:
            return
        p, take, name, writer = self.s.project, self.take, self.name.text(), self.writer
        rel = take.folder.relative_to(p.root).as_posix()
        fps = p.fps

        def work(_job):
            writer.submit(lambda: None).result()  # every capture on disk first
            return p.describe_clip(take.folder, rel, name, fps=fps)

        job = Job(work, name="take")
        job.succeeded.connect(self._clip_ready)
        job.failed.connect(lambda e: self.status.setText(f"<span style='color:#e66'>{e}</span>"))
        self.use_button.setEnabled(False)
        job.start()

    def _clip_ready(self, clip) -> None:
        self.s.add_clips([clip])
        self.status.setText(f"“{clip.name}” is a clip of the project: {clip.frames} frames. The "
                            "next capture starts a new take.")  # fmt: skip
        self.take, self.previews = None, []
        self.undo.clear()
        self.name.setText(self._free_name())
        self.name.setEnabled(True)
        self._changed()

    def _free_name(self) -> str:
        names = {c.name for c in self.s.project.clips.values()}
        n = 1
        while f"Take {n}" in names:
            n += 1
        return f"Take {n}"

    def closeEvent(self, e) -> None:  # noqa: N802
        self.timer.stop()
        self.play_timer.stop()
        if self.live is not None:
            self.live.stop(2.0)
            self.live = None
        self.writer.shutdown(wait=True)
        super().closeEvent(e)
