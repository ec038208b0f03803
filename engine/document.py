"""The project document: clips, shots, the timeline, and the ``Name.zoetrope/`` folder on disk.

Data path role: what an animation *is*. The Director (engine/synthesis.py) turns it into frames,
the exporter (engine/export.py) into files; the studio's undo commands call exactly the editing
methods of :class:`Project`. No Qt, no tensors. The file format is docs/PROJECT_FORMAT.md.

A project folder holds ``project.json`` (its JSON: engine/project_json.py writes, checks and
migrates it), ``project.json.bak`` (the previous save), ``media/`` (imported clips, copied in)
and ``models/`` (model files copied in). Every path in the JSON is relative and must resolve
inside the folder (engine/project_folder.py keeps the folder: paths, copies in, saves). Here:
the pieces (Clip, Shot, …), the Project and its edits, and the Timeline a render reads.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import numbers
import os
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import project_folder as folder
from engine.data.clips import ClipReader, frame_files
from engine.errors import UserError
from engine.project_folder import BACKUP_FILE, PROJECT_FILE, SUFFIX  # noqa: F401 — API
from engine.text import readable, repair_text  # noqa: F401 — engine.document.readable is API

SCHEMA_VERSION = 6
LOOP_MODES = ("once", "loop", "pingpong", "endless")
"""``endless``: the motion's frames as a random walk over the jumps between frames that look
alike, for as long as the shot lasts (engine.motion)."""
EDGES = ("turn", "wrap", "stay")
"""What a character carried across the frame by an endless walk does at its edge: turns back,
wraps round to the other side, or stays inside (walks on the spot)."""
EASES = ("linear", "ease")
MAX_EXTEND = 10_000
"""Frames a motion can be extended by (engine.predictor)."""
MAX_PATH_KEYS = 1_000
UNFIT = frozenset({"motion", "speed", "hold", "loop", "extend", "offset"})
"""Shot fields whose change undoes a fit to beats (its steps were of the motion as it was)."""
PREDICTOR_FILE = "models/motion-predictor.safetensors"
"""Where a project keeps its motion predictor (engine.predictor), trained on its clips."""
RENDER_MODES = ("pixels", "model")
POSE_MODES = ("rigid", "match")
"""Pixels mode, a character moved by another clip's motion: ``rigid`` moves the character frame
as a whole; ``match`` shows, for each motion frame, the character's own frame whose pose is
closest (engine.synthesis), placed where the motion puts the character."""
"""``pixels``: the footage's own pixels, cut out and moved by the learned motion (sharp, at the
clip's resolution); ``model``: every frame decoded by g (soft, but it can change a pose)."""
MAX_OUTPUT_SIDE = 4096
MAX_HOLD = 12
MAX_SPEED = 16.0
FPS_RANGE = (1.0, 120.0)
# What a project may hold (PROJECT_FORMAT.md, "Limits"): far beyond any film, small enough that
# every view and render stays responsive and every number fits the widgets' 32-bit integers.
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


class ProjectError(UserError):
    """A project folder or file that cannot be used; the message names the file and the reason."""


# -- text: one set of rules for the edits and the loader -----------------------------------------
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




def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


# -- the pieces ------------------------------------------------------------------------------------
@dataclass
class Clip:
    """An imported clip: a video, a folder of numbered frames, or a still image (one frame)."""

    id: str
    name: str
    source: str  # relative to the project folder, inside media/
    kind: str  # "video", "frames" or "image"
    frames: int
    fps: float
    width: int
    height: int


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
    """A part of a project whose file cannot be used now (:meth:`Project.offline`): ``what``
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


@dataclass
class Shot:
    """Character of one frame, on the background of one frame, moving like a motion clip.

    Local output frame t (0 ≤ t < duration) shows the motion clip's frame
    :meth:`motion_frame` (t): time runs from ``offset``, is held ``hold`` frames at a time
    ("on 2s" = 2), advances ``speed`` motion frames per output frame, and past the motion's end
    stops ("once"), wraps ("loop") or turns back ("pingpong")."""

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
    """Output frames already played before this shot's first frame (set when a shot is split,
    so that the second half continues exactly where the first stopped)."""
    render: str | None = None
    """This shot's render mode (RENDER_MODES), or None: the project's."""
    pose: str = "rigid"
    """POSE_MODES: how pixels mode poses a character moved by another clip's motion."""
    seed: int = 0
    """``endless``: the walk's seed (Reshuffle draws another)."""
    jumps: float = 0.5
    """``endless``: how often the walk jumps, 0 (only when it must) … 1 (wherever it can)."""
    edge: str = "turn"
    """``endless``: EDGES, what the character does at the frame's edge."""
    extend: int = 0
    """Frames predicted past the motion's end (engine.predictor), played after the clip's."""
    take: int = 0
    """Which of the predicted futures ("another take" draws another)."""
    target: tuple[float, float] | None = None
    """Where the extended motion heads for: (x, y) in fractions of the output frame, or None."""
    path: tuple[Key, ...] = ()
    """Motion-path keyframes, in frame order (engine.motion.path_matrix)."""
    beats: tuple[int, ...] = ()
    """Fitted to the soundtrack's beats (engine.beats): the frames, counted from ``offset`` like
    ``timing``, the beats fell on when it was fitted. An endless walk jumps on them."""
    timing: tuple[int, ...] = ()
    """Fitted to beats (engine.beats.fit): the motion step of each frame counted from
    ``offset`` (in place of speed and hold; past its end the motion goes on at ``speed``)."""

    @property
    def motion_length(self) -> int:
        """Steps of the motion: the clip's frames and the predicted ones after them."""
        return self.motion.length + (0 if self.loop == "endless" else self.extend)

    @property
    def generated(self) -> bool:
        """Whether the engine decides what local frames show (an endless walk, an extension, a
        path), rather than the folding below alone."""
        return self.loop == "endless" or self.motion_length > self.motion.length or bool(self.path)

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
        shot's step counts on without end (engine.motion walks it)."""
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


