"""Reading, writing and migrating project.json (docs/PROJECT_FORMAT.md), and ``Project``: the
document's contents and edits (engine.document.project), its media (engine.document.media) and
its files — create, open, save (merging another writer's changes, engine.document.merge), save
as. Every field is checked on reading and named in the error; older schema versions are
migrated forward. A shot's fields are read and written by the field table
(engine.document.shot.FIELDS)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

from engine.data.clips import ClipReader, frame_files
from engine.document import folder, lock
from engine.document.folder import PROJECT_FILE
from engine.document.media import Media
from engine.document.merge import merge
from engine.document.project import Edits
from engine.document.rules import (
    MAX_CLIP_FRAMES,
    MAX_CLIP_SIDE,
    MAX_CLIPS,
    MAX_SHOTS,
    MAX_STROKE_POINTS,
    MAX_STROKES,
    MAX_TEXT,
    SCHEMA_VERSION,
    ProjectError,
    check_fps,
    check_mode,
    check_range,
    check_size,
)
from engine.document.shot import (
    Clip,
    FrameRef,
    Soundtrack,
    Stroke,
    check_sound,
    shot_from_json,
    shot_to_json,
)
from engine.errors import UserError
from engine.fileio import parse_json
from engine.text import readable, repair_text


class Project(Edits, Media):
    """A project folder and its contents: what an animation *is*. The Director
    (engine.frames.director) turns it into frames, the exporter (engine.export) into files. A
    folder holds ``project.json``, ``project.json.bak`` (the previous save), ``media/`` and
    ``models/``; every path in the JSON is relative and must resolve inside the folder."""

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
        raw = read_bytes(root / PROJECT_FILE, root)
        project = cls.from_json(parse(raw, root / PROJECT_FILE), root)
        project._saved(raw)
        return project

    @classmethod
    def from_json(cls, doc: Any, root: Path) -> Project:
        """A project from its JSON (any schema version: migrated), every field checked."""
        return from_json(doc, root)

    def to_json(self) -> dict:
        return to_json(self)

    def save(self, overwrite_changes: bool = False) -> Path:
        """Write project.json atomically; the previous version becomes project.json.bak. A
        save that cannot be made (a folder that cannot be written, text that is not Unicode)
        is a ProjectError naming the file, and the file on disk stays as it was.

        When another program saved the project since it was read here (a capture added its
        take, a second studio), what it saved is merged in first (engine.document.merge: its
        new clips and shots kept, its changes taken where this side did not change the same
        thing; :attr:`merged` says what came in) — unless ``overwrite_changes``. Both sides
        changing one thing differently raises MergeConflict, and nothing is written."""
        self.merged = ""
        with lock.saving(self.root):
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
        read-change-save that no other save can slip into (engine.lock.saving): how a
        headless tool that ran for hours (a time-lapse capture) adds its work to the project as
        it is then, not as it was when it started. Returns what ``change`` returns."""
        root = folder.locate(where, ProjectError)
        with lock.saving(root):
            project = cls.open(root)
            result = change(project)
            project.save()
        return result

    def _saved(self, raw: bytes) -> None:
        """What is on disk now, as this project last read or wrote it: what a save compares."""
        self._disk = raw

    def _merge(self, current: bytes) -> None:
        """Take in what another program saved (``current``: the file's bytes now)."""
        try:
            theirs = from_json(parse(current, self.file), self.root)
        except ProjectError:
            return  # damaged on disk: written over (project.json.bak keeps it)
        before = (len(self.clips), len(self.shots))
        try:  # what both sides started from, in the current schema
            base = to_json(from_json(
                parse(self._disk, self.file), self.root))
        except ProjectError:
            base = {}
        doc = merge(base, self.to_json(), to_json(theirs), self.file)
        merged = from_json(doc, self.root)
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


MAX_FILE_BYTES = 256 * 2**20
"""project.json: 50,000 shots take about 20 MB."""


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else "an object")


def _clip_to_json(c: Clip) -> dict:
    out = dataclasses.asdict(c)
    out["plate"] = None if c.plate is None else {"clip": c.plate.clip, "frame": c.plate.frame}
    out["strokes"] = [{"frame": s.frame, "add": s.add, "radius": s.radius, "size": list(s.size),
                       "points": [list(p) for p in s.points]} for s in c.strokes]  # fmt: skip
    return out


