"""A training run's folder (``--out``): what is in it, and what a fresh start, a restart or a
resume may do with it. The trainer writes through it; nothing else needs to know the layout
(docs/TRAINING.md, "The run folder")."""

from __future__ import annotations

import os
from pathlib import Path

from engine.fileio import parse_json


class RunDir:
    """A training run's folder: config.json, checkpoints/, model.safetensors, metrics.jsonl and
    samples/. A run that never reached its first checkpoint (killed, a full disk) holds nothing
    worth keeping, so it may start again; one with a checkpoint or a model is never overwritten."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.config = self.path / "config.json"
        self.checkpoints = self.path / "checkpoints"
        self.model = self.path / "model.safetensors"
        self.metrics = self.path / "metrics.jsonl"
        self.samples = self.path / "samples"

    def checkpoint_files(self) -> list[Path]:
        return sorted(self.checkpoints.glob("step_*.safetensors"))

    def latest_checkpoint(self) -> Path | None:
        found = self.checkpoint_files()
        return found[-1] if found else None

    @property
    def has_run(self) -> bool:
        return self.config.exists()

    @property
    def has_results(self) -> bool:
        """A checkpoint or a model: work that a fresh start would destroy."""
        return self.model.exists() or bool(self.checkpoint_files())

    def saved_run_id(self) -> str | None:
        try:
            doc = parse_json(self.config.read_text())
        except (OSError, ValueError):
            return None
        return doc.get("run_id") if isinstance(doc, dict) else None

    def clean_temporaries(self) -> list[Path]:
        """Half-written files of a killed run (atomic writes' ``.NAME.*.tmp``)."""
        found = [p for d in (self.path, self.checkpoints) if d.is_dir() for p in d.glob(".*.tmp")]
        for p in found:
            p.unlink(missing_ok=True)
        return found

    def forget_unsaved(self) -> None:
        """Start over: drop the metrics and samples of a run that saved no checkpoint."""
        self.metrics.unlink(missing_ok=True)
        for p in self.samples.glob("step_*.png") if self.samples.is_dir() else []:
            p.unlink(missing_ok=True)
