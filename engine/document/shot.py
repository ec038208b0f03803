"""The pieces of a project — Clip, Soundtrack, Shot and its references — and **the field table**
(:data:`FIELDS`): every field of a shot declared once, with its type and range, its name in
project.json, its default, the word users see, whether changing it undoes a fit to beats, and
how it bears on a frame's pixels. The edits' checks, the JSON reader and writer, the undo of a
beat fit, the studio's labels and the frame key all read the table, so a field cannot be
declared in one place and forgotten in another (tests/test_document.py checks the table against
the Shot and the writer). No files, no Qt, no tensors.

Length: the Shot, its references and the field table with the kinds of value it uses — one
declaration, read together.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import uuid
from dataclasses import dataclass
from typing import Any

from engine.document.rules import (
    MAX_BRUSH,
    MAX_EXTEND,
    MAX_HOLD,
    MAX_PATH_KEYS,
    MAX_PICKS,
    MAX_SHOT_FRAMES,
    MAX_SOUND_OFFSET,
    MAX_SOUND_SECONDS,
    MAX_SPEED,
    MAX_STROKE_POINTS,
    MAX_SUBJECT,
    MAX_TIMELINE_FRAMES,
    RENDER_MODES,
    ProjectError,
    check_int,
    check_text,
    is_number,
)

LOOP_MODES = ("once", "loop", "pingpong", "endless")
"""``endless``: the motion's frames as a random walk over the jumps between frames that look
alike, for as long as the shot lasts (engine.frames.motion)."""
EDGES = ("turn", "wrap", "stay")
"""What a character carried across the frame by an endless walk does at its edge: turns back,
wraps round to the other side, or stays inside (walks on the spot)."""
EASES = ("linear", "ease")
POSE_MODES = ("cycle", "match", "rigid")
SIZE_MODES = ("set", "fixed")
"""A character moved by another clip's motion (a transfer, engine.frames.transfer): its size
where the path takes it, from the new ``set``'s perspective (learnt from the subjects its clip
shows), or ``fixed`` (as shot)."""
TURN_MODES = ("upright", "follow")
"""A transfer's character stays ``upright``, or ``follow``s the turns of the motion's subject
(a spinning ball, a somersault)."""
SHADOW_MODES = ("drop", "soft", "keep")
FRONT_MODES = ("keep", "drop")
"""What the character's own set had in front of it (a sign it passed behind; pixels mode):
``keep`` lays it over the character on the new set, as it hid the character in its own;
``drop`` leaves it out (the character shows the hole it left)."""
"""A character's cast shadow on the new set (pixels mode): ``drop`` it; ``soft``, laid on the
new set as a darkening of its own shape and depth; ``keep``, the old set's shadowed pixels
travelling with the character (docs/LAYERS.md)."""
"""A character moved by another clip's motion (a transfer; pixels mode), its steps: ``cycle``
plays the character's own frames in order (its walk cycle, found by the video texture's graph)
at the pace the motion's path goes, held when it stops; ``match`` shows, for each motion frame,
the character's own frame whose pose is closest, in time order; ``rigid`` holds the character
frame (engine.frames.transfer)."""


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


# -- the pieces ------------------------------------------------------------------------------------
@dataclass
class Clip:
    """An imported clip: a video, a folder of numbered frames, or a still image (one frame).
    ``strokes``: the user's brush strokes correcting its cut-out (engine.frames.cutout)."""

    id: str
    name: str
    source: str  # relative to the project folder, inside media/
    kind: str  # "video", "frames" or "image"
    frames: int
    fps: float
    width: int
    height: int
    strokes: tuple[Stroke, ...] = ()
    plate: FrameRef | None = None
    """The empty set this clip was shot on, marked by the user ("Use as Clean Plate"): a frame
    of a clip of its size (``frame`` -1: that clip's median), in place of the plate its
    analysis would estimate."""

    def stroke_problems(self) -> list[str]:
        """Why each of its strokes that no longer fits it does not (the clip changed)."""
        return [p for s in self.strokes if (p := s.problem(self))]


