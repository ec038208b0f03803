"""Model → Train on Clips…: runs ``python -m engine.train --progress json`` as a child process
(QProcess) and shows its progress, ETA, a live loss plot and the newest sample grid.

Cancel sends SIGTERM: the trainer saves a checkpoint and exits 0 (docs/TRAINING.md), so the
model trained so far can still be used. The run folder is in the user data dir (runs/); "Use
this model" copies its model.safetensors into the project (an undoable edit)."""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPointF, QProcess, QProcessEnvironment, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.assets import ROOT
from engine.progress import format_duration
from studio import settings
from studio.jobs import Job
from studio.session import Session

SIZES = (32, 48, 64, 96, 128)
MATTE_CLIPS = 8
"""Clips whose mattes the dialog compares after training, at most (the first of the project)."""
DEVICES = {
    "auto": "Automatic (GPU if there is one)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}


class LossPlot(QWidget):
    """Scene loss (log scale) against training step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[int, float]] = []
        self.setMinimumSize(320, 140)

    def add(self, step: int, loss: float) -> None:
        if loss > 0 and math.isfinite(loss):
            self.points.append((step, math.log10(loss)))
            self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(28, 28, 32))
        p.setPen(QColor(170, 170, 180))
        p.drawText(6, 14, "scene loss (log) by step")
        if len(self.points) >= 2:
            steps = [s for s, _ in self.points]
            values = [v for _, v in self.points]
            x0, x1 = min(steps), max(steps) or 1
            lo, hi = min(values), max(values)
            hi = hi if hi > lo else lo + 1
            w, h, m = self.width(), self.height(), 20

            def at(step: int, value: float) -> QPointF:
                x = m + (step - x0) / max(x1 - x0, 1) * (w - 2 * m)
                return QPointF(x, m + (hi - value) / (hi - lo) * (h - 2 * m))

            p.setPen(QPen(QColor(110, 180, 255), 2))
            p.drawPolyline(QPolygonF([at(s, v) for s, v in self.points]))
            p.setPen(QColor(170, 170, 180))
            p.drawText(6, h - 4, f"{10 ** values[-1]:.5f} at step {steps[-1]}")
        p.end()


class SampleView(QLabel):
    """The newest sample grid, scaled to fit; a click shows it large, with crisp pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = QPixmap()
        self.step: int | None = None
        self.enlarged: QDialog | None = None
        self.setMinimumHeight(200)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def show_grid(self, path: str, step: int | None) -> bool:
        pixmap = QPixmap(path)
        if pixmap.isNull():
            return False
        self.full, self.step = pixmap, step
        self.setToolTip(f"Samples at step {step}: click to enlarge")
        self._fit()
        if self.enlarged is not None and self.enlarged.isVisible():
            self.enlarge()  # an open large view follows the run
        return True

    def _fit(self) -> None:
        if not self.full.isNull():
            keep = Qt.AspectRatioMode.KeepAspectRatio
            smooth = Qt.TransformationMode.SmoothTransformation
            self.setPixmap(self.full.scaled(self.size(), keep, smooth))

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._fit()

    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton and not self.full.isNull():
            self.enlarge()

    def enlarge(self) -> None:
        """The grid at the largest whole-number zoom that fits nine tenths of the screen."""
        if self.enlarged is None:
            self.enlarged = QDialog(self.window())
            self.enlarged.big = QLabel(self.enlarged)
            QVBoxLayout(self.enlarged).addWidget(self.enlarged.big)
        room = self.screen().availableGeometry().size() * 0.9
        full = self.full.size()
        zoom = max(1, min(room.width() // full.width(), room.height() // full.height()))
        self.enlarged.setWindowTitle(f"Samples at step {self.step}")
        fast = Qt.TransformationMode.FastTransformation
        self.enlarged.big.setPixmap(self.full.scaled(full * zoom, mode=fast))
        self.enlarged.adjustSize()
        self.enlarged.show()
        self.enlarged.raise_()


class TrainDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on Clips")
        self.s = session
        self.process: QProcess | None = None
        self.run_dir: Path | None = None
        self.model_path: str | None = None
        self.final: dict | None = None
        self.events: list[dict] = []
        self._buffer = b""
        self._stderr = b""

        self.clips = QListWidget(self)
        for clip in session.project.clips.values():
            item = QListWidgetItem(f"{clip.name}  ({clip.frames} frames)")
            item.setData(Qt.ItemDataRole.UserRole, clip.id)
            item.setCheckState(Qt.CheckState.Checked)
            self.clips.addItem(item)
        self.clips.setMaximumHeight(150)  # room for the samples; the list scrolls
        self.image_size = QComboBox(self)
        current = session.model_info.get("image_size", 64)
        for size in sorted(set(SIZES) | {current}):
            self.image_size.addItem(f"{size} × {size}", size)
        self.image_size.setCurrentIndex(self.image_size.findData(current))
        self.by_steps = QRadioButton("Steps", self, checked=True)
        self.steps = QSpinBox(self, minimum=1, maximum=10_000_000, value=500, singleStep=100)
        self.by_time = QRadioButton("Time budget", self)
        self.minutes = QDoubleSpinBox(self, minimum=0.1, maximum=100_000, value=10, suffix=" min")
        self.device = QComboBox(self)
        for key, text in DEVICES.items():
            self.device.addItem(text, key)
        self.start_from = QCheckBox(
            "Start from the current model (much faster to learn new clips)", self, checked=True
        )
        self.extra = QLineEdit(self, placeholderText="e.g. --batch-size 16 --lr 5e-4")
        self.extra.setToolTip("More python -m engine.train arguments (docs/TRAINING.md)")

        form = QFormLayout()
        length = QHBoxLayout()
        for w in (self.by_steps, self.steps, self.by_time, self.minutes):
            length.addWidget(w)
        form.addRow("Clips", self.clips)
        form.addRow("Image size", self.image_size)
        form.addRow("Length", length)
        form.addRow("Device", self.device)
        form.addRow("", self.start_from)
        form.addRow("Advanced", self.extra)
        self.settings_box = QWidget(self)
        self.settings_box.setLayout(form)

        self.bar = QProgressBar(self, minimum=0, maximum=1000)
        self.status = QLabel("Choose clips and press Start.", self)
        self.status.setWordWrap(True)
        self.mattes = QLabel(self)
        """After training: the new model's mattes against the current one's, clip by clip."""
        self.mattes.setWordWrap(True)
        self.compare_job: Job | None = None
        self.plot = LossPlot(self)
        self.sample = SampleView(self)
        self.start_button = QPushButton("Start", self)
        self.cancel_button = QPushButton("Cancel Training", self, enabled=False)
        self.use_button = QPushButton("Use This Model", self, enabled=False)
        self.close_button = QPushButton("Close", self)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.use_model)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings_box)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.mattes)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.sample, 3)
        layout.addLayout(buttons)
        self.resize(720, 860)

    # -- the child process -------------------------------------------------------------------------
    def arguments(self) -> list[str]:
        p = self.s.project
        ids = [
            self.clips.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.clips.count())
            if self.clips.item(i).checkState() == Qt.CheckState.Checked
        ]
        if not ids:
            raise ValueError("choose at least one clip")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = settings.runs_dir() / f"{p.name}-{stamp}"
        n = 2
        while self.run_dir.exists():
            self.run_dir = settings.runs_dir() / f"{p.name}-{stamp}-{n}"
            n += 1
        args = [
            "-m",
            "engine.train",
            "--data",
            *[str(p.clip_path(c)) for c in ids],
            "--out",
            str(self.run_dir),
            "--progress",
            "json",
            "--image-size",
            str(self.image_size.currentData()),
            "--device",
            self.device.currentData(),
        ]
        if self.by_steps.isChecked():
            args += ["--steps", str(self.steps.value())]
        else:
            args += ["--steps", "0", "--time-budget", f"{self.minutes.value():g}"]
        if self.start_from.isChecked() and self.s.model_info.get("path"):
            args += ["--init", self.s.model_info["path"]]
        try:
            args += shlex.split(self.extra.text())
        except ValueError as e:
            raise ValueError(f"advanced arguments: {e}") from None
        return args

    def start(self) -> None:
        try:
            args = self.arguments()
        except ValueError as e:
            self.status.setText(f"<span style='color:#e66'>Cannot start: {e}</span>")
            return
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        self.events.clear()
        self.plot.points.clear()
        self.final = self.model_path = None
        self._buffer = self._stderr = b""
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        proc.setWorkingDirectory(str(ROOT))
        proc.readyReadStandardOutput.connect(self._read)
        proc.readyReadStandardError.connect(
            lambda: setattr(
                self, "_stderr", (self._stderr + proc.readAllStandardError().data())[-8000:]
            )
        )
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._process_error)
        self.process = proc
        self.settings_box.setEnabled(False)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.bar.setValue(0)
        self.status.setText("Starting: reading the clips…")
        proc.start(sys.executable, args)

    def _read(self) -> None:
        self._buffer += self.process.readAllStandardOutput().data()
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            self._event(event)

    def _event(self, e: dict) -> None:
        kind = e.get("event")
        if kind == "prepare":  # a stage of its own, with its own progress on the bar
            frames = f" · frame {e['frame']}" + (f" of {e['frames']}" if e.get("frames") else "")
            self.status.setText(
                f"Preparing clips {e['index']}/{e['count']}: {Path(e['path']).name}"
                + (frames if e.get("frame") else "")
            )
            self.bar.setValue(int(1000 * (e.get("fraction") or 0)))
        elif kind == "start":
            self.status.setText(
                f"Training on {e.get('device')} ({e.get('precision')}), "
                f"{e.get('parameters', 0) / 1e6:.2f}M parameters"
            )
        elif kind == "progress":
            self.bar.setValue(int(1000 * (e.get("fraction") or 0)))
            total = e.get("total_steps")
            steps = f"step {e['step']}/{total}" if total else f"step {e['step']}"
            self.status.setText(
                f"{steps} · scene loss {e.get('scene', float('nan')):.5f} · "
                f"{e.get('pairs_per_s', 0):.0f} pairs/s · ETA "
                f"{format_duration(e.get('eta_s'))}"
            )
            self.plot.add(e["step"], e.get("scene", float("nan")))
        elif kind == "sample":
            self.sample.show_grid(e["path"], e.get("step"))
        elif kind == "checkpoint":
            self.model_path = e.get("model") or self.model_path
        elif kind == "done":
            self.final = e
            self.model_path = e.get("model") or self.model_path
        elif kind == "error":
            self.status.setText(
                f"<span style='color:#e66'>Training failed: {e.get('message')}</span>"
            )
        elif kind == "warning":
            self.s.message.emit("Training", e.get("message", ""))

    def _finished(self, code: int, status) -> None:
        self._read()
        self.process = None
        self.settings_box.setEnabled(True)
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.final is not None:
            self.bar.setValue(
                1000 if self.final.get("reason") != "interrupted" else self.bar.value()
            )
            reason = {
                "finished": "Finished",
                "time_budget": "Time budget reached",
                "interrupted": "Cancelled — the model so far is kept",
            }.get(self.final.get("reason"), "Done")
            self.status.setText(
                f"{reason} at step {self.final.get('step')} after "
                f"{format_duration(self.final.get('elapsed_s'))}."
            )
        elif not any(ev.get("event") == "error" for ev in self.events):
            last = self._stderr.decode(errors="replace").strip().splitlines()[-1:] or [
                f"exit {code}"
            ]
            self.status.setText(f"<span style='color:#e66'>Training stopped: {last[0]}</span>")
        self.use_button.setEnabled(bool(self.model_path and Path(self.model_path).is_file()))
        if self.use_button.isEnabled():
            self.compare_mattes()

    def compare_mattes(self) -> None:
        """The new model's mattes against the current one's on the project's clips (a worker):
        how much of what clearly moves in each clip each model's matte covers. A model leads a
        clip's cut-out only where it covers TRUST_RECALL of it; elsewhere the clip's own
        cut-out is used (engine.frames.layers)."""
        project, new = self.s.project, self.model_path
        clips = list(project.clips.values())[:MATTE_CLIPS]
        current = self.s.engine.model_path
        if current is None:
            return  # (no model loaded yet: nothing to compare against)
        self.mattes.setText("Comparing the new model's mattes with the current one's…")

        def work(job: Job) -> list:
            from engine import checkpoint
            from engine.data.cache import FrameCache
            from engine.frames.layers import matte_scores

            models = [checkpoint.load(current, "cpu")[0], checkpoint.load(new, "cpu")[0]]
            paths = [project.clip_path(c.id) for c in clips]
            return matte_scores(models, paths, FrameCache(), cancel=job.is_cancelled)

        def shown(rows: list) -> None:
            from engine.frames.layers import TRUST_RECALL

            lines = "".join(f"<br>{c.name}: {a:.0%} now, {b:.0%} with the new model"
                            f"{' ✓' if b >= TRUST_RECALL else ''}"
                            for c, (a, b) in zip(clips, rows, strict=True))  # fmt: skip
            worse = [c.name for c, (a, b) in zip(clips, rows, strict=True) if b < a]
            self.mattes.setToolTip(
                "How much of what clearly moves in each clip each model's matte covers. A "
                f"model leads a clip's cut-out at {TRUST_RECALL:.0%} or more (✓); elsewhere "
                "the clip's own cut-out is used, so no clip is cut worse than by itself.")
            self.mattes.setText(
                "<b>Mattes</b>: how much of what moves each model covers (✓: it leads that "
                f"clip's cut-out){lines}<br>"
                + (f"The new model covers less than the current one in {', '.join(worse)}."
                   if worse else "The new model covers as much or more in every clip."))

        job = self.compare_job = Job(work, name="mattes")
        job.succeeded.connect(shown)
        job.failed.connect(lambda text: self.mattes.setText(f"Mattes not compared: {text}"))
        job.start()

    def _process_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.status.setText(f"<span style='color:#e66'>Cannot start {sys.executable}</span>")
            self._finished(-1, None)

    def cancel(self) -> None:
        if self.process is not None:
            self.status.setText("Cancelling: saving a checkpoint…")
            self.cancel_button.setEnabled(False)
            self.process.terminate()

    @property
    def running(self) -> bool:
        return self.process is not None

    def use_model(self) -> None:
        if self.model_path and self.s.set_model(self.model_path):
            self.status.setText(
                f"The project now uses {Path(self.model_path).name} "
                "(copied into its models/ folder)."
            )
            self.use_button.setEnabled(False)

    def closeEvent(self, e) -> None:
        if self.compare_job is not None and self.compare_job.running:
            self.compare_job.cancel()
            self.compare_job.wait(30)
        if self.sample.enlarged is not None:  # its own window: it goes with this one
            self.sample.enlarged.close()
        if self.process is not None:
            self.process.terminate()
            if not self.process.waitForFinished(15000):
                self.process.kill()
                self.process.waitForFinished(2000)
        super().closeEvent(e)