# -- the project -----------------------------------------------------------------------------------
@dataclass
class Project:
    """A project folder and its contents. Edit it only through the methods below: each
    validates its arguments (raising :class:`ProjectError` and changing nothing on bad input)
    and marks the project modified. Edits replace Shot objects rather than change them, so a
    :class:`Timeline` taken before an edit (a render on a worker thread) stays consistent."""

    root: Path
    name: str
    fps: float = 24.0
    model: str | None = None
    clips: dict[str, Clip] = field(default_factory=dict)
    shots: list[Shot] = field(default_factory=list)
    range: tuple[int, int] | None = None
    output_size: tuple[int, int] | None = None
    """Frames' (width, height) in the studio and in exports; None: the first clip's size."""
    render_mode: str = "pixels"
    soundtrack: Soundtrack | None = None
    modified: bool = False
    revision: int = 0
    """Counts edits; a view compares it to know whether to refresh."""
    merged: str = field(default="", repr=False, compare=False)
    """After a save that merged another program's changes in: what came in, in words."""
    _disk: bytes | None = field(default=None, repr=False, compare=False)
    """project.json as this project last read or wrote it: what a save compares and merges
    against (its JSON is made only when a merge needs it, never on the open or save path)."""
    notes: list[str] = field(default_factory=list, repr=False, compare=False)
    """What opening it found and said: parts offline, names repaired, records corrected."""
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    # -- folders and paths -------------------------------------------------------------------------
    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def resolve(self, rel: str, what: str = "path") -> Path:
        """A path from the JSON, made absolute; refused unless it stays inside the folder."""
        return folder.resolve(self.root, rel, what, ProjectError)

    def clip_path(self, clip_id: str) -> Path:
        return self.resolve(self.clip(clip_id).source, "clip source")

    def model_path(self) -> Path | None:
        return None if self.model is None else self.resolve(self.model, "model")

    # -- create, open, save ------------------------------------------------------------------------
    @classmethod
    def create(cls, where: str | os.PathLike, fps: float = 24.0) -> Project:
        """Make a new, empty project folder (``.zoetrope`` is added to the name if missing)."""
        root = folder.named(where)
        folder.check_free(root, ProjectError)
        project = cls(root=root, name=readable(root.stem)[:MAX_TEXT])
        project.set_fps(fps)
        (root / "media").mkdir(parents=True, exist_ok=True)
        project.save()
        return project

    @classmethod
    def open(cls, where: str | os.PathLike) -> Project:
        """Load and validate a project (a ``.zoetrope`` folder or its project.json)."""
        root = folder.locate(where, ProjectError)
        from engine import project_json

        raw = project_json.read_bytes(root / PROJECT_FILE, root)
        project = cls.from_json(project_json.parse(raw, root / PROJECT_FILE), root)
        project._saved(raw)
        return project

    @classmethod
    def from_json(cls, doc: Any, root: Path) -> Project:
        """A project from its JSON (any schema version: migrated), every field checked."""
        from engine import project_json

        return project_json.from_json(doc, root)

    def to_json(self) -> dict:
        from engine import project_json

        return project_json.to_json(self)

    def save(self, overwrite_changes: bool = False) -> Path:
        """Write project.json atomically; the previous version becomes project.json.bak. A
        save that cannot be made (a folder that cannot be written, text that is not Unicode)
        is a ProjectError naming the file, and the file on disk stays as it was.

        When another program saved the project since it was read here (a capture added its
        take, a second studio), what it saved is merged in first (engine.project_merge: its
        new clips and shots kept, its changes taken where this side did not change the same
        thing; :attr:`merged` says what came in) — unless ``overwrite_changes``. Both sides
        changing one thing differently raises MergeConflict, and nothing is written."""
        from engine import project_lock

        self.merged = ""
        with project_lock.saving(self.root):
            try:
                current = self.file.read_bytes()
            except OSError:
                current = None
            if current is not None and self._disk is not None and not overwrite_changes \
                    and current != self._disk:  # fmt: skip
                self._merge(current)
            text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ProjectError(f"{self.file}: cannot be saved: it holds text that is not "
                                   f"Unicode ({text[max(e.start - 30, 0):e.end + 10]!r})") \
                    from None  # fmt: skip
            folder.write(self.root, data, ProjectError)
        self._saved(data)
        self.modified = False
        return self.file

    @classmethod
    def update(cls, where: str | os.PathLike, change) -> Any:
        """Read the project as it is on disk now, ``change(project)``, save it — one short
        read-change-save that no other save can slip into (engine.project_lock.saving): how a
        headless tool that ran for hours (a time-lapse capture) adds its work to the project as
        it is then, not as it was when it started. Returns what ``change`` returns."""
        from engine import project_lock

        root = folder.locate(where, ProjectError)
        with project_lock.saving(root):
            project = cls.open(root)
            result = change(project)
            project.save()
        return result

    def _saved(self, raw: bytes) -> None:
        """What is on disk now, as this project last read or wrote it: what a save compares."""
        self._disk = raw

    def _merge(self, current: bytes) -> None:
        """Take in what another program saved (``current``: the file's bytes now)."""
        from engine import project_json
        from engine.project_merge import merge

        try:
            theirs = project_json.from_json(project_json.parse(current, self.file), self.root)
        except ProjectError:
            return  # damaged on disk: written over (project.json.bak keeps it)
        before = (len(self.clips), len(self.shots))
        try:  # what both sides started from, in the current schema
            base = project_json.to_json(project_json.from_json(
                project_json.parse(self._disk, self.file), self.root))
        except ProjectError:
            base = {}
        doc = merge(base, self.to_json(), project_json.to_json(theirs), self.file)
        merged = project_json.from_json(doc, self.root)
        for name in ("name", "fps", "model", "clips", "shots", "range", "output_size",
                     "render_mode", "soundtrack"):  # fmt: skip
            setattr(self, name, getattr(merged, name))
        clips, shots = len(self.clips) - before[0], len(self.shots) - before[1]
        self.merged = (f"{self.file} was saved by another program meanwhile: its changes are "
                       f"merged in ({clips:+d} clips, {shots:+d} shots)")
        self._touch()

    def save_as(self, where: str | os.PathLike) -> Path:
        """Copy the project (media and models included) to a new folder and save it there; the
        project then lives in the new folder."""
        root = folder.named(where)
        if root.resolve() == self.root.resolve():
            return self.save()
        folder.check_free(root, ProjectError)

        def save(tmp: Path) -> None:
            old_root, old_name = self.root, self.name
            self.root, self.name = tmp, readable(root.stem)[:MAX_TEXT]
            try:
                self.save()
            finally:
                self.root, self.name = old_root, old_name

        folder.copy_to(self.root, root, save, ProjectError)
        self.root, self.name = root, readable(root.stem)[:MAX_TEXT]
        return self.file

    # -- parts that are offline -------------------------------------------------------------------
    def offline(self) -> list[Offline]:
        """The parts whose files are missing now (deleted, renamed, on a drive not plugged in,
        or named outside the folder): clips, the soundtrack, the model. The project opens and
        renders without them — a missing clip's shots as placeholders, a missing sound silent
        — until they are relinked (:meth:`relinked`) or removed."""
        found = []
        for clip in self.clips.values():
            why = self.why_missing(clip.source, "clip source", clip.kind == "frames")
            if why:
                found.append(Offline("clip", clip.id, clip.name, clip.source, why))
        if self.soundtrack is not None:
            why = self.why_missing(self.soundtrack.source, "soundtrack", False)
            if why:
                s = self.soundtrack
                found.append(Offline("soundtrack", None, s.name or s.source, s.source, why))
        if self.model is not None:
            why = self.why_missing(self.model, "model", False)
            if why:
                found.append(Offline("model", None, Path(self.model).name, self.model, why))
        return found

    def clip_offline(self, clip_id: str) -> str | None:
        """Why clip ``clip_id``'s file cannot be used now, or None."""
        clip = self.clip(clip_id)
        return self.why_missing(clip.source, "clip source", clip.kind == "frames")

    def sound_offline(self) -> str | None:
        """Why the soundtrack's file cannot be used now, or None (also with no soundtrack)."""
        s = self.soundtrack
        return None if s is None else self.why_missing(s.source, "soundtrack", False)

    def why_missing(self, rel: str, what: str, folder_: bool) -> str | None:
        """Why the file ``rel`` cannot be used now, or None."""
        try:
            path = self.resolve(rel, what)
        except ProjectError as e:
            return str(e).rsplit(": ", 1)[-1]
        if folder_ and not path.is_dir():
            return "folder is missing" if not path.exists() else "is not a folder"
        if not folder_ and not path.is_file():
            return "file is missing" if not path.exists() else "is not a file"
        return None

    def relinked(self, clip_id: str, found: Clip) -> Clip:
        """The record of clip ``clip_id`` pointing at ``found`` (a clip copied in by
        :meth:`copy_in`: the file the user located for it), its id and name kept — to put in
        place with :meth:`replace_clip`, which checks that every shot still fits it."""
        old = self.clip(clip_id)
        return dataclasses.replace(found, id=old.id, name=old.name)

    @property
    def play_range(self) -> tuple[int, int] | None:
        """The in/out range as far as it lies on the timeline (shots deleted since it was set,
        or a range in project.json beyond the timeline, leave only what is there); None when
        nothing of it is."""
        if self.range is None:
            return None
        count = sum(s.duration for s in self.shots)
        first, last = self.range
        return None if first >= count else (first, min(last, count - 1))

    # -- reading -----------------------------------------------------------------------------------
    def clip(self, clip_id: str) -> Clip:
        try:
            return self.clips[clip_id]
        except KeyError:
            raise ProjectError(f"no clip with id {clip_id!r} in {self.name}") from None

    def shot(self, shot_id: str) -> Shot:
        return self.shots[self.shot_index(shot_id)]

    def shot_index(self, shot_id: str) -> int:
        """Where a shot is on the timeline: a dict lookup, checked against the list (rebuilt
        when the list changed), so views can ask for every shot on every paint."""
        i = self._index.get(shot_id)
        if i is None or i >= len(self.shots) or self.shots[i].id != shot_id:
            self._index = {s.id: k for k, s in enumerate(self.shots)}
            i = self._index.get(shot_id)
        if i is None:
            raise ProjectError(f"no shot with id {shot_id!r} in {self.name}")
        return i

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.shots, self.fps)

    def shots_using(self, clip_id: str) -> list[Shot]:
        return [
            s for s in self.shots if clip_id in (s.character.clip, s.background.clip, s.motion.clip)
        ]

    # -- editing: clips ----------------------------------------------------------------------------
    def import_clip(self, source: str | os.PathLike, name: str | None = None) -> Clip:
        """Copy a video, frame folder or still image into media/ and add it as a clip.

        Decodes the clip once to count its frames: on a bad file it raises ClipError naming the
        file, and nothing is copied."""
        clip = self.copy_in(source, name)
        self.add_clip(clip)
        return clip

    def copy_in(
        self, source: str | os.PathLike, name: str | None = None, notes: list | None = None
    ) -> Clip:
        """The slow half of :meth:`import_clip`: check and copy the clip into media/ and describe
        it, without adding it. Touches only the file system, so a worker thread may run it while
        the GUI thread adds the result (:meth:`add_clip`). What the user should know about a clip
        read anyway (gaps in a frame folder's numbering, a guessed frame rate) is appended to
        ``notes``."""
        src = Path(source)
        clip = self.describe_clip(src, "", name, notes)  # read whole before anything is copied
        files = frame_files(src) if src.is_dir() else None
        rel = folder.copy_in(self.root, src, "media", ProjectError, files)
        return dataclasses.replace(clip, source=rel)

    def describe_clip(self, path: Path, source: str, name: str | None = None,
                      notes: list | None = None, fps: float = 24.0) -> Clip:  # fmt: skip
        """A new Clip (not added) for the clip at ``path``, read whole to count its frames;
        ``source``: where it is, relative to the folder. ``fps``: a frame folder's rate."""
        reader = ClipReader(path, fps)
        count = sum(1 for _ in reader.frames())
        if notes is not None:
            notes.extend(reader.notes)
        info = reader.info
        if count == 0 or info is None:
            raise ProjectError(f"{path}: holds no frames")
        return Clip(
            id=new_id("c"),
            name=check_text(name or readable(path.stem if path.is_file() else path.name)[:MAX_TEXT],
                            "a clip's name"),
            source=source,
            kind=reader.kind,
            frames=count,
            fps=float(info.fps),
            width=int(info.width),
            height=int(info.height),
        )

    # -- the soundtrack ----------------------------------------------------------------------------
    def copy_in_sound(self, source: str | os.PathLike, offset: float = 0.0,
                      notes: list | None = None) -> Soundtrack:  # fmt: skip
        """The slow half of setting a soundtrack: read the sound file (any format ffmpeg reads,
        in blocks, whatever its length; an unreadable one raises AudioError naming it, and
        nothing is copied), copy it into media/ and describe it. A file that reads much shorter
        than its header claims (cut off, damaged) is used, and said in ``notes``. Touches only
        files (a worker may run it); then :meth:`set_soundtrack`."""
        from engine import audio

        src = Path(source)
        found = audio.measure(src)
        seconds = found.seconds
        if notes is not None and found.note(src):
            notes.append(found.note(src))
        rel = folder.copy_in(self.root, src, "media", ProjectError)
        name = readable(src.stem)[:MAX_TEXT]
        return _check_sound(Soundtrack(rel, name, round(seconds, 6), float(offset)))

    def set_soundtrack(self, sound: Soundtrack | None) -> Soundtrack | None:
        """Use a soundtrack already in media/ (:meth:`copy_in_sound`), or None for silence.
        Returns the old one (undo sets it back; its file stays in media/)."""
        if sound is not None:
            _check_sound(sound)
            self.resolve(sound.source, "soundtrack")  # inside the folder (offline: an undo's)
        old, self.soundtrack = self.soundtrack, sound
        self._touch()
        return old

    def set_sound_offset(self, offset: float) -> float:
        """When the sound starts, in seconds after the timeline's first frame. Returns the old."""
        if self.soundtrack is None:
            raise ProjectError("the project has no soundtrack")
        sound = _check_sound(dataclasses.replace(self.soundtrack, offset=offset))
        old, self.soundtrack = self.soundtrack.offset, sound
        self._touch()
        return old

    def sound_path(self) -> Path | None:
        return None if self.soundtrack is None else self.resolve(self.soundtrack.source,
                                                                "soundtrack")  # fmt: skip

    def add_clip(self, clip: Clip, offline_ok: bool = False) -> None:
        """Add (or, for undo, re-add) a clip whose media is already in the folder (or, with
        ``offline_ok``, an offline clip put back by an undo)."""
        _check_clip_text(clip)
        if clip.id in self.clips:
            raise ProjectError(f"a clip with id {clip.id!r} is already in {self.name}")
        if not offline_ok and not self.resolve(clip.source, "clip source").exists():
            raise ProjectError(f"{self.root / clip.source}: file is missing from the project")
        self.clips[clip.id] = clip
        self._touch()

    def replace_clip(self, clip: Clip) -> Clip:
        """Put ``clip`` in place of the clip with its id — a frame clip that grew by a capture,
        described again (:meth:`describe_clip`). Every shot that uses it must still fit in it.
        Returns the record it replaced (undo puts that back)."""
        old = self.clip(clip.id)
        _check_clip_text(clip)
        self.resolve(clip.source, "clip source")  # inside the folder (offline: an undo's)
        self.clips[clip.id] = clip
        try:
            for shot in self.shots_using(clip.id):
                self._check_shot(shot)
        except ProjectError:
            self.clips[clip.id] = old
            raise
        self._touch()
        return old

    def rename_clip(self, clip_id: str, name: str) -> None:
        clip = self.clip(clip_id)
        name = check_text(name, "a clip's name").strip()
        if not name:
            raise ProjectError("a clip's name cannot be empty")
        clip.name = name
        self._touch()

    def remove_clip(self, clip_id: str, delete_media: bool = False) -> Clip:
        """Remove a clip no shot uses. Its media stays in the folder unless ``delete_media``
        (keep it while the removal can still be undone)."""
        clip = self.clip(clip_id)
        users = self.shots_using(clip_id)
        if users:
            names = ", ".join(s.name or s.id for s in users[:3])
            raise ProjectError(f"clip {clip.name!r} is used by {len(users)} shot(s) ({names})")
        del self.clips[clip_id]
        if delete_media:
            folder.delete(self.resolve(clip.source, "clip source"))
        self._touch()
        return clip

    # -- editing: shots ----------------------------------------------------------------------------
    def add_shot(
        self,
        character: tuple[str, int],
        background: tuple[str, int],
        motion: tuple[str, int, int] | str,
        duration: int | None = None,
        index: int | None = None,
        **fields: Any,
    ) -> Shot:
        """Add a shot (at the end, or at ``index``). ``motion`` is (clip, in, out) or a clip id
        (all its frames). Without ``duration`` the motion plays once. ``fields``: name, speed,
        hold, loop, offset."""
        if isinstance(motion, str):
            motion = (motion, 0, self.clip(motion).frames - 1)
        shot = Shot(
            id=new_id("s"),
            character=FrameRef(*character),
            background=FrameRef(*background),
            motion=MotionRef(*motion),
            duration=1,
        )
        for key, value in fields.items():
            self._set_field(shot, key, value)
        shot.duration = shot.natural_duration() if duration is None else duration
        self.insert_shot(shot, len(self.shots) if index is None else index)
        return shot

    def insert_shot(self, shot: Shot, index: int) -> None:
        """Put a whole shot at ``index`` (also how undo puts a deleted shot back)."""
        self._check_shot(shot)
        if len(self.shots) >= MAX_SHOTS:
            raise ProjectError(f"a project holds at most {MAX_SHOTS:,} shots")
        self._check_length(shot.duration)
        if any(s.id == shot.id for s in self.shots):
            raise ProjectError(f"a shot with id {shot.id!r} is already on the timeline")
        if not 0 <= index <= len(self.shots):
            raise ProjectError(f"shot position {index} is outside 0…{len(self.shots)}")
        self.shots.insert(index, shot)
        self._touch()

    def delete_shot(self, shot_id: str) -> tuple[Shot, int]:
        """Remove a shot; returns it and where it was, for undo."""
        index = self.shot_index(shot_id)
        shot = self.shots.pop(index)
        self._touch()
        return shot, index

    def move_shot(self, shot_id: str, index: int) -> int:
        """Move a shot to position ``index``; returns its old position."""
        old = self.shot_index(shot_id)
        if not 0 <= index < len(self.shots):
            raise ProjectError(f"shot position {index} is outside 0…{len(self.shots) - 1}")
        self.shots.insert(index, self.shots.pop(old))
        self._touch()
        return old

    def duplicate_shot(self, shot_id: str) -> Shot:
        """A copy with a new id, right after the original."""
        index = self.shot_index(shot_id)
        twin = copy.deepcopy(self.shots[index])
        twin.id = new_id("s")
        self.insert_shot(twin, index + 1)
        return twin

    def split_shot(self, shot_id: str, at: int) -> Shot:
        """Cut a shot before its local frame ``at``; the second half (returned, placed after the
        first) continues the motion exactly where the first half stops."""
        index = self.shot_index(shot_id)
        shot = self.shots[index]
        if not 0 < at < shot.duration:
            raise ProjectError(f"cannot split a {shot.duration}-frame shot at frame {at}")
        first, second = copy.deepcopy(shot), copy.deepcopy(shot)
        second.id = new_id("s")
        second.offset = shot.offset + at
        second.duration = shot.duration - at
        first.duration = at
        self.shots[index : index + 1] = [first, second]
        self._touch()
        return second

    def join_shots(self, first_id: str, second_id: str) -> None:
        """Undo of :meth:`split_shot`: merge a split shot's second half back into the first."""
        first, second = self.shot(first_id), self.shot(second_id)
        if second.offset != first.offset + first.duration:
            raise ProjectError("these shots are not the two halves of one split")
        joined = copy.deepcopy(first)
        joined.duration += second.duration
        self.shots.remove(second)
        self.shots[self.shot_index(first_id)] = joined
        self._touch()

    def update_shot(self, shot_id: str, keep_fit: bool = False, **changes: Any) -> dict[str, Any]:
        """Set any of a shot's fields (character, background, motion as tuples; duration, name,
        speed, hold, loop, offset). All are validated together, so a bad value changes nothing.
        With ``keep_fit``, a shot whose duration is one pass of its motion
        (:meth:`Shot.natural_duration`) stays so: at half speed it gets twice as long.
        Returns the previous values, for undo."""
        shot = self.shot(shot_id)
        trial = copy.deepcopy(shot)
        old = {}
        for key, value in changes.items():
            old[key] = field_value(shot, key)
            self._set_field(trial, key, value)
        if shot.beats and "beats" not in changes and changes.keys() & UNFIT:
            old["beats"], old["timing"] = shot.beats, shot.timing  # its fit no longer holds
            trial.beats = trial.timing = ()
        fitted = shot.offset == 0 and shot.duration == shot.natural_duration()
        if keep_fit and fitted and "duration" not in changes:
            old["duration"] = shot.duration
            trial.duration = trial.natural_duration()
        self._check_shot(trial)
        self._check_length(trial.duration - shot.duration)
        self.shots[self.shot_index(shot_id)] = trial
        self._touch()
        return old

    # -- editing: project --------------------------------------------------------------------------
    def set_fps(self, fps: float) -> float:
        old, self.fps = self.fps, _check_fps(fps)
        self._touch()
        return old

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """The output (width, height): the one set, else the first clip's (rounded down to even
        numbers, as the video codecs need), else None (no clips yet)."""
        if self.output_size is not None:
            return self.output_size
        for clip in self.clips.values():
            return max(2, clip.width // 2 * 2), max(2, clip.height // 2 * 2)
        return None

    def set_output_size(self, size: tuple[int, int] | None) -> tuple[int, int] | None:
        """Set the output size (width, height); None follows the first clip. Returns the old."""
        old, self.output_size = self.output_size, None if size is None else _check_size(size)
        self._touch()
        return old

    def set_render_mode(self, mode: str) -> str:
        old, self.render_mode = self.render_mode, _check_mode(mode)
        self._touch()
        return old

    def mode_of(self, shot: Shot) -> str:
        """The render mode a shot is drawn in: its own, else the project's."""
        return shot.render or self.render_mode

    def set_range(self, rng: tuple[int, int] | None) -> tuple[int, int] | None:
        """The in/out range (first frame, last frame, inclusive); None = the whole timeline."""
        old, self.range = self.range, None if rng is None else self._check_range(rng)
        self._touch()
        return old

    def restore_model(self, rel: str | None) -> str | None:
        """Put back a model this project used (an undo): ``rel`` as it was in the project, not
        vetted again — its file may be offline now. Returns the old value."""
        if rel is not None:
            check_text(rel, "the model's file", limit=4096)
            self.resolve(rel, "model")
        old, self.model = self.model, rel
        self._touch()
        return old

    def set_model(self, path: str | os.PathLike | None, copy_in: bool = True) -> str | None:
        """Use a model file for this project: copied into models/ (``copy_in``), or a file
        already in the folder. None goes back to the built-in model. Returns the old value."""
        from engine import checkpoint

        old = self.model
        if path is None:
            self.model = None
        else:
            src = Path(path)
            checkpoint.verify(src)  # a clear error for a missing, damaged or mismatched model
            if src.resolve().is_relative_to(self.root.resolve()):
                rel = src.resolve().relative_to(self.root.resolve()).as_posix()
            elif copy_in:
                rel = folder.copy_in(self.root, src, "models", ProjectError)
            else:
                raise ProjectError(f"{src}: a project's model must be inside its folder")
            self.model = rel
        self._touch()
        return old

    # -- validation --------------------------------------------------------------------------------
    def _set_field(self, shot: Shot, key: str, value: Any) -> None:
        if key in ("character", "background"):
            setattr(shot, key, FrameRef(*value))
        elif key == "motion":
            shot.motion = MotionRef(*value)
        elif key in ("beats", "timing"):
            if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
                raise ProjectError(f"{key} must be whole numbers (got {value!r})")
            setattr(shot, key, tuple(int(v) for v in value))
        elif key in ("duration", "hold", "offset", "seed", "extend", "take"):
            setattr(shot, key, _int(value, key))
        elif key in ("speed", "jumps"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ProjectError(f"{key} must be a number (got {value!r})")
            setattr(shot, key, float(value))
        elif key == "loop":
            if not isinstance(value, str):
                raise ProjectError(f"{key} must be text (got {value!r})")
            setattr(shot, key, value)
        elif key == "name":
            shot.name = check_text(value, "a shot's name")
        elif key == "render":
            shot.render = None if value is None else _check_mode(value)
        elif key == "pose":
            shot.pose = _check_pose(value)
        elif key == "edge":
            shot.edge = value
        elif key == "target":
            if value is not None:
                if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                    raise ProjectError(f"target must be two numbers or None (got {value!r})")
                value = (float(value[0]), float(value[1]))
            shot.target = value
        elif key == "path":
            try:
                shot.path = tuple(k if isinstance(k, Key) else Key(**k) for k in value)
            except TypeError as e:
                raise ProjectError(f"a path is a list of keyframes ({e})") from None
        else:
            raise ProjectError(f"a shot has no field {key!r}")

    def _check_frame(self, ref: FrameRef, what: str) -> None:
        clip = self.clip(ref.clip)
        if not 0 <= ref.frame < clip.frames:
            raise ProjectError(
                f"{what} frame {ref.frame} is outside clip {clip.name!r} (0…{clip.frames - 1})"
            )

    def _check_shot(self, s: Shot) -> None:
        check_text(s.id, "a shot's id")
        check_text(s.name, "a shot's name")
        name = s.name or s.id
        if s.render is not None:
            _check_mode(s.render)
        _check_pose(s.pose)
        self._check_frame(s.character, f"shot {name}: character")
        self._check_frame(s.background, f"shot {name}: background")
        clip = self.clip(s.motion.clip)
        for end in (s.motion.start, s.motion.end):
            if not 0 <= end < clip.frames:
                raise ProjectError(
                    f"shot {name}: motion frame {end} is outside clip {clip.name!r} "
                    f"(0…{clip.frames - 1})"
                )
        if not 1 <= s.duration <= MAX_SHOT_FRAMES:
            raise ProjectError(f"shot {name}: duration must be 1…{MAX_SHOT_FRAMES:,} frames")
        if not 1 <= s.hold <= MAX_HOLD:
            raise ProjectError(f"shot {name}: hold must be 1…{MAX_HOLD} (got {s.hold})")
        if not (0 < s.speed <= MAX_SPEED and math.isfinite(s.speed)):
            raise ProjectError(f"shot {name}: speed must be above 0 and at most {MAX_SPEED:g}")
        self._check_motion_extras(s, name)
        if s.loop not in LOOP_MODES:
            raise ProjectError(
                f"shot {name}: loop mode {s.loop!r} is not one of {', '.join(LOOP_MODES)}"
            )
        if not 0 <= s.offset <= MAX_TIMELINE_FRAMES:
            raise ProjectError(f"shot {name}: offset must be 0…{MAX_TIMELINE_FRAMES:,}")

    @staticmethod
    def _check_motion_extras(s: Shot, name: str) -> None:
        """The endless walk's settings, the extension and the path of a shot."""
        if not 0 <= s.seed < 2**31:
            raise ProjectError(f"shot {name}: seed must be 0…{2**31 - 1}")
        if not (0 <= s.jumps <= 1):
            raise ProjectError(f"shot {name}: jumps must be 0…1 (got {s.jumps!r})")
        if s.edge not in EDGES:
            raise ProjectError(f"shot {name}: edge {s.edge!r} is not one of {', '.join(EDGES)}")
        if not 0 <= s.extend <= MAX_EXTEND:
            raise ProjectError(f"shot {name}: a motion extends by 0…{MAX_EXTEND:,} frames")
        if not 0 <= s.take < 2**31:
            raise ProjectError(f"shot {name}: take must be 0…{2**31 - 1}")
        if s.target is not None and not all(math.isfinite(v) and -1 <= v <= 2 for v in s.target):
            raise ProjectError(f"shot {name}: the target must be near the frame (-1…2)")
        if len(s.beats) > MAX_SHOT_FRAMES or len(s.timing) > MAX_SHOT_FRAMES:
            raise ProjectError(f"shot {name}: a fit to beats holds at most {MAX_SHOT_FRAMES:,} "
                               "frames")  # fmt: skip
        if any(b < 0 or b > MAX_TIMELINE_FRAMES for b in s.beats) or any(
                v < 0 or v > MAX_TIMELINE_FRAMES for v in s.timing) or any(
                b > a for a, b in zip(s.timing[1:], s.timing, strict=False)):  # fmt: skip
            raise ProjectError(f"shot {name}: a fit to beats has frames before 0, past "
                               f"{MAX_TIMELINE_FRAMES:,} or going back")  # fmt: skip
        if s.timing and not s.beats:
            raise ProjectError(f"shot {name}: a fit to beats without the beats it was fitted to")
        if len(s.path) > MAX_PATH_KEYS:
            raise ProjectError(f"shot {name}: a path holds at most {MAX_PATH_KEYS} keys")
        frames = [k.frame for k in s.path]
        if frames != sorted(set(frames)):
            raise ProjectError(f"shot {name}: path keys must be at different frames, in order")
        for k in s.path:
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                     for v in (k.x, k.y, k.angle, k.scale))  # fmt: skip
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

    def _check_range(self, rng: Any) -> tuple[int, int]:
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

    def _check_length(self, change: int) -> None:
        """The timeline, ``change`` frames longer, stays within :data:`MAX_TIMELINE_FRAMES`."""
        total = sum(s.duration for s in self.shots) + change
        if total > MAX_TIMELINE_FRAMES:
            raise ProjectError(
                f"{total:,} frames on the timeline; a project holds at most {MAX_TIMELINE_FRAMES:,}"
            )

    def _touch(self) -> None:
        self.modified = True
        self.revision += 1


def field_value(shot: Shot, key: str) -> Any:
    if key in ("character", "background"):
        ref = getattr(shot, key)
        return (ref.clip, ref.frame)
    if key == "motion":
        return (shot.motion.clip, shot.motion.start, shot.motion.end)
    if not hasattr(shot, key) or key == "id":
        raise ProjectError(f"a shot has no field {key!r}")
    return getattr(shot, key)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectError(f"{what} must be a whole number (got {value!r})")
    return value


def _check_mode(mode: Any) -> str:
    if mode not in RENDER_MODES:
        raise ProjectError(f"render mode {mode!r} is not one of {', '.join(RENDER_MODES)}")
    return mode


def _check_pose(pose: Any) -> str:
    if pose not in POSE_MODES:
        raise ProjectError(f"pose {pose!r} is not one of {', '.join(POSE_MODES)}")
    return pose


MAX_SOUND_OFFSET = 24 * 3600.0
MAX_SOUND_SECONDS = 12 * 3600.0
"""The longest soundtrack (engine.audio.MAX_SECONDS): a length beyond it is no sound's."""


def _check_clip_text(clip: Clip) -> None:
    check_text(clip.id, "a clip's id")
    check_text(clip.name, "a clip's name")
    check_text(clip.source, "a clip's file", limit=4096)


def _check_sound(sound: Soundtrack) -> Soundtrack:
    check_text(sound.name, "the soundtrack's name")
    check_text(sound.source, "the soundtrack's file", limit=4096)
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
             for v in (sound.seconds, sound.offset))  # fmt: skip
    if not ok or not 0 < sound.seconds <= MAX_SOUND_SECONDS or \
            abs(sound.offset) > MAX_SOUND_OFFSET:  # fmt: skip
        raise ProjectError(
            f"soundtrack {sound.name or sound.source!r}: its length must be above 0 and at most "
            f"{MAX_SOUND_SECONDS:,.0f} s, its offset within ±{MAX_SOUND_OFFSET:,.0f} s (got "
            f"{sound.seconds!r}, {sound.offset!r})"
        )
    return sound


