"""The timeline: shots as blocks sized by duration, a ruler with the in/out range, the playhead.

Click to seek (and select the shot under the pointer), drag a shot sideways to reorder it,
Ctrl+wheel to zoom. Every change goes through the Session's edits (undoable)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QMenu, QScrollArea, QWidget

from studio.session import Session

RULER = 22
TRACK = 64
LABEL = 17  # the label bar on top of a shot block
TILE = TRACK - LABEL - 4  # filmstrip tiles below it
THUMB_LAYER = "composite"  # the filmstrip shows the result, whatever layer the viewer shows
PALETTE = [QColor(70, 110, 160), QColor(90, 140, 90), QColor(150, 110, 70), QColor(120, 90, 150)]


class TimelineStrip(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.s = session
        self.ppf = 8.0  # pixels per frame
        self._press: QPoint | None = None
        self._drag_shot: str | None = None
        self._drop_index: int | None = None
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumHeight(RULER + TRACK + 6)
        session.edited.connect(self._changed)
        session.model_loaded.connect(self._changed)
        session.project_opened.connect(self.fit)
        for signal in (session.selection_changed, session.playhead_changed, session.frame_arrived):
            signal.connect(self._repaint)

    # -- geometry ----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(int(self.s.timeline.frame_count * self.ppf) + 40, RULER + TRACK + 6)

    def _changed(self, *_) -> None:
        self.resize(
            max(self.sizeHint().width(), self.parentWidget().width() if self.parentWidget() else 0),
            self.sizeHint().height(),
        )
        self._ask_thumbnails()
        self.update()

    def _repaint(self, *_) -> None:
        self.update()

    def frame_at(self, x: float) -> int:
        return int(max(x, 0) // self.ppf)

    def shot_rects(self) -> list[tuple[str, QRect]]:
        t = self.s.timeline
        return [
            (
                shot.id,
                QRect(
                    int(start * self.ppf),
                    RULER + 2,
                    max(2, int(shot.duration * self.ppf)) - 1,
                    TRACK,
                ),
            )
            for shot, start in zip(t.shots, t.starts, strict=False)
        ]

    def shot_at(self, pos: QPoint) -> str | None:
        return next((sid for sid, r in self.shot_rects() if r.contains(pos)), None)

    def _tiles(self, r: QRect, start: int) -> list[tuple[int, int]]:
        """(x, timeline frame) of the filmstrip tiles of a shot block."""
        tiles, x = [], r.x() + 2
        while x < r.right() - 8:
            tiles.append((x, start + int((x - r.x()) / self.ppf)))
            x += TILE + 2
        return tiles

    def _tile_frames(self) -> list[int]:
        t = self.s.timeline
        rects = self.shot_rects()
        return [f for (_, r), start in zip(rects, t.starts, strict=False) for _, f in
                self._tiles(r, start)]  # fmt: skip

    def _ask_thumbnails(self) -> None:
        if self.s.timeline.frame_count and self.s.render.ready:
            self.s.prefetch(self._tile_frames(), THUMB_LAYER, channel="thumbs")

    def fit(self) -> None:
        """Zoom so the whole timeline fits the visible width (within sensible limits)."""
        count = self.s.timeline.frame_count
        room = self.parentWidget().width() - 40 if self.parentWidget() else 800
        self.set_zoom(min(16.0, max(2.0, room / count)) if count else 8.0)

    def thumbnails_ready(self) -> bool:
        return all(self.s.image(f, THUMB_LAYER) is not None for f in self._tile_frames())

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.ppf * factor)

    def set_zoom(self, ppf: float) -> None:
        self.ppf = min(max(ppf, 1.0), 48.0)
        self._changed()

    # -- painting ----------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 34))
        t = self.s.timeline
        fps = t.fps
        p.fillRect(0, 0, self.width(), RULER, QColor(48, 48, 54))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        p.setFont(small)
        # in/out range
        rng = self.s.project.range if self.s.project is not None else None
        if rng is not None:
            x0, x1 = rng[0] * self.ppf, (rng[1] + 1) * self.ppf
            p.fillRect(int(x0), 0, int(x1 - x0), RULER, QColor(200, 160, 60, 120))
        # ruler: a tick per frame when there is room, a label per second
        p.setPen(QColor(150, 150, 160))
        step = 1 if self.ppf >= 4 else max(1, int(round(fps / 4)))
        for f in range(0, t.frame_count + 1, step):
            x = int(f * self.ppf)
            second = f % max(1, int(round(fps))) == 0
            p.drawLine(x, RULER - (10 if second else 4), x, RULER)
            if second:
                p.drawText(x + 3, 12, f"{f / fps:g}s")
        # shots: a label bar over a filmstrip of rendered frames
        for n, (sid, r) in enumerate(self.shot_rects()):
            shot = self.s.project.shot(sid)
            p.fillRect(r, PALETTE[n % len(PALETTE)])
            for x, frame in self._tiles(r, t.starts[n]):
                thumb = self.s.image(frame, THUMB_LAYER)
                if thumb is not None:
                    width = min(TILE, r.right() - 2 - x)
                    source = QRect(0, 0, max(1, thumb.width() * width // TILE), thumb.height())
                    p.drawImage(QRect(x, r.y() + LABEL + 2, width, TILE), thumb, source)
            p.fillRect(QRect(r.x(), r.y(), r.width(), LABEL), QColor(0, 0, 0, 110))
            p.setPen(QColor(250, 250, 250))
            label = f"{shot.name or f'Shot {n + 1}'} · {shot.duration} f"
            p.drawText(
                QRect(r.x() + 4, r.y(), max(0, r.width() - 8), LABEL),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            if sid == self.s.selected:
                p.setPen(QPen(QColor(255, 220, 90), 2))
                p.drawRect(r.adjusted(1, 1, -1, -1))
        if rng is not None:  # dim what is outside the range
            shade = QColor(0, 0, 0, 90)
            p.fillRect(0, RULER, int(rng[0] * self.ppf), TRACK + 6, shade)
            right = int((rng[1] + 1) * self.ppf)
            p.fillRect(right, RULER, max(0, self.width() - right), TRACK + 6, shade)
        if self._drop_index is not None:
            starts = t.starts
            x = int(starts[min(self._drop_index, len(starts) - 1)] * self.ppf)
            p.fillRect(x - 2, RULER, 4, TRACK + 6, QColor(255, 220, 90))
        if t.frame_count:
            x = int((self.s.playhead + 0.5) * self.ppf)
            p.setPen(QPen(QColor(230, 60, 60), 2))
            p.drawLine(x, 0, x, self.height())
        p.end()

    # -- mouse -------------------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton or self.s.project is None:
            return
        pos = e.position().toPoint()
        self._press = pos
        sid = self.shot_at(pos)
        self._drag_shot = sid
        if sid is not None:
            self.s.select(sid)
        if self.s.timeline.frame_count:
            self.s.seek(self.frame_at(pos.x()))

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        if self._press is None:
            return
        pos = e.position().toPoint()
        if pos.y() < RULER or self._drag_shot is None:  # scrubbing on the ruler
            self.s.seek(self.frame_at(pos.x()))
            return
        if abs(pos.x() - self._press.x()) > 6:
            self._drop_index = self._index_at(pos.x())
            self.update()

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        if self._drop_index is not None and self._drag_shot is not None:
            old = self.s.project.shot_index(self._drag_shot)
            new = self._drop_index - (1 if self._drop_index > old else 0)
            if new != old:
                self.s.move_shot(self._drag_shot, new)
        self._press = self._drag_shot = self._drop_index = None
        self.update()

    def _index_at(self, x: float) -> int:
        """Where a dragged shot would go: before the first shot whose middle is right of x."""
        t = self.s.timeline
        for i, (shot, start) in enumerate(zip(t.shots, t.starts, strict=False)):
            if x < (start + shot.duration / 2) * self.ppf:
                return i
        return len(t.shots)

    def mouseDoubleClickEvent(self, e) -> None:  # noqa: N802
        if self.shot_at(e.position().toPoint()) is not None:
            dock = getattr(self.window(), "docks", {}).get("inspector")
            if dock is not None:
                dock.show()
                dock.raise_()

    def wheelEvent(self, e) -> None:  # noqa: N802
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.ppf * (1.25 if e.angleDelta().y() > 0 else 0.8))
            e.accept()
        else:
            e.ignore()

    def contextMenuEvent(self, e) -> None:  # noqa: N802
        window = self.window()
        actions = getattr(window, "shot_actions", [])
        if actions:
            menu = QMenu(self)
            menu.addActions(actions)
            menu.exec(e.globalPos())


class Timeline(QScrollArea):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = TimelineStrip(session, self)
        self.setWidget(self.strip)
        self.setWidgetResizable(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(RULER + TRACK + 30)
        session.playhead_changed.connect(self._follow)

    def _follow(self, frame: int) -> None:
        x = int((frame + 0.5) * self.strip.ppf)
        self.ensureVisible(x, RULER, 40, 0)

    def resizeEvent(self, e) -> None:  # noqa: N802
        super().resizeEvent(e)
        self.strip._changed()
