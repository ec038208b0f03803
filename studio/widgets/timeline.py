"""The timeline: shots as blocks sized by duration, a ruler with the in/out range, the playhead.

Click to seek (and select the shot under the pointer), drag a shot sideways to reorder it, drag
its right edge to trim it, Ctrl+wheel to zoom. The soundtrack's lane shows its waveform, its
beats (gold ticks, also on the ruler) and its onsets (short dim ticks); the playhead and a
trimmed edge snap to beats (View → Snap to Beats). Every change goes through the Session's edits
(undoable). Painting and the filmstrip's thumbnails cover only what is on screen (shots found by
bisection, ruler ticks at a spacing the zoom allows), so a timeline of 50,000 shots or of
millions of frames stays as quick as a short one."""

from __future__ import annotations

from bisect import bisect_right

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from studio.actions import context_menu
from studio.session import Session

RULER = 22
TRACK = 64
LABEL = 17  # the label bar on top of a shot block
TILE = TRACK - LABEL - 4  # filmstrip tiles below it
WAVE = 30  # the soundtrack's lane under the shots
SILENT = QColor(64, 34, 40)  # the sound's lane past its end
THUMB_LAYER = "composite"  # the filmstrip shows the result, whatever layer the viewer shows
PALETTE = [QColor(70, 110, 160), QColor(90, 140, 90), QColor(150, 110, 70), QColor(120, 90, 150)]
MAX_WIDTH = 16_000_000  # px: just under Qt's largest widget (QWIDGETSIZE_MAX, 2**24 - 1)
MIN_PPF, MAX_PPF = 1e-4, 48.0  # pixels per frame: 10 million frames fit 1,000 px
TICK_PX, LABEL_PX = 6, 56  # the closest that ruler ticks and their labels may stand
EDGE_PX = 5  # how near a shot's right edge the pointer grabs it for trimming
HIT_PX = 10  # a shot narrower than this is still this wide to the pointer (a sliver can be hit)
SNAP_PX = 8  # how near a beat the playhead and a trimmed edge snap to it
BEAT = QColor(250, 200, 80)
ON_BEAT, OFF_BEAT = QColor(90, 210, 120), QColor(235, 90, 90)  # a shot's accents
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800)