def _check_size(size: Any) -> tuple[int, int]:
    ok = isinstance(size, (list, tuple)) and len(size) == 2
    if ok:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    if not ok or not all(16 <= v <= MAX_OUTPUT_SIDE and v % 2 == 0 for v in size):
        raise ProjectError(
            f"output size {size!r} must be two even numbers of pixels, 16…{MAX_OUTPUT_SIDE}"
        )
    return int(size[0]), int(size[1])


def _check_fps(fps: Any) -> float:
    lo, hi = FPS_RANGE
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not lo <= fps <= hi:
        raise ProjectError(f"fps must be a number from {lo:g} to {hi:g} (got {fps!r})")
    return float(fps)


def frame_key(
    shot: Shot, local: int, layer: str, mode: str = "model", size: tuple | None = None
) -> tuple:
    """Everything that decides the pixels of a shot's local frame in ``layer``, render ``mode``
    and output ``size`` (the Director's cache key; the studio's too): holds, loops and repeated
    shots share keys. In ``pixels`` mode the background is the clip's plate, whatever its
    frame, and a character moving with its own clip is its motion frame."""
    bg = (shot.background.clip, shot.background.frame if mode == "model" else None)
    if layer == "background":
        return (mode, "background", bg, size)
    ch = (shot.character.clip, shot.character.frame)
    motion = (shot.motion.clip, shot.motion.start, shot.motion_frame(local))
    if shot.generated:  # the engine decides: a frame is known by everything that decides it
        motion = (shot.motion.clip, shot.motion.start, shot.motion.end, shot.loop,
                  shot.motion_step(local), shot.seed, shot.jumps, shot.edge, shot.extend,
                  shot.take, shot.target, shot.path, shot.speed, shot.hold, shot.offset, local,
                  shot.beats)
    if mode == "pixels" and shot.character.clip == shot.motion.clip:
        ch = (shot.character.clip, None)
    elif mode == "pixels" and shot.pose != "rigid":
        ch = (*ch, shot.pose)
    if layer == "character":
        return (mode, "character", ch, motion, size)
    return (mode, layer, ch, bg, motion, size)