def _read_strokes(r: _Reader, c: Any, where: str) -> tuple[Stroke, ...]:
    """A clip's brush strokes (none in a file from before schema 7)."""
    found = r.count(r.get(c, "strokes", where, list, []), f"{where}.strokes", MAX_STROKES)
    strokes = []
    for i, s in enumerate(found):
        at = f"{where}.strokes[{i}]"
        points = r.count(r.get(s, "points", at, list), f"{at}.points", MAX_STROKE_POINTS)
        size = r.get(s, "size", at, list)
        try:
            stroke = Stroke(r.get(s, "frame", at, int), r.get(s, "add", at, bool),
                            r.get(s, "radius", at, float),
                            tuple((float(x), float(y)) for x, y in points),
                            (int(size[0]), int(size[1])))  # fmt: skip
            if not all(type(v) in (int, float) for p in points for v in p) or \
                    not all(type(v) is int for v in size) or len(size) != 2:  # fmt: skip
                raise ValueError
            stroke.check()
        except (ValueError, TypeError, IndexError):
            raise r.fail(at, "expected frame, add, radius, size [w, h] and points "
                             "[[x, y], …]") from None  # fmt: skip
        except ProjectError as e:
            raise r.fail(at, str(e)) from None
        strokes.append(stroke)
    return tuple(strokes)


_ABSENT = object()


class _Reader:
    """Typed access to parsed JSON that names the field when something is wrong."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.notes: list[str] = []
        """What was repaired on reading (a name cut to length, a character that is not text):
        the project opens, and says so."""

    def fail(self, where: str, why: str) -> ProjectError:
        return ProjectError(f"{self.file}: {where}: {why}" if where else f"{self.file}: {why}")

    def get(self, obj: Any, key: str, where: str, kind: type | tuple, default: Any = ...) -> Any:
        # the common case first, cheaply (a project of 50,000 shots makes a million calls):
        # exactly the type asked for (so no bool posing as an int), a short text or an int
        value = obj.get(key, _ABSENT) if type(obj) is dict else _ABSENT
        if type(value) is kind and (
            kind is int or (kind is str and len(value) <= MAX_TEXT and value.isascii())
        ):
            return value
        if not isinstance(obj, dict):
            got = _json_kind(obj)
            if not where:
                raise self.fail("", f"not a project: expected a JSON object, got {got}")
            raise self.fail(where, f"expected an object, got {got}")
        if key not in obj:
            if default is not ...:
                return default
            raise self.fail(f"{where}.{key}" if where else key, "missing")
        value = obj[key]
        name = f"{where}.{key}" if where else key
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {kinds[0].__name__}, got {json.dumps(value)}")
        if float in kinds and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {kinds[0].__name__}, got {json.dumps(value)[:40]}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(name, "not a finite number")
        if isinstance(value, str):
            return self._text(value, key, name)
        return value

    def _text(self, value: str, key: str, name: str) -> str:
        """Text by the edits' rules (engine.document.check_text): a name too long is cut, a
        character that is not text (a lone surrogate) replaced — said in ``notes``; an id or a
        setting too long is a damaged file."""
        if len(value) > MAX_TEXT and key not in ("source", "name"):
            raise self.fail(name, f"longer than {MAX_TEXT} characters")
        fixed = repair_text(value, MAX_TEXT if key == "name" else None)
        if fixed != value:
            why = "cut to" if len(value) > MAX_TEXT and key == "name" else "repaired:"
            what = f"{MAX_TEXT:,} characters" if why == "cut to" else "a character that is not text"
            self.notes.append(f"{self.file}: {name}: {why} {what}")
        return fixed

    def count(self, items: list, where: str, most: int) -> list:
        if len(items) > most:
            raise self.fail(where, f"{len(items)} entries; a project holds at most {most:,}")
        return items


def _migrate_1_to_2(doc: dict) -> dict:
    """Schema 1 (the first draft): clips and shots at the top level, clips named rather than
    identified, shots as lists, ``hold`` and a boolean ``loop`` on the shot, no ids."""
    shots = doc.get("shots", [])
    if "timeline" in doc or any(
        isinstance(s, dict) and isinstance(s.get("character"), dict) for s in shots
    ):
        # read as version 1 it would open as an empty timeline: the label is wrong, not the body
        raise ValueError(
            "the document says schema_version 1 but is laid out like a later version (a "
            "'timeline', shot references as objects); its schema_version is wrong"
        )
    clips, ids = [], {}
    for i, c in enumerate(doc.get("clips", [])):
        cid = f"c{i + 1}"
        ids[c.get("name")] = cid
        clips.append({"id": cid, **c})
    shots = []
    for i, s in enumerate(doc.get("shots", [])):
        (cc, cf), (bc, bf), (mc, mi, mo) = s["character"], s["background"], s["motion"]
        shots.append(
            {
                "id": f"s{i + 1}",
                "name": s.get("name", ""),
                "character": {"clip": ids.get(cc, cc), "frame": cf},
                "background": {"clip": ids.get(bc, bc), "frame": bf},
                "motion": {"clip": ids.get(mc, mc), "in": mi, "out": mo},
                "duration": s["duration"],
                "retime": {"speed": 1.0, "hold": s.get("hold", 1)},
                "loop": "loop" if s.get("loop") else "once",
            }
        )
    return {
        "schema_version": 2,
        "name": doc.get("name", ""),
        "model": doc.get("model"),
        "clips": clips,
        "timeline": {"fps": doc.get("fps", 24), "shots": shots, "range": None},
    }


def _migrate_2_to_3(doc: dict) -> dict:
    """Schema 3 adds the output settings (size, render mode) and a shot's render mode. A project
    made before the pixels renderer opens in it: the sharp one, which is what the footage is."""
    return {**doc, "schema_version": 3, "output": {"size": None, "mode": "pixels"}}


def _migrate_3_to_4(doc: dict) -> dict:
    """Schema 4 adds endless loops, extended motion and motion paths to a shot; a version-3
    shot has none of them (its ``path`` was always null)."""
    return {**doc, "schema_version": 4}


def _migrate_4_to_5(doc: dict) -> dict:
    """Schema 5 adds the project's soundtrack: a version-4 project has none."""
    return {**doc, "schema_version": 5, "soundtrack": None}


