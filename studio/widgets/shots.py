"""The inspector of the selected shot (its fields labelled as the field table names them) and
the undo history's words for an edit of a shot. The pickers and dialogs: shot_dialogs.py."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.document import (
    EASES,
    FIELD,
    LOOP_MODES,
    MAX_HOLD,
    MAX_SHOT_FRAMES,
    MAX_SPEED,
    MAX_SUBJECT,
    MAX_TEXT,
    Key,
    with_key,
    without_key,
)
from engine.errors import UserError
from studio.session import Session
from studio.widgets.dialogs import ok_cancel
from studio.widgets.library import ClipFrames
from studio.widgets.shot_dialogs import FramePicker

POSE_CHOICES = {"cycle": "Its own walk cycle", "match": "Match poses from its clip",
                "rigid": "One frame"}  # fmt: skip
SIZE_CHOICES = {"set": "From the set", "fixed": "Fixed (as shot)"}
TURN_CHOICES = {"upright": "Upright", "follow": "Follow the motion's turns"}
RENDER_CHOICES = {None: "As the project", "pixels": "Pixels (sharp)", "model": "Model (soft)"}
LOOP_NAMES = {"once": "Once (hold the last frame)", "loop": "Loop", "pingpong": "Ping-pong",
              "endless": "Endless (never repeats)"}  # fmt: skip
EDGE_NAMES = {"turn": "Turn back", "wrap": "Wrap round", "stay": "Stay inside"}
KEY_COLUMNS = ("Frame", "X px", "Y px", "Turn °", "Scale %", "Ease")
CHOICES = {"loop": LOOP_NAMES, "render": RENDER_CHOICES, "pose": POSE_CHOICES,
           "size": SIZE_CHOICES, "turns": TURN_CHOICES}  # fmt: skip


def describe(project, changes: dict) -> str:
    """An edit of a shot's fields in the words of the undo history: what changed, to what
    ("Background → Zed strolls at night"), not "Edit shot"."""
    words = []
    for key, v in changes.items():
        label = FIELD[key].label if key in FIELD else key.title()  # the field table's words
        if key in ("character", "background"):
            frame = f", frame {v[1]}" if v[1] else ""
            value = f"{project.clip(v[0]).name}{frame}"
        elif key == "motion":
            value = f"{project.clip(v[0]).name} {v[1]}–{v[2]}"
        elif key == "duration":
            value = f"{v} frames"
        elif key == "speed":
            value = f"{v:g}×"
        elif key == "hold":
            value = f"on {v}s"
        elif key in CHOICES:  # the menu's words, without their explanation in brackets
            value = CHOICES[key].get(v, v).split(" (")[0]
        elif key == "name":
            value = f"“{v}”"
        else:
            value = v
        words.append(f"{label} → {value}")
    return "; ".join(words) or "Edit shot"




class Inspector(QWidget):
    """The selected shot's fields; every change is one undoable edit."""

    def __init__(self, session: Session, frames: ClipFrames, parent: QWidget | None = None):
        super().__init__(parent)
        self.s, self.clip_frames = session, frames
        self.title = QLabel("No shot selected. Click a shot on the timeline.", self)
        self.title.setWordWrap(True)
        self.name = QLineEdit(self)
        self.name.setMaxLength(MAX_TEXT)  # the project's limit: never more typed or pasted
        self.name.editingFinished.connect(lambda: self._set(name=self.name.text().strip()))
        self.char_clip, self.char_frame = QComboBox(self), QSpinBox(self)
        self.bg_clip, self.bg_frame = QComboBox(self), QSpinBox(self)
        self.mo_clip, self.mo_in, self.mo_out = QComboBox(self), QSpinBox(self), QSpinBox(self)
        for combo in (self.char_clip, self.bg_clip, self.mo_clip):  # a long name: no wider
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.duration = QSpinBox(self, minimum=1, maximum=MAX_SHOT_FRAMES, suffix=" frames")
        self.natural = QPushButton("Fit to motion", self)
        self.natural.setToolTip(
            "Set the duration to one pass of the motion at this speed, hold and loop mode"
        )
        self.speed = QDoubleSpinBox(
            self, minimum=0.05, maximum=MAX_SPEED, singleStep=0.25, decimals=2, suffix="×"
        )
        self.hold = QComboBox(self)
        for h in range(1, MAX_HOLD + 1):
            self.hold.addItem("on 1s (every frame)" if h == 1 else f"on {h}s", h)
        self.loop = QComboBox(self)
        for mode in LOOP_MODES:
            self.loop.addItem(LOOP_NAMES.get(mode, mode), mode)
        self.render = QComboBox(self)
        self.render.setToolTip(
            "Pixels: the footage's own pixels, sharp (its own frames play when the motion is "
            "its own clip). Model: decoded by the model, soft, but it can change a pose."
        )
        for key, text in RENDER_CHOICES.items():
            self.render.addItem(text, key)
        # a transfer (a character moved by another clip's motion): how it steps, sizes, turns
        self.pose = QComboBox(self)
        self.pose.setToolTip(
            "A character moved by another clip's motion walks that motion's path over the "
            "ground. Its steps: its own frames in order at the pace of the path (its walk "
            "cycle; held when the motion stops), for each motion frame its own frame whose pose "
            "is closest (a wave, a jump), or one frame (pixels mode)"
        )
        self.size_box = QComboBox(self)
        self.size_box.setToolTip("Its size where the path takes it: as the new set's own "
                                 "subjects are at that height of the frame, or as shot")
        self.turns = QComboBox(self)
        self.turns.setToolTip("Upright (a walker), or turned as the motion's subject turns (a "
                              "spinning ball, a somersault)")  # fmt: skip
        for combo, choices in ((self.pose, POSE_CHOICES), (self.size_box, SIZE_CHOICES),
                               (self.turns, TURN_CHOICES)):  # fmt: skip
            for key, text in choices.items():
                combo.addItem(text, key)
        self.transfer_note = QLabel(self)
        self.transfer_note.setWordWrap(True)
        # endless: the walk's seed, how often it jumps, what it does at the frame's edge
        self.walk_label = QLabel(self)
        self.reshuffle = QPushButton("Reshuffle", self)
        self.reshuffle.setToolTip("Draw another endless walk through the motion's frames")
        self.jumps = QSlider(Qt.Orientation.Horizontal, self, minimum=0, maximum=100)
        self.jumps.setToolTip(
            "How often the walk jumps to another frame that looks alike: rarely (long runs of "
            "the clip as filmed) or often (more variety)"
        )
        self.edge = QComboBox(self)
        self.edge.setToolTip("What a character that walks on does at the frame's edge")
        for key, text in EDGE_NAMES.items():
            self.edge.addItem(text, key)
        # extension: frames predicted past the motion's end
        self.extend_label = QLabel(self)
        self.extend_button = QPushButton("Extend…", self)
        self.extend_button.setToolTip("Predict how the motion goes on past the clip's end")
        self.take = QPushButton("Another take", self)
        # the subjects of the character's clip it shows, and the one whose move drives
        self.subjects_label = QLabel(self)
        self.subjects_label.setWordWrap(True)
        self.subjects_label.setToolTip("Which subjects of the character's clip the shot shows: "
                                       "click one in the viewer to pick it, Shift+click to add "
                                       "or leave out one, or double-click one in the library")
        self.subjects_all = QPushButton("Show All", self)
        self.subjects_all.setToolTip("Show every subject of the character's clip again")
        self.shadows = QComboBox(self)
        for mode, text in (("drop", "Drop"), ("soft", "Soft (darken the new set)"),
                           ("keep", "Keep (the old set's shade)")):  # fmt: skip
            self.shadows.addItem(text, mode)
        self.shadows.setToolTip("The character's cast shadow on another set (its clip's "
                                "analysis takes it out of the cut-out)")
        self.front = QComboBox(self)
        for mode, text in (("keep", "Keep in front"), ("drop", "Leave out")):
            self.front.addItem(text, mode)
        self.driver = QSpinBox(self, minimum=0, maximum=MAX_SUBJECT, prefix="subject ")
        self.driver.setSpecialValueText("the one seen most")
        self.driver.setToolTip("Whose path over the ground the character walks: one subject "
                               "of the motion's clip (its number in the library), or the one "
                               "seen most in its frames")
        self.take.setToolTip("Another predicted future of the same motion")
        # on the beat: the shot's fit to the soundtrack's beats (Shot → Fit to Beats)
        self.beat_label = QLabel(self)
        self.beat_button = QPushButton("Fit to Beats", self)
        self.beat_button.setToolTip("Retime the shot so that its motion's accents fall on the "
                                    "soundtrack's beats")  # fmt: skip
        self.unfit_button = QPushButton("Clear", self)
        self.unfit_button.setToolTip("Play the shot at its speed again")
        # the path: keyframes of position, turn and scale on top of the motion
        self.keys = QTableWidget(0, len(KEY_COLUMNS), self)
        self.keys.setHorizontalHeaderLabels(KEY_COLUMNS)
        self.keys.verticalHeader().hide()
        self.keys.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.keys.setMinimumHeight(90)
        self.keys.horizontalHeader().setDefaultSectionSize(56)
        self.key_add = QPushButton("Key at Playhead", self)
        self.key_add.setToolTip("Add a path key at the playhead (the path tool in the viewer "
                                "places and drags keys on the frame)")  # fmt: skip
        self.key_remove = QPushButton("Remove Key", self)

        self.char_clip.activated.connect(
            lambda: self._set(character=(self.char_clip.currentData(), 0))
        )
        self.char_frame.editingFinished.connect(
            lambda: self._set(character=(self.char_clip.currentData(), self.char_frame.value()))
        )
        self.bg_clip.activated.connect(
            lambda: self._set(background=(self.bg_clip.currentData(), 0))
        )
        self.bg_frame.editingFinished.connect(
            lambda: self._set(background=(self.bg_clip.currentData(), self.bg_frame.value()))
        )
        self.mo_clip.activated.connect(self._motion_clip)
        for spin in (self.mo_in, self.mo_out):
            spin.editingFinished.connect(
                lambda: self._set(
                    motion=(self.mo_clip.currentData(), self.mo_in.value(), self.mo_out.value())
                )
            )
        self.duration.editingFinished.connect(lambda: self._set(duration=self.duration.value()))
        self.natural.clicked.connect(self._fit)
        self.speed.editingFinished.connect(lambda: self._set(speed=round(self.speed.value(), 4)))
        self.hold.activated.connect(
            lambda: self._set(hold=self.hold.currentData())
        )
        self.loop.activated.connect(lambda: self._set(loop=self.loop.currentData()))
        self.render.activated.connect(
            lambda: self._set(render=self.render.currentData())
        )
        self.pose.activated.connect(
            lambda: self._set(pose=self.pose.currentData())
        )
        self.size_box.activated.connect(lambda: self._set(size=self.size_box.currentData()))
        self.turns.activated.connect(lambda: self._set(turns=self.turns.currentData()))
        self.reshuffle.clicked.connect(self._reshuffle)
        self.jumps.sliderReleased.connect(self._jumps)
        self.jumps.valueChanged.connect(lambda: self.jumps.isSliderDown() or self._jumps())
        self.edge.activated.connect(lambda: self._set(edge=self.edge.currentData(),
                                                      text="Set what the walk does at the edge"))
        self.take.clicked.connect(self._another_take)
        self.subjects_all.clicked.connect(
            lambda: self._set(subjects=(), text="Show all subjects"))
        self.shadows.activated.connect(
            lambda: self._set(shadows=self.shadows.currentData(), text="Set shadows"))
        self.front.activated.connect(
            lambda: self._set(front=self.front.currentData(), text="Set what stays in front"))
        self.driver.editingFinished.connect(
            lambda: self._set(driver=self.driver.value(), text="Set whose path drives"))
        self.keys.itemChanged.connect(self._key_edited)
        self.key_add.clicked.connect(self._key_at_playhead)
        self.key_remove.clicked.connect(self._remove_key)

        def row(*widgets) -> QWidget:
            w = QWidget(self)
            h = QHBoxLayout(w)
            h.setContentsMargins(0, 0, 0, 0)
            for x in widgets:
                h.addWidget(x, 1 if isinstance(x, QComboBox) else 0)
            return w

        def pick(kind: str) -> QPushButton:
            b = QPushButton("Pick…", self)
            b.setToolTip("Choose the frame from thumbnails")
            b.clicked.connect(lambda: self._pick(kind))
            return b

        self.form = QFormLayout()
        rows = {  # field → its editor; the label is the field table's (engine.document.FIELDS)
            "name": self.name,
            "character": row(self.char_clip, self.char_frame, pick("character")),
            "background": row(self.bg_clip, self.bg_frame, pick("background")),
            "motion": row(self.mo_clip, pick("motion")),
            "": row(self.mo_in, self.mo_out, QLabel("(out < in: backwards)")),
            "duration": row(self.duration, self.natural),
            "speed": self.speed,
            "hold": self.hold,
            "loop": self.loop,
            "seed": row(self.walk_label, self.reshuffle),
            "jumps": row(QLabel("rare", self), self.jumps, QLabel("often", self)),
            "edge": self.edge,
            "extend": row(self.extend_label, self.extend_button, self.take),
            "beats": row(self.beat_label, self.beat_button, self.unfit_button),
            "render": self.render,
            "pose": self.pose,
            "size": self.size_box,
            "turns": self.turns,
            "subjects": row(self.subjects_label, self.subjects_all),
            "driver": self.driver,
            "shadows": self.shadows,
            "front": self.front,
        }
        for key, editor in rows.items():
            self.form.addRow(FIELD[key].label if key else "", editor)
        path = QGroupBox(FIELD["path"].label, self)
        box = QVBoxLayout(path)
        box.addWidget(self.keys)
        box.addWidget(row(self.key_add, self.key_remove))
        self.fields = QWidget(self)
        fields = QVBoxLayout(self.fields)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addLayout(self.form)
        fields.addWidget(path)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.transfer_note)  # in sight whatever the panel's scroll
        layout.addWidget(self.fields)
        layout.addStretch(1)
        for signal in (session.selection_changed, session.edited, session.project_opened):
            signal.connect(self.refresh)
        session.frame_arrived.connect(self._transfer_note)  # what a transfer's frames said
        # what the analysis found (a lost pick, a thing in front) once it is done
        session.analysis.changed.connect(lambda text, *_: text or self.refresh())
        self.refresh()

    def _transfer_note(self, *_) -> None:
        """What the selected shot's transfer could not do well (its subject leaves the frame,
        nothing moves in its motion …), as its last frame made said; hidden when all is well."""
        shot = self.shot()
        moved = shot is not None and shot.character.clip != shot.motion.clip
        note = self.s.engine.transfer_note(shot) if moved else None
        text = f"<span style='color:#e0a040'>{html.escape(note[:1].upper() + note[1:])}.</span>" \
            if note else ""  # fmt: skip
        if text != self.transfer_note.text():  # (a frame arrives every few ms in playback)
            self.transfer_note.setText(text)
        self.transfer_note.setVisible(bool(note))

    def shot(self):
        s = self.s
        if s.project is None or s.selected is None:
            return None
        try:
            return s.project.shot(s.selected)
        except UserError:
            return None

    def refresh(self, *_) -> None:
        shot = self.shot()
        self.fields.setVisible(shot is not None)  # no stale or placeholder values without one
        if shot is None:
            self.title.setText("No shot selected. Click a shot on the timeline.")
            self._transfer_note()
            return
        p = self.s.project
        index = p.shot_index(shot.id)
        self.title.setText(
            f"<b>Shot {index + 1}</b> of {len(p.shots)} · starts at frame "
            f"{self.s.timeline.start_of(shot.id) + 1}"
        )
        widgets = [
            self.name,
            self.char_clip,
            self.char_frame,
            self.bg_clip,
            self.bg_frame,
            self.mo_clip,
            self.mo_in,
            self.mo_out,
            self.duration,
            self.speed,
            self.hold,
            self.loop,
            self.render,
            self.pose,
            self.size_box,
            self.turns,
            self.jumps,
            self.edge,
            self.keys,
            self.driver,
            self.shadows,
            self.front,
        ]
        for w in widgets:
            w.blockSignals(True)
        for combo in (self.char_clip, self.bg_clip, self.mo_clip):
            combo.clear()
            for clip in p.clips.values():
                combo.addItem(clip.name, clip.id)
                combo.setItemData(combo.count() - 1, clip.name, Qt.ItemDataRole.ToolTipRole)
        self.name.setText(shot.name)
        for combo, spin, ref in (
            (self.char_clip, self.char_frame, shot.character),
            (self.bg_clip, self.bg_frame, shot.background),
        ):
            combo.setCurrentIndex(combo.findData(ref.clip))
            spin.setRange(0, p.clip(ref.clip).frames - 1)
            spin.setValue(ref.frame)
        self.mo_clip.setCurrentIndex(self.mo_clip.findData(shot.motion.clip))
        for combo in (self.char_clip, self.bg_clip, self.mo_clip):  # the whole name
            combo.setToolTip(combo.currentText())
        n = p.clip(shot.motion.clip).frames
        self.mo_in.setRange(0, n - 1)
        self.mo_out.setRange(0, n - 1)
        self.mo_in.setValue(shot.motion.start)
        self.mo_out.setValue(shot.motion.end)
        self.mo_in.setPrefix("in ")
        self.mo_out.setPrefix("out ")
        self.duration.setValue(shot.duration)
        self.speed.setValue(shot.speed)
        self.hold.setCurrentIndex(self.hold.findData(shot.hold))
        self.loop.setCurrentIndex(self.loop.findData(shot.loop))
        project_mode = RENDER_CHOICES[p.render_mode].split(" (")[0].lower()
        self.render.setItemText(0, f"As the project ({project_mode})")
        self.render.setCurrentIndex(self.render.findData(shot.render))
        self.pose.setCurrentIndex(self.pose.findData(shot.pose))
        self.size_box.setCurrentIndex(self.size_box.findData(shot.size))
        self.turns.setCurrentIndex(self.turns.findData(shot.turns))
        # a transfer's settings come into it only where a character moves by another clip
        moved = shot.character.clip != shot.motion.clip
        self.pose.setEnabled(p.mode_of(shot) == "pixels" and moved)
        self.size_box.setEnabled(moved)
        self.turns.setEnabled(moved)
        self._transfer_note()
        lost = self.s.engine.lost_picks(shot)
        self.subjects_label.setText(
            (f"<span style='color:#e06060'>{lost}</span><br>" if lost else "")
            + (", ".join(f"subject {i}" for i in shot.subjects) if shot.subjects else
               "all"))  # fmt: skip
        self.subjects_all.setEnabled(bool(shot.subjects))
        self.driver.setValue(shot.driver)
        self.shadows.setCurrentIndex(self.shadows.findData(shot.shadows))
        self.shadows.setEnabled(p.mode_of(shot) == "pixels" and not shot.as_shot)
        self.front.setCurrentIndex(self.front.findData(shot.front))
        found = self.s.engine.in_front(shot.character.clip)
        self.front.setEnabled(p.mode_of(shot) == "pixels" and not shot.as_shot and bool(found))
        self.front.setToolTip(
            "What the character's own set had in front of it (a sign it passed behind): kept "
            "in front of it on the new set, or left out" if found else
            "Nothing in the character's own set stands in front of it" if found is False else
            "Known once the character's clip is analysed")  # fmt: skip
        self.driver.setEnabled(p.mode_of(shot) == "pixels" and moved)
        endless = shot.loop == "endless"
        self.walk_label.setText(f"walk {shot.seed}" if endless else "(loop mode Endless)")
        self.jumps.setValue(round(shot.jumps * 100))
        self.edge.setCurrentIndex(self.edge.findData(shot.edge))
        for w in (self.reshuffle, self.jumps, self.edge):
            w.setEnabled(endless)
        if endless:
            self.extend_label.setText("(not in an endless loop)")
        elif shot.extend:
            aim = "" if shot.target is None else (f", heading for {shot.target[0]:.0%}, "
                                                  f"{shot.target[1]:.0%}")  # fmt: skip
            self.extend_label.setText(f"+{shot.extend} frames, take {shot.take + 1}{aim}")
        else:
            self.extend_label.setText("none")
        self.extend_button.setEnabled(not endless)
        self.take.setEnabled(bool(shot.extend) and not endless)
        if shot.beats:
            held = " with holds" if shot.timing and any(
                a == b for a, b in zip(shot.timing, shot.timing[1:], strict=False)) else ""
            self.beat_label.setText(f"fitted to {len(shot.beats)} beats{held}")
        else:
            self.beat_label.setText("not fitted" if p.soundtrack else "(no soundtrack)")
        self.beat_button.setEnabled(p.soundtrack is not None)
        self.unfit_button.setEnabled(bool(shot.beats))
        self._fill_keys(shot)
        for w in widgets:
            w.blockSignals(False)

    def _set(self, text: str | None = None, **changes) -> None:
        shot = self.shot()
        if shot is None:
            return
        from engine.document import field_value

        if all(field_value(shot, k) == v for k, v in changes.items()):
            return
        text = text or describe(self.s.project, changes)
        if not self.s.update_shot(shot.id, text=text, **changes):
            self.refresh()

    # -- endless walk, extension ------------------------------------------------------------------
    def _reshuffle(self) -> None:
        import random

        self._set(seed=random.randrange(2**31), text="Reshuffle endless walk")

    def _jumps(self) -> None:
        self._set(jumps=self.jumps.value() / 100, text="Set how often the walk jumps")

    def _another_take(self) -> None:
        shot = self.shot()
        if shot is not None:
            self._set(take=shot.take + 1, text="Another take")

    # -- path keys ---------------------------------------------------------------------------------
    def _size(self) -> tuple[int, int]:
        return self.s.project.frame_size or (1, 1)

    def _fill_keys(self, shot) -> None:
        w, h = self._size()
        self.keys.setRowCount(len(shot.path))
        for r, k in enumerate(shot.path):
            values = (str(k.frame), f"{k.x * w:.1f}", f"{k.y * h:.1f}", f"{k.angle:g}",
                      f"{k.scale * 100:g}", k.ease)  # fmt: skip
            for c, text in enumerate(values):
                self.keys.setItem(r, c, QTableWidgetItem(text))
        self.key_remove.setEnabled(bool(shot.path))

    def _key_edited(self, item: QTableWidgetItem) -> None:
        shot = self.shot()
        if shot is None or item.row() >= len(shot.path):
            return
        w, h = self._size()
        cells = [self.keys.item(item.row(), c).text().strip() for c in range(len(KEY_COLUMNS))]
        try:
            frame, x, y, angle, scale = int(cells[0]), *(float(v) for v in cells[1:5])
        except ValueError:
            self.s.status.emit("A path key's frame is a whole number; the others are numbers")
            self.refresh()
            return
        ease = cells[5] if cells[5] in EASES else "linear"
        old = shot.path[item.row()]
        key = Key(frame, x / w, y / h, angle, scale / 100, ease)
        self._set(path=with_key(without_key(shot.path, old.frame), key), text="Edit path key")

    def playhead_local(self, shot) -> int:
        """The playhead's frame within ``shot`` (0 when the playhead is on another shot)."""
        start = self.s.timeline.start_of(shot.id)
        local = self.s.playhead - start
        return local if 0 <= local < shot.duration else 0

    def _key_at_playhead(self) -> None:
        from engine.frames.motion import path_at

        shot = self.shot()
        if shot is None:
            return
        t = self.playhead_local(shot)
        key = Key(t, *path_at(shot.path, t))
        self._set(path=with_key(shot.path, key), text="Add path key")

    def _remove_key(self) -> None:
        shot = self.shot()
        if shot is None or not shot.path:
            return
        rows = sorted({i.row() for i in self.keys.selectedIndexes()}) or [len(shot.path) - 1]
        frames = {shot.path[r].frame for r in rows if r < len(shot.path)}
        path = tuple(k for k in shot.path if k.frame not in frames)
        self._set(path=path, text="Remove path key")

    def _motion_clip(self) -> None:
        cid = self.mo_clip.currentData()
        self._set(motion=(cid, 0, self.s.project.clip(cid).frames - 1))

    def _fit(self) -> None:
        shot = self.shot()
        if shot is not None:
            self._set(duration=shot.natural_duration())

    def _pick(self, kind: str) -> None:
        shot = self.shot()
        if shot is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Pick the {kind} frame" if kind != "motion" else "Pick the motion")
        picker = FramePicker(self.s, self.clip_frames, motion=kind == "motion", parent=dialog)
        if kind == "motion":
            picker.set_value(shot.motion.clip, shot.motion.start, shot.motion.end)
        else:
            ref = getattr(shot, kind)
            picker.set_value(ref.clip, ref.frame)
        buttons = ok_cancel(dialog)
        layout = QVBoxLayout(dialog)
        layout.addWidget(picker)
        layout.addWidget(buttons)
        dialog.resize(620, 520)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._set(**{kind: picker.value()})
        dialog.deleteLater()
