"""The viewer: the frame at the playhead, the transport controls (playback itself:
studio/transport.py), onion skin and the path tool."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.session import Session
from studio.transport import ONION_LAYER, Transport

LOOP_MODES = {"loop": "Loop", "pingpong": "Ping-pong", "once": "Play once"}
LAYERS = {"composite": "Composite", "background": "Background only", "character": "Character only",
          "matte": "Matte"}  # fmt: skip
RENDER_MODES = {"pixels": "Pixels", "model": "Model"}  # sharp · soft: the tooltip says
ZOOMS = {"fit": 0, "1x": 1, "2x": 2, "4x": 4}




PAST, FUTURE = QColor(255, 110, 100), QColor(110, 230, 130)  # onion skin: red before, green after


def tinted(image: QImage, color: QColor) -> QImage:
    """The image multiplied by a colour, its transparency kept: onion skins tell past from
    future frames by colour."""
    out = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(out)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
    p.fillRect(out.rect(), color)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    p.drawImage(0, 0, image)  # the multiply made every pixel opaque: take the alpha back
    p.end()
    return out


class Canvas(QWidget):
    """Paints a frame scaled with nearest-neighbour, onion-skin frames and the path tool's
    overlay over it (a path as a curve, its keys as dots, the character's handle)."""

    pressed = Signal(QPointF)  # with the path tool: a press, a drag and a release,
    dragged = Signal(QPointF)  # in the frame's pixels
    released = Signal(QPointF)
    wheeled = Signal(float, object)  # with the path tool: wheel notches, keyboard modifiers
    picked = Signal(QPointF, bool)  # without it: a click (frame pixels), Shift held
    stroked = Signal(list, bool)  # with the brush: a stroke's points (frame pixels), add

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.onion: list[tuple[QImage, float]] = []
        self.zoom = 0
        self.note = ""
        self.path: tuple[list, list, tuple | None, tuple | None] | None = None
        """The path tool's overlay, frame pixels: curve points, key dots, the handle, the
        extended motion's target."""
        self.modifiers = Qt.KeyboardModifier.NoModifier  # of the last press
        self.brush: list[tuple[float, float]] | None = None
        """With the brush tool on: the stroke being painted (frame pixels); else None."""
        self.brush_add = True
        self.brush_radius = 8.0  # frame pixels
        self.setMinimumSize(160, 160)
        self.setAutoFillBackground(False)

    def show_frame(self, image: QImage | None, onion: list[tuple[QImage, float]], note: str):
        self.image, self.onion, self.note = image, onion, note
        self.update()

    def target(self) -> QRectF:
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        if self.zoom:
            scale = float(self.zoom)
        else:
            scale = max(1e-3, min((self.width() - 16) / w, (self.height() - 16) / h))
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(38, 38, 42))
        if self.image is not None:
            rect = self.target()
            # 1x, 2x, 4x show the pixels as they are; fit filters, or a 1280-wide frame shown
            # 900 wide would shimmer
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not self.zoom)
            p.drawImage(rect, self.image)
            for image, opacity in self.onion:
                p.setOpacity(opacity)
                p.drawImage(rect, image)
            p.setOpacity(1.0)
            if self.path is not None:
                self._paint_path(p, rect)
            if self.brush:
                self._paint_brush(p, rect)
        if self.note:
            p.setPen(QColor(220, 220, 220))
            where = self.rect().adjusted(8, 8, -8, -8)
            align = (
                Qt.AlignmentFlag.AlignCenter
                if self.image is None
                else (Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            )
            p.drawText(where, align | Qt.TextFlag.TextWordWrap, self.note)
        p.end()


    def _paint_brush(self, p: QPainter, rect: QRectF) -> None:
        scale = rect.width() / self.image.width()
        colour = QColor(90, 220, 120, 140) if self.brush_add else QColor(230, 80, 80, 140)
        pen = QPen(colour, max(2.0, 2 * self.brush_radius * scale))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        points = [self.to_widget(x, y, rect) for x, y in self.brush]
        if len(points) == 1:
            p.drawPoint(points[0])
        for a, b in zip(points, points[1:], strict=False):
            p.drawLine(a, b)

    def to_widget(self, x: float, y: float, rect: QRectF | None = None) -> QPointF:
        rect = rect or self.target()
        scale = rect.width() / self.image.width()
        return QPointF(rect.x() + (x + 0.5) * scale, rect.y() + (y + 0.5) * scale)

    def to_frame(self, pos: QPointF) -> QPointF:
        rect = self.target()
        scale = rect.width() / self.image.width()
        return QPointF((pos.x() - rect.x()) / scale - 0.5, (pos.y() - rect.y()) / scale - 0.5)

    def _paint_path(self, p: QPainter, rect: QRectF) -> None:
        curve, dots, handle, target = self.path
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if target is not None:  # where an extended motion heads: a cross in a ring
            c = self.to_widget(*target, rect)
            p.setPen(QPen(QColor(255, 110, 200), 2))
            p.drawEllipse(c, 8, 8)
            p.drawLine(c + QPointF(-12, 0), c + QPointF(12, 0))
            p.drawLine(c + QPointF(0, -12), c + QPointF(0, 12))
        if len(curve) > 1:
            line = QPainterPath(self.to_widget(*curve[0], rect))
            for x, y in curve[1:]:
                line.lineTo(self.to_widget(x, y, rect))
            p.setPen(QPen(QColor(255, 220, 90, 220), 2, Qt.PenStyle.DashLine))
            p.drawPath(line)
        p.setPen(QPen(QColor(30, 30, 30), 1.5))
        for x, y in dots:
            p.setBrush(QColor(255, 220, 90))
            p.drawEllipse(self.to_widget(x, y, rect), 5, 5)
        if handle is not None:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(90, 200, 255), 2))
            p.drawEllipse(self.to_widget(*handle, rect), 9, 9)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def mousePressEvent(self, e) -> None:
        if self.path is not None and self.image is not None:
            self.modifiers = e.modifiers()
            self.pressed.emit(self.to_frame(e.position()))
        elif self.brush is not None and self.image is not None:
            at = self.to_frame(e.position())
            self.brush = [(at.x(), at.y())]
            self.update()
        elif self.image is not None and e.button() == Qt.MouseButton.LeftButton:
            shift = bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.picked.emit(self.to_frame(e.position()), shift)

    def mouseMoveEvent(self, e) -> None:
        if self.path is not None and self.image is not None and e.buttons():
            self.dragged.emit(self.to_frame(e.position()))
        elif self.brush and e.buttons():
            at = self.to_frame(e.position())
            if len(self.brush) < 5_000:
                self.brush.append((at.x(), at.y()))
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        if self.path is not None and self.image is not None:
            self.released.emit(self.to_frame(e.position()))
        elif self.brush:
            stroke, self.brush = self.brush, []
            self.update()
            self.stroked.emit(stroke, self.brush_add)

    def wheelEvent(self, e) -> None:
        if self.path is not None and self.image is not None:
            self.wheeled.emit(e.angleDelta().y() / 120, e.modifiers())
            e.accept()
        else:
            super().wheelEvent(e)


