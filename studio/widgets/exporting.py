"""File → Export…: every setting of the engine's exporter (engine.export.ExportSettings), its
problems explained before starting (a folder of other files is refused), a question before it
replaces anything, the export as a job (studio.jobs) with progress and cancel, and "Show in
Folder" at the end. File → Export Timeline… is the same dialog for an OpenTimelineIO cut
(engine.interchange): the settings are those of each shot's media."""

from __future__ import annotations

from pathlib import Path

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
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import interchange
from engine.document import MAX_OUTPUT_SIDE
from engine.export import (
    ALPHA_FORMATS,
    FILTERS,
    FORMAT_NAMES,
    LOOP_FORMATS,
    QUALITY_FORMATS,
    ExportSettings,
    export,
    past_sound,
    plan_target,
)
from studio import settings as prefs
from studio.jobs import Job
from studio.session import Session
from studio.widgets.dialogs import ok_cancel

SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "gif": ".gif", "apng": ".apng", "png": ""}
LAYER_NAMES = {
    "composite": "Composite",
    "background": "Background only",
    "character": "Character only",
}


Button = QMessageBox.StandardButton


class ExportDialog(QDialog):
    """Export the film (``timeline=False``), or the cut as an OpenTimelineIO timeline whose
    shots are rendered beside it in the chosen format (``timeline=True``)."""

    def __init__(self, session: Session, parent: QWidget | None = None,
                 timeline: bool = False) -> None:  # fmt: skip
        super().__init__(parent)
        self.timeline = timeline
        self.setWindowTitle("Export Timeline" if timeline else "Export")
        self.s = session
        self.job: Job | None = None
        self.written: Path | None = None
        p = session.project
        size = session.engine.size
        self.format = QComboBox(self)
        for key, name in FORMAT_NAMES.items():
            if not timeline or key in interchange.MEDIA_FORMATS:
                self.format.addItem(name, key)
        name = f"{p.name}.otio" if timeline else f"{p.name}.mp4"
        self.path = QLineEdit(str(prefs.start_folder("export", p.root) / name), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.range = QComboBox(self)
        self.range.addItem(f"Whole timeline ({p.timeline.frame_count} frames)", None)
        if (rng := p.play_range) is not None:  # as far as it lies on the timeline
            self.range.addItem(f"In/out range (frames {rng[0] + 1}–{rng[1] + 1})", rng)
            self.range.setCurrentIndex(1)
        self.fps = QDoubleSpinBox(self, minimum=1, maximum=120, decimals=2, value=p.fps)
        self.scale = QDoubleSpinBox(
            self,
            minimum=0.25,
            maximum=16,
            singleStep=1,
            decimals=2,
            value=max(1.0, 256 / max(size)),
            suffix="×",
        )
        self.size_note = QLabel(self)
        self.filter = QComboBox(self)
        for key in FILTERS:
            self.filter.addItem(
                {"nearest": "Nearest (crisp pixels)", "lanczos": "Lanczos (smooth)"}[key], key
            )
        self.quality = QSpinBox(self, minimum=1, maximum=10, value=8)
        self.loop = QCheckBox("Loop forever (GIF, APNG)", self, checked=True)
        self.alpha = QCheckBox("Transparent background (character cut out: WebM, APNG, PNG)", self)
        self.layer = QComboBox(self)
        for key, name in LAYER_NAMES.items():
            self.layer.addItem(name, key)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #e66")
        self.bar = QProgressBar(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export", self, default=True)
        self.export_button.setObjectName("export")
        self.cancel_button = QPushButton("Cancel Export", self, enabled=False)
        self.show_button = QPushButton("Show in Folder", self, enabled=False)
        close = QPushButton("Close", self)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.show_button.clicked.connect(self._show)
        close.clicked.connect(self.close)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        scale_row = QHBoxLayout()
        scale_row.addWidget(self.scale)
        scale_row.addWidget(self.size_note, 1)
        form = QFormLayout()
        if timeline:  # the whole cut, at the project's rate: what an editor takes further
            form.addRow("Timeline file", path_row)
            form.addRow("Shot media", self.format)
            self.media_note = QLabel(self)
            self.media_note.setWordWrap(True)
            form.addRow("", self.media_note)
            for w in (self.range, self.fps, self.loop):
                w.hide()
        else:
            form.addRow("Format", self.format)
            form.addRow("File", path_row)
            form.addRow("Frames", self.range)
            form.addRow("Frame rate", self.fps)
        form.addRow("Scale", scale_row)
        form.addRow("Scaling", self.filter)
        form.addRow("Quality (1–10)", self.quality)
        form.addRow("Show", self.layer)
        if not timeline:
            form.addRow("", self.loop)
        form.addRow("", self.alpha)
        self.form_box = QWidget(self)
        self.form_box.setLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form_box)
        layout.addWidget(self.problems)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.format.currentIndexChanged.connect(self._format_changed)
        for w in (self.range, self.filter, self.layer):
            w.currentIndexChanged.connect(self.check)
        for w in (self.fps, self.scale, self.quality):
            w.valueChanged.connect(self.check)
        for w in (self.loop, self.alpha):
            w.toggled.connect(self.check)
        self.path.textChanged.connect(self.check)
        self.check()
        self.resize(560, 460)

    def settings(self) -> ExportSettings:
        """What the dialog says; an option the format has no use for (greyed) as it is."""
        fmt = self.format.currentData()
        return ExportSettings(
            format=fmt,
            range=None if self.timeline else self.range.currentData(),
            fps=self.s.project.fps if self.timeline else self.fps.value(),
            scale=self.scale.value(),
            filter=self.filter.currentData(),
            quality=self.quality.value(),
            loop=self.loop.isChecked() or fmt not in LOOP_FORMATS,
            alpha=self.alpha.isChecked() and fmt in ALPHA_FORMATS,
            layer=self.layer.currentData(),
        )

    def _options(self) -> None:
        """Grey the options the chosen format has no use for, and say why in their tooltips."""
        fmt = self.format.currentData()
        name = FORMAT_NAMES[fmt]
        for box, used, why in (
            (self.quality, fmt in QUALITY_FORMATS,
             f"{name} is {'lossless' if fmt != 'gif' else 'a 256-colour palette'}: "
             "no quality to choose"),
            (self.loop, fmt in LOOP_FORMATS,
             f"{name} does not say whether it loops" + (
                 " (the player decides)" if fmt in ("mp4", "webm") else "")),
            (self.alpha, fmt in ALPHA_FORMATS, f"{name} has no transparency"),
        ):  # fmt: skip
            box.setEnabled(used)
            box.setToolTip("" if used else why)

    def check(self) -> list[str]:
        """Explain what stops this export, before it starts."""
        self._options()
        s = self.settings()
        size = self.s.engine.size
        problems = s.problems(self.s.timeline.frame_count, size)
        if not self.path.text().strip():
            problems.append("choose a file name")
        elif self.timeline:  # what exists is asked about at Export (overwrite here)
            problems += interchange.problems(self.path.text().strip(), s, overwrite=True,
                                             names=interchange.media_names(self.s.project, s))
        elif refused := self.target().refused:
            problems.append(refused)
        w, h = s.padded_size(size)
        sound = ""
        if self.s.project.soundtrack is not None:
            from engine.export import FORMAT_NAMES, carries_sound

            sound = (" · with the soundtrack" if carries_sound(s) else
                     f" · {FORMAT_NAMES[s.format]} carries no sound")  # fmt: skip
            past = past_sound(self.s.project, s, self.s.timeline.frame_count)
            if past >= 0.5 / s.fps:
                sound += f" · the film runs {past:.1f} s past its soundtrack (silent there)"
        if self.timeline:
            n = len(self.s.project.shots)
            folder = interchange.media_folder(self.path.text().strip() or "cut.otio").name
            self.media_note.setText(
                f"{n} shot{'s' if n != 1 else ''} at {self.s.project.fps:g} fps, each rendered "
                f"to its own {'folder of PNG frames' if s.format == 'png' else 'file'} in "
                f"{folder}/ beside the timeline"
                + (", the soundtrack copied there" if self.s.project.soundtrack else ""))
            sound = ""
        self.size_note.setText(f"{w} × {h} pixels{sound}")
        self.problems.setText("\n".join(f"• {p[0].upper()}{p[1:]}" for p in problems))
        self.export_button.setEnabled(not problems and self.job is None)
        return problems

    def target(self):
        """What exporting to the chosen path would replace there (engine.export.plan_target)."""
        settings = self.settings()
        first, stop = settings.span(self.s.timeline.frame_count)
        return plan_target(self.path.text().strip(), settings.format, first, stop)

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question before anything is replaced (tests replace this method)."""
        answer = QMessageBox.question(self, title, text, Button.Yes | Button.Cancel, Button.Cancel)
        return answer == Button.Yes

    def _may_replace(self) -> bool:
        if self.timeline:
            out = Path(self.path.text().strip())
            media = interchange.media_folder(out)
            if not (out.exists() or media.exists()):
                return True
            return self.ask("Replace?", f"{out.name} or its shots ({media.name}) already exist "
                            f"in {out.parent}. Replace them?")  # fmt: skip
        plan = self.target()
        if not plan.replaces:
            return True
        if plan.needs_overwrite:
            text = f"{plan.path.name} already exists in {plan.path.parent}. Replace it?"
        else:
            n = len(plan.replaces)
            text = (f"{plan.path} holds {n} frame{'s' if n != 1 else ''} of an earlier export "
                    "with the same numbers. Replace them?")  # fmt: skip
        return self.ask("Replace?", text)

    def _format_changed(self) -> None:
        if self.timeline:  # the timeline file keeps its name; the media format changed
            self.check()
            return
        fmt = self.format.currentData()
        path = Path(self.path.text().strip() or "export")
        stem = path.with_suffix("") if path.suffix else path
        self.path.setText(str(stem.with_name(stem.name + SUFFIXES[fmt])))
        self.check()

    def _browse(self) -> None:
        if self.timeline:
            path, _ = QFileDialog.getSaveFileName(self, "Export Timeline", self.path.text(),
                                                  "OpenTimelineIO (*.otio)")  # fmt: skip
        elif self.format.currentData() == "png":
            path = QFileDialog.getExistingDirectory(self, "Export PNG Sequence to Folder",
                                                    str(Path(self.path.text()).parent))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export", self.path.text())
        if path:
            self.path.setText(path)

    # -- the job -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self.check() or not self._may_replace():
            return
        settings, out = self.settings(), Path(self.path.text().strip())
        write = interchange.export_timeline if self.timeline else export

        def work(director, job: Job) -> Path:
            return write(director, out, settings, progress=job.report, cancel=job.is_cancelled,
                         overwrite=True)  # fmt: skip

        # beside the engine thread: the viewer's frames still come while it runs
        job = self.s.engine.job(work, "export", queued=False)
        if job is None:
            self.status.setText("The model is still loading; export in a moment.")
            return
        job.progress.connect(self._progress)
        job.succeeded.connect(self._written)
        job.failed.connect(
            lambda error: self.status.setText(
                f"<span style='color:#e66'>Export failed: {error}</span>"
            )
        )
        job.cancelled.connect(lambda: self.status.setText("Cancelled: nothing was written."))
        job.finished.connect(self._ended)
        self.job = job
        self.form_box.setEnabled(False)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_button.setEnabled(False)
        self.status.setText(f"Exporting to {out}…")
        job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")

    @property
    def running(self) -> bool:
        return self.job is not None

    def _progress(self, done: int, total: int, _text: str) -> None:
        self.bar.setMaximum(total)
        self.bar.setValue(done)

    def _written(self, path: Path) -> None:
        self.written = Path(path)
        size = (
            sum(f.stat().st_size for f in self.written.rglob("*") if f.is_file())
            if self.written.is_dir()
            else self.written.stat().st_size
        )
        if self.timeline:
            media = interchange.media_folder(path)
            shots = sum(f.stat().st_size for f in media.rglob("*") if f.is_file())
            self.status.setText(f"Wrote {path} ({size / 1024:.0f} KB) and its shots in "
                                f"{media.name}/ ({shots / 1024:.0f} KB).")  # fmt: skip
        else:
            self.status.setText(f"Wrote {path} ({size / 1024:.0f} KB).")
        self.show_button.setEnabled(True)
        prefs.remember_folder("export", self.written.parent)  # a PNG sequence's: where it went

    def _show(self) -> None:
        """Show in Folder; where no file manager opens, the dialog says where the file is."""
        parent = self.parent()
        if parent is not None and not parent.show_in_folder(self.written):
            self.status.setText(f"No file manager opened here. The file is in {self.written.parent}"
                                if not self.written.is_dir() else
                                f"No file manager opened here. The frames are in {self.written}")

    def _ended(self) -> None:
        self.job = None
        self.form_box.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.check()

    def closeEvent(self, e) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait(30)
        super().closeEvent(e)


class OutputSizeDialog(QDialog):
    """Edit → Output Size…: the frames' width and height in the viewer and in every export
    (the first clip's size by default, any even size; clips of another aspect are fitted whole,
    with bars)."""

    PRESETS = {"640 × 360": (640, 360), "1280 × 720 (HD)": (1280, 720),
               "1920 × 1080 (Full HD)": (1920, 1080), "1080 × 1080 (square)": (1080, 1080),
               "1080 × 1920 (vertical)": (1080, 1920)}  # fmt: skip

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Output Size")
        p = session.project
        first = next(iter(p.clips.values()), None)
        self.preset = QComboBox(self)
        follow = f" ({first.width // 2 * 2} × {first.height // 2 * 2})" if first else ""
        self.preset.addItem(f"The first clip's size{follow}", None)
        for text, (pw, ph) in self.PRESETS.items():
            self.preset.addItem(text, f"{pw}x{ph}")  # text: Qt keeps no Python tuple
        self.preset.addItem("Custom", "custom")
        self.width_box = QSpinBox(self, minimum=16, maximum=MAX_OUTPUT_SIDE, singleStep=2)
        self.height_box = QSpinBox(self, minimum=16, maximum=MAX_OUTPUT_SIDE, singleStep=2)
        w, h = p.frame_size or (640, 360)
        self.width_box.setValue(w)
        self.height_box.setValue(h)
        if p.output_size is None:
            self.preset.setCurrentIndex(0)
        else:
            index = self.preset.findData("{}x{}".format(*p.output_size))
            self.preset.setCurrentIndex(index if index >= 0 else self.preset.count() - 1)
        self.preset.currentIndexChanged.connect(self._preset)
        self._preset()
        form = QFormLayout(self)
        form.addRow("Size", self.preset)
        row = QHBoxLayout()
        row.addWidget(self.width_box)
        row.addWidget(QLabel("×", self))
        row.addWidget(self.height_box)
        form.addRow("Width × height", row)
        note = QLabel("Every export uses this size (times its scale). Sizes are even, as the "
                      "video codecs need.", self)  # fmt: skip
        note.setWordWrap(True)
        form.addRow(note)
        buttons = ok_cancel(self)
        form.addRow(buttons)

    def _preset(self) -> None:
        data = self.preset.currentData()
        custom = data == "custom"
        for box in (self.width_box, self.height_box):
            box.setEnabled(custom)
        if data not in (None, "custom"):
            pw, ph = (int(v) for v in data.split("x"))
            self.width_box.setValue(pw)
            self.height_box.setValue(ph)

    def value(self) -> tuple[int, int] | None:
        """The size chosen, or None: follow the first clip."""
        if self.preset.currentData() is None:
            return None
        return self.width_box.value() // 2 * 2, self.height_box.value() // 2 * 2
