"""The project's contents and its validated edits: pure — no files read or written (but for a
removed clip's media deleted on request), no decoding. The studio's undo commands call exactly
these methods. Reading and saving are engine.document.files; importing media is
engine.document.media."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.document import folder
from engine.document.folder import PROJECT_FILE
from engine.document.rules import (
    MAX_SHOTS,
    MAX_STROKES,
    MAX_TIMELINE_FRAMES,
    ProjectError,
    check_fps,
    check_mode,
    check_range,
    check_size,
    check_text,
)
from engine.document.shot import (
    FIELD,
    PICKED_FROM,
    UNFIT,
    Clip,
    FrameRef,
    MotionRef,
    Shot,
    Soundtrack,
    check_clip_text,
    check_fields,
    check_sound,
    field_value,
    new_id,
    set_field,
)
from engine.document.timeline import Timeline


@dataclass
class Edits:
    """A project's contents and its validated edits. Edit it only through the methods below:
    each validates its arguments (raising :class:`ProjectError` and changing nothing on bad
    input) and marks the project modified. Edits replace Shot objects rather than change them,
    so a :class:`Timeline` taken before an edit (a render on a worker thread) stays consistent.
    Nothing here decodes media (engine.document.media) or reads project.json
    (engine.document.files: ``Project`` is this with its files)."""

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

    def sound_path(self) -> Path | None:
        return None if self.soundtrack is None else self.resolve(self.soundtrack.source,
                                                                "soundtrack")  # fmt: skip

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

    def set_soundtrack(self, sound: Soundtrack | None) -> Soundtrack | None:
        """Use a soundtrack already in media/ (:meth:`copy_in_sound`), or None for silence.
        Returns the old one (undo sets it back; its file stays in media/)."""
        if sound is not None:
            check_sound(sound)
            self.resolve(sound.source, "soundtrack")  # inside the folder (offline: an undo's)
        old, self.soundtrack = self.soundtrack, sound
        self._touch()
        return old

    def set_sound_offset(self, offset: float) -> float:
        """When the sound starts, in seconds after the timeline's first frame. Returns the old."""
        if self.soundtrack is None:
            raise ProjectError("the project has no soundtrack")
        sound = check_sound(dataclasses.replace(self.soundtrack, offset=offset))
        old, self.soundtrack = self.soundtrack.offset, sound
        self._touch()
        return old

    def add_clip(self, clip: Clip, offline_ok: bool = False) -> None:
        """Add (or, for undo, re-add) a clip whose media is already in the folder (or, with
        ``offline_ok``, an offline clip put back by an undo)."""
        check_clip_text(clip)
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
        check_clip_text(clip)
        self.resolve(clip.source, "clip source")  # inside the folder (offline: an undo's)
        self.clips[clip.id] = clip
        try:
            for shot in self.shots_using(clip.id):
                self.check_shot(shot)
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

    def set_plate(self, clip_id: str, ref: FrameRef | None) -> FrameRef | None:
        """The empty set ``clip_id`` was shot on (Use as Clean Plate): frame ``ref.frame`` of
        clip ``ref.clip`` (-1: its median), which must be of the same size; None: estimated
        from the clip. Returns the old one, for undo."""
        clip = self.clip(clip_id)
        if ref is not None:
            self.check_plate(clip, ref)
        old, clip.plate = clip.plate, ref
        self._touch()
        return old

    def check_plate(self, clip: Clip, ref: FrameRef) -> None:
        """A clean plate marked for ``clip`` is a frame of a clip of its size."""
        source = self.clip(ref.clip)
        if (source.width, source.height) != (clip.width, clip.height):
            raise ProjectError(f"clip {source.name!r} ({source.width}×{source.height}) cannot be "
                               f"the clean plate of {clip.name!r} ({clip.width}×{clip.height}): "
                               "a clean plate is shot by the same camera, at the same size")
        if not -1 <= ref.frame < source.frames:
            raise ProjectError(f"clean plate frame {ref.frame} is outside clip {source.name!r} "
                               f"(0…{source.frames - 1})")  # fmt: skip

    def set_strokes(self, clip_id: str, strokes: tuple) -> tuple:
        """A clip's brush strokes (engine.frames.corrections.Strokes: they correct its cut-out);
        a stroke that does not fit the clip as it is now (its size, its frames) is refused,
        saying why. Returns the old ones, for undo."""
        clip = self.clip(clip_id)
        strokes = tuple(strokes)
        if len(strokes) > MAX_STROKES:
            raise ProjectError(f"clip {clip.name!r}: at most {MAX_STROKES:,} brush strokes")
        for stroke in strokes:
            stroke.check()
        new = [s for s in strokes if s not in clip.strokes]  # the old ones may no longer fit
        problem = next((p for s in new if (p := s.problem(clip))), None)
        if problem:
            raise ProjectError(f"{problem}: the stroke is refused (draw it again)")
        old, clip.strokes = clip.strokes, strokes
        self._touch()
        return old

    def remove_clip(self, clip_id: str, delete_media: bool = False) -> Clip:
        """Remove a clip no shot uses. Its media stays in the folder unless ``delete_media``
        (keep it while the removal can still be undone)."""
        clip = self.clip(clip_id)
        users = self.shots_using(clip_id)
        if users:
            names = ", ".join(s.name or s.id for s in users[:3])
            raise ProjectError(f"clip {clip.name!r} is used by {len(users)} shot(s) ({names})")
        sets = [c.name for c in self.clips.values() if c.plate and c.plate.clip == clip_id
                and c.id != clip_id]  # fmt: skip
        if sets:
            raise ProjectError(f"clip {clip.name!r} is the clean plate of {', '.join(sets[:3])}"
                               " (Clear Clean Plate there first)")  # fmt: skip
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
            set_field(shot, key, value)
        shot.duration = shot.natural_duration() if duration is None else duration
        self.insert_shot(shot, len(self.shots) if index is None else index)
        return shot

    def insert_shot(self, shot: Shot, index: int) -> None:
        """Put a whole shot at ``index`` (also how undo puts a deleted shot back)."""
        self.check_shot(shot)
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
            set_field(trial, key, value)
        for pick, source in PICKED_FROM.items():  # a pick of another clip's subjects is none
            if pick not in changes and source in changes and \
                    getattr(trial, source).clip != getattr(shot, source).clip and \
                    getattr(shot, pick):  # fmt: skip
                old[pick] = getattr(shot, pick)
                set_field(trial, pick, FIELD[pick].default)
        if shot.beats and "beats" not in changes and changes.keys() & UNFIT:
            old["beats"], old["timing"] = shot.beats, shot.timing  # its fit no longer holds
            trial.beats = trial.timing = ()
        fitted = shot.offset == 0 and shot.duration == shot.natural_duration()
        if keep_fit and fitted and "duration" not in changes:
            old["duration"] = shot.duration
            trial.duration = trial.natural_duration()
        self.check_shot(trial)
        self._check_length(trial.duration - shot.duration)
        self.shots[self.shot_index(shot_id)] = trial
        self._touch()
        return old

    # -- editing: project --------------------------------------------------------------------------
    def set_fps(self, fps: float) -> float:
        old, self.fps = self.fps, check_fps(fps)
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
        old, self.output_size = self.output_size, None if size is None else check_size(size)
        self._touch()
        return old

    def set_render_mode(self, mode: str) -> str:
        old, self.render_mode = self.render_mode, check_mode(mode)
        self._touch()
        return old

    def mode_of(self, shot: Shot) -> str:
        """The render mode a shot is drawn in: its own, else the project's."""
        return shot.render or self.render_mode

    def set_range(self, rng: tuple[int, int] | None) -> tuple[int, int] | None:
        """The in/out range (first frame, last frame, inclusive); None = the whole timeline."""
        old, self.range = self.range, None if rng is None else check_range(rng)
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

    # -- validation --------------------------------------------------------------------------------
    def _check_frame(self, ref: FrameRef, what: str) -> None:
        clip = self.clip(ref.clip)
        if not 0 <= ref.frame < clip.frames:
            raise ProjectError(
                f"{what} frame {ref.frame} is outside clip {clip.name!r} (0…{clip.frames - 1})"
            )

    def check_shot(self, s: Shot) -> None:
        """A shot's fields within their ranges (engine.document.shot.FIELDS) and its
        references inside the project's clips: the edits' rule and the loader's."""
        check_fields(s)
        name = s.name or s.id
        self._check_frame(s.character, f"shot {name}: character")
        self._check_frame(s.background, f"shot {name}: background")
        clip = self.clip(s.motion.clip)
        for end in (s.motion.start, s.motion.end):
            if not 0 <= end < clip.frames:
                raise ProjectError(
                    f"shot {name}: motion frame {end} is outside clip {clip.name!r} "
                    f"(0…{clip.frames - 1})"
                )

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