class PathTool(QObject):
    """The viewer's path tool: the shot under the playhead's path drawn over the frame, from
    where the character is now (before its path moves it) — the curve where the path takes it,
    a dot per key, a ring on the character, and a cross where an extended motion heads. Drag a
    dot to move its key; click elsewhere to put a key at the playhead there; Shift+click to set
    where the shot's extended motion heads; the wheel turns the character at the playhead (5° a
    notch), Shift+wheel scales it (5 %). Every change is one undoable edit (a wheel gesture is
    one)."""

    TURN, GROW = 5.0, 1.05
    SETTLE_MS = 350  # a wheel gesture ends when the wheel rests this long

    GRAB = 10  # widget pixels from a dot that grab it

    def __init__(self, session: Session, canvas: Canvas) -> None:
        super().__init__(canvas)
        self.s, self.canvas = session, canvas
        self.on = False
        self._drag: tuple | None = None  # (shot id, key frame, anchor) while a dot is dragged
        canvas.pressed.connect(self._pressed)
        canvas.dragged.connect(self._dragged)
        canvas.released.connect(self._released)
        canvas.wheeled.connect(self._wheeled)
        self._turn = [0.0, 0.0]  # wheel notches, turn and scale, not yet an edit
        self._wheel_timer = QTimer(self, singleShot=True, interval=self.SETTLE_MS)
        self._wheel_timer.timeout.connect(self._wheel_done)

    def overlay(self) -> tuple[list, list, tuple | None, tuple | None] | None:
        """(curve, dots, handle, target) in frame pixels for the shot at the playhead, or
        None."""
        s = self.s
        if not self.on or not s.engine.ready or s.project is None or not s.timeline.frame_count:
            return None
        from engine.frames.motion import path_at

        shot, local = s.timeline.shot_at(s.playhead)
        anchor = s.engine.character_centre(shot.id, local)
        if anchor is None:
            return None
        w, h = s.project.frame_size

        def at(t: float) -> tuple[float, float]:
            x, y, _, _ = path_at(shot.path, t)
            return anchor[0] + x * w, anchor[1] + y * h

        step = max(1, shot.duration // 200)
        curve = [at(t) for t in range(0, shot.duration, step)] if shot.path else []
        dots = [at(k.frame) for k in shot.path]
        target = None
        if shot.target is not None and shot.motion_length > shot.motion.length:
            target = (shot.target[0] * w, shot.target[1] * h)
        return curve, dots, at(local), target

    def _wheeled(self, notches: float, modifiers) -> None:
        self._turn[1 if modifiers & Qt.KeyboardModifier.ShiftModifier else 0] += notches
        self._wheel_timer.start()

    def _wheel_done(self) -> None:
        """The wheel gesture as one edit: the key at the playhead (made from the path there if
        there is none) turned and scaled."""
        from engine.document import Key, with_key
        from engine.frames.motion import path_at

        turn, grow = self._turn
        self._turn = [0.0, 0.0]
        s = self.s
        if s.project is None or not s.timeline.frame_count or not (turn or grow):
            return
        shot, local = s.timeline.shot_at(s.playhead)
        x, y, angle, scale = path_at(shot.path, local)
        old = next((k for k in shot.path if k.frame == local), None)
        scale = min(20.0, max(0.05, scale * self.GROW**grow))
        key = Key(local, x, y, round(angle + self.TURN * turn, 3), round(scale, 4),
                  old.ease if old else "linear")  # fmt: skip
        text = "Scale path key" if grow and not turn else "Turn path key"
        s.update_shot(shot.id, text=text, path=with_key(shot.path, key))

    def _pressed(self, pos: QPointF) -> None:
        s = self.s
        shot, local = s.timeline.shot_at(s.playhead)
        overlay = self.overlay()
        if overlay is None:
            return
        anchor = s.engine.character_centre(shot.id, local)
        near = None
        for k, (x, y) in zip(shot.path, overlay[1], strict=True):
            d = self.canvas.to_widget(x, y) - self.canvas.to_widget(pos.x(), pos.y())
            if d.manhattanLength() <= self.GRAB:
                near = k.frame
        self._drag = (shot.id, near if near is not None else local, anchor)

    def _dragged(self, pos: QPointF) -> None:
        if self._drag is not None and self.canvas.path is not None:  # the edit: on release
            curve, dots, handle, target = self.canvas.path
            self.canvas.path = (curve, [*dots, (pos.x(), pos.y())], handle, target)
            self.canvas.update()

    def _released(self, pos: QPointF) -> None:
        if self._drag is None:
            return
        from engine.document import Key, with_key
        from engine.frames.motion import path_at

        shot_id, frame, anchor = self._drag
        self._drag = None
        shot = self.s.project.shot(shot_id)
        w, h = self.s.project.frame_size
        if self.canvas.modifiers & Qt.KeyboardModifier.ShiftModifier:
            if shot.motion_length == shot.motion.length:
                self.s.status.emit("Shift+click sets where an extended motion heads: extend "
                                   "the shot first (Shot → Extend Motion…)")  # fmt: skip
                return
            target = (round(pos.x() / w, 4), round(pos.y() / h, 4))
            self.s.update_shot(shot_id, text="Set where the motion heads", target=target)
            return
        _, _, angle, scale = path_at(shot.path, frame)
        old = next((k for k in shot.path if k.frame == frame), None)
        key = Key(frame, (pos.x() - anchor[0]) / w, (pos.y() - anchor[1]) / h, angle, scale,
                  old.ease if old else "linear")  # fmt: skip
        text = "Move path key" if old else "Add path key"
        self.s.update_shot(shot_id, text=text, path=with_key(shot.path, key))


class Viewer(QWidget):
    """Canvas + transport bar + view options (layer, zoom, onion skin)."""

    first_frame = Signal()  # the first rendered frame of a project is on screen

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.s = session
        self.transport = Transport(session)
        self.canvas = Canvas(self)
        self.shows_rendered_frame = False
        self.frame_shown = False  # the playhead's own frame is on screen
        self._shown_shot = ""  # the shot (id) of the last frame shown

        def button(icon: str, tip: str, slot) -> QToolButton:
            b = QToolButton(self, toolTip=tip, autoRaise=True)
            b.setIcon(self.style().standardIcon(getattr(QStyle.StandardPixmap, icon)))
            b.clicked.connect(slot)
            return b

        t = self.transport
        self.play_button = button("SP_MediaPlay", "Play / pause (Space)", t.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.valueChanged.connect(
            lambda v: (t.pause(), session.seek(v)) if self.slider.isSliderDown() else None
        )
        self.slider.sliderMoved.connect(session.seek)
        self.counter = QLabel("0 / 0", self)
        self.counter.setMinimumWidth(90)
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.mode = QComboBox(self)
        for key, text in LOOP_MODES.items():
            self.mode.addItem(text, key)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.range_box = QCheckBox("In/out only", self, checked=True)
        self.range_box.setToolTip("Play only the in/out range when one is set")
        self.range_box.toggled.connect(self._range_toggled)

        bar = QHBoxLayout()
        bar.addWidget(button("SP_MediaSkipBackward", "First frame (Home)", t.home))
        bar.addWidget(button("SP_MediaSeekBackward", "Previous frame (←)", lambda: t.step(-1)))
        bar.addWidget(self.play_button)
        bar.addWidget(button("SP_MediaSeekForward", "Next frame (→)", lambda: t.step(1)))
        bar.addWidget(button("SP_MediaSkipForward", "Last frame (End)", t.end))
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.counter)
        bar.addWidget(self.mode)
        bar.addWidget(self.range_box)

        self.layer = QComboBox(self)
        for key, text in LAYERS.items():
            self.layer.addItem(text, key)
        self.layer.currentIndexChanged.connect(self._layer_changed)
        self.render_mode = QComboBox(self)
        for key, text in RENDER_MODES.items():
            self.render_mode.addItem(text, key)
        self.render_mode.setToolTip(
            "How the project's frames are made: the footage's own pixels moved by the learned "
            "motion (sharp), or decoded by the model (soft, but it can change a pose). A shot "
            "can override it in the inspector."
        )
        self.render_mode.currentIndexChanged.connect(self._render_mode_changed)
        self.zoom = QComboBox(self)
        for text in ZOOMS:
            self.zoom.addItem(text.capitalize() if text == "fit" else text)
        self.zoom.currentIndexChanged.connect(self._zoom_changed)
        self.onion_box = QCheckBox("Onion", self)
        self.onion_box.setToolTip("Onion skin: the frames before (−) and after (+), tinted")
        self.onion_before = QSpinBox(self, minimum=0, maximum=5, value=1, prefix="−")
        self.onion_after = QSpinBox(self, minimum=0, maximum=5, value=0, prefix="+")
        self.onion_opacity = QSlider(Qt.Orientation.Horizontal, self, minimum=5, maximum=90)
        self.onion_opacity.setValue(30)
        self.onion_opacity.setMaximumWidth(60)
        for spin in (self.onion_before, self.onion_after):
            spin.setMaximumWidth(46)
        self.onion_opacity.setToolTip("Onion-skin opacity")
        for w in (self.onion_box, self.onion_before, self.onion_after):
            (w.toggled if w is self.onion_box else w.valueChanged).connect(self._onion_changed)
        self.onion_opacity.valueChanged.connect(self.refresh)
        self.path_tool = PathTool(session, self.canvas)
        self.path_button = QToolButton(self, text="Path", checkable=True)
        self.path_button.setToolTip(
            "Path tool: the shot's path over the frame. Click to put a key at the playhead "
            "where the character should be; drag a key's dot to move it."
        )
        self.path_button.toggled.connect(self._path_toggled)

        options = QHBoxLayout()
        options.addWidget(QLabel("Show", self))
        options.addWidget(self.layer)
        options.addWidget(QLabel("Render", self))
        options.addWidget(self.render_mode)
        options.addWidget(QLabel("Zoom", self))
        options.addWidget(self.zoom)
        options.addStretch(1)
        tools = QHBoxLayout()
        tools.addWidget(self.path_button)
        self.brush_button = QToolButton(self)  # shows the window's Shot → Brush Tool action
        tools.addWidget(self.brush_button)
        tools.addStretch(1)
        tools.addWidget(self.onion_box)
        tools.addWidget(self.onion_before)
        tools.addWidget(self.onion_after)
        tools.addWidget(self.onion_opacity)
        # one row where the viewer is wide, two where narrow: the docks keep their room
        self.option_rows = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.option_rows.addLayout(options, 1)
        self.option_rows.addLayout(tools)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bar)
        layout.addLayout(self.option_rows)
        self._one_row = self.option_rows.minimumSize().width() + 8
        self.setMinimumWidth(8 + max(x.minimumSize().width() for x in (bar, options, tools)))

        self.playback_actions = self._make_actions()
        t.state_changed.connect(
            lambda on: self.play_button.setIcon(
                self.style().standardIcon(
                    QStyle.StandardPixmap.SP_MediaPause
                    if on
                    else QStyle.StandardPixmap.SP_MediaPlay
                )
            )
        )
        for signal in (session.playhead_changed, session.edited, session.model_loaded):
            signal.connect(self.refresh)
        session.frame_arrived.connect(self._arrived)
        session.project_opened.connect(self._opened)
        self.refresh()

    def resizeEvent(self, event) -> None:
        rows = QBoxLayout.Direction
        self.option_rows.setDirection(rows.TopToBottom if event.size().width() < self._one_row
                                      else rows.LeftToRight)  # fmt: skip
        super().resizeEvent(event)

    def _opened(self) -> None:
        self.transport.pause()
        self.shows_rendered_frame = False
        self.canvas.image = None
        self.refresh()

    def _make_actions(self) -> list[QAction]:
        t = self.transport
        specs = [
            ("Play / Pause", "Space", t.toggle),
            ("Previous Frame", "Left", lambda: t.step(-1)),
            ("Next Frame", "Right", lambda: t.step(1)),
            ("First Frame", "Home", t.home),
            ("Last Frame", "End", t.end),
        ]
        actions = []
        for text, keys, slot in specs:
            a = QAction(text, self, shortcut=QKeySequence(keys))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            actions.append(a)
        return actions

    def _mode_changed(self) -> None:
        self.transport.mode = self.mode.currentData()
        self.transport.prefetch()

    def _range_toggled(self, on: bool) -> None:
        self.transport.use_range = on
        self.transport.prefetch()

    def _layer_changed(self) -> None:
        self.s.layer = self.layer.currentData()
        self.transport.prefetch()
        self.refresh()

    def _render_mode_changed(self) -> None:
        if self.s.project is not None:
            self.s.set_render_mode(self.render_mode.currentData())

    def set_brush(self, on: bool) -> None:
        """The brush tool on (the path tool off) or off."""
        if on:
            self.path_button.setChecked(False)
        self.canvas.brush = [] if on else None
        self.canvas.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self.canvas.update()

    def _path_toggled(self, on: bool) -> None:
        if on and self.canvas.brush is not None and self.brush_button.defaultAction():
            self.brush_button.defaultAction().setChecked(False)
        self.path_tool.on = on
        self.canvas.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self.refresh()

    def _zoom_changed(self) -> None:
        self.canvas.zoom = list(ZOOMS.values())[self.zoom.currentIndex()]
        self.canvas.update()

    def _onion_changed(self) -> None:
        on = self.onion_box.isChecked()
        self.transport.onion = (
            (self.onion_before.value(), self.onion_after.value()) if on else (0, 0)
        )
        self.transport.prefetch()
        self.refresh()

    def _arrived(self, key) -> None:
        if self.s.project is None or self.s.timeline.frame_count == 0:
            return
        count, p = self.s.timeline.frame_count, self.s.playhead
        before, after = self.transport.onion
        wanted = {self.s.frames.key(p)[0]} | {
            self.s.frames.key(i, ONION_LAYER)[0]
            for i in [*range(p - before, p), *range(p + 1, p + after + 1)]
            if 0 <= i < count
        }
        if key in wanted:
            self.refresh()

    def refresh(self, *_) -> None:
        s = self.s
        count = s.timeline.frame_count
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(s.playhead)
        self.slider.blockSignals(False)
        self.counter.setText(f"{s.playhead + 1 if count else 0} / {count}")
        if count:
            index, local = s.timeline.locate(s.playhead)
            self.counter.setToolTip(f"Shot {index + 1}, frame {local + 1} of the shot")
        if s.project is None:
            self.canvas.show_frame(None, [], "No project open.\nFile → New or File → Open.")
            return
        self.render_mode.blockSignals(True)
        self.render_mode.setCurrentIndex(list(RENDER_MODES).index(s.project.render_mode))
        self.render_mode.blockSignals(False)
        if count == 0:
            self.canvas.show_frame(
                None, [], "The timeline is empty.\nImport clips, then Shot → Add Shot… (Ctrl+K)."
            )
            return
        image = s.frames.image(s.playhead)
        image = s.frames.poster(s.playhead) if image is None else image  # (the footage)
        shot = s.project.shots[s.timeline.locate(s.playhead)[0]].id
        # the last frame of this shot stays up while the next renders (a scrub does not
        # flicker); a frame of another shot never stands in for the playhead's
        held = image is None and self.shows_rendered_frame and self._shown_shot == shot
        image = self.canvas.image if held else image
        self._shown_shot = shot if image is not None else self._shown_shot
        onion = []
        before, after = self.transport.onion
        opacity = self.onion_opacity.value() / 100
        for k in range(1, max(before, after) + 1):
            fade = opacity * (1 - (k - 1) / max(before, after, 1) * 0.6)
            for frame, tint in ([(s.playhead - k, PAST)] if k <= before else []) + (
                [(s.playhead + k, FUTURE)] if k <= after else []
            ):
                other = s.frames.image(frame, ONION_LAYER) if 0 <= frame < count else None
                if other is not None:
                    onion.append((tinted(other, tint), fade))
        note = ""
        if image is None or held:
            note = "Loading the model…" if not s.engine.ready else "Rendering…"
            if s.engine.ready and s.analysis.running:
                note = "Analysing clips… (see the status bar)"
        self.canvas.path = self.path_tool.overlay() if image is not None else None
        self.canvas.show_frame(image, onion, note)
        if image is not None and not self.shows_rendered_frame:
            self.first_frame.emit()
        self.shows_rendered_frame = image is not None
        self.frame_shown = image is not None and not note