def _migrate_5_to_6(doc: dict) -> dict:
    """Schema 6 adds a shot's fit to the soundtrack's beats (``beat_fit``): none was fitted."""
    return {**doc, "schema_version": 6}


def _migrate_6_to_7(doc: dict) -> dict:
    """Schema 7 adds the subjects a shot picks of its character's clip (``subjects``), the
    one whose motion drives (``driver``) and what its cast shadow does (``shadows``): a
    version-6 shot has all of them, moving together, their shadows dropped; and a clip's brush
    strokes (``strokes``) and marked clean plate (``plate``): a version-6 clip has neither."""
    return {**doc, "schema_version": 7}


def _migrate_7_to_8(doc: dict) -> dict:
    """Schema 8 adds what a shot does with what its character's set had in front of the
    character (``front``: a sign it passed behind): a version-7 shot keeps it in front (its
    clips' layers, made again, may find one)."""
    return {**doc, "schema_version": 8}


def _migrate_8_to_9(doc: dict) -> dict:
    """Schema 9 adds how a transfer sizes and turns its character (``transfer``: ``size``
    "set", ``turns`` "upright") and a third way to pose it, the character's own walk cycle
    (``pose`` "cycle", now the default): a version-8 shot keeps the pose it had ("rigid" where
    it said none, version 8's default) and, moved by another clip, now walks that clip's path
    over the ground upright at its new set's size — version 8 turned and grew it by the motion
    clip's camera, which meant nothing on another set (docs/MOTION.md)."""
    timeline = doc.get("timeline")
    shots = timeline.get("shots") if isinstance(timeline, dict) else None
    if isinstance(shots, list):
        shots = [{**s, "pose": s.get("pose", "rigid")} if isinstance(s, dict) else s
                 for s in shots]  # fmt: skip
        doc = {**doc, "timeline": {**timeline, "shots": shots}}
    return {**doc, "schema_version": 9}


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
              5: _migrate_5_to_6, 6: _migrate_6_to_7, 7: _migrate_7_to_8,
              8: _migrate_8_to_9}  # fmt: skip
"""schema_version n → the function that turns a version-n document into version n + 1."""


def read(file: Path, root: Path) -> Any:
    """The parsed JSON of a project file; a file too large, unreadable, not UTF-8 or not JSON
    (cut off, damaged) is a ProjectError naming it and why."""
    return parse(read_bytes(file, root), file)