class TimelineStrip(QWidget):
    inspect = Signal()  # a shot double-clicked: show its settings

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.s = session
        self.context_actions: list = []  # the shot actions (studio.actions, group "shot")
        self.ppf = 8.0  # pixels per frame
        self._press: QPoint | None = None
        self._drag_shot: str | None = None
        self._drop_index: int | None = None
        self._trim: tuple[str, int] | None = None  # (shot id, its first frame) while trimming
        self._trim_end: int | None = None  # the trimmed shot's end (exclusive) as dragged
        self.setMouseTracking(True)  # the cursor shows where an edge can be dragged
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumHeight(RULER + TRACK + 6 + WAVE)
        session.edited.connect(self._changed)
        session.model_loaded.connect(self._changed)
        session.project_opened.connect(self.fit)
        for signal in (session.selection_changed, session.playhead_changed, session.frame_arrived,
                       session.sound_changed, session.accents_changed,
                       session.offline_changed):  # fmt: skip
            signal.connect(self._repaint)

    # -- geometry ----------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(int(self.s.timeline.frame_count * self.ppf) + 40, RULER + TRACK + 6 + WAVE)

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

    def _rect(self, start: int, duration: int) -> QRect:
        x0, x1 = int(start * self.ppf), int((start + duration) * self.ppf)
        return QRect(x0, RULER + 2, max(2, x1 - x0) - 1, TRACK)

    def shot_rects(self, x0: int = 0, x1: int | None = None) -> list[tuple[int, QRect]]:
        """(shot index, block) of the shots between pixels ``x0`` and ``x1`` (None: the end).
        Where shots are narrower than a pixel, one per pixel column: what can be seen."""
        t = self.s.timeline
        end = int(t.frame_count * self.ppf) if x1 is None else x1
        found, x = [], max(x0, 0)
        while x <= end:
            frame = self.frame_at(x)
            if frame >= t.frame_count:
                break
            i = bisect_right(t.starts, frame) - 1
            r = self._rect(t.starts[i], t.shots[i].duration)
            found.append((i, r))
            x = max(x + 1, r.right() + 2)
        return found

    def shot_at(self, pos: QPoint) -> str | None:
        """The shot under ``pos`` on the shot track. A sliver narrower than HIT_PX claims HIT_PX
        around its middle, over its wider neighbours, so that a split's few-frame pieces can be
        clicked at any zoom (the nearest sliver wins where they crowd)."""
        t = self.s.timeline
        if not (RULER + 2 <= pos.y() < RULER + 2 + TRACK and t.frame_count):
            return None
        x = pos.x()
        narrow = [(abs(r.center().x() - x), n)
                  for n, r in self.shot_rects(x - HIT_PX // 2 - 1, x + HIT_PX // 2 + 1)
                  if r.width() < HIT_PX and abs(r.center().x() - x) <= HIT_PX // 2]  # fmt: skip
        if narrow:
            return t.shots[min(narrow)[1]].id
        frame = self.frame_at(x)
        return t.shot_at(frame)[0].id if frame < t.frame_count else None

    def edge_at(self, pos: QPoint) -> str | None:
        """The shot whose right edge is under ``pos`` (within EDGE_PX), on the shot track; none
        over a sliver, where a click selects (the inspector's Duration lengthens it)."""
        if not RULER <= pos.y() <= RULER + TRACK + 6:
            return None
        t = self.s.timeline
        found = [(abs(pos.x() - (t.starts[n] + t.shots[n].duration) * self.ppf), n)
                 for n, r in self.shot_rects(pos.x() - EDGE_PX - 2, pos.x() + EDGE_PX + 2)
                 if r.width() >= HIT_PX]  # fmt: skip
        found = [(d, n) for d, n in found if d <= EDGE_PX]
        if not found:
            return None
        inside = self.shot_at(QPoint(pos.x(), RULER + 2 + TRACK // 2))
        if inside is not None and self._narrow(inside):
            return None
        return t.shots[min(found)[1]].id

    def _narrow(self, shot_id: str) -> bool:
        return self.s.project.shot(shot_id).duration * self.ppf < HIT_PX

    def _snap(self, frame: int) -> int:
        return self.s.soundtrack.snap(frame, max(1, round(SNAP_PX / self.ppf)))

    def _visible_x(self) -> tuple[int, int]:
        area = self.visibleRegion().boundingRect()
        if area.isEmpty():  # not on screen yet: as much as the scroll area would show
            width = self.parentWidget().width() if self.parentWidget() else 800
            return 0, width
        return area.left(), area.right() + 1

    def _tiles(self, r: QRect, start: int, x0: int, x1: int) -> list[tuple[int, int]]:
        """(x, timeline frame) of the filmstrip tiles of a shot block between x0 and x1."""
        step = TILE + 2
        first = max(0, (x0 - r.x() - 2) // step)
        tiles, x = [], r.x() + 2 + first * step
        while x < min(r.right() - 8, x1):
            tiles.append((x, start + int((x - r.x()) / self.ppf)))
            x += step
        return tiles

    def _tile_frames(self) -> list[int]:
        """The timeline frames of the filmstrip tiles on screen."""
        t = self.s.timeline
        x0, x1 = self._visible_x()
        return [
            f for i, r in self.shot_rects(x0, x1) for _, f in self._tiles(r, t.starts[i], x0, x1)
        ]

    def _ask_thumbnails(self, *_) -> None:
        if self.s.timeline.frame_count and self.s.engine.ready:
            self.s.frames.prefetch(self._tile_frames(), THUMB_LAYER, channel="thumbs")

    def fit(self) -> None:
        """Zoom so the whole timeline fits the visible width (a short one at most 16 px a
        frame, a long one down to what fits)."""
        count = self.s.timeline.frame_count
        room = self.parentWidget().width() - 40 if self.parentWidget() else 800
        self.set_zoom(min(16.0, room / count) if count else 8.0)

    def thumbnails_ready(self) -> bool:
        return all(self.s.frames.image(f, THUMB_LAYER) is not None for f in self._tile_frames())

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.ppf * factor)

    def set_zoom(self, ppf: float) -> None:
        widest = min(MAX_PPF, MAX_WIDTH / max(self.s.timeline.frame_count, 1))
        self.ppf = min(max(ppf, MIN_PPF), widest)
        self._changed()

    # -- painting ----------------------------------------------------------------------------------
    def ruler_steps(self) -> tuple[int, int]:
        """(frames between ticks, frames between labels) at this zoom: one tick per frame when
        there is room, else whole seconds, minutes, hours — never closer than a few pixels."""
        fps = max(1, round(self.s.timeline.fps))
        if self.ppf >= TICK_PX:
            tick = 1
        else:
            tick = next(
                (n * fps for n in NICE_SECONDS if n * fps * self.ppf >= TICK_PX),
                NICE_SECONDS[-1] * fps,
            )
        label = next(
            (n * fps for n in NICE_SECONDS if n * fps >= tick and n * fps * self.ppf >= LABEL_PX),
            max(tick, NICE_SECONDS[-1] * fps),
        )
        return tick, label

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        area = event.rect()
        p.fillRect(area, QColor(30, 30, 34))
        t = self.s.timeline
        first, last = self.frame_at(area.left()), self.frame_at(area.right() + 1)
        p.fillRect(area.left(), 0, area.width(), RULER, QColor(48, 48, 54))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        p.setFont(small)
        # in/out range
        rng = self.s.project.play_range if self.s.project is not None else None
        if rng is not None:
            x0, x1 = rng[0] * self.ppf, (rng[1] + 1) * self.ppf
            p.fillRect(int(x0), 0, int(x1 - x0), RULER, QColor(200, 160, 60, 120))
        # ruler: the ticks and labels on screen
        p.setPen(QColor(150, 150, 160))
        tick, label = self.ruler_steps()
        for f in range(first - first % tick, min(last, t.frame_count) + 1, tick):
            x = int(f * self.ppf)
            labelled = f % label == 0
            p.drawLine(x, RULER - (10 if labelled else 4), x, RULER)
            if labelled:
                p.drawText(x + 3, 12, format_time(f / t.fps))
        # shots: a label bar over a filmstrip of rendered frames
        for n, r in self.shot_rects(area.left(), area.right() + 1):
            shot = t.shots[n]
            p.fillRect(r, PALETTE[n % len(PALETTE)])
            for x, frame in self._tiles(r, t.starts[n], area.left() - TILE, area.right() + 1):
                thumb = self.s.frames.image(frame, THUMB_LAYER)
                if thumb is not None:
                    width = min(TILE, r.right() - 2 - x)
                    source = QRect(0, 0, max(1, thumb.width() * width // TILE), thumb.height())
                    p.drawImage(QRect(x, r.y() + LABEL + 2, width, TILE), thumb, source)
            p.fillRect(QRect(r.x(), r.y(), r.width(), LABEL), QColor(0, 0, 0, 110))
            p.setPen(QColor(250, 250, 250))
            if r.width() > 28:  # narrower: no clipped stub of a name (the tooltip has it)
                p.drawText(
                    QRect(r.x() + 4, r.y(), r.width() - 8, LABEL),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"{shot.name or f'Shot {n + 1}'} · {shot.duration} f"
                    + (f" · {tags}" if (tags := shot.tags()) else ""),
                )
            if shot.id in self.s.offline_shots:  # drawn as a placeholder: marked, named
                p.fillRect(r, QBrush(QColor(230, 60, 60, 150), Qt.BrushStyle.BDiagPattern))
            if shot.id == self.s.selected:
                p.setPen(QPen(QColor(255, 220, 90), 2))
                p.drawRect(r.adjusted(1, 1, -1, -1))
                self._paint_accents(p, shot.id, t.starts[n], r)
        self._paint_sound(p, area)
        self._paint_beats(p, first, last)
        if self._trim_end is not None:  # the edge being dragged
            x = int(self._trim_end * self.ppf)
            p.fillRect(x - 1, RULER, 3, TRACK + 6, QColor(255, 220, 90))
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

    def _paint_sound(self, p: QPainter, area: QRect) -> None:
        """The soundtrack's lane: its waveform where it plays, from its peaks (a line per pixel
        column, the loudest and softest sample under it)."""
        top = RULER + TRACK + 6
        p.fillRect(area.left(), top, area.width(), WAVE, QColor(36, 40, 46))
        sound = self.s.project.soundtrack if self.s.project is not None else None
        peaks = self.s.soundtrack.peaks
        if sound is None or peaks is None:
            p.setPen(QColor(110, 110, 120))
            text = "Reading the soundtrack…" if sound is not None else "No soundtrack (Edit → "
            text += "" if sound is not None else "Set Soundtrack…)"
            if sound is not None and self.s.soundtrack.problem:
                p.setPen(QColor(230, 110, 110))
                text = self.s.soundtrack.problem
            p.drawText(QRect(max(area.left(), 0) + 6, top, 900, WAVE),
                       Qt.AlignmentFlag.AlignVCenter, text)  # fmt: skip
            return
        from engine.audio import PEAKS_PER_SECOND

        fps, mid, half = self.s.timeline.fps, top + WAVE // 2, WAVE // 2 - 2
        per_px = PEAKS_PER_SECOND / (fps * self.ppf)  # peaks under one pixel column
        p.setPen(QColor(120, 200, 160))
        for x in range(max(area.left(), 0), area.right() + 1):
            a = int((x / (fps * self.ppf) - sound.offset) * PEAKS_PER_SECOND)
            b = max(a + 1, int(a + per_px))
            if b <= 0 or a >= len(peaks):
                continue
            block = peaks[max(a, 0) : b]
            lo, hi = float(block[:, 0].min()), float(block[:, 1].max())
            p.drawLine(x, int(mid - hi * half), x, int(mid - lo * half))
        # where the sound ends before the film does: the rest of the lane says so
        end = (sound.offset + sound.seconds) * fps * self.ppf
        if end < self.s.timeline.frame_count * self.ppf and end <= area.right():
            x = max(int(end), area.left())
            p.fillRect(QRect(x, top, area.right() - x + 1, WAVE), SILENT)
            p.setPen(QColor(230, 110, 110))
            p.drawLine(int(end), top, int(end), top + WAVE - 1)
            p.drawText(QRect(int(end) + 6, top, 400, WAVE), Qt.AlignmentFlag.AlignVCenter,
                       "the soundtrack ends: silence")  # fmt: skip

    def _paint_accents(self, p: QPainter, shot_id: str, start: int, r: QRect) -> None:
        """The selected shot's motion accents: a small triangle under the shot at each, pointing
        at the sound's lane, green where it is within a frame of a beat (what Fit to Beats aims
        for), red elsewhere."""
        if self.s.project.soundtrack is None or self.ppf < 2:
            return
        frames = self.s.soundtrack.shot_accents(shot_id)
        if frames is None or len(frames) == 0:
            return
        from engine.beats import on_beat

        hit = on_beat([start + f for f in frames], self.s.soundtrack.beat_frames())
        p.setPen(Qt.PenStyle.NoPen)
        for f, on in zip(frames, hit, strict=True):
            x = int((start + f + 0.5) * self.ppf)
            p.setBrush(ON_BEAT if on else OFF_BEAT)
            y = r.bottom() + 2  # in the gap over the sound's lane, pointing at its beats
            p.drawPolygon([QPoint(x - 4, y), QPoint(x + 4, y), QPoint(x, y + 5)])
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_beats(self, p: QPainter, first: int, last: int) -> None:
        """The soundtrack's beats on screen: a tick under the ruler and a line across the sound's
        lane each (none where they would stand closer than 3 px); its onsets (every hit or
        syllable) as short dim ticks at the lane's foot."""
        top = RULER + TRACK + 6
        onsets = self.s.soundtrack.onset_frames()
        if len(onsets) and self.ppf >= 2:
            p.setPen(QPen(QColor(200, 200, 210, 110), 1))
            for f in onsets[bisect_right(onsets, first - 1) : bisect_right(onsets, last)]:
                x = int((f + 0.5) * self.ppf)
                p.drawLine(x, top + WAVE - 6, x, top + WAVE - 1)
        beats = self.s.soundtrack.beat_frames()
        if len(beats) == 0 or (len(beats) > 1 and self.ppf * (beats[-1] - beats[0])
                               / (len(beats) - 1) < 3):  # fmt: skip
            return
        lo, hi = bisect_right(beats, first - 1), bisect_right(beats, last)
        p.setPen(QPen(BEAT, 1))
        for f in beats[lo:hi]:
            x = int((f + 0.5) * self.ppf)
            p.drawLine(x, RULER - 6, x, RULER - 1)
            p.drawLine(x, top + 1, x, top + WAVE - 2)

    # -- mouse -------------------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        if e.button() != Qt.MouseButton.LeftButton or self.s.project is None:
            return
        pos = e.position().toPoint()
        self._press = pos
        edge = self.edge_at(pos)
        if edge is not None:  # trimming: the shot's last frame follows the pointer
            self._trim = (edge, self.s.timeline.start_of(edge))
            self.s.select(edge)
            return
        sid = self.shot_at(pos)
        self._drag_shot = sid
        if sid is not None:
            self.s.select(sid)
        if sid is not None and self._narrow(sid):  # the playhead on the sliver that was hit
            self.s.seek(self.s.timeline.start_of(sid))
        elif self.s.timeline.frame_count:
            self.s.seek(self._snap(self.frame_at(pos.x())))

    def mouseMoveEvent(self, e) -> None:
        pos = e.position().toPoint()
        if self._press is None:
            trim = self.s.project is not None and self.edge_at(pos) is not None
            self.setCursor(Qt.CursorShape.SizeHorCursor if trim else Qt.CursorShape.ArrowCursor)
            return
        if self._trim is not None:
            end = self._snap(round(pos.x() / self.ppf))
            self._trim_end = max(end, self._trim[1] + 1)
            self.s.seek(self._trim_end - 1)
            self.update()
            return
        if pos.y() < RULER or self._drag_shot is None:  # scrubbing on the ruler
            self.s.seek(self._snap(self.frame_at(pos.x())))
            return
        if abs(pos.x() - self._press.x()) > 6:
            self._drop_index = self._index_at(pos.x())
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        if self._trim is not None and self._trim_end is not None:
            sid, start = self._trim
            if self._trim_end - start != self.s.project.shot(sid).duration:
                self.s.update_shot(sid, text="Trim shot", duration=self._trim_end - start)
        self._trim = self._trim_end = None
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
        if not t.shots:
            return 0
        i = min(max(bisect_right(t.starts, x / self.ppf) - 1, 0), len(t.shots) - 1)
        return i + 1 if x >= (t.starts[i] + t.shots[i].duration / 2) * self.ppf else i

    def event(self, e) -> bool:
        """A tooltip over a shot: its name, length and what drives it (narrow shots show none)."""
        if e.type() == QEvent.Type.ToolTip and self.s.project is not None:
            sid = self.shot_at(e.pos())
            if sid is None:
                QToolTip.hideText()
                e.ignore()
                return True
            t = self.s.timeline
            n = self.s.project.shot_index(sid)
            shot = t.shots[n]
            tags = f" · {tags}" if (tags := shot.tags()) else ""
            why = self.s.offline_shots.get(sid)
            QToolTip.showText(e.globalPos(), f"{shot.name or f'Shot {n + 1}'}\n"
                              f"frames {t.starts[n] + 1}–{t.starts[n] + shot.duration} "
                              f"({shot.duration} f){tags}"
                              + (f"\nOffline, drawn as a placeholder: {why}" if why else ""),
                              self)  # fmt: skip
            return True
        return super().event(e)

    def mouseDoubleClickEvent(self, e) -> None:
        if self.shot_at(e.position().toPoint()) is not None:
            self.inspect.emit()

    def wheelEvent(self, e) -> None:
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.ppf * (1.25 if e.angleDelta().y() > 0 else 0.8))
            e.accept()
        else:
            e.ignore()

    def contextMenuEvent(self, e) -> None:
        context_menu(self, self.context_actions, e.globalPos())


class TimelineView(QScrollArea):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = TimelineStrip(session, self)
        self.setWidget(self.strip)
        self.setWidgetResizable(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(RULER + TRACK + 30 + WAVE)
        session.playhead_changed.connect(self._follow)
        self.horizontalScrollBar().valueChanged.connect(self.strip._ask_thumbnails)

    def _follow(self, frame: int) -> None:
        x = int((frame + 0.5) * self.strip.ppf)
        self.ensureVisible(x, RULER, 40, 0)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self.strip._changed()


def format_time(seconds: float) -> str:
    """A ruler label: 5s, 1:30, 2:00:00."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{seconds:g}s"
    h, rest = divmod(whole, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
