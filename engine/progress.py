"""Progress reporting shared by the CLI and the studio: one event stream, three renderings —
and the one protocol every long engine call takes: ``progress(done, total)`` after each step,
``cancel()`` asked between steps (true: the call raises engine.errors.Cancelled).

``--progress json`` prints exactly one JSON object per stdout line (the protocol of
docs/TRAINING.md); ``bar`` draws a progress bar on stderr for people; ``none`` stays quiet.
Warnings and errors always reach stderr as one-line messages in the non-JSON modes.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

MODES = ("bar", "json", "none")
Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each step of a long call."""
Cancel = Callable[[], bool]
"""``cancel()``: asked between steps; true stops the call with engine.errors.Cancelled."""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def bar(fraction: float, width: int = 24) -> str:
    """``[#####.......]``: a text progress bar."""
    filled = int(round(min(max(fraction, 0.0), 1.0) * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


class Reporter:
    def __init__(self, mode: str = "bar", out: TextIO | None = None, err: TextIO | None = None):
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}")
        self.mode = mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._bar_open = False
        self._status = ""
        self._last_bar = 0.0

    def emit(self, event: str, **fields: Any) -> None:
        if self.mode == "json":
            line = json.dumps({"event": event, **_clean(fields)}, allow_nan=False)
            self.out.write(line + "\n")
            self.out.flush()
            return
        if event == "progress" and self.mode == "bar":
            self._bar(fields)
        elif event == "prepare" and self.mode == "bar":
            name = fields.get("path", "").rsplit("/", 1)[-1]
            self._status = f"preparing clips {fields['index']}/{fields['count']}: {name[:40]}"
            self.err.write(f"\r{self._status}")
            self.err.flush()
        elif event in ("warning", "error"):
            self._line(f"{event}: {fields.get('message', '')}")
        elif self.mode == "bar" and event in ("checkpoint", "done", "start"):
            self._line(self._describe(event, fields))

    def _describe(self, event: str, f: dict) -> str:
        if event == "start":
            return (
                f"training on {f.get('data')}: {f.get('device')} / {f.get('precision')}, "
                f"{f.get('parameters', 0) / 1e6:.2f}M parameters → {f.get('run_dir')}"
            )
        if event == "checkpoint":
            return f"checkpoint at step {f.get('step')}: {f.get('path')}"
        return (
            f"done ({f.get('reason')}) at step {f.get('step')} after "
            f"{format_duration(f.get('elapsed_s'))}: {f.get('model')}"
        )

    def _wipe_status(self) -> None:
        """A passing status line ("preparing clips …") is wiped, not kept."""
        if self._status:
            self.err.write("\r" + " " * len(self._status) + "\r")
            self._status = ""

    def _line(self, text: str) -> None:
        self._wipe_status()
        if self._bar_open:
            self.err.write("\n")
            self._bar_open = False
        self.err.write(text + "\n")
        self.err.flush()

    def _bar(self, f: dict) -> None:
        self._wipe_status()
        now = time.monotonic()
        total = f.get("total_steps")
        if now - self._last_bar < 0.2 and f.get("step") != total:
            return
        self._last_bar = now
        frac = f.get("fraction") or 0.0
        steps = f"{f['step']}/{total}" if total else str(f["step"])
        self.err.write(
            f"\r{bar(frac)} {frac * 100:5.1f}% step {steps}"
            f"  scene {f.get('scene', float('nan')):.5f}"
            f"  {f.get('pairs_per_s', 0):.0f} pairs/s  ETA {format_duration(f.get('eta_s'))} "
        )
        self.err.flush()
        self._bar_open = True

    def close(self) -> None:
        self._wipe_status()
        if self._bar_open:
            self.err.write("\n")
            self.err.flush()
            self._bar_open = False


class Bar:
    """A command's progress bar on stderr, one line redrawn at most five times a second:
    ``[####....] done/total UNIT  rate  ETA`` — a render's frames, the demo kit's clips. A
    :data:`Progress` callback."""

    def __init__(self, enabled: bool = True, unit: str = "frames") -> None:
        self.enabled, self.unit = enabled, unit
        self.rate = "fps" if unit == "frames" else f"{unit}/s"
        self.start = time.monotonic()
        self.last = 0.0
        self.open = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and done != total):
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / done * (total - done) if done else None
        sys.stderr.write(
            f"\r{bar(done / total)} {done}/{total} {self.unit}  "
            f"{done / max(elapsed, 1e-9):.0f} {self.rate}  ETA {format_duration(eta)} "
        )
        sys.stderr.flush()
        self.open = True

    def layers(self, clip: str, done: int, total: int) -> None:
        """Progress of a clip's layers being analysed (first render with a new clip or model)."""
        if self.enabled:
            sys.stderr.write(f"\ranalysing {clip}: {bar(done / max(total, 1))} ")
            sys.stderr.flush()
            self.open = True
            if done >= total:
                self.close()

    def close(self) -> None:
        if self.open:
            sys.stderr.write("\n")
            self.open = False
