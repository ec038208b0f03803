"""The frame pickers and the dialogs that make and extend shots: Add Shot and Extend."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.document import (
    MAX_EXTEND,
    MAX_TEXT,
)
from studio.session import Session
from studio.widgets.dialogs import ok_cancel
from studio.widgets.library import ICON, ClipFrames

MAX_TILES = 400  # frame tiles a picker shows at most


class FramePicker(QWidget):
    """A clip chooser, a large preview of the frame under the pointer (or the chosen one), a
    scrubber over every frame, and the frames as numbered thumbnails. ``motion`` pickers
    choose an in and an out frame (click: in, Shift+click: out, or the scrubber and Set In /
    Set Out); the others one frame."""

    changed = Signal()
    PREVIEW_W = 240

    def __init__(
        self,
        session: Session,
        frames: ClipFrames,
        motion: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.s, self.clip_frames, self.motion = session, frames, motion
        self.stride = 1
        self.shown = 0  # the frame in the preview
        self.clip = QComboBox(self)
        for clip in session.project.clips.values():
            self.clip.addItem(clip.name, clip.id)
        self.first = QSpinBox(self, prefix="in " if motion else "frame ")
        self.last = QSpinBox(self, prefix="out ")
        self.last.setVisible(motion)
        self.preview = QLabel(self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #26262a;")
        self.caption = QLabel(self)
        self.scrub = QSlider(Qt.Orientation.Horizontal, self)
        self.scrub.setToolTip("Every frame of the clip: drag to look")
        self.scrub.valueChanged.connect(self._scrubbed)
        self.set_in = QPushButton("Set In", self, toolTip="Motion starts at the previewed frame")
        self.set_out = QPushButton("Set Out", self, toolTip="Motion ends at the previewed frame")
        self.set_in.clicked.connect(lambda: self.first.setValue(self.shown))
        self.set_out.clicked.connect(lambda: self.last.setValue(self.shown))
        for b in (self.set_in, self.set_out):
            b.setVisible(motion)
        self.strip = QListWidget(self)
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(ICON, ICON))
        self.strip.setFixedHeight(92)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setMouseTracking(True)
        self.strip.itemEntered.connect(self._hovered)
        self.strip.itemClicked.connect(self._clicked)
        if motion:  # the in … out range shows as a selection
            self.strip.setSelectionMode(QListWidget.SelectionMode.MultiSelection)
        self.clip.currentIndexChanged.connect(self._clip_changed)
        self.first.valueChanged.connect(self._spun)
        self.last.valueChanged.connect(self._spun)
        frames.ready.connect(self._frames_ready)  # a bound method: gone with the picker
        row = QHBoxLayout()
        row.addWidget(self.clip, 1)
        row.addWidget(self.first)
        row.addWidget(self.last)
        scrub = QHBoxLayout()
        scrub.addWidget(self.scrub, 1)
        scrub.addWidget(self.set_in)
        scrub.addWidget(self.set_out)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(scrub)
        layout.addWidget(self.strip)
        self._clip_changed()

    def clip_id(self) -> str | None:
        return self.clip.currentData()

    def _frames_ready(self, clip_id: str) -> None:
        if clip_id == self.clip_id():
            self._fill()

    def set_value(self, clip_id: str, first: int, last: int | None = None) -> None:
        index = self.clip.findData(clip_id)
        if index >= 0:
            self.clip.setCurrentIndex(index)
        self.first.setValue(first)
        if last is not None:
            self.last.setValue(last)
        self.show_frame(first)

    def value(self) -> tuple:
        if self.motion:
            return (self.clip_id(), self.first.value(), self.last.value())
        return (self.clip_id(), self.first.value())

    def show_frame(self, i: int) -> None:
        """Preview frame ``i`` large, at the clip's own aspect."""
        cid = self.clip_id()
        if cid is None or self.s.project is None or cid not in self.s.project.clips:
            return
        clip = self.s.project.clip(cid)
        self.shown = i = min(max(i, 0), clip.frames - 1)
        w = self.PREVIEW_W
        h = max(1, round(w * clip.height / max(clip.width, 1)))
        self.preview.setFixedSize(w, h)
        image = self.clip_frames.image(cid, i)
        if image is None:
            self.preview.setText("Loading the clip's frames…")
        else:
            self.preview.setPixmap(self.clip_frames.pixmap(cid, i, w))
        what = ""
        if self.motion:
            lo, hi = sorted((self.first.value(), self.last.value()))
            ends = {self.first.value(): " · in", self.last.value(): " · out"}
            what = ends.get(i) or (" · inside the motion" if lo <= i <= hi else "")
        elif i == self.first.value():
            what = " · chosen"
        self.caption.setText(f"frame {i} of {clip.frames - 1}{what}")
        self.scrub.blockSignals(True)
        self.scrub.setValue(i)
        self.scrub.blockSignals(False)

    def _scrubbed(self, i: int) -> None:
        self.show_frame(i)
        if not self.motion:
            self.first.setValue(i)

    def _hovered(self, item: QListWidgetItem) -> None:
        self.show_frame(item.data(Qt.ItemDataRole.UserRole))

    def leaveEvent(self, event) -> None:
        self.show_frame(self.first.value())  # the pointer left: back to the chosen frame
        super().leaveEvent(event)

    def _clip_changed(self) -> None:
        cid = self.clip_id()
        n = self.s.project.clip(cid).frames if cid else 1
        for spin in (self.first, self.last):
            spin.blockSignals(True)
            spin.setRange(0, n - 1)
            spin.blockSignals(False)
        self.scrub.setRange(0, n - 1)
        self.first.setValue(0)
        self.last.setValue(n - 1)
        self._fill()
        self.show_frame(0)
        self.changed.emit()

    def _fill(self) -> None:
        self.strip.clear()
        cid = self.clip_id()
        if cid is None or self.s.project is None or cid not in self.s.project.clips:
            return
        n = self.s.project.clip(cid).frames
        self.stride = max(1, -(-n // MAX_TILES))  # long clips: every k-th frame as a tile
        for i in range(0, n, self.stride):
            item = QListWidgetItem(self.clip_frames.icon(cid, i), str(i))
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"frame {i}")
            self.strip.addItem(item)
        self._mark()
        self.show_frame(self.shown)

    def _clicked(self, item: QListWidgetItem) -> None:
        i = item.data(Qt.ItemDataRole.UserRole)
        from PySide6.QtWidgets import QApplication

        shift = QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier
        (self.last if self.motion and shift else self.first).setValue(i)
        self._mark()  # a click toggles Qt's own selection: put the range back

    def _spun(self) -> None:
        self._mark()
        self.show_frame(self.first.value() if self.sender() is not self.last else self.last.value())
        self.changed.emit()

    def _mark(self) -> None:
        lo, hi = self.first.value(), self.last.value() if self.motion else self.first.value()
        lo, hi = min(lo, hi), max(lo, hi)
        stride = self.stride
        self.strip.blockSignals(True)
        for i in range(self.strip.count()):
            frame = i * stride
            self.strip.item(i).setSelected(lo <= frame + stride - 1 and frame <= hi)
        self.strip.blockSignals(False)
        tile = self.first.value() // stride
        if tile < self.strip.count():
            self.strip.scrollToItem(self.strip.item(tile))


class AddShotDialog(QDialog):
    """Character from one clip's frame, background from another's, motion from a range."""

    def __init__(
        self,
        session: Session,
        frames: ClipFrames,
        clip_id: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add Shot")
        self.character = FramePicker(session, frames, parent=self)
        self.background = FramePicker(session, frames, parent=self)
        self.motion = FramePicker(session, frames, motion=True, parent=self)
        self.name = QLineEdit(self, placeholderText="optional")
        self.name.setMaxLength(MAX_TEXT)  # the project's limit: never more typed or pasted
        layout = QVBoxLayout(self)
        columns = QHBoxLayout()
        layout.addLayout(columns)
        for title, picker, tip in (
            ("Character: who moves", self.character, "The frame that shows the character"),
            ("Background: where", self.background, "The clip whose set the shot is on"),
            (
                "Motion: how (in … out)",
                self.motion,
                "Click a frame for in, Shift+click for out",
            ),
        ):
            box = QGroupBox(title, self)
            box.setToolTip(tip)
            inner = QVBoxLayout(box)
            inner.addWidget(picker)
            inner.addStretch(1)
            columns.addWidget(box)
            if clip_id is not None:
                picker.set_value(clip_id, 0)
        form = QFormLayout()
        form.addRow("Name", self.name)
        layout.addLayout(form)
        buttons = ok_cancel(self)
        layout.addWidget(buttons)
        self.resize(880, 560)

    def values(self) -> dict:
        return {
            "character": self.character.value(),
            "background": self.background.value(),
            "motion": self.motion.value(),
            "name": self.name.text().strip(),
        }


class ExtendDialog(QDialog):
    """Shot → Extend Motion…: how many frames to predict past the clip's end, which take, and
    where the character heads for (percent of the frame), and whether to learn the project's
    motions again first."""

    def __init__(self, shot, has_predictor: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Extend Motion")
        self.frames = QSpinBox(self, minimum=1, maximum=MAX_EXTEND, suffix=" frames")
        self.frames.setValue(shot.extend or shot.motion.length)
        self.take = QSpinBox(self, minimum=1, maximum=2**31 - 1, prefix="take ")
        self.take.setValue(shot.take + 1)
        self.take.setToolTip("Take 1 is the most likely way the motion goes on; others vary it")
        self.aim = QGroupBox("Head for a point", self, checkable=True)
        self.aim.setChecked(shot.target is not None)
        self.x = QSpinBox(self, minimum=-100, maximum=200, suffix=" % across")
        self.y = QSpinBox(self, minimum=-100, maximum=200, suffix=" % down")
        tx, ty = shot.target or (0.5, 0.5)
        self.x.setValue(round(tx * 100))
        self.y.setValue(round(ty * 100))
        aim = QHBoxLayout(self.aim)
        aim.addWidget(self.x)
        aim.addWidget(self.y)
        self.learn = QGroupBox("Learn the project's motions again first", self, checkable=True)
        self.learn.setChecked(not has_predictor)
        self.learn.setEnabled(has_predictor)  # without one it must learn them
        QVBoxLayout(self.learn).addWidget(QLabel(
            "A small predictor learns how the project's clips move (seconds). Learn again "
            "after importing clips.", self, wordWrap=True))  # fmt: skip
        form = QFormLayout(self)
        form.addRow("Extend by", self.frames)
        form.addRow("Take", self.take)
        form.addRow(self.aim)
        form.addRow(self.learn)
        form.addRow(ok_cancel(self))

    def values(self) -> dict:
        target = (self.x.value() / 100, self.y.value() / 100) if self.aim.isChecked() else None
        return {"extend": self.frames.value(), "take": self.take.value() - 1, "target": target}