def read_bytes(file: Path, root: Path) -> bytes:
    """A project file's bytes (a file too large or unreadable: a ProjectError)."""
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ProjectError(
                f"{file}: {file.stat().st_size / 2**20:.0f} MB is too large for a project "
                f"file (at most {MAX_FILE_BYTES >> 20} MB)"
            )
        return file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{root}: not a Zoetrope project (no {PROJECT_FILE})") from None
    except OSError as e:
        raise ProjectError(f"{file}: cannot read ({e.strerror})") from None


def parse(raw: bytes, file: Path) -> Any:
    """The JSON of a project file's bytes; not UTF-8, not JSON: a ProjectError naming it."""
    try:
        doc = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProjectError(f"{file}: damaged (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        # cut off at the end, or inside a string that the end cuts off
        truncated = e.pos >= len(raw.rstrip()) or e.msg.startswith("Unterminated string")
        why = "truncated" if truncated else f"not valid JSON at line {e.lineno}"
        raise ProjectError(f"{file}: damaged ({why}: {e.msg})") from None
    except ValueError as e:
        raise ProjectError(f"{file}: damaged ({e})") from None
    return doc


def from_json(doc: Any, root: Path) -> Project:
    r = _Reader(root / PROJECT_FILE)
    version = r.get(doc, "schema_version", "", int)
    if version > SCHEMA_VERSION:
        raise r.fail(
            "schema_version",
            f"{version} is from a newer Zoetrope (this one reads up to {SCHEMA_VERSION}); "
            "please update",
        )
    if version < 1:
        raise r.fail("schema_version", f"{version} is not a valid version")
    try:
        while version < SCHEMA_VERSION:
            doc = MIGRATIONS[version](doc)
            version += 1
    except ValueError as e:
        raise r.fail("schema_version", str(e)) from None
    except (KeyError, TypeError, AttributeError) as e:
        why = f"cannot upgrade from version {version} ({e!r})"
        raise r.fail("schema_version", why) from None
    project = Project(root=root, name=r.get(doc, "name", "", str, "") or readable(root.stem))
    model = r.get(doc, "model", "", (str, type(None)), None)
    timeline = r.get(doc, "timeline", "", dict)
    project.fps = r.get(timeline, "fps", "timeline", float)
    for i, c in enumerate(r.count(r.get(doc, "clips", "", list), "clips", MAX_CLIPS)):
        clip = _read_clip(project, r, c, f"clips[{i}]")
        if clip.id in project.clips:
            raise r.fail(f"clips[{i}].id", f"{clip.id!r} is used twice")
        project.clips[clip.id] = clip
    for i, clip in enumerate(project.clips.values()):
        if clip.plate is not None:  # the edits' rule: a frame of a clip of its size
            try:
                project.check_plate(clip, clip.plate)
            except ProjectError as e:
                r.notes.append(f"{r.file}: clips[{i}].plate: {e}: the clean plate is estimated "
                               "again")  # fmt: skip
                clip.plate = None
    shots = r.count(r.get(timeline, "shots", "timeline", list), "timeline.shots", MAX_SHOTS)
    for i, s in enumerate(shots):
        project.shots.append(shot_from_json(r, s, f"timeline.shots[{i}]"))
    if len({s.id for s in project.shots}) != len(project.shots):
        raise r.fail("timeline.shots", "two shots share an id")
    rng = r.get(timeline, "range", "timeline", (list, type(None)), None)
    output = r.get(doc, "output", "", dict, {})
    size = r.get(output, "size", "output", (list, type(None)), None)
    mode = r.get(output, "mode", "output", str, "pixels")
    sound = r.get(doc, "soundtrack", "", (dict, type(None)), None)
    if sound is not None:
        sound = Soundtrack(
            source=r.get(sound, "source", "soundtrack", str),
            name=r.get(sound, "name", "soundtrack", str, ""),
            seconds=r.get(sound, "seconds", "soundtrack", float),
            offset=r.get(sound, "offset", "soundtrack", float, 0.0),
        )
    try:
        project.fps = check_fps(project.fps)
        for shot in project.shots:
            project.check_shot(shot)
        project._check_length(0)
        project.range = None if rng is None else check_range(rng)
        project.output_size = None if size is None else check_size(size)
        project.render_mode = check_mode(mode)
        project.soundtrack = None if sound is None else check_sound(sound)
    except ProjectError as e:
        raise ProjectError(f"{r.file}: {e}") from None
    project.model = model
    if rng is not None and project.play_range != project.range:
        cut = project.play_range
        r.notes.append(f"{r.file}: timeline.range {list(rng)} lies beyond the timeline's "
                       f"{sum(s.duration for s in project.shots)} frames: "
                       + ("cleared" if cut is None else f"cut to {list(cut)}"))  # fmt: skip
        project.range = cut
    r.notes += _verify_clips(project)
    project.notes = r.notes + [f"{project.root}: {part}: offline" for part in project.offline()]
    return project


def _verify_clips(project: Project) -> list[str]:
    """Clip records checked where it is cheap against the files they describe — a frame
    folder's frames counted, an image's size read from its header, the size of the video that
    sets the output size — and corrected, said in a note (a video's length is checked when it
    is first decoded: engine.frames.inputs)."""
    from PIL import Image

    notes = []
    first = next(iter(project.clips), None)
    for clip in project.clips.values():
        # a video is checked only where it sets the output size (its first frame decoded):
        # the others when they are first decoded
        if clip.kind == "video" and not (clip.id == first and project.output_size is None):
            continue
        try:
            path = project.resolve(clip.source, "clip source")
            if clip.kind == "video":
                reader = ClipReader(path)
                next(reader.frames())
                frames, (width, height) = clip.frames, (reader.info.width, reader.info.height)
            else:
                files = frame_files(path) if clip.kind == "frames" else [path]
                if not files:
                    continue
                with Image.open(files[0]) as im:
                    width, height = im.size
                frames = len(files) if clip.kind == "frames" else 1
        except (UserError, OSError, ValueError, StopIteration):
            continue  # offline or unreadable: told as such, when it is used
        if (clip.frames, clip.width, clip.height) != (frames, width, height):
            notes.append(f"{project.file}: clip {clip.name!r}: project.json says {clip.frames} "
                         f"frames of {clip.width}×{clip.height}, its files hold {frames} of "
                         f"{width}×{height}: corrected")  # fmt: skip
            clip.frames, clip.width, clip.height = frames, width, height
    return notes


def _read_clip(project: Project, r: _Reader, c: Any, where: str) -> Clip:
    clip = Clip(
        id=r.get(c, "id", where, str),
        name=r.get(c, "name", where, str),
        source=r.get(c, "source", where, str),
        kind=r.get(c, "kind", where, str),
        frames=r.get(c, "frames", where, int),
        fps=r.get(c, "fps", where, float),
        width=r.get(c, "width", where, int),
        height=r.get(c, "height", where, int),
        strokes=_read_strokes(r, c, where),
    )
    plate = r.get(c, "plate", where, (dict, type(None)), None)
    if plate is not None:
        clip.plate = FrameRef(r.get(plate, "clip", f"{where}.plate", str),
                              r.get(plate, "frame", f"{where}.plate", int))  # fmt: skip
    if clip.kind not in ("video", "frames", "image"):
        raise r.fail(f"{where}.kind", f"unknown kind {clip.kind!r}")
    if not (
        1 <= clip.frames <= MAX_CLIP_FRAMES
        and 1 <= clip.width <= MAX_CLIP_SIDE
        and 1 <= clip.height <= MAX_CLIP_SIDE
        and 0 < clip.fps <= 1000
    ):
        raise r.fail(
            where,
            f"frames (1…{MAX_CLIP_FRAMES:,}), width and height (1…{MAX_CLIP_SIDE:,}) and fps "
            "(above 0, at most 1000) are out of range",
        )
    return clip  # its file need not be there: a missing one is offline (Project.offline)


def to_json(project: Edits) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": project.name,
        "model": project.model,
        "clips": [_clip_to_json(c) for c in project.clips.values()],
        "timeline": {
            "fps": project.fps,
            "shots": [shot_to_json(s) for s in project.shots],
            "range": None if project.range is None else list(project.range),
        },
        "output": {
            "size": None if project.output_size is None else list(project.output_size),
            "mode": project.render_mode,
        },
        "soundtrack": None if (s := project.soundtrack) is None else dataclasses.asdict(s),
    }