@dataclass(frozen=True)
class Stroke:
    """A brush stroke on a clip's frame ``frame``, drawn when the clip was ``size`` (w, h):
    ``add`` (this is the subject) or not (this is the set), a line through ``points`` (x, y in
    the clip's pixels) ``radius`` pixels wide on either side; one point is a dab."""

    frame: int
    add: bool
    radius: float
    points: tuple[tuple[float, float], ...]
    size: tuple[int, int]

    def problem(self, clip: Clip) -> str | None:
        """Why this stroke does not fit ``clip`` (as it is now), or None."""
        if self.size != (clip.width, clip.height):
            return (f"a stroke drawn on clip {clip.name!r} at {self.size[0]}×{self.size[1]}: "
                    f"the clip is {clip.width}×{clip.height} now")  # fmt: skip
        if not 0 <= self.frame < clip.frames:
            return (f"a stroke on frame {self.frame} of clip {clip.name!r}: the clip has "
                    f"{clip.frames} frames now")  # fmt: skip
        return None

    def check(self) -> None:
        """Its own values within range (a ProjectError saying which is not)."""
        w, h = self.size
        ok = isinstance(self.frame, int) and isinstance(self.add, bool) \
            and is_number(self.radius) and 0.5 <= self.radius <= MAX_BRUSH \
            and 1 <= len(self.points) <= MAX_STROKE_POINTS \
            and all(len(p) == 2 and all(is_number(v) and -w <= v <= 2 * max(w, h) for v in p)
                    for p in self.points)  # fmt: skip
        if not ok:
            raise ProjectError(f"a brush stroke is not valid (a radius of 0.5…{MAX_BRUSH}, 1…"
                               f"{MAX_STROKE_POINTS:,} points near the frame)")  # fmt: skip


@dataclass(frozen=True)
class Soundtrack:
    """The project's sound: a file in media/ (any format ffmpeg reads), placed on the timeline
    so that its start plays ``offset`` seconds after the timeline's first frame (negative:
    the timeline starts that far into the sound). ``seconds``: the sound's length."""

    source: str
    name: str
    seconds: float
    offset: float = 0.0


@dataclass(frozen=True)
class Offline:
    """A part of a project whose file cannot be used now (``Project.offline``): ``what``
    is "clip" (``id`` its id), "soundtrack" or "model"; ``source`` the path project.json
    names; ``why`` in a few words."""

    what: str
    id: str | None
    name: str
    source: str
    why: str

    def __str__(self) -> str:
        return f"{self.what} {self.name!r} ({self.source}): {self.why}"


@dataclass
class FrameRef:
    clip: str
    frame: int = 0


@dataclass
class MotionRef:
    """Frames ``start`` … ``end`` (inclusive) of a clip; ``end < start`` plays it backwards.
    JSON keys "in" and "out"."""

    clip: str
    start: int = 0
    end: int = 0

    @property
    def length(self) -> int:
        return abs(self.end - self.start) + 1


@dataclass(frozen=True)
class Key:
    """A motion-path keyframe at a shot's local ``frame``: the character moved by (x, y)
    (fractions of the output's width and height), turned by ``angle`` degrees (clockwise on
    screen) and scaled by ``scale`` about its own centre; ``ease`` "ease" slows the motion in and
    out of this key. JSON: an object with these keys."""

    frame: int
    x: float = 0.0
    y: float = 0.0
    angle: float = 0.0
    scale: float = 1.0
    ease: str = "linear"


def with_key(path: tuple[Key, ...], key: Key) -> tuple[Key, ...]:
    """The path with ``key`` added, or replacing the key at its frame; in frame order."""
    return tuple(sorted([k for k in path if k.frame != key.frame] + [key], key=lambda k: k.frame))


def without_key(path: tuple[Key, ...], frame: int) -> tuple[Key, ...]:
    return tuple(k for k in path if k.frame != frame)


