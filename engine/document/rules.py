"""What a project may hold: its limits and the checks of its project-wide settings, one set of
rules for the edits (engine.document.project) and the loader (engine.document.files), so that
nothing is saved that the loader would not read back. The limits are PROJECT_FORMAT.md's
("Limits"): far beyond any film, small enough that every view and render stays responsive and
every number fits the widgets' 32-bit integers."""

from __future__ import annotations

import math
from typing import Any

from engine.errors import UserError

SCHEMA_VERSION = 9
MAX_OUTPUT_SIDE = 4096
MAX_HOLD = 12
MAX_SPEED = 16.0
FPS_RANGE = (1.0, 120.0)
MAX_EXTEND = 10_000
"""Frames a motion can be extended by (engine.frames.predictor)."""
MAX_PATH_KEYS = 1_000
MAX_STROKES = 1_000
"""Brush strokes on one clip."""
MAX_STROKE_POINTS = 10_000
MAX_BRUSH = 256
"""A brush's radius, pixels."""
MAX_PICKS = 256
"""Subjects one shot may pick of its character's clip."""
MAX_SUBJECT = 65_535
"""The highest subject number a clip's analysis gives (engine.frames.cutout.SubjectTracker)."""
MAX_SHOT_FRAMES = 1_000_000
"""One shot: 11.5 hours at 24 fps."""
MAX_TIMELINE_FRAMES = 10_000_000
"""The whole timeline: 115 hours at 24 fps."""
MAX_SHOTS = 100_000
MAX_CLIPS = 10_000
MAX_CLIP_FRAMES = 10_000_000
MAX_CLIP_SIDE = 65_536
MAX_TEXT = 1_000
"""Characters in a name or an id."""
MAX_SOUND_OFFSET = 24 * 3600.0
MAX_SOUND_SECONDS = 12 * 3600.0
"""The longest soundtrack (engine.audio.MAX_SECONDS): a length beyond it is no sound's."""
PREDICTOR_FILE = "models/motion-predictor.safetensors"
"""Where a project keeps its motion predictor (engine.frames.predictor), trained on its clips."""
RENDER_MODES = ("pixels", "model")
"""``pixels``: the footage's own pixels, cut out and moved by the learned motion (sharp, at the
clip's resolution); ``model``: every frame decoded by g (soft, but it can change a pose)."""


class ProjectError(UserError):
    """A project folder or file that cannot be used; the message names the file and the reason."""


def check_text(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    """A name, id or path the project may hold: text of at most ``limit`` characters that UTF-8
    can write (a lone surrogate — a file name's undecodable byte — cannot be saved). The edits
    refuse anything else, so nothing is saved that the loader would not read back."""
    if not isinstance(value, str):
        raise ProjectError(f"{what} must be text (got {value!r:.40})")
    if len(value) > limit:
        raise ProjectError(f"{what} is {len(value):,} characters long; at most {limit:,}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProjectError(f"{what} {value!r:.60} holds a character that is not text (an "
                               "undecodable byte of a file name?)") from None  # fmt: skip
    return value


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectError(f"{what} must be a whole number (got {value!r})")
    return value


def check_mode(mode: Any) -> str:
    if mode not in RENDER_MODES:
        raise ProjectError(f"render mode {mode!r} is not one of {', '.join(RENDER_MODES)}")
    return mode


def check_size(size: Any) -> tuple[int, int]:
    ok = isinstance(size, (list, tuple)) and len(size) == 2
    if ok:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    if not ok or not all(16 <= v <= MAX_OUTPUT_SIDE and v % 2 == 0 for v in size):
        raise ProjectError(
            f"output size {size!r} must be two even numbers of pixels, 16…{MAX_OUTPUT_SIDE}"
        )
    return int(size[0]), int(size[1])


def check_fps(fps: Any) -> float:
    lo, hi = FPS_RANGE
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not lo <= fps <= hi:
        raise ProjectError(f"fps must be a number from {lo:g} to {hi:g} (got {fps!r})")
    return float(fps)


def check_range(rng: Any) -> tuple[int, int]:
    if (
        not isinstance(rng, (list, tuple))
        or len(rng) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in rng)
    ):
        raise ProjectError(f"range must be two frame numbers (got {rng!r})")
    first, last = rng
    if not 0 <= first <= last < MAX_TIMELINE_FRAMES:
        raise ProjectError(f"range {first}…{last}: needs 0 ≤ first ≤ last < "
                           f"{MAX_TIMELINE_FRAMES:,}")  # fmt: skip
    return first, last