# -- the timeline ----------------------------------------------------------------------------------
class Timeline:
    """Shots in order at one fps: lengths and frame → (shot, local frame) lookups."""

    def __init__(self, shots: list[Shot], fps: float) -> None:
        self.shots = list(shots)  # a snapshot: edits replace Shot objects, never change them
        self.fps = fps
        self._index: dict[str, int] | None = None
        self.starts = [0]
        for s in shots:
            self.starts.append(self.starts[-1] + s.duration)

    @property
    def frame_count(self) -> int:
        return self.starts[-1]

    @property
    def seconds(self) -> float:
        return self.frame_count / self.fps

    def locate(self, frame: int) -> tuple[int, int]:
        """(shot index, local frame) of a timeline frame."""
        if not 0 <= frame < self.frame_count:
            raise ProjectError(f"frame {frame} is outside the timeline (0…{self.frame_count - 1})")
        i = bisect_right(self.starts, frame) - 1
        return i, frame - self.starts[i]

    def shot_at(self, frame: int) -> tuple[Shot, int]:
        i, local = self.locate(frame)
        return self.shots[i], local

    def start_of(self, shot_id: str) -> int:
        if self._index is None:
            self._index = {s.id: i for i, s in enumerate(self.shots)}
        if shot_id not in self._index:
            raise ProjectError(f"no shot with id {shot_id!r} on the timeline")
        return self.starts[self._index[shot_id]]

    def visible(self, first: int, last: int) -> range:
        """Indices of the shots that show any of timeline frames ``first`` … ``last``."""
        lo = max(bisect_right(self.starts, first) - 1, 0)
        hi = min(bisect_right(self.starts, last), len(self.shots))
        return range(lo, max(lo, hi))
