"""File → Export…: every setting of the engine's exporter (engine.export.ExportSettings), its
problems explained before starting, the export on a worker thread with progress and cancel, and
"Show in Folder" at the end."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
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
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserError
from engine.export import FILTERS, FORMAT_NAMES, ExportSettings, export
from engine.synthesis import Cancelled
from studio.session import Session

SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "gif": ".gif", "apng": ".apng", "png": ""}
LAYER_NAMES = {
    "composite": "Composite",
    "background": "Background only",
    "character": "Character only",
}


class _Job(QObject):
    progress = Signal(int, int)
    done = Signal(str, str)  # path or "", error or ""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = False


class ExportDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.s = session
        self.job: _Job | None = None
        self.written: Path | None = None
        p = session.project
        size = session.render.director.size
        self.format = QComboBox(self)
        for key, name in FORMAT_NAMES.items():
            self.format.addItem(name, key)
        self.path = QLineEdit(str(p.root.parent / f"{p.name}.mp4"), self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.range = QComboBox(self)
        self.range.addItem(f"Whole timeline ({p.timeline.frame_count} frames)", None)
        if p.range is not None:
            self.range.addItem(f"In/out range (frames {p.range[0] + 1}–{p.range[1] + 1})", p.range)
            self.range.setCurrentIndex(1)
        self.fps = QDoubleSpinBox(self, minimum=1, maximum=120, decimals=2, value=p.fps)
        self.scale = QDoubleSpinBox(
            self,
            minimum=0.25,
            maximum=16,
            singleStep=1,
            decimals=2,
            value=max(1.0, 256 / size),
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
        self.cancel_button = QPushButton("Cancel Export", self, enabled=False)
        self.show_button = QPushButton("Show in Folder", self, enabled=False)
        close = QPushButton("Close", self)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.show_button.clicked.connect(
            lambda: parent.show_in_folder(self.written) if parent else None
        )
        close.clicked.connect(self.close)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        scale_row = QHBoxLayout()
        scale_row.addWidget(self.scale)
        scale_row.addWidget(self.size_note, 1)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", path_row)
        form.addRow("Frames", self.range)
        form.addRow("Frame rate", self.fps)
        form.addRow("Scale", scale_row)
        form.addRow("Scaling", self.filter)
        form.addRow("Quality (1–10)", self.quality)
        form.addRow("Show", self.layer)
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
        return ExportSettings(
            format=self.format.currentData(),
            range=self.range.currentData(),
            fps=self.fps.value(),
            scale=self.scale.value(),
            filter=self.filter.currentData(),
            quality=self.quality.value(),
            loop=self.loop.isChecked(),
            alpha=self.alpha.isChecked(),
            layer=self.layer.currentData(),
        )

    def check(self) -> list[str]:
        """Explain what stops this export, before it starts."""
        s = self.settings()
        size = self.s.render.director.size
        problems = s.problems(self.s.timeline.frame_count, size)
        out = Path(self.path.text().strip()) if self.path.text().strip() else None
        if out is None:
            problems.append("choose a file name")
        elif not out.parent.is_dir():
            problems.append(f"folder {out.parent} does not exist")
        side = s.padded_size(size)
        self.size_note.setText(f"{side} × {side} pixels")
        self.problems.setText("\n".join(f"• {p[0].upper()}{p[1:]}" for p in problems))
        self.export_button.setEnabled(not problems and self.job is None)
        return problems

    def _format_changed(self) -> None:
        fmt = self.format.currentData()
        path = Path(self.path.text().strip() or "export")
        stem = path.with_suffix("") if path.suffix else path
        self.path.setText(str(stem.with_name(stem.name + SUFFIXES[fmt])))
        self.check()

    def _browse(self) -> None:
        if self.format.currentData() == "png":
            path = QFileDialog.getExistingDirectory(self, "Export PNG Sequence to Folder")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export", self.path.text())
        if path:
            self.path.setText(path)

    # -- the worker --------------------------------------------------------------------------------
    def start(self) -> None:
        if self.check():
            return
        settings, out = self.settings(), Path(self.path.text().strip())
        job = _Job()
        job.progress.connect(
            lambda done, total: (self.bar.setMaximum(total), self.bar.setValue(done))
        )
        job.done.connect(self._done)
        self.job = job
        self.form_box.setEnabled(False)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_button.setEnabled(False)
        self.status.setText(f"Exporting to {out}…")
        director = self.s.render.director

        def run() -> None:
            try:
                path = export(
                    director,
                    out,
                    settings,
                    progress=job.progress.emit,
                    cancel=lambda: job.cancelled,
                )
                job.done.emit(str(path), "")
            except Cancelled:
                job.done.emit("", "cancelled")
            except UserError as e:
                job.done.emit("", str(e))
            except Exception as e:  # a bug: one line for the user, the traceback on stderr
                import traceback

                traceback.print_exc()
                job.done.emit("", f"internal error: {type(e).__name__}: {e}")

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancelled = True
            self.status.setText("Cancelling…")

    @property
    def running(self) -> bool:
        return self.job is not None

    def _done(self, path: str, error: str) -> None:
        self.job = None
        self.form_box.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if path:
            self.written = Path(path)
            size = (
                sum(f.stat().st_size for f in self.written.rglob("*"))
                if self.written.is_dir()
                else self.written.stat().st_size
            )
            self.status.setText(f"Wrote {path} ({size / 1024:.0f} KB).")
            self.show_button.setEnabled(True)
        elif error == "cancelled":
            self.status.setText("Cancelled: nothing was written.")
        else:
            self.status.setText(f"<span style='color:#e66'>Export failed: {error}</span>")
        self.check()

    def closeEvent(self, e) -> None:  # noqa: N802
        if self.job is not None:
            self.job.cancelled = True
            self._thread.join(timeout=30)
        super().closeEvent(e)