def fold(u: int, n: int, mode: str) -> int:
    """Step ``u`` (0, 1, 2 …) of something ``n`` long, played ``once`` (held at the end),
    ``loop`` (wrapped) or ``pingpong`` (there and back): a shot's motion, the viewer's playback."""
    if mode == "loop":
        return u % n
    if mode == "pingpong":
        if n == 1:
            return 0
        p = u % (2 * n - 2)
        return p if p < n else 2 * n - 2 - p
    return min(u, n - 1)


def check_clip_text(clip: Clip) -> None:
    check_text(clip.id, "a clip's id")
    check_text(clip.name, "a clip's name")
    check_text(clip.source, "a clip's file", limit=4096)


def check_sound(sound: Soundtrack) -> Soundtrack:
    check_text(sound.name, "the soundtrack's name")
    check_text(sound.source, "the soundtrack's file", limit=4096)
    ok = all(is_number(v) for v in (sound.seconds, sound.offset))
    if not ok or not 0 < sound.seconds <= MAX_SOUND_SECONDS or \
            abs(sound.offset) > MAX_SOUND_OFFSET:  # fmt: skip
        raise ProjectError(
            f"soundtrack {sound.name or sound.source!r}: its length must be above 0 and at most "
            f"{MAX_SOUND_SECONDS:,.0f} s, its offset within ±{MAX_SOUND_OFFSET:,.0f} s (got "
            f"{sound.seconds!r}, {sound.offset!r})"
        )
    return sound


@dataclass
class Shot:
    """Character of one frame, on the background of one frame, moving like a motion clip.

    Local output frame t (0 ≤ t < duration) shows the motion clip's frame
    :meth:`motion_frame` (t): time runs from ``offset``, is held ``hold`` frames at a time
    ("on 2s" = 2), advances ``speed`` motion frames per output frame, and past the motion's end
    stops ("once"), wraps ("loop") or turns back ("pingpong"). What each field means, its range
    and its name in project.json: :data:`FIELDS`."""

    id: str
    character: FrameRef
    background: FrameRef
    motion: MotionRef
    duration: int
    name: str = ""
    speed: float = 1.0
    hold: int = 1
    loop: str = "once"
    offset: int = 0
    render: str | None = None
    pose: str = "cycle"
    seed: int = 0
    jumps: float = 0.5
    edge: str = "turn"
    extend: int = 0
    take: int = 0
    target: tuple[float, float] | None = None
    path: tuple[Key, ...] = ()
    beats: tuple[int, ...] = ()
    timing: tuple[int, ...] = ()
    subjects: tuple[int, ...] = ()
    driver: int = 0
    shadows: str = "drop"
    front: str = "keep"
    size: str = "set"
    turns: str = "upright"

    @property
    def motion_length(self) -> int:
        """Steps of the motion: the clip's frames and the predicted ones after them."""
        return self.motion.length + (0 if self.loop == "endless" else self.extend)

    @property
    def generated(self) -> bool:
        """Whether the engine decides what local frames show (an endless walk, an extension, a
        path), rather than the folding below alone."""
        return self.loop == "endless" or self.motion_length > self.motion.length or bool(self.path)

    @property
    def as_shot(self) -> bool:
        """Whether the character stays where it was shot: its own set and motion, nothing
        generated. The pixels renderer then lays it on its set as shot, frame by frame."""
        return (self.character.clip == self.background.clip == self.motion.clip
                and not self.generated)  # fmt: skip

    def tags(self) -> str:
        """What drives the shot beyond its clip, in a few words (the timeline's label)."""
        tags = ["endless"] if self.loop == "endless" else []
        if self.motion_length > self.motion.length:
            tags.append(f"+{self.extend} predicted")
        if self.path:
            tags.append("path")
        if self.beats:
            tags.append("on the beat")
        return ", ".join(tags)

    def motion_u(self, t: int) -> int:
        """Motion steps played by local frame ``t``, before looping: time runs from ``offset``,
        held ``hold`` frames at a time, ``speed`` steps per frame — or as fitted to beats."""
        if self.timing:
            i = t + self.offset
            if i < len(self.timing):
                return self.timing[i]
            return self.timing[-1] + math.floor((i - len(self.timing) + 1) * self.speed + 1e-9)
        held = ((t + self.offset) // self.hold) * self.hold
        return math.floor(held * self.speed + 1e-9)

    def motion_step(self, t: int) -> int:
        """How far into the motion (0 … motion_length−1) local frame ``t`` is; an endless
        shot's step counts on without end (engine.frames.motion walks it)."""
        u = self.motion_u(t)
        return u if self.loop == "endless" else fold(u, self.motion_length, self.loop)

    def motion_frame(self, t: int) -> int:
        """The motion clip's frame index shown at local frame ``t`` (plain shots; a step past
        the clip's end, predicted, shows as the last frame here: the engine knows which)."""
        step = 1 if self.motion.end >= self.motion.start else -1
        return self.motion.start + step * min(self.motion_step(t), self.motion.length - 1)

    def natural_duration(self) -> int:
        """Output frames of one pass at this shot's speed: the motion once, its last frame held
        as long as the others ("once"); one cycle that repeats seamlessly ("loop"); there and
        back ("pingpong"); as long as the clip ("endless", which goes on for ever); as long as
        its fit (fitted to beats). A hold keeps that length, rounded up to whole holds: "on 2s"
        is the same motion in the same time with half the poses (a 24-frame walk stays 24
        frames, its poses 0, 2, … 22 each shown twice), as animators shoot on twos."""
        if self.timing:
            return len(self.timing)
        n = self.motion_length
        if self.loop in ("once", "endless") or n == 1:
            last = math.ceil((n - 1) / self.speed - 1e-9)
            frames = last + max(1, math.ceil(1 / self.speed - 1e-9))
        else:
            frames = math.ceil((n if self.loop == "loop" else 2 * n - 2) / self.speed - 1e-9)
        return math.ceil(frames / self.hold) * self.hold


# -- the field table: kinds of value ---------------------------------------------------------------
class Kind:
    """How one kind of value is edited, checked, written to JSON and read back. ``edit``
    turns an edit's value into the stored one (or says what is wrong); ``ok`` checks a stored
    value against the field's range; ``read`` takes it from parsed JSON (``r``: the loader's
    reader, engine.document.files, which names the field when something is wrong)."""

    json_type: Any = object

    def edit(self, value: Any, name: str) -> Any:
        return value

    def ok(self, value: Any) -> bool:
        return True

    def write(self, value: Any) -> Any:
        return value

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        return r.get(obj, key, where, self.plain(), default)

    def plain(self) -> Any:
        """The JSON type(s) the reader takes the value as, as it is (and the writer writes it as
        it is); None for a kind whose :meth:`read` and :meth:`write` do more (a reference, a
        list)."""
        plain = type(self).read is Kind.read and type(self).write is Kind.write
        return self.json_type if plain else None


class Text(Kind):
    json_type = str

    def edit(self, value: Any, name: str) -> Any:
        return check_text(value, f"a shot's {name}")


@dataclass(frozen=True)
class Int(Kind):
    lo: int
    hi: int
    json_type = int

    def edit(self, value: Any, name: str) -> Any:
        return check_int(value, name)

    def ok(self, value: Any) -> bool:
        return self.lo <= value <= self.hi


@dataclass(frozen=True)
class Number(Kind):
    lo: float
    hi: float
    above: bool = False
    """``lo`` itself is not allowed."""
    json_type = float

    def edit(self, value: Any, name: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProjectError(f"{name} must be a number (got {value!r})")
        return float(value)

    def ok(self, value: Any) -> bool:
        return math.isfinite(value) and (self.lo < value if self.above else self.lo <= value) \
            and value <= self.hi  # fmt: skip


@dataclass(frozen=True)
class Choice(Kind):
    options: tuple
    json_type = str

    def edit(self, value: Any, name: str) -> Any:
        if None not in self.options and not isinstance(value, str):
            raise ProjectError(f"{name} must be text (got {value!r})")
        return value

    def ok(self, value: Any) -> bool:
        return value in self.options

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        return r.get(obj, key, where, self.plain(), default)

    def plain(self) -> Any:
        return (str, type(None)) if None in self.options else str


class Ref(Kind):
    """A clip's frame (character, background): checked against the clips by the project."""

    json_type = dict

    def edit(self, value: Any, name: str) -> Any:
        return FrameRef(*value)

    def write(self, value: FrameRef) -> Any:
        return {"clip": value.clip, "frame": value.frame}

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        ref, at = r.get(obj, key, where, dict), f"{where}.{key}"
        return FrameRef(r.get(ref, "clip", at, str), r.get(ref, "frame", at, int))


class Motion(Kind):
    """A range of a clip's frames (the motion): checked against the clips by the project."""

    def edit(self, value: Any, name: str) -> Any:
        return MotionRef(*value)

    def write(self, value: MotionRef) -> Any:
        return {"clip": value.clip, "in": value.start, "out": value.end}

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        ref, at = r.get(obj, key, where, dict), f"{where}.{key}"
        return MotionRef(r.get(ref, "clip", at, str), r.get(ref, "in", at, int),
                         r.get(ref, "out", at, int))  # fmt: skip


class Ids(Kind):
    """Picked subjects of a clip's analysis (engine.frames.layers: 1 … MAX_SUBJECT), at most
    MAX_PICKS, in order, none twice; none picked writes as an empty list (all of them)."""

    def edit(self, value: Any, name: str) -> Any:
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            raise ProjectError(f"{name} must be whole numbers (got {value!r})")
        return tuple(sorted({int(v) for v in value}))

    def ok(self, value: Any) -> bool:
        return len(value) <= MAX_PICKS and all(1 <= v <= MAX_SUBJECT for v in value) \
            and list(value) == sorted(set(value))  # fmt: skip

    def write(self, value: Any) -> Any:
        return list(value)

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        values = r.count(r.get(obj, key, where, list, []), f"{where}.{key}", MAX_PICKS)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise r.fail(f"{where}.{key}", "expected a list of whole numbers")
        return tuple(values)


@dataclass(frozen=True)
class Frames(Kind):
    """Whole frame numbers, 0 … MAX_TIMELINE_FRAMES (a fit to beats); ``rising``: never going
    back. Empty writes as null."""

    rising: bool = False

    def edit(self, value: Any, name: str) -> Any:
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            raise ProjectError(f"{name} must be whole numbers (got {value!r})")
        return tuple(int(v) for v in value)

    def ok(self, value: Any) -> bool:
        return len(value) <= MAX_SHOT_FRAMES and all(0 <= v <= MAX_TIMELINE_FRAMES for v in value) \
            and not (self.rising and any(b > a for a, b in zip(value[1:], value, strict=False)))

    def write(self, value: Any) -> Any:
        return list(value) or None

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        values = r.count(r.get(obj, key, where, (list, type(None)), None) or [],
                         f"{where}.{key}", MAX_SHOT_FRAMES)  # fmt: skip
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise r.fail(f"{where}.{key}", "expected a list of whole numbers")
        return tuple(values)


class Target(Kind):
    """Where an extended motion heads for: (x, y), fractions of the frame, or None."""

    def edit(self, value: Any, name: str) -> Any:
        if value is not None:
            if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ProjectError(f"target must be two numbers or None (got {value!r})")
            value = (float(value[0]), float(value[1]))
        return value

    def ok(self, value: Any) -> bool:
        return value is None or all(math.isfinite(v) and -1 <= v <= 2 for v in value)

    def write(self, value: Any) -> Any:
        return None if value is None else list(value)

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        target = r.get(obj, key, where, (list, type(None)), None)
        if target is not None and (len(target) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in target)):
            raise r.fail(f"{where}.{key}", "expected two numbers or null")
        return None if target is None else (float(target[0]), float(target[1]))


class Path(Kind):
    """Motion-path keyframes (:class:`Key`), in frame order. Empty writes as null."""

    def ok(self, value: Any) -> bool:
        return len(value) <= MAX_PATH_KEYS

    def edit(self, value: Any, name: str) -> Any:
        try:
            return tuple(k if isinstance(k, Key) else Key(**k) for k in value)
        except TypeError as e:
            raise ProjectError(f"a path is a list of keyframes ({e})") from None

    def write(self, value: Any) -> Any:
        return [dataclasses.asdict(k) for k in value] or None

    def read(self, r, obj: Any, key: str, where: str, default: Any) -> Any:
        path = r.count(r.get(obj, key, where, (list, type(None)), None) or [], f"{where}.{key}",
                       MAX_PATH_KEYS)  # fmt: skip
        keys = []
        for i, k in enumerate(path):
            at = f"{where}.{key}[{i}]"
            keys.append(Key(r.get(k, "frame", at, int), r.get(k, "x", at, float, 0.0),
                            r.get(k, "y", at, float, 0.0), r.get(k, "angle", at, float, 0.0),
                            r.get(k, "scale", at, float, 1.0),
                            r.get(k, "ease", at, str, "linear")))  # fmt: skip
        return tuple(keys)


# -- the field table -------------------------------------------------------------------------------
class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
"""A field project.json must hold (no default)."""
FRAMES_ROLES = ("none", "input", "time", "mode", "pose")
"""How a field bears on a frame's pixels (:func:`frame_key`): ``none`` (an id, a name, a length:
never), ``input`` (which clip frames are read), ``time`` (which motion step a local frame shows,
and how the engine generates it), ``mode`` (the render mode), ``pose`` (how a transfer poses,
sizes and turns its character)."""


@dataclass(frozen=True)
class Field:
    """One field of a shot. ``json``: its key in the shot's JSON object, or "group.key" inside a
    group object (a group named in :data:`NULL_UNLESS` is written as null while its lead field
    is empty). ``rule``: what is wrong when ``kind.ok`` fails, said after "shot NAME: " (``{v}``:
    the value). ``unfits``: changing it undoes a fit to beats (its steps were of the motion as it
    was). ``frames``: one of :data:`FRAMES_ROLES`."""

    name: str
    json: str
    kind: Kind
    label: str
    frames: str
    default: Any = REQUIRED
    rule: str = ""
    unfits: bool = False


FIELDS: tuple[Field, ...] = (
    Field("id", "id", Text(), "Id", "none"),
    Field("name", "name", Text(), "Name", "none", ""),
    Field("character", "character", Ref(), "Character", "input"),
    Field("background", "background", Ref(), "Background", "input"),
    Field("motion", "motion", Motion(), "Motion", "input", unfits=True),
    Field("duration", "duration", Int(1, MAX_SHOT_FRAMES), "Duration", "none",
          rule=f"duration must be 1…{MAX_SHOT_FRAMES:,} frames"),
    Field("speed", "retime.speed", Number(0, MAX_SPEED, above=True), "Speed", "time", 1.0,
          f"speed must be above 0 and at most {MAX_SPEED:g}", unfits=True),
    Field("hold", "retime.hold", Int(1, MAX_HOLD), "Retime", "time", 1,
          f"hold must be 1…{MAX_HOLD} (got {{v}})", unfits=True),
    Field("loop", "loop", Choice(LOOP_MODES), "Loop", "time", "once",
          f"loop mode {{v!r}} is not one of {', '.join(LOOP_MODES)}", unfits=True),
    Field("offset", "offset", Int(0, MAX_TIMELINE_FRAMES), "Offset", "time", 0,
          f"offset must be 0…{MAX_TIMELINE_FRAMES:,}", unfits=True),
    Field("seed", "endless.seed", Int(0, 2**31 - 1), "Endless walk", "time", 0,
          f"seed must be 0…{2**31 - 1}"),
    Field("jumps", "endless.jumps", Number(0, 1), "Jumps", "time", 0.5,
          "jumps must be 0…1 (got {v!r})"),
    Field("edge", "endless.edge", Choice(EDGES), "At the edge", "time", "turn",
          f"edge {{v!r}} is not one of {', '.join(EDGES)}"),
    Field("extend", "extend.frames", Int(0, MAX_EXTEND), "Extension", "time", 0,
          f"a motion extends by 0…{MAX_EXTEND:,} frames", unfits=True),
    Field("take", "extend.take", Int(0, 2**31 - 1), "Take", "time", 0,
          f"take must be 0…{2**31 - 1}"),
    Field("target", "extend.target", Target(), "Target", "time", None,
          "the target must be near the frame (-1…2)"),
    Field("path", "path", Path(), "Path", "time", (),
          f"a path holds at most {MAX_PATH_KEYS} keys"),
    Field("beats", "beat_fit.beats", Frames(), "On the beat", "time", (),
          f"a fit to beats has frames before 0, past {MAX_TIMELINE_FRAMES:,} or going back"),
    Field("timing", "beat_fit.steps", Frames(rising=True), "Fit to beats", "time", (),
          f"a fit to beats has frames before 0, past {MAX_TIMELINE_FRAMES:,} or going back"),
    Field("render", "render", Choice((None, *RENDER_MODES)), "Render", "mode", None,
          f"render mode {{v!r}} is not one of {', '.join(RENDER_MODES)}"),
    Field("pose", "pose", Choice(POSE_MODES), "Steps", "pose", "cycle",
          f"pose {{v!r}} is not one of {', '.join(POSE_MODES)}"),
    Field("size", "transfer.size", Choice(SIZE_MODES), "Size", "pose", "set",
          f"size {{v!r}} is not one of {', '.join(SIZE_MODES)}"),
    Field("turns", "transfer.turns", Choice(TURN_MODES), "Turns", "pose", "upright",
          f"turns {{v!r}} is not one of {', '.join(TURN_MODES)}"),
    Field("subjects", "subjects", Ids(), "Subjects", "input", (),
          f"subjects are at most {MAX_PICKS} of 1…{MAX_SUBJECT:,}, each once"),
    Field("driver", "driver", Int(0, MAX_SUBJECT), "Path from", "input", 0,
          f"the driving subject must be 0 (all) … {MAX_SUBJECT:,}"),
    Field("shadows", "shadows", Choice(SHADOW_MODES), "Shadows", "input", "drop",
          f"shadows {{v!r}} is not one of {', '.join(SHADOW_MODES)}"),
    Field("front", "front", Choice(FRONT_MODES), "In front", "input", "keep",
          f"front {{v!r}} is not one of {', '.join(FRONT_MODES)}"),
)  # fmt: skip
FIELD = {f.name: f for f in FIELDS}
PICKED_FROM = {"subjects": "character", "driver": "motion"}
"""A pick of subjects and the clip it picks from: another clip there drops the pick."""
NULL_UNLESS = {"extend": "extend", "beat_fit": "beats"}
"""JSON groups written as null while their lead field is empty (no extension, no fit)."""
UNFIT = frozenset(f.name for f in FIELDS if f.unfits)
"""Shot fields whose change undoes a fit to beats (its steps were of the motion as it was)."""


def field_value(shot: Shot, key: str) -> Any:
    """A shot's field as an edit gives it: references as tuples."""
    if key in ("character", "background"):
        ref = getattr(shot, key)
        return (ref.clip, ref.frame)
    if key == "motion":
        return (shot.motion.clip, shot.motion.start, shot.motion.end)
    if key not in FIELD or key == "id":
        raise ProjectError(f"a shot has no field {key!r}")
    return getattr(shot, key)


def set_field(shot: Shot, key: str, value: Any) -> None:
    """Set a field from an edit's value (checked for its type here; for its range with the
    whole shot, :func:`check_fields`)."""
    if key not in FIELD or key == "id":
        raise ProjectError(f"a shot has no field {key!r}")
    setattr(shot, key, FIELD[key].kind.edit(value, key))


def check_fields(s: Shot, only: tuple[str, ...] | None = None) -> None:
    """Every field of a shot (or those named in ``only``) within its range, and the rules
    between fields (its references to clips are the project's to check)."""
    name = s.name or s.id
    plan = _plan(FIELDS)
    if only is not None:
        plan = [p for p in plan if p[0] in only]
    for field, _, _, kind, _, rule, text, _ in plan:
        value = getattr(s, field)
        if text:
            check_text(value, f"a shot's {field}")
        elif not kind.ok(value):
            raise ProjectError(f"shot {name}: " + rule.format(v=value))
    if s.timing and not s.beats:
        raise ProjectError(f"shot {name}: a fit to beats without the beats it was fitted to")
    frames = [k.frame for k in s.path]
    if frames != sorted(set(frames)):
        raise ProjectError(f"shot {name}: path keys must be at different frames, in order")
    for k in s.path:
        ok = all(is_number(v) for v in (k.x, k.y, k.angle, k.scale))
        if not (ok and isinstance(k.frame, int) and 0 <= k.frame <= MAX_SHOT_FRAMES):
            raise ProjectError(f"shot {name}: path key {k!r} is not valid")
        if not (abs(k.x) <= 10 and abs(k.y) <= 10 and abs(k.angle) <= 3600
                and 0.05 <= k.scale <= 20):  # fmt: skip
            raise ProjectError(
                f"shot {name}: path key at frame {k.frame}: x and y must be within ±10 "
                "frames, the angle within ±3600°, the scale 0.05…20"
            )
        if k.ease not in EASES:
            raise ProjectError(f"shot {name}: path key ease {k.ease!r} is not one of "
                               f"{', '.join(EASES)}")  # fmt: skip


_plans: dict[int, tuple] = {}


def _plan(fields: tuple[Field, ...]) -> tuple:
    """The table as the checks, the JSON writer and the reader walk it, for every shot of a
    project: (name, group, key, kind, reader's default, rule, whether it is text, the JSON type
    it is read as when plain: :meth:`Kind.plain`) per field —
    made once per table, not once per shot (a project of 50,000 shots opens a million fields)."""
    kept = _plans.get(id(fields))
    if kept is None or kept[0] is not fields:
        plan = tuple((f.name, *f.json.rpartition(".")[::2], f.kind,
                      ... if f.default is REQUIRED else f.default, f.rule,
                      isinstance(f.kind, Text), f.kind.plain()) for f in fields)  # fmt: skip
        kept = _plans[id(fields)] = (fields, plan)
    return kept[1]


def shot_to_json(s: Shot) -> dict:
    """A shot's JSON object, as the table says (docs/PROJECT_FORMAT.md)."""
    out: dict[str, Any] = {}
    for name, group, key, kind, _, _, _, plain in _plan(FIELDS):
        value = getattr(s, name) if plain is not None else kind.write(getattr(s, name))
        if not group:
            out[key] = value
        elif group in NULL_UNLESS and not getattr(s, NULL_UNLESS[group]):
            out[group] = None
        else:
            if out.get(group) is None:
                out[group] = {}
            out[group][key] = value
    return out


def shot_from_json(r, s: Any, where: str) -> Shot:
    """A shot from its JSON object; ``r``: the loader's reader (types checked, the field named
    when something is wrong). Ranges are checked by the project (:func:`check_fields`)."""
    groups: dict[str, tuple[Any, str]] = {}
    values = {}
    get = r.get
    for name, group, key, kind, default, _, _, plain in _plan(FIELDS):
        obj, at = s, where
        if group:
            found = groups.get(group)
            if found is None:
                kinds = (dict, type(None)) if group in NULL_UNLESS else dict
                obj = r.get(s, group, where, kinds, None if group in NULL_UNLESS else {}) or {}
                found = groups[group] = (obj, f"{where}.{group}")
            obj, at = found
        values[name] = kind.read(r, obj, key, at, default) if plain is None else \
            get(obj, key, at, plain, default)  # fmt: skip
    return Shot(**values)
